#[jwm_cache::ttl_cache]
fn f(x: f64) -> f64 {
    x
}

fn main() {}
