#[jwm_cache::ttl_cache(cache_none = false)]
fn f(x: u64) -> Result<Option<u64>, String> {
    Ok(Some(x))
}

fn main() {}
