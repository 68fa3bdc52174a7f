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

// A function pointer's arguments borrow for each call only: it is kept as it is.
#[jwm_cache::ttl_cache]
fn apply(f: fn(&str) -> usize, text: String) -> usize {
    f(&text)
}

// A lifetime in a trait object's bounds is a borrow too.
#[jwm_cache::ttl_cache]
fn shown(value: Box<dyn std::fmt::Debug + '_>) -> String {
    format!("{value:?}")
}

fn main() {
    let _ = label(None);
    let _ = apply(str::len, String::new());
}
