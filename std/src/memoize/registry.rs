//! Caches shared by identifier within a process, as the Python original's local cache.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

type Shared = Weak<dyn Any + Send + Sync>;

fn registry() -> &'static Mutex<HashMap<(String, TypeId), Shared>> {
    static REGISTRY: OnceLock<Mutex<HashMap<(String, TypeId), Shared>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The live cache of type `T` registered under `identifier` with `Tag`, or a new one
/// from `make`.
///
/// Only caches of the same type can share, since entries must have the same key and
/// value types; `Tag` keeps apart callers that must not share even then (the
/// instantiations of generic functions, whose type names need not be unique). An entry holds a weak reference: the cache goes once its last user does.
/// `make` runs without the registry's lock (it may build memoized functions itself);
/// if two threads race, the first to register wins and the other's cache is dropped.
pub(crate) fn shared<T, Tag>(identifier: &str, make: impl FnOnce() -> T) -> Arc<T>
where
    T: Any + Send + Sync,
    Tag: ?Sized + 'static,
{
    let key = (
        identifier.to_string(),
        TypeId::of::<(PhantomData<Tag>, T)>(),
    );
    if let Some(existing) = find::<T>(&key) {
        return existing;
    }
    let made = Arc::new(make());
    let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = registry.get(&key).and_then(Weak::upgrade) {
        if let Ok(existing) = existing.downcast::<T>() {
            return existing;
        }
    }
    registry.retain(|_, cache| cache.strong_count() > 0);
    let erased: Arc<dyn Any + Send + Sync> = made.clone();
    registry.insert(key, Arc::downgrade(&erased));
    made
}

fn find<T: Any + Send + Sync>(key: &(String, TypeId)) -> Option<Arc<T>> {
    let registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let existing = registry.get(key).and_then(Weak::upgrade)?;
    drop(registry);
    existing.downcast::<T>().ok()
}
