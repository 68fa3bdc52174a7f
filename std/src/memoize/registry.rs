//! Caches shared by identifier within a process: the first function built under an
//! identifier makes the cache, and later ones with the same types find it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use jwm_cache_core::{Clock, Lookup, Parameters, Serializer, Ttl};

use crate::report::{self, CacheReport};
use crate::sync::SyncCache;

mod sealed {
    pub trait Sealed {}
}

/// A cache that memoized functions can share by identifier: what it is but for its
/// clock, and the settings that every sharer must agree on. Implemented by
/// [`SyncCache`], `AsyncCache` and `BlockingCache`; sealed.
pub trait Shareable: Any + Send + Sync + sealed::Sealed {
    /// The cache's type with its clock left out: caches that would share but for their
    /// clock type must agree on their settings.
    type Entries: 'static;

    /// Its key and value types: caches of others under one identifier in a server's
    /// namespace would overwrite each other's entries. (Not the codec: a near tier's
    /// cache keeps values as they are, its tier encodes them for the server.)
    type Stored: 'static;

    /// The settings to compare.
    fn parameters(&self) -> Parameters;

    /// How its misses are computed, to compare too.
    #[doc(hidden)]
    fn computing(&self) -> Computing;

    /// Its settings and counters, read without I/O: what
    /// [`reports`](crate::report::reports) lists.
    fn report(&self) -> CacheReport;
}

impl<K, V, B, S, C> Shareable for SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + 'static,
    V: Clone + 'static,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
    Self: Send + Sync + 'static,
{
    type Entries = SyncCache<K, V, B, S, ()>;
    type Stored = (K, V);

    fn parameters(&self) -> Parameters {
        SyncCache::parameters(self)
    }

    fn computing(&self) -> Computing {
        SyncCache::computing(self)
    }

    fn report(&self) -> CacheReport {
        // A server's namespace: its size is a scan (under a shard's lock), and a report
        // reads without I/O.
        let (info, size) = match B::SEES_WHOLE_NAMESPACE {
            true => (self.info_without_size(), None),
            false => {
                let info = self.info();
                let size = Some(info.current_size);
                (info, size)
            }
        };
        CacheReport {
            parameters: self.parameters(),
            counters: info.counters(),
            lifetime: info.lifetime,
            size,
        }
    }
}

impl<K, V, B, S, C> sealed::Sealed for SyncCache<K, V, B, S, C> {}

#[cfg(feature = "async")]
impl<K, V, B, S, C> Shareable for crate::asynch::AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Sync,
    B: crate::asynch::AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
    Self: Send + Sync + 'static,
{
    type Entries = crate::asynch::AsyncCache<K, V, B, S, ()>;
    type Stored = (K, V);

    fn parameters(&self) -> Parameters {
        crate::asynch::AsyncCache::parameters(self)
    }

    fn computing(&self) -> Computing {
        crate::asynch::AsyncCache::computing(self)
    }

    fn report(&self) -> CacheReport {
        CacheReport {
            parameters: self.parameters(),
            counters: self.counters(),
            lifetime: self.lifetime_counters(),
            size: None,
        }
    }
}

#[cfg(feature = "async")]
impl<K, V, B, S, C> sealed::Sealed for crate::asynch::AsyncCache<K, V, B, S, C> {}

#[cfg(feature = "async")]
impl<K, V, B, S, C> sealed::Sealed for crate::asynch::BlockingCache<K, V, B, S, C> {}

#[cfg(feature = "async")]
impl<K, V, B, S, C> Shareable for crate::asynch::BlockingCache<K, V, B, S, C>
where
    crate::asynch::AsyncCache<K, V, B, S, C>: Shareable,
    Self: Send + Sync + 'static,
{
    type Entries = crate::asynch::BlockingCache<K, V, B, S, ()>;
    type Stored = (K, V);

    fn parameters(&self) -> Parameters {
        Shareable::parameters(&**self.cache())
    }

    fn computing(&self) -> Computing {
        Shareable::computing(&**self.cache())
    }

    fn report(&self) -> CacheReport {
        Shareable::report(&**self.cache())
    }
}

