//! Callers that miss a key while its value is being stored, by a miss's leader or a
//! refresh, get the value at once: the flight is settled before the store and
//! withdrawn after it, so none of them waits for the store or computes again; in a
//! `SyncCache` too.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::gated::open_gate;
use jwm_cache::{AsyncCache, AsyncCacheBuilder, AsyncMemoized, SyncCacheBuilder};
use tokio::time::sleep;

/// Callers that miss while the leader stores its value (here 10 s) get the value at
/// once, and nothing runs again: the flight is settled before the store, withdrawn
/// after it.
#[tokio::test(start_paused = true)]
async fn callers_during_a_slow_store_get_the_value_at_once() {
    let backend = common::SlowBackend::<u32, u32>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_secs(10),
    );
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(backend));
    let runs = Arc::new(AtomicUsize::new(0));
    let call = |cache: &Arc<AsyncCache<u32, u32, _, _, _>>| {
        let (cache, runs) = (Arc::clone(cache), Arc::clone(&runs));
        tokio::spawn(async move {
            let began = tokio::time::Instant::now();
            let value = cache
                .get_or_insert_with(1, || async move {
                    runs.fetch_add(1, SeqCst);
                    10
                })
                .await;
            (value, began.elapsed())
        })
    };
    let leader = call(&cache);
    for turn in 0.. {
        if cache.backend().sets_started.load(SeqCst) > 0 {
            break;
        }
        assert!(turn < 100_000, "the store never started");
        sleep(Duration::from_micros(100)).await;
    }
    let (value, took) = call(&cache).await.unwrap();
    assert_eq!(value, 10);
    assert!(
        took < Duration::from_secs(1),
        "waited for the store: {took:?}"
    );
    assert_eq!(leader.await.unwrap().0, 10);
    assert_eq!(runs.load(SeqCst), 1, "computed once");
}

/// The same for a refresh: callers that miss while it stores its value get the value
/// at once. On a multi-thread runtime, where callers wait for a refresh (real time: a
/// store takes 1.5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_during_a_refresh_store_get_the_value_at_once() {
    let clock = jwm_cache::ManualClock::new();
    let backend = common::SlowBackend::<u32, u32>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_millis(1_500),
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Arc::new(
        AsyncMemoized::builder(move |n: u32| {
            let run = counted.fetch_add(1, SeqCst) as u32;
            async move { n * 10 + run }
        })
        .ttl(Duration::from_secs(60))
        .refresh_after(Duration::from_secs(45))
        .clock(clock.clone())
        .build_with_backend(backend),
    );
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(50));
    // Due: the old value, and a refresh whose store then takes 1.5 s.
    assert_eq!(memo.call(1).await, 10);
    for turn in 0.. {
        if memo.cache().backend().sets_started.load(SeqCst) > 1 {
            break;
        }
        assert!(turn < 100_000, "the refresh never stored");
        sleep(Duration::from_micros(100)).await;
    }
    // Expired while the refresh stores: this call joins it.
    clock.advance(Duration::from_secs(20));
    let began = tokio::time::Instant::now();
    assert_eq!(memo.call(1).await, 11, "the refresh's value");
    let took = began.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "waited for the store: {took:?}"
    );
    assert_eq!(runs.load(SeqCst), 2);
}

/// A refresh slower than the TTL gives a value that would expire on arrival: it is not
/// stored (the new value's TTL counts from the refresh's start).
#[tokio::test(start_paused = true)]
async fn a_refresh_slower_than_its_ttl_stores_nothing() {
    let clock = jwm_cache::ManualClock::new();
    let backend = common::SlowBackend::<u32, u32>::new(Duration::from_millis(1));
    let (ticking, runs) = (clock.clone(), Arc::new(AtomicUsize::new(0)));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst) as u32;
        if run > 0 {
            ticking.advance(Duration::from_secs(100));
        }
        async move { n * 10 + run }
    })
    .ttl(Duration::from_secs(60))
    .refresh_after(Duration::from_secs(45))
    .clock(clock.clone())
    .build_with_backend(backend);
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(50));
    assert_eq!(memo.call(1).await, 10, "due: the old value, and a refresh");
    // Long enough, on the paused clock, for the refresh to run and store.
    sleep(Duration::from_secs(1)).await;
    assert_eq!(runs.load(SeqCst), 2, "the refresh ran");
    assert_eq!(memo.cache().backend().sets_started.load(SeqCst), 1);
}

