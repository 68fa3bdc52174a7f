//! `#[ttl_cache]` on functions that borrow their arguments: `&str`, `&[T]`, `&Path` and
//! `&T`. The key keeps the owned form; a call with an equal borrowed value is a hit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use jwm_cache::{CacheControls, ttl_cache};

static FETCHES: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Debug, PartialEq)]
struct Unreachable(String);

/// As in cached: a borrowed URL, a `Result`, and only `Ok` kept.
#[ttl_cache(ttl = "1m")]
fn fetch(url: &str) -> Result<String, Unreachable> {
    FETCHES.fetch_add(1, SeqCst);
    if url.starts_with("https://") {
        Ok(format!("body of {url}"))
    } else {
        Err(Unreachable(url.to_string()))
    }
}

#[test]
fn a_str_argument_is_kept_as_a_string_and_hits_by_value() {
    let owned = String::from("https://example.org");
    assert_eq!(
        fetch("https://example.org"),
        Ok("body of https://example.org".into())
    );
    // Another buffer with the same text: a hit.
    assert_eq!(fetch(&owned), Ok("body of https://example.org".into()));
    assert_eq!(FETCHES.load(SeqCst), 1);
    // An error is returned and not kept.
    assert!(fetch("ftp://old").is_err());
    assert!(fetch("ftp://old").is_err());
    assert_eq!(FETCHES.load(SeqCst), 3);
    let info = FETCH.cache_info();
    assert_eq!((info.hits, info.current_size), (1, 1));
}

static SUMS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn sum(values: &[u32], scale: u32) -> u64 {
    SUMS.fetch_add(1, SeqCst);
    values.iter().map(|&v| u64::from(v * scale)).sum()
}

#[test]
fn a_slice_argument_is_kept_as_a_vec_beside_an_owned_one() {
    let owned: Vec<u32> = (1..=3).collect();
    assert_eq!(sum(&[1, 2, 3], 2), 12);
    assert_eq!(sum(&owned, 2), 12);
    assert_eq!(sum(&[1, 2, 3], 3), 18);
    assert_eq!(sum(&[1, 2], 2), 6);
    assert_eq!(SUMS.load(SeqCst), 3);
}

static LENGTHS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn extension_length(path: &Path) -> usize {
    LENGTHS.fetch_add(1, SeqCst);
    path.extension().map_or(0, |e| e.len())
}

