#[jwm_cache::ttl_cache]
fn f(name: &str) -> usize {
    name.len()
}

fn main() {}
