//! `GenericFnCache`: the caches behind a generic `#[ttl_cache]` function, one per
//! instantiation.

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use jwm_cache_core::{CacheInfo, Parameters};

use super::store::MemoStore;
use crate::controls::CacheControls;

/// The caches of a generic `#[ttl_cache]` function: a static named after the function
/// in upper case, holding one cache per instantiation (`largest::<u32>` and
/// `largest::<String>` never share), each made on its first call and kept for the
/// process, as a static would be.
///
/// Its controls span every instantiation: `cache_info()` sums their counters,
/// `cache_clear()` clears them all, and `cache_parameters()` lists each one's (the
/// identifier names the type arguments). A call finds its cache by a scan of the
/// instantiations made so far, lock-free for the first eight.
///
/// ```
/// use jwm_cache::ttl_cache;
///
/// #[ttl_cache(ttl = "30s")]
/// fn largest<T: Ord + Clone + std::hash::Hash + Send + Sync + 'static>(items: Vec<T>) -> Option<T> {
///     items.iter().max().cloned()
/// }
///
/// assert_eq!(largest(vec![3, 9, 4]), Some(9));
/// assert_eq!(largest(vec![3, 9, 4]), Some(9));
/// assert_eq!(largest(vec!["a".to_string(), "b".to_string()]), Some("b".to_string()));
/// let info = LARGEST.cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
/// assert_eq!(LARGEST.cache_parameters().len(), 2);
/// ```
pub struct GenericFnCache<C: ?Sized + 'static> {
    /// The first instantiations, each set once: a call finds its cache by scanning
    /// them, an atomic load each, with no lock.
    first: [OnceLock<Instance<C>>; FIRST],
    /// Any beyond those, behind a lock that also orders every addition.
    more: RwLock<Vec<Instance<C>>>,
}

/// How many instantiations a call finds without a lock.
const FIRST: usize = 8;

struct Instance<C: ?Sized + 'static> {
    /// The instantiation (a type naming the function's type arguments, and the
    /// receiver's type for a method) with the cache's type.
    types: TypeId,
    /// The cache, to downcast to its own type.
    cache: &'static (dyn Any + Send + Sync),
    /// The same cache, for the controls that span instantiations.
    controls: &'static C,
}

/// The controls of a sync memoized function's cache, without its types.
pub type SyncControls = dyn CacheControls + Send + Sync;

