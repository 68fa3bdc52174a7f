//! The process-wide list of memoized caches: every `#[ttl_cache]` function's, and every
//! memoized function's built with an identifier. One loop exports them all.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use jwm_cache_core::{Counters, Parameters};

use crate::memoize::registry::Shareable;

/// One listed cache, as [`reports`] read it: its settings and counters.
///
/// ```
/// use jwm_cache::{report, ttl_cache};
///
/// #[ttl_cache(identifier = "report_doc_square")]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// square(3);
/// square(3);
/// let report = report::reports()
///     .into_iter()
///     .find(|r| r.parameters.identifier == "report_doc_square")
///     .unwrap();
/// assert_eq!((report.counters.hits, report.counters.misses), (1, 1));
/// assert_eq!(report.size, Some(1));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CacheReport {
    /// Identifier, TTL, capacity, and the names of the backend, codec and clock.
    pub parameters: Parameters,
    /// Every counter since the cache's last clear.
    pub counters: Counters,
    /// Every counter since the cache was built: monotonic, for export.
    pub lifetime: Counters,
    /// Live entries, when the cache can tell without I/O: `None` for an async cache,
    /// whose backend must be awaited (a server, say).
    pub size: Option<usize>,
}

/// A cache in the list: what [`Shareable`] reports, behind a `dyn`.
trait Listed: Send + Sync {
    fn report(&self) -> CacheReport;
}

impl<T: Shareable> Listed for T {
    fn report(&self) -> CacheReport {
        Shareable::report(self)
    }
}

fn list() -> &'static Mutex<Vec<Weak<dyn Listed>>> {
    static LIST: Mutex<Vec<Weak<dyn Listed>>> = Mutex::new(Vec::new());
    &LIST
}

/// Adds `cache` to the list, for as long as it lives.
pub(crate) fn enlist<T: Shareable>(cache: &Arc<T>) {
    let weak: Weak<dyn Listed> = Arc::downgrade(cache) as Weak<dyn Listed>;
    let mut list = list().lock().unwrap_or_else(PoisonError::into_inner);
    // Caches gone with their last user leave nothing behind.
    list.retain(|cache| cache.strong_count() > 0);
    list.push(weak);
}

/// A report on every listed cache still alive, in the order they were built: each
/// `#[ttl_cache]` function's cache once it has been called, and each memoized function's
/// built with an identifier (one per shared cache). A test's own caches under
/// `clock = scoped` are not listed.
///
/// The caches are read one after another, outside the list's lock, so a report never
/// waits on another cache, and a cache's lock is never taken under the list's.
pub fn reports() -> Vec<CacheReport> {
    let live: Vec<Arc<dyn Listed>> = list()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    live.iter().map(|cache| cache.report()).collect()
}
