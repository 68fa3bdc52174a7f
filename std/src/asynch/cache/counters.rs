//! An async cache's counters, read without `.await`: its atomics and the backend's
//! reclaim counts, never its I/O.

use jwm_cache_core::{CacheInfo, Counters, Counts, Error, Serializer};

use super::{AsyncCache, AsyncCacheError};
use crate::asynch::backend::AsyncBackend;

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    S: Serializer<V>,
    B: AsyncBackend<K, S::Encoded>,
{
    /// Every counter since the last clear, read without `.await` or I/O: hits, misses,
    /// coalesced waits, errors, and the backend's reclaim counts. For a synchronous
    /// metrics exporter, or a `Display` in a log line.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// cache.get_or_insert_with(1, || async { 10 }).await;
    /// cache.get_or_insert_with(1, || async { 10 }).await;
    /// let counters = cache.counters();
    /// assert_eq!((counters.hits, counters.misses), (1, 1));
    /// assert_eq!(counters.hit_ratio(), 0.5);
    /// # });
    /// ```
    pub fn counters(&self) -> Counters {
        Counters::of(self.counts.get(), self.backend.reclaimed())
    }

    /// Every counter since the cache was built, read without `.await`: monotonic, as
    /// [`CacheInfo::lifetime`].
    pub fn lifetime_counters(&self) -> Counters {
        self.counts.lifetime(self.backend.reclaimed())
    }

    /// Counts what an operation's `result` says: an error if it failed, a codec error
    /// if the cache's codec failed or the backend's own did (see
    /// [`AsyncBackend::is_codec_error`]).
    pub(super) fn count_outcome<T>(&self, result: &Result<T, AsyncCacheError<K, V, B, S>>) {
        self.counts
            .add(self.backend_codec(Counts::outcome(result), result));
    }

    /// Counts what a lookup `found`, as [`count_outcome`](Self::count_outcome) does its
    /// errors: a hit, or a miss (unless the caller counts it later, `deferring_miss`).
    pub(super) fn count_lookup<T>(
        &self,
        found: &Result<Option<T>, AsyncCacheError<K, V, B, S>>,
        deferring_miss: bool,
    ) {
        self.counts.looked_up(found, deferring_miss);
        // Only a failure can be the backend codec's: a hit or a miss adds nothing more.
        if found.is_err() {
            self.counts
                .add(self.backend_codec(Counts::default(), found));
        }
    }

    /// `counts`, with a failure of the backend's own codec among its codec errors.
    fn backend_codec<T>(
        &self,
        mut counts: Counts,
        result: &Result<T, AsyncCacheError<K, V, B, S>>,
    ) -> Counts {
        if let Err(Error::Backend(e)) = result
            && B::is_codec_error(e)
        {
            counts.codec_errors = counts.codec_errors.saturating_add(1);
        }
        counts
    }

    /// The report, with `size` for its live size (0 when `None`).
    pub(crate) fn info_with_size(&self, size: Option<usize>) -> CacheInfo {
        let reclaimed = self.backend.reclaimed();
        let mut info = self.counts.get().info(size, reclaimed);
        info.lifetime = self.counts.lifetime(reclaimed);
        info
    }
}
