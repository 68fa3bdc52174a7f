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

/// A listed cache, with its identifier and the lifetime counters its last report read.
struct Enlisted {
    cache: Weak<dyn Listed>,
    identifier: String,
    last: Arc<Mutex<Counters>>,
}

/// The listed caches, and the lifetime counters of those gone, by identifier: an
/// exported counter must keep counting when a cache under its identifier is rebuilt.
struct List {
    listed: Vec<Enlisted>,
    retired: Vec<(String, Counters)>,
}

impl List {
    /// Lets go of the caches gone, keeping what their last reports counted.
    fn retire_the_gone(&mut self) {
        let (gone, live) = std::mem::take(&mut self.listed)
            .into_iter()
            .partition(|cache| cache.cache.strong_count() == 0);
        self.listed = live;
        for cache in gone {
            let counted = *cache.last.lock().unwrap_or_else(PoisonError::into_inner);
            match self
                .retired
                .iter_mut()
                .find(|(id, _)| *id == cache.identifier)
            {
                Some((_, total)) => *total += counted,
                None => self.retired.push((cache.identifier, counted)),
            }
        }
    }
}

fn list() -> std::sync::MutexGuard<'static, List> {
    static LIST: Mutex<List> = Mutex::new(List {
        listed: Vec::new(),
        retired: Vec::new(),
    });
    LIST.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds `cache` to the list, for as long as it lives.
pub(crate) fn enlist<T: Shareable>(cache: &Arc<T>) {
    let identifier = cache.parameters().identifier;
    let weak: Weak<dyn Listed> = Arc::downgrade(cache) as Weak<dyn Listed>;
    let mut list = list();
    list.retire_the_gone();
    list.listed.push(Enlisted {
        cache: weak,
        identifier,
        last: Arc::default(),
    });
}

/// The lifetime counters of the listed caches gone, by identifier, as their last
/// reports read them (what a cache counted after its last report is not kept).
#[cfg(feature = "metrics")]
pub(crate) fn retired() -> Vec<(String, Counters)> {
    let mut list = list();
    list.retire_the_gone();
    list.retired.clone()
}

/// A report on every listed cache still alive, in the order they were built: each
/// `#[ttl_cache]` function's cache once it has been called, and each memoized function's
/// built with an identifier (one per shared cache). A test's own caches under
/// `clock = scoped` are not listed.
///
/// The caches are read one after another, outside the list's lock, so a report never
/// waits on another cache, and a cache's lock is never taken under the list's.
pub fn reports() -> Vec<CacheReport> {
    let live: Vec<(Arc<dyn Listed>, Arc<Mutex<Counters>>)> = list()
        .listed
        .iter()
        .filter_map(|cache| Some((cache.cache.upgrade()?, Arc::clone(&cache.last))))
        .collect();
    let reports = live.iter().map(|(cache, last)| {
        let report = cache.report();
        *last.lock().unwrap_or_else(PoisonError::into_inner) = report.lifetime;
        report
    });
    reports.collect()
}