#[test]
fn a_path_argument_is_kept_as_a_path_buf() {
    let buf = PathBuf::from("/tmp/report.json");
    assert_eq!(extension_length(Path::new("/tmp/report.json")), 4);
    assert_eq!(extension_length(&buf), 4);
    assert_eq!(extension_length(Path::new("/tmp/report.md")), 2);
    assert_eq!(LENGTHS.load(SeqCst), 2);
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Query {
    table: String,
    limit: u32,
}

static QUERIES: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn run(query: &Query) -> String {
    QUERIES.fetch_add(1, SeqCst);
    format!("{} rows of {}", query.limit, query.table)
}

#[test]
fn a_reference_to_a_clone_type_is_kept_as_a_clone() {
    let query = Query {
        table: "users".into(),
        limit: 10,
    };
    assert_eq!(run(&query), "10 rows of users");
    assert_eq!(run(&query.clone()), "10 rows of users");
    assert_eq!(QUERIES.load(SeqCst), 1);
}

static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn name_length(name: &str) -> usize {
    LOOKUPS.fetch_add(1, SeqCst);
    name.len()
}

#[tokio::test]
async fn an_async_function_borrows_too() {
    assert_eq!(name_length("ada").await, 3);
    assert_eq!(name_length(&String::from("ada")).await, 3);
    assert_eq!(LOOKUPS.load(SeqCst), 1);
}

static GREETINGS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn greet(name: &str, #[ttl_cache::ignore] punctuation: char) -> String {
    GREETINGS.fetch_add(1, SeqCst);
    format!("hello {name}{punctuation}")
}

#[test]
fn the_handle_removes_sets_and_primes_entries_by_the_functions_arguments() {
    assert_eq!(greet("ada", '!'), "hello ada!");
    // The ignored argument names no entry: the handle's remove and set leave it out.
    assert_eq!(GREET.cache_remove("ada"), Ok(true));
    assert_eq!(GREET.cache_remove("ada"), Ok(false));
    assert_eq!(greet("ada", '.'), "hello ada.");
    assert_eq!(GREETINGS.load(SeqCst), 2);

    GREET.cache_set("bob", "preset".to_string()).unwrap();
    assert_eq!(greet("bob", '!'), "preset");
    assert_eq!(
        GREETINGS.load(SeqCst),
        2,
        "a set value is served, not computed"
    );

    assert_eq!(GREET.cache_prime("bob", '!'), "hello bob!");
    assert_eq!(greet("bob", '?'), "hello bob!");
    assert_eq!(GREETINGS.load(SeqCst), 3);
    assert_eq!(GREET.cache_info().current_size, 2);
}

static PROBES: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn probe(url: &str) -> Result<u16, Unreachable> {
    PROBES.fetch_add(1, SeqCst);
    if url.starts_with("https://") {
        Ok(200)
    } else {
        Err(Unreachable(url.to_string()))
    }
}

#[test]
fn priming_a_result_stores_only_ok() {
    assert!(PROBE.cache_prime("gopher://x").is_err());
    assert_eq!(PROBE.cache_remove("gopher://x"), Ok(false));
    assert_eq!(PROBE.cache_prime("https://primed"), Ok(200));
    assert_eq!(probe("https://primed"), Ok(200));
    assert_eq!(PROBES.load(SeqCst), 2);
}

static CITY_LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// Under `key = ...` the key is a digest: the handle's methods compute it the same way.
#[ttl_cache(key = city.to_lowercase(), cache_none = false)]
fn population(city: &str) -> Option<u64> {
    CITY_LOOKUPS.fetch_add(1, SeqCst);
    (city.eq_ignore_ascii_case("paris")).then_some(2_100_000)
}

#[test]
fn a_key_expression_is_computed_for_the_handles_methods_too() {
    assert_eq!(population("Paris"), Some(2_100_000));
    assert_eq!(population("PARIS"), Some(2_100_000));
    assert_eq!(CITY_LOOKUPS.load(SeqCst), 1);
    assert_eq!(POPULATION.cache_remove("paris"), Ok(true));
    // `cache_none = false`: priming a `None` stores nothing.
    assert_eq!(POPULATION.cache_prime("Atlantis"), None);
    assert_eq!(POPULATION.cache_remove("atlantis"), Ok(false));
    POPULATION.cache_set("Lyon", 520_000).unwrap();
    assert_eq!(population("lyon"), Some(520_000));
}

#[ttl_cache]
async fn word_length(word: &str) -> usize {
    word.len()
}

#[tokio::test]
async fn an_async_functions_handle_awaits_its_entry_methods() {
    assert_eq!(word_length("grace").await, 5);
    assert_eq!(WORD_LENGTH.cache_remove("grace").await, Ok(true));
    WORD_LENGTH.cache_set("grace", 99).await.unwrap();
    assert_eq!(word_length("grace").await, 99);
    assert_eq!(WORD_LENGTH.cache_prime("grace").await, 5);
    assert_eq!(word_length("grace").await, 5);
}

/// The original's lint levels still cover its body, which now sits beside the wrapper
/// (CI's clippy runs with `-D warnings`).
#[ttl_cache]
#[allow(unused_variables)]
fn with_lint_levels(x: u8) -> u8 {
    let unused = 1;
    x
}

/// A function compiled out takes its handle with it: nothing generated is left behind.
#[ttl_cache]
#[cfg(any())]
fn compiled_out(x: u8) -> u8 {
    x
}

#[test]
fn attributes_on_the_function_reach_what_the_attribute_generates() {
    assert_eq!(with_lint_levels(3), 3);
    assert_eq!(WITH_LINT_LEVELS.cache_remove(3), Ok(true));
}

fn misses_of(controls: &impl CacheControls) -> u64 {
    controls.cache_info().misses
}

#[ttl_cache]
fn echo(word: &str) -> String {
    word.to_string()
}

#[test]
fn the_handle_itself_has_the_controls() {
    echo("zed");
    echo("zed");
    assert_eq!(misses_of(&ECHO), 1);
    assert_eq!(
        ECHO.cache_info().hits,
        1,
        "the second call, by the borrowed form, hit"
    );
}

#[ttl_cache]
async fn async_echo(word: &str) -> String {
    word.to_string()
}

#[tokio::test]
async fn an_async_handle_itself_has_the_async_controls() {
    async fn counts_of(controls: &impl jwm_cache::AsyncCacheControls) -> (u64, u64, usize) {
        let info = controls.cache_info().await;
        (info.hits, info.misses, info.current_size)
    }
    async_echo("ada").await;
    async_echo("ada").await;
    assert_eq!(counts_of(&ASYNC_ECHO).await, (1, 1, 1));
}

/// A key expression that reads one argument of two: the handle's methods take both, and
/// the one they do not read raises no warning (CI's clippy runs with `-D warnings`).
#[ttl_cache(key = id)]
fn user_label(id: u64, verbose: bool) -> String {
    if verbose {
        format!("user number {id}")
    } else {
        format!("user {id}")
    }
}

#[test]
fn a_key_expression_names_entries_by_what_it_reads() {
    assert_eq!(user_label(7, false), "user 7");
    assert_eq!(user_label(7, true), "user 7", "the same key: a hit");
    assert_eq!(USER_LABEL.cache_remove(7, true), Ok(true));
}
