//! A hit by a borrowed key allocates nothing (a memoized one, only its value's clone): counted by dhat, the only allocator in
//! this test binary, with one test so that nothing else allocates meanwhile.

use jwm_cache::{Cache, ManualClock, SharedCache, ttl_cache};

/// One borrowed argument: the attribute looks it up as it is.
#[ttl_cache]
fn shout(word: &str) -> String {
    word.to_uppercase()
}

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// The blocks `f` allocated.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = dhat::HeapStats::get().total_blocks;
    let result = f();
    (result, dhat::HeapStats::get().total_blocks - before)
}

#[test]
fn a_hit_by_borrowed_key_allocates_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let shared: SharedCache<String, u64> = SharedCache::new();
    shared.insert("alice".to_string(), 1).unwrap();
    let mut core: Cache<String, u64, _, _, _> = Cache::new(ManualClock::new());
    core.insert("alice".to_string(), 1).unwrap();
    // Warm: a first lookup may set up thread-local state.
    let _ = (
        shared.get("alice"),
        core.get("alice"),
        shout("alice"),
        shout("alice"),
    );

    assert_eq!(allocations(|| shared.get("alice").unwrap()), (Some(1), 0));
    assert_eq!(allocations(|| core.get("alice").unwrap()), (Some(1), 0));
    assert_eq!(allocations(|| shared.get("nobody").unwrap()), (None, 0));
    // A memoized hit by a borrowed argument: only the returned clone of the value.
    let (shouted, allocated) = allocations(|| shout("alice"));
    assert_eq!((shouted.as_str(), allocated), ("ALICE", 1));
    // The count does count: building an owned key to look up allocates it.
    let (_, allocated) = allocations(|| shared.get(&"alice".to_string()).unwrap());
    assert_eq!(allocated, 1);
}
