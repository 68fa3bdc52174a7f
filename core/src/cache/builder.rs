//! Building a cache without spelling its five type parameters.

use crate::backend::Backend;
use crate::codec::{Identity, Serializer};
use crate::memory::MemoryBackend;

use super::Cache;
use super::options::Options;

/// Configures a [`Cache`]: TTL, identifier, capacity, codec and clock.
///
/// [`build`](CacheBuilder::build) gives a [`MemoryBackend`];
/// [`build_with_backend`](CacheBuilder::build_with_backend) takes any
/// [`Backend`](crate::Backend).
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::{CacheBuilder, ManualClock, Ttl};
///
/// let mut cache = CacheBuilder::new(ManualClock::new())
///     .ttl(Duration::from_secs(30))
///     .identifier("geo")
///     .capacity(10_000)
///     .build::<String, (f64, f64)>();
/// cache.insert("Paris".into(), (48.85, 2.35)).unwrap();
/// let p = cache.parameters();
/// assert_eq!((p.ttl, p.identifier.as_str(), p.capacity), (Ttl::from_secs(30), "geo", Some(10_000)));
/// ```
///
/// With the `postcard` feature (on by default), values can be stored as bytes:
///
/// ```
/// # #[cfg(feature = "postcard")] {
/// use jwm_cache_core::{CacheBuilder, ManualClock, Postcard};
///
/// let mut cache = CacheBuilder::new(ManualClock::new())
///     .serializer(Postcard)
///     .build::<u32, String>();
/// cache.insert(1, "one".into()).unwrap();
/// assert_eq!(cache.parameters().codec, "postcard");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CacheBuilder<S, C> {
    options: Options<S, C>,
}

impl<C> CacheBuilder<Identity, C> {
    /// A builder with a 60 s TTL, no capacity, [`Identity`] and the given clock.
    pub fn new(clock: C) -> Self {
        Self::from_options(Options::new(clock))
    }
}

impl<S, C> CacheBuilder<S, C> {
    /// A builder that starts from `options`.
    pub fn from_options(options: Options<S, C>) -> Self {
        CacheBuilder { options }
    }

    /// The options configured so far.
    pub fn options(&self) -> &Options<S, C> {
        &self.options
    }

    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> CacheBuilder<S2, C2> {
        CacheBuilder::from_options(f(self.options))
    }

    crate::option_setters!(CacheBuilder[]; ttl, time_to_idle, identifier, capacity, serializer, clock);

    /// A cache over the built-in [`MemoryBackend`], bounded by [`capacity`](Self::capacity).
    pub fn build<K, V>(self) -> Cache<K, V, MemoryBackend<K, S::Encoded>, S, C>
    where
        S: Serializer<V>,
    {
        let backend = match self.options.capacity {
            Some(capacity) => MemoryBackend::with_capacity(capacity),
            None => MemoryBackend::new(),
        };
        let backend = backend.with_time_to_idle(self.options.idle_limit());
        Cache::from_options(self.options, backend)
    }

    /// A cache over `backend`, which learns the cache's identifier (see
    /// [`Backend::use_identifier`]). Capacity is the backend's own business here, so the
    /// builder's [`capacity`](Self::capacity) and [`time_to_idle`](Self::time_to_idle)
    /// are not used.
    pub fn build_with_backend<K, V, B>(self, mut backend: B) -> Cache<K, V, B, S, C>
    where
        S: Serializer<V>,
        B: Backend<K, S::Encoded>,
    {
        backend.use_identifier(self.options.identifier_or_default());
        backend.keep_stale_for(self.options.stale_if_error);
        if self.options.reads_ttl_from_deadlines() {
            backend.keep_deadlines_as_written();
        }
        Cache::from_options(self.options, backend)
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::CacheBuilder;
    use crate::{ManualClock, Options};

    #[test]
    fn serve_stale_turns_time_to_idle_off_as_in_the_thread_safe_caches() {
        let clock = ManualClock::new();
        let options = Options::new(clock.clone())
            .ttl(Duration::from_secs(10))
            .time_to_idle(Duration::from_secs(5))
            .stale_if_error(Duration::from_secs(60));
        let mut cache = CacheBuilder::from_options(options).build::<u32, u32>();
        cache.insert(1, 1).unwrap();
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.get(&1).unwrap(), Some(1));
        // Unread for longer than the idle time, within the TTL: a hit by the TTL alone.
        clock.advance(Duration::from_secs(8));
        assert_eq!(cache.get(&1).unwrap(), Some(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.get(&1).unwrap(), None);
    }
}
