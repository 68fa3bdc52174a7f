//! Handles that fit in application state: memoized functions and caches are cheap to
//! clone and share their state, erased types can be named in a struct, the key and
//! value types are known before the first call, and single entries can be removed, set
//! and primed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use jwm_cache::{
    AsyncCache, AsyncCacheControls, AsyncMemoized, AsyncMemoizedFn, CacheControls, ManualClock,
    Memoized, MemoizedFn, SharedCache, SyncCache, time::Clock,
};

fn counted(runs: &Arc<AtomicUsize>) -> impl Fn(u64) -> u64 + Send + Sync + 'static {
    let runs = Arc::clone(runs);
    move |n| {
        runs.fetch_add(1, SeqCst);
        n * n
    }
}

#[test]
fn the_controls_work_before_the_first_call() {
    let square = Memoized::new(|n: u64| n * n);
    assert_eq!(square.cache_info().current_size, 0);
    let built = Memoized::builder(|s: String| s.len()).build();
    assert_eq!(
        built.cache_parameters().ttl,
        jwm_cache::backend::DEFAULT_TTL
    );
    let parse = Memoized::fallible(|s: String| s.parse::<u8>());
    assert_eq!(parse.cache_info().misses, 0);
    assert_eq!(parse.try_call("7".into()), Ok(7));
}

#[test]
fn builders_take_their_types_from_the_annotated_let() {
    let shared: SharedCache<String, u32> = SharedCache::builder().capacity(10).build();
    shared.insert("a".into(), 1).unwrap();
    assert_eq!(shared.get("a").unwrap(), Some(1));
    let sync: SyncCache<u8, u8> = SyncCache::builder().ttl(Duration::from_secs(1)).build();
    assert_eq!(sync.ttl(), Duration::from_secs(1).into());
    let asynch: AsyncCache<u8, u8> = AsyncCache::builder().build();
    assert_eq!(asynch.parameters().backend, "memory");
}

/// A clock a `static` can hold: `ManualClock::new` is a `const fn`.
static CLOCK: ManualClock = ManualClock::new();

#[test]
fn a_static_manual_clock_drives_the_caches_built_from_its_clones() {
    let cache: SyncCache<u8, u8, _, _, ManualClock> = SyncCache::builder()
        .clock(CLOCK.clone())
        .ttl(Duration::from_secs(5))
        .build();
    cache.insert(1, 1).unwrap();
    CLOCK.advance(Duration::from_secs(5));
    assert_eq!(cache.get(&1).unwrap(), None);
    assert_eq!(cache.clock().now(), CLOCK.now());
}

#[test]
fn clones_share_the_function_and_the_cache() {
    let runs = Arc::new(AtomicUsize::new(0));
    let square = Memoized::new(counted(&runs));
    let copies: Vec<_> = (0..4).map(|_| square.clone()).collect();
    let threads: Vec<_> = copies
        .into_iter()
        .map(|copy| std::thread::spawn(move || copy.call(9)))
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 81);
    }
    assert_eq!(
        runs.load(SeqCst),
        1,
        "one computation; the others hit or waited"
    );
    let info = square.cache_info();
    assert_eq!(info.hits + info.misses + info.coalesced, 4);
    assert_eq!(info.misses, 1, "the one computation");
}

#[test]
fn a_shared_cache_clone_is_the_same_cache() {
    let cache: SharedCache<String, u32> = SharedCache::new();
    let other = cache.clone();
    other.insert("a".into(), 1).unwrap();
    assert_eq!(cache.get("a").unwrap(), Some(1));
    cache.clear().unwrap();
    assert_eq!(other.get("a").unwrap(), None);
}

/// What an application keeps: named types, no generics, no `Arc` around them.
#[derive(Clone)]
struct AppState {
    render: MemoizedFn<u64, u64>,
    parse: MemoizedFn<String, Result<u8, std::num::ParseIntError>, SharedCache<String, u8>>,
}

#[test]
fn erased_handles_can_be_named_in_a_struct() {
    let runs = Arc::new(AtomicUsize::new(0));
    let state = AppState {
        render: Memoized::new(counted(&runs)).boxed(),
        parse: Memoized::fallible(|s: String| s.parse::<u8>()).boxed(),
    };
    let copy = state.clone();
    assert_eq!((state.render.call(3), copy.render.call(3)), (9, 9));
    assert_eq!(runs.load(SeqCst), 1);
    assert!(copy.parse.try_call("x".into()).is_err());
    assert_eq!(state.parse.try_call("8".into()), Ok(8));
    assert_eq!(copy.parse.cache_info().current_size, 1);
}

