//! Caches shared by identifier within a process, as the Python original's local cache.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

type Shared = Weak<dyn Any + Send + Sync>;

fn registry() -> &'static Mutex<HashMap<(String, TypeId), Shared>> {
    static REGISTRY: OnceLock<Mutex<HashMap<(String, TypeId), Shared>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The live cache of type `T` registered under `identifier`, or a new one from `make`.
///
/// Only caches of the same type can share, since entries must have the same key and
/// value types. An entry holds a weak reference: the cache goes once its last user does.
pub(crate) fn shared<T: Any + Send + Sync>(identifier: &str, make: impl FnOnce() -> T) -> Arc<T> {
    let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let key = (identifier.to_string(), TypeId::of::<T>());
    if let Some(existing) = registry.get(&key).and_then(Weak::upgrade) {
        if let Ok(cache) = existing.downcast::<T>() {
            return cache;
        }
    }
    registry.retain(|_, cache| cache.strong_count() > 0);
    let cache = Arc::new(make());
    let erased: Arc<dyn Any + Send + Sync> = cache.clone();
    registry.insert(key, Arc::downgrade(&erased));
    cache
}