impl<C: ?Sized + Sync + 'static> GenericFnCache<C> {
    /// No instantiation yet.
    pub const fn new() -> Self {
        GenericFnCache {
            first: [const { OnceLock::new() }; FIRST],
            more: RwLock::new(Vec::new()),
        }
    }

    /// The cache of instantiation `T`, or one from `make` (run without the lock, as it
    /// may call other memoized functions), registered with `erase` for the controls.
    /// The registered cache is leaked: it lives for the process, as a static does.
    fn instance_or<T, M>(
        &self,
        make: impl FnOnce() -> Arc<M>,
        erase: fn(&'static M) -> &'static C,
    ) -> &'static M
    where
        T: ?Sized + 'static,
        M: Send + Sync + 'static,
    {
        // The key names `M`, so a found cache always downcasts.
        let types = TypeId::of::<(PhantomData<T>, M)>();
        if let Some(found) = self.find(types).and_then(|c| c.downcast_ref::<M>()) {
            return found;
        }
        let made = make();
        let mut more = self.more.write().unwrap_or_else(PoisonError::into_inner);
        // A racing first call may have registered one meanwhile: it wins, and ours is
        // dropped (after the lock), not leaked.
        if let Some(existing) = self
            .find_locked(types, &more)
            .and_then(|c| c.downcast_ref::<M>())
        {
            return existing;
        }
        // Leaked only once it is sure to be registered.
        let made: &'static Arc<M> = Box::leak(Box::new(made));
        let made: &'static M = made;
        let instance = Instance {
            types,
            cache: made,
            controls: erase(made),
        };
        // Additions are ordered by the lock, so the first empty slot stays empty for us.
        match self.first.iter().find(|slot| slot.get().is_none()) {
            Some(slot) => {
                let _set = slot.set(instance);
            }
            None => more.push(instance),
        }
        made
    }

    /// The identifier of one instantiation: `base<A, B>`, from the type arguments'
    /// names, so that instantiations get their own Redis namespaces (where no `TypeId`
    /// reaches) whenever their names differ. Without braces, which would make Redis
    /// Cluster hash only what they enclose (a closure's `{{closure}}`: every key of the
    /// instantiation in one slot), and shortened as default identifiers are.
    #[doc(hidden)]
    pub fn instance_identifier(&self, base: &str, type_names: &[&str]) -> String {
        let full = format!("{base}<{}>", type_names.join(", "));
        super::shortened(full.replace(['{', '}'], ""))
    }

    fn find(&self, types: TypeId) -> Option<&'static (dyn Any + Send + Sync)> {
        for slot in &self.first {
            match slot.get() {
                Some(instance) if instance.types == types => return Some(instance.cache),
                Some(_) => {}
                // Slots fill in order, and `more` only once they are all full.
                None => return None,
            }
        }
        let more = self.more.read().unwrap_or_else(PoisonError::into_inner);
        self.find_locked(types, &more)
    }

    /// `find`, for a caller that holds the lock on `more`.
    fn find_locked(
        &self,
        types: TypeId,
        more: &[Instance<C>],
    ) -> Option<&'static (dyn Any + Send + Sync)> {
        let first = self.first.iter().filter_map(OnceLock::get);
        let mut all = first.chain(more.iter());
        all.find(|i| i.types == types).map(|i| i.cache)
    }

    fn controls(&self) -> Vec<&'static C> {
        let more = self.more.read().unwrap_or_else(PoisonError::into_inner);
        let first = self.first.iter().filter_map(OnceLock::get);
        first.chain(more.iter()).map(|i| i.controls).collect()
    }
}

impl<C: ?Sized + Sync + 'static> Default for GenericFnCache<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl GenericFnCache<SyncControls> {
    /// The cache of instantiation `T`, made by `make` on its first call.
    #[doc(hidden)]
    pub fn instance<T, M>(&self, make: impl FnOnce() -> Arc<M>) -> &'static M
    where
        T: ?Sized + 'static,
        M: MemoStore + Send + Sync + 'static,
    {
        self.instance_or::<T, M>(make, |m| m)
    }

    /// Hits, misses, current size, evictions, expirations and errors, summed over every
    /// instantiation.
    pub fn cache_info(&self) -> CacheInfo {
        self.controls()
            .iter()
            .fold(CacheInfo::default(), |sum, c| sum + c.cache_info())
    }

    /// Empties every instantiation's cache and resets its counters.
    pub fn cache_clear(&self) {
        self.controls().iter().for_each(|c| c.cache_clear());
    }

    /// Each instantiation's parameters, in the order of their first calls.
    pub fn cache_parameters(&self) -> Vec<Parameters> {
        self.controls()
            .iter()
            .map(|c| c.cache_parameters())
            .collect()
    }
}

#[cfg(feature = "async")]
pub use self::asynchronous::{AsyncControls, DynAsyncCacheControls};

#[cfg(feature = "async")]
mod asynchronous {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use jwm_cache_core::{CacheInfo, Counters, Parameters};

    use super::GenericFnCache;
    use crate::controls::AsyncCacheControls;

    type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// [`AsyncCacheControls`] with boxed futures, so that caches of different types
    /// can sit behind one `dyn`. Implemented for every async cache.
    #[doc(hidden)]
    pub trait DynAsyncCacheControls: Send + Sync {
        /// [`AsyncCacheControls::cache_info`], boxed.
        fn boxed_info(&self) -> Boxed<'_, CacheInfo>;
        /// [`AsyncCacheControls::cache_clear`], boxed.
        fn boxed_clear(&self) -> Boxed<'_, ()>;
        /// [`AsyncCacheControls::cache_counters`].
        fn counters(&self) -> Counters;
        /// [`AsyncCacheControls::cache_parameters`].
        fn parameters(&self) -> Parameters;
    }

