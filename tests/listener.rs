//! The eviction listener of the thread-safe caches: every departure reported once, with
//! its cause, after the cache's locks are released, so a listener may use the cache; and
//! the lifetime eviction counts agree with it while clears race the writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use jwm_cache::backend::{AsyncLookup, Offloaded};
use jwm_cache::memory::MemoryBackend;
use jwm_cache::memory::{Queued, RemovalCause, ShardStore, UnitWeight};
use jwm_cache::{AsyncCache, AsyncCacheBuilder, ManualClock, SyncCache, SyncCacheBuilder};

type Log = Arc<Mutex<Vec<(u32, u32, RemovalCause)>>>;
type Listened = SyncCache<u32, u32, ShardStore<u32, u32, UnitWeight, Queued<u32, u32>>>;

fn recorder() -> (Log, impl Fn(u32, u32, RemovalCause) + Send + Sync + 'static) {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    (log, move |key, value, cause| {
        sink.lock().unwrap().push((key, value, cause))
    })
}

#[test]
fn each_cause_is_reported_with_its_key_and_value() {
    let clock = ManualClock::new();
    let (log, listener) = recorder();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(Duration::from_secs(10))
        .capacity(3)
        .weigher(|_: &u32, value: &u32| if *value >= 100 { 4 } else { 1 })
        .eviction_listener(listener)
        .build::<u32, u32>();
    cache.insert(9, 90).unwrap();
    cache.insert(9, 91).unwrap(); // replaced
    assert!(cache.remove(&9).unwrap()); // removed
    cache.insert(1, 10).unwrap();
    cache.insert(3, 30).unwrap();
    cache.insert(4, 40).unwrap();
    cache.insert(5, 50).unwrap(); // evicts one of the older three: the policy's choice
    let evicted = log.lock().unwrap().last().copied().unwrap();
    assert!([1, 3, 4].contains(&evicted.0), "{evicted:?}");
    assert_eq!(
        (evicted.1, evicted.2),
        (evicted.0 * 10, RemovalCause::Evicted)
    );
    let mut kept: Vec<u32> = [1, 3, 4, 5]
        .into_iter()
        .filter(|&k| k != evicted.0)
        .collect();
    cache.insert(6, 100).unwrap(); // weighs 4 > 3: rejected
    clock.advance(Duration::from_secs(10));
    let read = kept.remove(0);
    assert_eq!(cache.get(&read).unwrap(), None); // expired on read
    cache.clear().unwrap(); // the rest expired, but a clear reports them as cleared
    let mut log = log.lock().unwrap().clone();
    // The order a clear reports in is the shards' and their stores'.
    log[5..].sort_unstable_by_key(|entry| entry.0);
    assert_eq!(
        log,
        [
            (9, 90, RemovalCause::Replaced),
            (9, 91, RemovalCause::Removed),
            evicted,
            (6, 100, RemovalCause::Rejected),
            (read, read * 10, RemovalCause::Expired),
            (kept[0], kept[0] * 10, RemovalCause::Cleared),
            (kept[1], kept[1] * 10, RemovalCause::Cleared),
        ]
    );
}

#[test]
fn an_expired_entry_is_reported_when_reclaimed_never_before_its_deadline() {
    let clock = ManualClock::new();
    let (log, listener) = recorder();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(Duration::from_secs(5))
        .shards(1)
        .eviction_listener(listener)
        .build::<u32, u32>();
    cache.insert(1, 1).unwrap();
    clock.advance(Duration::from_millis(4_999));
    cache.info();
    assert!(
        log.lock().unwrap().is_empty(),
        "reported before its deadline"
    );
    clock.advance(Duration::from_millis(1));
    cache.info(); // reclaims every due entry
    assert_eq!(*log.lock().unwrap(), [(1, 1, RemovalCause::Expired)]);
}

