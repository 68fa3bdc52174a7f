#[jwm_cache::ttl_cache(ttl = "1m", refresh_after = "30s", clock = scoped)]
fn quote(n: u64) -> u64 {
    n
}

fn main() {}
