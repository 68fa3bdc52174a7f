// A receiver is read only when written `&self`.
struct Shape {
    side: u32,
}

impl Shape {
    #[jwm_cache::ttl_cache]
    fn area(self: &Self) -> u32 {
        self.side * self.side
    }
}

fn main() {}