/// How a cache computes its misses, and where it keeps their values, which functions
/// sharing it must agree on.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computing {
    /// Whether concurrent misses of a key share one computation.
    pub single_flight: bool,
    /// The lease a computing process holds in a shared backend, if any.
    pub lease: Option<Ttl>,
    /// The backend's settings (`AsyncBackend::settings`, `Backend::settings`).
    pub backend: String,
    /// Whether the backend's entries are a server's, seen by every cache named alike
    /// (`AsyncBackend::SHARED`, `Backend::SEES_WHOLE_NAMESPACE`).
    pub shared: bool,
}

/// A memoized function asked a cache shared under its identifier for another clock
/// kind, capacity, time-to-idle, `refresh_after`, `stale_if_error`, single-flight,
/// lease or backend (another server, key prefix, timeout or near tier bound) than the
/// cache already has. Functions that share an identifier share one
/// cache, so they must agree on these; each keeps its own TTL. Clocks are compared by
/// kind: the shared cache keeps the first function's clock, so functions that share
/// under a [`ManualClock`](crate::ManualClock) must share one clock (clones of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedCacheConflict {
    /// The shared identifier.
    pub identifier: String,
    /// The setting in conflict: `"clock"`, `"capacity"`, `"time_to_idle"`,
    /// `"refresh_after"`, `"stale_if_error"`, `"single_flight"`, `"lease"`,
    /// `"backend"`, or `"types"` (key and value, for caches of a server's namespace: in
    /// memory, functions of other types keep caches of their own).
    pub setting: &'static str,
    /// What the shared cache has.
    pub existing: String,
    /// What this function asked for.
    pub requested: String,
}

impl fmt::Display for SharedCacheConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the cache shared under identifier `{}` has {} {}, but this function asks for {} {}; \
             functions sharing an identifier must agree on it (or use another identifier)",
            self.identifier, self.setting, self.existing, self.setting, self.requested
        )
    }
}

impl std::error::Error for SharedCacheConflict {}

struct Entry {
    /// `TypeId` of `(Tag, T)`: the exact cache type.
    cache_type: TypeId,
    /// `TypeId` of `(Tag, T::Entries)`: caches that would share but for their clocks.
    entries_type: TypeId,
    /// `TypeId` of `T::Stored`, and its name.
    stored: TypeId,
    types: &'static str,
    parameters: Parameters,
    computing: Computing,
    cache: Weak<dyn Any + Send + Sync>,
}

