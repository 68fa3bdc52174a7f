#[jwm_cache::ttl_cache(ttl = "5m", refresh_after = "4m")]
fn greet(name: &str) -> String {
    format!("hello {name}")
}

fn main() {}