#[test]
fn a_listener_may_use_the_cache_it_listens_to() {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let slot: Arc<OnceLock<Listened>> = Arc::default();
        let inner = Arc::clone(&slot);
        let heard = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&heard);
        let cache = SyncCacheBuilder::new()
            .capacity(4)
            .eviction_listener(move |key: u32, value: u32, _| {
                count.fetch_add(1, Ordering::Relaxed);
                let cache = inner.get().expect("set before the first insert");
                // Reads, writes (which evict in turn) and a full scan, all re-entrant.
                let _ = cache.get(&key);
                if key < 1_000 {
                    cache.insert(key + 1_000, value).unwrap();
                }
                cache.info();
            })
            .build::<u32, u32>();
        assert!(slot.set(cache.clone()).is_ok());
        for key in 0..100 {
            cache.insert(key, key).unwrap();
            cache.get_or_insert_with(key + 500, || key);
        }
        cache.clear().unwrap();
        done.send(heard.load(Ordering::Relaxed)).unwrap();
    });
    let heard = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("a listener that uses the cache deadlocked it");
    assert!(heard >= 200, "heard {heard}");
}

#[test]
fn under_contention_every_entry_is_reported_exactly_once() {
    const THREADS: u32 = 4;
    const KEYS: u32 = 5_000;
    let removed = Arc::new(AtomicUsize::new(0));
    let (log, listener) = recorder();
    let cache = SyncCacheBuilder::new()
        .capacity(2_048)
        .shards(2)
        .eviction_listener(listener)
        .build::<u32, u32>();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (cache, removed) = (cache.clone(), Arc::clone(&removed));
            thread::spawn(move || {
                for k in 0..KEYS {
                    let key = t * KEYS + k;
                    cache.get_or_insert_with(key, || key);
                    // Other threads' writes may have evicted it first.
                    if k % 7 == 0 && cache.remove(&key).unwrap() {
                        removed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    cache.clear().unwrap();
    let log = log.lock().unwrap();
    let mut keys: Vec<u32> = log
        .iter()
        .map(|&(key, value, _)| {
            assert_eq!(key, value);
            key
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), log.len(), "a key was reported twice");
    assert_eq!(
        log.len(),
        (THREADS * KEYS) as usize,
        "an entry left unreported"
    );
    let reported = log.iter().filter(|e| e.2 == RemovalCause::Removed).count();
    assert_eq!(reported, removed.load(Ordering::Relaxed));
    assert!(reported > 0);
}

#[tokio::test]
async fn the_async_cache_reports_after_its_shard_lock_is_released() {
    let (log, listener) = recorder();
    let cache = AsyncCacheBuilder::new()
        .capacity(2)
        .eviction_listener(listener)
        .build::<u32, u32>();
    for key in 0..3 {
        cache.insert(key, key * 10).await.unwrap();
    }
    // One of the first two went, the policy's choice; the other is removed.
    let evicted = log.lock().unwrap()[0].0;
    assert!(evicted < 2);
    let kept = 1 - evicted;
    cache.insert(2, 21).await.unwrap();
    cache.remove(&kept).await.unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            (evicted, evicted * 10, RemovalCause::Evicted),
            (2, 20, RemovalCause::Replaced),
            (kept, kept * 10, RemovalCause::Removed),
        ]
    );
}

#[test]
fn a_listener_that_panics_loses_no_record_and_stops_no_clear() {
    let (log, record) = recorder();
    let cache = SyncCacheBuilder::new()
        .shards(4)
        .eviction_listener(move |key: u32, value: u32, cause| {
            record(key, value, cause);
            assert_ne!(key, 3, "the listener fails on key 3");
        })
        .build::<u32, u32>();
    for key in 0..64 {
        cache.insert(key, key).unwrap();
    }
    let clearing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cache.clear()));
    assert!(clearing.is_err(), "the listener's panic reaches the caller");
    // Every shard was cleared before the listener ran.
    assert_eq!(cache.info().current_size, 0);
    // The records after the failing one are delivered by the next call.
    let mut keys: Vec<u32> = log.lock().unwrap().iter().map(|e| e.0).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..64).collect::<Vec<_>>());
}

