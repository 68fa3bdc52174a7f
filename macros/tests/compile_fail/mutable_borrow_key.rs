#[jwm_cache::ttl_cache]
fn f(buffer: &mut Vec<u8>) -> usize {
    buffer.len()
}

fn main() {}
