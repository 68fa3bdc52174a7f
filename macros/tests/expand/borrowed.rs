/// A borrowed argument: the key keeps its owned form, a `String`.
#[ttl_cache(ttl = "1m")]
fn fetch(url: &str, retries: u8) -> Result<String, Error> {
    download(url, retries)
}
