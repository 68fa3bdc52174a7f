#[jwm_cache::ttl_cache]
fn f<const N: usize>(x: u64) -> u64 {
    x * N as u64
}

fn main() {}