#[test]
fn a_listener_that_panics_during_a_miss_leaves_no_flight_behind() {
    let clock = ManualClock::new();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(Duration::from_secs(1))
        .eviction_listener(|_: u32, _: u32, cause| {
            assert_ne!(cause, RemovalCause::Expired, "the listener fails on expiry")
        })
        .build::<u32, u32>();
    cache.insert(1, 10).unwrap();
    clock.advance(Duration::from_secs(1));
    // This miss finds the entry expired: its removal is told to the listener, which
    // panics in the caller.
    let missed = cache.clone();
    assert!(
        thread::spawn(move || missed.get_or_insert_with(1, || 11))
            .join()
            .is_err()
    );
    // The next caller computes; it waited for ever on the first one's flight before.
    let (answer, answered) = mpsc::channel();
    let next = cache.clone();
    thread::spawn(move || answer.send(next.get_or_insert_with(1, || 12)).unwrap());
    assert_eq!(answered.recv_timeout(Duration::from_secs(30)), Ok(12));
}

/// Inserts `writes` new keys into `cache` from one thread while another clears it
/// after every 256 of them, then checks the lifetime evictions against those `heard`.
fn evictions_racing_clears<B>(cache: AsyncCache<u32, u32, B>, heard: &AtomicUsize, writes: u32)
where
    B: AsyncLookup<u32, u32, u32> + 'static,
    B::Error: std::fmt::Debug,
{
    // Between two clears: enough writes to fill the store and evict.
    const BETWEEN_CLEARS: usize = 256;
    let cache = Arc::new(cache);
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    };
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (cache, written) = (Arc::clone(&cache), Arc::clone(&written));
        thread::spawn(move || {
            runtime().block_on(async {
                for key in 0..writes {
                    cache.insert(key, key).await.unwrap();
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
    };
    let clearer = runtime();
    let (mut clears, mut cleared_at) = (0, 0);
    while !writer.is_finished() {
        let now = written.load(Ordering::Relaxed);
        if now < cleared_at + BETWEEN_CLEARS {
            thread::yield_now();
            continue;
        }
        clearer.block_on(cache.clear()).unwrap();
        (clears, cleared_at) = (clears + 1, now);
    }
    writer.join().unwrap();
    let lifetime = cache.lifetime_counters();
    let heard = heard.load(Ordering::Relaxed) as u64;
    assert!(
        clears > 0 && heard > 0,
        "{clears} clears, {heard} evictions"
    );
    assert_eq!(lifetime.evictions, heard, "after {clears} clears");
}

/// A listener that counts evictions in `heard`.
fn counting_evictions(heard: &Arc<AtomicUsize>) -> impl Fn(u32, u32, RemovalCause) + use<> {
    let heard = Arc::clone(heard);
    move |_, _, cause| {
        if cause == RemovalCause::Evicted {
            heard.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn evictions_racing_a_clear_stay_in_the_async_lifetime_totals() {
    // A clear reads each shard's counts as it restarts them, so none of the writer's
    // evictions falls between the two.
    let heard = Arc::new(AtomicUsize::new(0));
    let cache = AsyncCacheBuilder::new()
        .capacity(64)
        .shards(64)
        .eviction_listener(counting_evictions(&heard))
        .build::<u32, u32>();
    evictions_racing_clears(cache, &heard, 200_000);

    // Read in the clear's own turn on the backend, after the writes queued before it.
    let heard = Arc::new(AtomicUsize::new(0));
    let store = MemoryBackend::with_capacity(64).with_listener(counting_evictions(&heard));
    let cache = AsyncCacheBuilder::new().build_with_backend(Offloaded::new(store));
    evictions_racing_clears(cache, &heard, 20_000);
}

/// With an idle time, reads reclaim what idled out (writes alone could fall behind):
/// a memoized hit tells the listener of it at once, as a write would.
#[test]
fn entries_idle_past_their_time_are_reported_from_hits() {
    let clock = ManualClock::new();
    let (log, listener) = recorder();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(Duration::from_secs(600))
        .time_to_idle(Duration::from_secs(10))
        .shards(1)
        .eviction_listener(listener)
        .build::<u32, u32>();
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    for _ in 0..4 {
        clock.advance(Duration::from_secs(4));
        assert_eq!(cache.get_or_insert_with(2, || 0), 20, "kept alive by reads");
    }
    let log = log.lock().unwrap().clone();
    assert_eq!(log, [(1, 10, RemovalCause::Expired)], "key 1 idled out");
}
