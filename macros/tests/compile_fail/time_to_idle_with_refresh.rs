#[jwm_cache::ttl_cache(ttl = "5m", refresh_after = "4m", time_to_idle = "1m")]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
