/// A borrowed argument: the key keeps its owned form, a `String`.
#[ttl_cache(ttl = "1m")]
fn fetch(url: &str, retries: u8) -> Result<String, Error> {
    download(url, retries)
}

/// One borrowed argument: a hit looks it up as it is, and a miss makes it a `String`.
#[ttl_cache]
fn shout(word: &str) -> String {
    word.to_uppercase()
}