/// A gate a test opens when it decides.
type Gate = (Mutex<bool>, Condvar);

/// Waits until `gate` opens; fails the test after a minute instead of hanging.
fn pass(gate: &Gate) {
    let open = gate.0.lock().unwrap();
    let (open, waited) = (gate.1)
        .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
        .unwrap();
    drop(open);
    assert!(!waited.timed_out(), "a gate never opened");
}

/// Polls `what` until it holds; fails the test after a minute.
fn wait_until(what: impl Fn() -> bool) {
    let began = std::time::Instant::now();
    while !what() {
        assert!(began.elapsed() < Duration::from_secs(60), "never happened");
        std::thread::yield_now();
    }
}

/// A sync store that waits at a gate, as a store to a server waits for its round trip.
struct SlowStores {
    store: jwm_cache::memory::MemoryBackend<u64, u64>,
    gate: Arc<Gate>,
}

impl jwm_cache::backend::Backend<u64, u64> for SlowStores {
    type Error = std::convert::Infallible;
    const NAME: &'static str = "slow stores";

    fn set(
        &mut self,
        key: u64,
        value: u64,
        deadline: jwm_cache::backend::Deadline,
        now: jwm_cache::time::Instant,
    ) -> Result<(), Self::Error> {
        pass(&self.gate);
        self.store.set(key, value, deadline, now)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.store.clear()
    }
    fn len(&mut self, now: jwm_cache::time::Instant) -> Result<usize, Self::Error> {
        self.store.len(now)
    }
}

impl jwm_cache::backend::Lookup<u64, u64, u64> for SlowStores {
    fn get_entry(
        &mut self,
        key: &u64,
        now: jwm_cache::time::Instant,
    ) -> Result<Option<jwm_cache::backend::Entry<&u64>>, Self::Error> {
        self.store.get_entry(key, now)
    }
    fn remove(&mut self, key: &u64, now: jwm_cache::time::Instant) -> Result<bool, Self::Error> {
        self.store.remove(key, now)
    }
}

/// The same in a `SyncCache`: waiters get the leader's value once it is computed, not
/// once it is stored (over a server, a round trip).
#[test]
fn sync_waiters_get_the_value_before_the_leader_stores_it() {
    let (computing, stored) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let gate = Arc::clone(&stored);
    let cache = SyncCacheBuilder::new()
        .shards(1)
        .build_with_backend(move || SlowStores {
            store: jwm_cache::memory::MemoryBackend::new(),
            gate: Arc::clone(&gate),
        });
    let started = Arc::new(AtomicUsize::new(0));
    let leader = {
        let (cache, computing, started) = (cache.clone(), computing.clone(), started.clone());
        std::thread::spawn(move || {
            cache.get_or_insert_with(1, || {
                started.fetch_add(1, SeqCst);
                pass(&computing);
                10
            })
        })
    };
    wait_until(|| started.load(SeqCst) == 1);
    let (answered, waiter_answer) = std::sync::mpsc::channel();
    let waiter = {
        let cache = cache.clone();
        std::thread::spawn(move || answered.send(cache.get_or_insert_with(1, || 20)).unwrap())
    };
    wait_until(|| cache.info().coalesced == 1);
    open_gate(&computing);
    // The leader now waits at the store's gate: the waiter has its value meanwhile.
    let got = waiter_answer.recv_timeout(Duration::from_secs(10));
    open_gate(&stored);
    assert_eq!(got, Ok(10), "the waiter waited for the store");
    assert_eq!(leader.join().unwrap(), 10);
    waiter.join().unwrap();
    assert_eq!(cache.get(&1).unwrap(), Some(10));
}