#[test]
fn entries_are_removed_set_and_primed_by_their_arguments() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let square = Memoized::builder(counted(&runs))
        .ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .build();

    square.call(2);
    assert_eq!(square.cache_remove(&2), Ok(true));
    assert_eq!(square.cache_remove(&2), Ok(false));
    square.call(2);
    assert_eq!(runs.load(SeqCst), 2, "removed, so computed again");

    // A set value is served, with the function's TTL.
    square.cache_set(5, 99).unwrap();
    assert_eq!(square.call(5), 99);
    clock.advance(Duration::from_secs(10));
    assert_eq!(square.call(5), 25);
    assert_eq!(runs.load(SeqCst), 3);

    // Priming computes whatever is cached, and stores.
    square.cache_set(6, 0).unwrap();
    assert_eq!(square.cache_prime(6), 36);
    assert_eq!(square.call(6), 36);
    assert_eq!(runs.load(SeqCst), 4);

    let parse = Memoized::fallible(|s: String| s.parse::<u8>());
    assert!(parse.try_cache_prime("x".into()).is_err());
    assert_eq!(parse.try_cache_prime("9".into()), Ok(9));
    assert_eq!(parse.cache_info().current_size, 1);
}

#[tokio::test]
async fn async_handles_clone_name_and_control_entries() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let profile = AsyncMemoized::new(move |id: u64| {
        counter.fetch_add(1, SeqCst);
        async move { format!("user {id}") }
    });
    assert_eq!(profile.cache_info().await.current_size, 0);
    let named: AsyncMemoizedFn<u64, String> = profile.clone().boxed();
    let task = tokio::spawn({
        let named = named.clone();
        async move { named.call(1).await }
    });
    assert_eq!(task.await.unwrap(), "user 1");
    assert_eq!(profile.call(1).await, "user 1");
    assert_eq!(runs.load(SeqCst), 1);

    assert_eq!(named.cache_remove(&1).await, Ok(true));
    named.cache_set(2, "preset".into()).await.unwrap();
    assert_eq!(profile.call(2).await, "preset");
    assert_eq!(named.cache_prime(2).await, "user 2");
    assert_eq!(profile.call(2).await, "user 2");
    assert_eq!(runs.load(SeqCst), 2);

    let parse = AsyncMemoized::fallible(|s: String| async move { s.parse::<u8>() });
    assert!(parse.try_cache_prime("x".into()).await.is_err());
    assert_eq!(parse.try_call("4".into()).await, Ok(4));
}

/// A memoized identity whose each computation tells `started`, then waits for `finish`:
/// a write can land while it runs.
fn held_identity() -> (
    jwm_cache::MemoizedFn<u64, u64>,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let (started_tx, started) = std::sync::mpsc::channel();
    let (finish, finish_rx) = std::sync::mpsc::channel::<()>();
    let finish_rx = std::sync::Mutex::new(finish_rx);
    let slow = Memoized::new(move |n: u64| {
        started_tx.send(()).unwrap();
        finish_rx.lock().unwrap().recv().unwrap();
        n // computed from inputs older than the writes the tests make meanwhile
    });
    (slow.boxed(), started, finish)
}

#[test]
fn a_value_set_during_a_computation_is_not_overwritten_by_it() {
    let (slow, started, finish) = held_identity();
    let leader = {
        let slow = slow.clone();
        std::thread::spawn(move || slow.call(1))
    };
    started.recv().unwrap();
    slow.cache_set(1, 100).unwrap();
    finish.send(()).unwrap();
    assert_eq!(
        leader.join().unwrap(),
        1,
        "the computation answers its own caller"
    );
    assert_eq!(slow.call(1), 100, "and the newer value stays");
}

/// Priming stores as a miss does: a write of the key while the function ran is newer,
/// and stays.
#[test]
fn a_write_during_a_prime_is_not_overwritten_by_it() {
    let (slow, started, finish) = held_identity();
    for write in ["set", "remove"] {
        let primer = {
            let slow = slow.clone();
            std::thread::spawn(move || slow.cache_prime(1))
        };
        started.recv().unwrap();
        match write {
            "set" => slow.cache_set(1, 100).unwrap(),
            _ => _ = slow.cache_remove(&1).unwrap(),
        }
        finish.send(()).unwrap();
        assert_eq!(primer.join().unwrap(), 1, "the prime returns its own value");
        let cached = slow.cache().get(&1).unwrap();
        let expected = (write == "set").then_some(100);
        assert_eq!(cached, expected, "after a {write} during the prime");
    }
}

#[tokio::test]
async fn an_async_value_set_during_a_computation_is_not_overwritten_by_it() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(tokio::sync::Notify::new());
    let (gate_in, started_in) = (Arc::clone(&gate), Arc::clone(&started));
    let slow = AsyncMemoized::new(move |n: u64| {
        let (gate, started) = (Arc::clone(&gate_in), Arc::clone(&started_in));
        async move {
            started.notify_one();
            gate.notified().await;
            n
        }
    });
    let leader = tokio::spawn({
        let slow = slow.clone();
        async move { slow.call(1).await }
    });
    started.notified().await;
    slow.cache_set(1, 100).await.unwrap();
    gate.notify_one();
    assert_eq!(leader.await.unwrap(), 1);
    assert_eq!(slow.call(1).await, 100);
}
