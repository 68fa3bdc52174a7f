#[jwm_cache::ttl_cache]
fn f<T: Clone>(x: T) -> T {
    x
}

fn main() {}
