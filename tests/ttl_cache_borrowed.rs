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
