// A borrowed argument whose type has no owned form cannot be kept in the key.
#[jwm_cache::ttl_cache]
fn describe(value: &dyn std::fmt::Debug) -> String {
    format!("{value:?}")
}

#[derive(Debug, Hash, PartialEq, Eq)]
struct Unclonable;

#[jwm_cache::ttl_cache]
fn name(value: &Unclonable) -> String {
    format!("{value:?}")
}

fn main() {}
