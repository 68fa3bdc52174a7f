/// Not `Clone`: callers waiting on a failing computation could not each get it.
#[derive(Debug)]
struct Unshareable;

#[jwm_cache::ttl_cache]
fn fetch(n: u64) -> Result<u64, Unshareable> {
    if n == 0 { Err(Unshareable) } else { Ok(n) }
}

fn main() {}