    impl<T: AsyncCacheControls + Send + Sync> DynAsyncCacheControls for T {
        fn boxed_info(&self) -> Boxed<'_, CacheInfo> {
            Box::pin(self.cache_info())
        }

        fn boxed_clear(&self) -> Boxed<'_, ()> {
            Box::pin(self.cache_clear())
        }

        fn counters(&self) -> Counters {
            self.cache_counters()
        }

        fn parameters(&self) -> Parameters {
            self.cache_parameters()
        }
    }

    /// The controls of an async memoized function's cache, without its types.
    pub type AsyncControls = dyn DynAsyncCacheControls;

    impl GenericFnCache<AsyncControls> {
        /// The cache of instantiation `T`, made by `make` on its first call.
        #[doc(hidden)]
        pub fn instance<T, M>(&self, make: impl FnOnce() -> Arc<M>) -> &'static M
        where
            T: ?Sized + 'static,
            M: AsyncCacheControls + Send + Sync + 'static,
        {
            self.instance_or::<T, M>(make, |m| m)
        }

        /// Hits, misses, current size, evictions, expirations and errors, summed over
        /// every instantiation.
        pub async fn cache_info(&self) -> CacheInfo {
            let mut sum = CacheInfo::default();
            for controls in self.controls() {
                sum = sum + controls.boxed_info().await;
            }
            sum
        }

        /// Every counter since the last clear, summed over every instantiation, without
        /// `.await`.
        pub fn cache_counters(&self) -> Counters {
            self.controls()
                .iter()
                .map(|c| c.counters())
                .fold(Counters::default(), |sum, c| sum + c)
        }

        /// Empties every instantiation's cache and resets its counters.
        pub async fn cache_clear(&self) {
            for controls in self.controls() {
                controls.boxed_clear().await;
            }
        }

        /// Each instantiation's parameters, in the order of their first calls.
        pub fn cache_parameters(&self) -> Vec<Parameters> {
            self.controls().iter().map(|c| c.parameters()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::sync::{Arc, Barrier, Mutex, PoisonError, Weak};
    use std::thread;

    use super::GenericFnCache;

    struct Made;

    /// Callers that all miss at once each make a cache; the losers' must be dropped,
    /// not leaked: only the registered one stays alive.
    #[test]
    fn a_lost_race_leaks_nothing() {
        const CALLERS: usize = 4;
        let caches: GenericFnCache<dyn Any + Send + Sync> = GenericFnCache::new();
        let made: Mutex<Vec<Weak<Made>>> = Mutex::new(Vec::new());
        // Every `make` runs only after its caller missed; the barrier holds them all
        // until each has missed, so all but one lose the race to register.
        let all_missed = Barrier::new(CALLERS);
        let found: Vec<&'static Made> = thread::scope(|scope| {
            let callers: Vec<_> = (0..CALLERS)
                .map(|_| {
                    scope.spawn(|| {
                        caches.instance_or::<u8, Made>(
                            || {
                                let cache = Arc::new(Made);
                                let mut made = made.lock().unwrap_or_else(PoisonError::into_inner);
                                made.push(Arc::downgrade(&cache));
                                drop(made);
                                all_missed.wait();
                                cache
                            },
                            |m| m,
                        )
                    })
                })
                .collect();
            callers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert!(found.iter().all(|f| std::ptr::eq(*f, found[0])));
        let made = made.into_inner().unwrap();
        assert_eq!(made.len(), CALLERS);
        let alive = made.iter().filter(|m| m.strong_count() > 0).count();
        assert_eq!(alive, 1, "one cache registered, none leaked");
    }
}
