// A borrow inside an argument's type cannot be kept in the key: only a whole `&T` has an
// owned form the attribute takes.
#[jwm_cache::ttl_cache]
fn search(query: &str, language: Option<&str>) -> usize {
    query.len() + language.map_or(0, str::len)
}

#[jwm_cache::ttl_cache]
fn words(text: std::borrow::Cow<'_, str>) -> usize {
    text.split_whitespace().count()
}

// A `'static` borrow is kept as it is.
#[jwm_cache::ttl_cache]
fn label(name: Option<&'static str>) -> usize {
    name.map_or(0, str::len)
}

fn main() {
    let _ = label(None);
}