fn registry() -> &'static Mutex<HashMap<String, Vec<Entry>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Vec<Entry>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The live cache of type `T` registered under `identifier` with `Tag`, or a new one
/// from `make`; an error if a live cache under that identifier that differs at most in
/// its clock type has another clock kind, capacity, time-to-idle, `refresh_after`,
/// `stale_if_error`, single-flight, lease or backend settings.
///
/// Only caches of the same type can share, since entries must have the same key and
/// value types; `Tag` keeps apart callers that must not share even then (the
/// instantiations of generic functions, whose type names need not be unique). An entry
/// holds a weak reference: the cache goes once its last user does. `make` runs without
/// the registry's lock (it may build memoized functions itself), and always: its
/// settings are compared with the shared cache's. If two threads race, the first to
/// register wins and the other's cache is dropped.
pub(crate) fn shared<T, Tag>(
    identifier: &str,
    make: impl FnOnce() -> T,
) -> Result<Arc<T>, SharedCacheConflict>
where
    T: Shareable,
    Tag: ?Sized + 'static,
{
    let made = make();
    let wanted = (made.parameters(), made.computing());
    let cache_type = TypeId::of::<(PhantomData<Tag>, T)>();
    let entries_type = TypeId::of::<(PhantomData<Tag>, T::Entries)>();
    let stored = TypeId::of::<T::Stored>();
    let types = std::any::type_name::<T::Stored>();
    let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    // Caches gone with their last user leave nothing behind, under any identifier.
    registry.retain(|_, entries| {
        entries.retain(|entry| entry.cache.strong_count() > 0);
        !entries.is_empty()
    });
    let entries = registry.entry(identifier.to_string()).or_default();
    // Caches of other types under this identifier in a server's namespace would write
    // the same names: each would overwrite the other's entries (their stamps keep
    // either from reading the other's) and wait on its leases.
    // Any server's: its other settings (a timeout) need not differ where names do.
    let mut other_types = entries.iter().filter(|e| e.stored != stored);
    if let Some(other) = other_types.find(|e| wanted.1.shared && e.computing.shared) {
        return Err(SharedCacheConflict {
            identifier: identifier.to_string(),
            setting: "types",
            existing: other.types.to_string(),
            requested: types.to_string(),
        });
    }
    for entry in entries.iter().filter(|e| e.entries_type == entries_type) {
        conflict(identifier, (&entry.parameters, &entry.computing), &wanted)?;
        if entry.cache_type == cache_type
            && let Some(existing) = entry.cache.upgrade()
            && let Ok(existing) = existing.downcast::<T>()
        {
            return Ok(existing);
        }
    }
    let made = Arc::new(made);
    report::enlist(&made);
    let erased: Arc<dyn Any + Send + Sync> = made.clone();
    entries.push(Entry {
        cache_type,
        entries_type,
        stored,
        types,
        parameters: wanted.0,
        computing: wanted.1,
        cache: Arc::downgrade(&erased),
    });
    Ok(made)
}

/// The first setting in which `wanted` differs from the shared cache's `existing`.
fn conflict(
    identifier: &str,
    (existing, existing_computing): (&Parameters, &Computing),
    (wanted, wanted_computing): &(Parameters, Computing),
) -> Result<(), SharedCacheConflict> {
    let differs = |setting, existing: String, requested: String| {
        (existing != requested).then(|| SharedCacheConflict {
            identifier: identifier.to_string(),
            setting,
            existing,
            requested,
        })
    };
    let describe = |capacity: Option<usize>| match capacity {
        Some(n) => n.to_string(),
        None => "unbounded".to_string(),
    };
    let found = differs(
        "clock",
        existing.clock.to_string(),
        wanted.clock.to_string(),
    )
    .or_else(|| {
        differs(
            "capacity",
            describe(existing.capacity),
            describe(wanted.capacity),
        )
    })
    .or_else(|| {
        differs(
            "time_to_idle",
            or_none(existing.time_to_idle),
            or_none(wanted.time_to_idle),
        )
    })
    .or_else(|| {
        differs(
            "refresh_after",
            or_none(existing.refresh_after),
            or_none(wanted.refresh_after),
        )
    })
    .or_else(|| {
        differs(
            "stale_if_error",
            or_none(existing.stale_if_error),
            or_none(wanted.stale_if_error),
        )
    })
    .or_else(|| {
        differs(
            "single_flight",
            existing_computing.single_flight.to_string(),
            wanted_computing.single_flight.to_string(),
        )
    })
    .or_else(|| {
        differs(
            "lease",
            or_none(existing_computing.lease),
            or_none(wanted_computing.lease),
        )
    })
    .or_else(|| {
        differs(
            "backend",
            existing_computing.backend.clone(),
            wanted_computing.backend.clone(),
        )
    });
    match found {
        Some(conflict) => Err(conflict),
        None => Ok(()),
    }
}

/// A duration setting as a conflict names it.
fn or_none(setting: Option<Ttl>) -> String {
    setting.map_or_else(|| "none".to_string(), |t| t.to_string())
}
