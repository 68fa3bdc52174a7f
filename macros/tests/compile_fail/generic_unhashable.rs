// A type parameter of a key argument needs the key bounds; the error names the argument.
#[jwm_cache::ttl_cache]
fn f<T: Clone + Send + Sync + 'static>(x: T) -> usize {
    let _ = x;
    0
}

fn main() {}
