//! What `#[ttl_cache]` keeps of the function's own attributes, `crate = ...`, and a
//! return type as a `macro_rules!` splices it in.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use jwm_cache::{CacheControls, ttl_cache};

// An `expect` must be met in the body, which the compute function keeps, and not also
// on the wrapper, which uses every argument (clippy's `-D warnings` would report it
// unmet there).
#[ttl_cache]
#[expect(unused_variables, reason = "met in the body")]
fn with_expectation(n: u32) -> u32 {
    let unused = n;
    n + 1
}

/// The same on a method, whose compute function sits beside the wrapper.
struct Doubler;

impl Doubler {
    #[ttl_cache(key = |_: &Doubler| 0u8)]
    #[expect(unused_variables, reason = "met in the body")]
    fn doubled(&self, n: u32) -> u32 {
        let unused = n;
        n * 2
    }
}

#[test]
fn an_expectation_is_met_in_the_body() {
    assert_eq!(with_expectation(1), 2);
    assert_eq!(with_expectation(1), 2);
    assert_eq!(WITH_EXPECTATION.cache_info().hits, 1);
    assert_eq!((Doubler.doubled(2), Doubler.doubled(2)), (4, 4));
    assert_eq!(Doubler::doubled_cache().cache_info().hits, 1);
}

/// A facade that re-exports jwm-cache, as a workspace's own crate may (or a dependency
/// renamed in `Cargo.toml`): `crate = ...` says where the expansion finds it. This shows
/// that the rebased paths resolve through a re-export; `::jwm_cache` resolves here
/// too, so that none is left out is shown by the macro crate's
/// `a_crate_path_replaces_every_absolute_path`, over every committed expansion.
mod facade {
    pub(crate) use jwm_cache as cache;
}

#[ttl_cache(crate = crate::facade::cache)]
fn through_a_facade(n: u32) -> u32 {
    n * 2
}

#[ttl_cache(crate = "crate::facade::cache", ttl = "1h")]
fn generic_through_a_facade<T: Clone + std::hash::Hash + Eq + Send + Sync + 'static>(t: T) -> T {
    t
}

#[test]
fn a_crate_path_reaches_jwm_cache_through_a_facade() {
    assert_eq!((through_a_facade(2), through_a_facade(2)), (4, 4));
    assert_eq!(THROUGH_A_FACADE.cache_info().hits, 1);
    assert_eq!(generic_through_a_facade(3u8), 3);
    assert_eq!(generic_through_a_facade(3u8), 3);
    assert_eq!(GENERIC_THROUGH_A_FACADE.cache_info().hits, 1);
}

static SPLICED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Declares a memoized function whose return type a `macro_rules!` splices in as a
/// `$t:ty`, which reaches the attribute wrapped in an invisible group.
macro_rules! memoized_returning {
    ($name:ident, $returns:ty) => {
        #[ttl_cache(cache_none = false)]
        fn $name(text: String) -> $returns {
            SPLICED_RUNS.fetch_add(1, SeqCst);
            text.parse().ok()
        }
    };
}

macro_rules! memoized_result {
    ($name:ident, $returns:ty) => {
        #[ttl_cache]
        fn $name(text: String) -> $returns {
            SPLICED_RUNS.fetch_add(1, SeqCst);
            text.parse().map_err(|_| format!("not a number: {text}"))
        }
    };
}

memoized_result!(parse_spliced, Result<u32, String>);
memoized_returning!(parse_spliced_option, Option<u32>);

#[test]
fn a_return_type_spliced_by_a_macro_keeps_its_spelling_rules() {
    let before = SPLICED_RUNS.load(SeqCst);
    assert!(parse_spliced("x".into()).is_err());
    assert!(parse_spliced("x".into()).is_err());
    assert_eq!(
        SPLICED_RUNS.load(SeqCst) - before,
        2,
        "an Err is never cached"
    );
    assert_eq!(parse_spliced_option("y".into()), None);
    assert_eq!(parse_spliced_option("y".into()), None);
    assert_eq!(SPLICED_RUNS.load(SeqCst) - before, 4, "nor a None");
    assert_eq!(parse_spliced_option("8".into()), Some(8));
    assert_eq!(parse_spliced_option("8".into()), Some(8));
    assert_eq!(SPLICED_RUNS.load(SeqCst) - before, 5, "a Some is");
}
