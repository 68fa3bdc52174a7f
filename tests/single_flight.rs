//! Concurrent misses on one key run the function once; a failed leader hands over.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use jwm_cache::{ManualClock, SyncCache, SyncCacheBuilder};

const THREADS: usize = 16;

/// A gate the test opens when it decides, so computations can be held in flight.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// Waits until the gate opens; fails the test after a minute instead of hanging.
    fn wait(&self) {
        let open = self.open.lock().unwrap();
        let (open, waited) = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
            .unwrap();
        drop(open);
        assert!(!waited.timed_out(), "a gate never opened");
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// Runs `call` on THREADS threads at once; returns their results. A hang fails the
/// test after a generous bound instead of blocking the suite.
fn race<T: Send + 'static>(call: impl Fn() -> T + Send + Sync + 'static) -> Vec<thread::Result<T>> {
    let call = Arc::new(call);
    let (done, results) = mpsc::channel();
    thread::spawn(move || {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let call = call.clone();
                thread::spawn(move || call())
            })
            .collect();
        let _ = done.send(handles.into_iter().map(|h| h.join()).collect());
    });
    results
        .recv_timeout(Duration::from_secs(60))
        .expect("a caller hung")
}

fn wait_until(what: impl Fn() -> bool) {
    let began = std::time::Instant::now();
    while !what() {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(60),
            "never happened"
        );
        thread::yield_now();
    }
}

/// Opens `gate` once `count` reaches `n`, from another thread.
fn open_when(count: &Arc<AtomicUsize>, n: usize, gate: &Arc<Gate>) -> thread::JoinHandle<()> {
    let (count, gate) = (count.clone(), gate.clone());
    thread::spawn(move || {
        wait_until(|| count.load(Ordering::SeqCst) == n);
        gate.open();
    })
}

/// Races THREADS callers on one key of a fresh cache. Every computation is held at a
/// gate until all callers have joined; run `n` (counting from 0) yields `compute(n)`.
/// Returns the cache, how many runs there were, and each caller's outcome.
fn held_race(
    compute: impl Fn(usize) -> Result<u64, &'static str> + Send + Sync + 'static,
) -> (
    Arc<SyncCache<&'static str, u64>>,
    usize,
    Vec<thread::Result<Result<u64, &'static str>>>,
) {
    let cache: Arc<SyncCache<&str, u64>> = Arc::new(SyncCache::new());
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Gate::default()));
    // Every caller counts its miss (or, joining, its coalesced wait) under the shard lock
    // in which it joins the flight, so THREADS of them mean every caller has joined: none
    // can arrive after a failure and compute again. (Counting callers on entry left that
    // window open.)
    let opener = {
        let (cache, gate) = (cache.clone(), gate.clone());
        thread::spawn(move || {
            wait_until(|| {
                let info = cache.info();
                info.misses + info.coalesced == THREADS as u64
            });
            gate.open();
        })
    };
    let results = {
        let (cache, runs) = (cache.clone(), runs.clone());
        race(move || {
            cache.try_get_or_insert_with("k", || {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                gate.wait();
                compute(run)
            })
        })
    };
    opener.join().unwrap();
    (cache, runs.load(Ordering::SeqCst), results)
}

#[test]
fn sixteen_threads_missing_one_key_run_it_once() {
    let (cache, runs, results) = held_race(|_| Ok(42));
    assert!(results.into_iter().all(|r| r.unwrap() == Ok(42)));
    assert_eq!(runs, 1);
    let info = cache.info();
    assert_eq!(
        (info.hits, info.misses, info.coalesced, info.current_size),
        (0, 1, THREADS as u64 - 1, 1),
        "one computation, every other caller waited for it"
    );
}

#[test]
fn without_single_flight_every_miss_runs() {
    let cache: Arc<SyncCache<&str, u64>> =
        Arc::new(SyncCacheBuilder::new().single_flight(false).build());
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Gate::default()));
    let opener = open_when(&runs, THREADS, &gate);
    let results = {
        let (cache, runs) = (cache.clone(), runs.clone());
        race(move || {
            cache.get_or_insert_with("k", || {
                runs.fetch_add(1, Ordering::SeqCst);
                gate.wait();
                42
            })
        })
    };
    opener.join().unwrap();
    assert!(results.into_iter().all(|r| r.unwrap() == 42));
    assert_eq!(runs.load(Ordering::SeqCst), THREADS);
}

/// The first run fails (by `fail`); a waiter takes over and everyone else gets a value.
fn leader_fails(
    fail: fn() -> Result<u64, &'static str>,
) -> (usize, Vec<thread::Result<Result<u64, &'static str>>>) {
    let (cache, runs, results) = held_race(move |run| if run == 0 { fail() } else { Ok(7) });
    assert_eq!(cache.get(&"k").unwrap(), Some(7));
    (runs, results)
}

#[test]
fn a_failing_leader_shares_its_error_with_every_waiter_and_it_is_not_cached() {
    let (cache, runs, results) = held_race(|_| Err("down"));
    assert_eq!(runs, 1, "one failure, shared: not retried once per waiter");
    assert!(results.into_iter().all(|r| r.unwrap() == Err("down")));
    assert_eq!(cache.get(&"k").unwrap(), None);
    assert_eq!(
        cache.try_get_or_insert_with("k", || Ok::<_, &str>(7)),
        Ok(7)
    );
}

#[test]
fn a_panicking_leader_hands_over_and_nobody_hangs() {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let (runs, results) = leader_fails(|| panic!("leader panics"));
    panic::set_hook(hook);
    assert_eq!(runs, 2);
    let panicked = results.iter().filter(|r| r.is_err()).count();
    let values = results.iter().filter(|r| matches!(r, Ok(Ok(7)))).count();
    assert_eq!((panicked, values), (1, THREADS - 1));
}

#[test]
fn a_waiter_taking_over_does_not_serve_what_expired_while_it_waited() {
    let clock = ManualClock::new();
    let cache = Arc::new(
        SyncCacheBuilder::new()
            .clock(clock.clone())
            .ttl(Duration::from_secs(1))
            .build::<&str, u64>(),
    );
    let (entered, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Gate::default()));
    let leader = {
        let (cache, entered, gate) = (cache.clone(), entered.clone(), gate.clone());
        thread::spawn(move || {
            cache.try_get_or_insert_with("k", || {
                entered.fetch_add(1, Ordering::SeqCst);
                gate.wait();
                Err("leader fails")
            })
        })
    };
    wait_until(|| entered.load(Ordering::SeqCst) == 1);
    let waiter = {
        let cache = cache.clone();
        thread::spawn(move || cache.get_or_insert_with("k", || 2))
    };
    // While both wait: another caller stores a value, which then expires.
    wait_until(|| cache.info().counters().calls() == 2);
    cache.insert("k", 1).unwrap();
    clock.advance(Duration::from_secs(5));
    gate.open();
    assert_eq!(leader.join().unwrap(), Err("leader fails"));
    assert_eq!(
        waiter.join().unwrap(),
        2,
        "the expired 1 must not be served"
    );
}

/// A thread computing `"k"` (as 1) on `cache`, held inside its computation until `gate`
/// opens; returned once the computation has begun.
fn computing_behind(
    cache: &Arc<SyncCache<&'static str, u64>>,
    gate: &Arc<Gate>,
) -> thread::JoinHandle<u64> {
    let entered = Arc::new(AtomicUsize::new(0));
    let (cache, counted, gate) = (cache.clone(), entered.clone(), gate.clone());
    let computing = thread::spawn(move || {
        cache.get_or_insert_with("k", || {
            counted.fetch_add(1, Ordering::SeqCst);
            gate.wait();
            1
        })
    });
    wait_until(|| entered.load(Ordering::SeqCst) == 1);
    computing
}

#[test]
fn clear_detaches_a_computation_in_flight() {
    let cache: Arc<SyncCache<&str, u64>> = Arc::new(SyncCache::new());
    let gate = Arc::new(Gate::default());
    let leader = computing_behind(&cache, &gate);
    cache.clear().unwrap();
    // After the clear, a new caller computes afresh instead of joining the old flight.
    assert_eq!(cache.get_or_insert_with("k", || 2), 2);
    gate.open();
    assert_eq!(
        leader.join().unwrap(),
        1,
        "the detached leader still gets its value"
    );
    assert_eq!(
        cache.get(&"k").unwrap(),
        Some(2),
        "but does not overwrite the new one"
    );
}

#[test]
fn a_computation_asking_for_its_own_key_does_not_wait_for_itself() {
    let cache: SyncCache<u64, u64> = SyncCache::new();
    let value = cache.get_or_insert_with(1, || cache.get_or_insert_with(1, || 10) + 1);
    assert_eq!(value, 11);
}

#[test]
fn without_single_flight_a_removal_during_a_computation_keeps_its_value_out() {
    let cache: Arc<SyncCache<&str, u64>> =
        Arc::new(SyncCacheBuilder::new().single_flight(false).build());
    let gate = Arc::new(Gate::default());
    let computing = computing_behind(&cache, &gate);
    cache.remove(&"k").unwrap();
    gate.open();
    assert_eq!(computing.join().unwrap(), 1, "its caller still gets it");
    assert_eq!(cache.get(&"k").unwrap(), None, "but it is not stored");
}

/// The shards of a cache over a backend that sees its whole namespace share its
/// entries: each records which keys it looked up, and its `clear` waits at a gate.
struct Whole {
    shard: usize,
    store: Arc<Mutex<jwm_cache::memory::MemoryBackend<u32, u32>>>,
    looked_up: Arc<Mutex<Vec<(u32, usize)>>>,
    clearing: Arc<Gate>,
    cleared: Arc<Gate>,
    found: Option<u32>,
}

impl jwm_cache::backend::Backend<u32, u32> for Whole {
    type Error = std::convert::Infallible;
    const NAME: &'static str = "whole";
    const SEES_WHOLE_NAMESPACE: bool = true;

    fn set(
        &mut self,
        key: u32,
        value: u32,
        deadline: jwm_cache::backend::Deadline,
        now: jwm_cache::time::Instant,
    ) -> Result<(), Self::Error> {
        self.store.lock().unwrap().set(key, value, deadline, now)
    }
    /// Clears, then waits: as a server's clear whose walk has passed a key.
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.store.lock().unwrap().clear()?;
        self.clearing.open();
        self.cleared.wait();
        Ok(())
    }
    fn len(&mut self, now: jwm_cache::time::Instant) -> Result<usize, Self::Error> {
        self.store.lock().unwrap().len(now)
    }
}

impl jwm_cache::backend::Lookup<u32, u32, u32> for Whole {
    fn get_entry(
        &mut self,
        key: &u32,
        now: jwm_cache::time::Instant,
    ) -> Result<Option<jwm_cache::backend::Entry<&u32>>, Self::Error> {
        self.looked_up.lock().unwrap().push((*key, self.shard));
        let mut store = self.store.lock().unwrap();
        let found = store.get_entry(key, now)?;
        let deadline = found.as_ref().map(|entry| entry.deadline);
        self.found = found.map(|entry| *entry.value);
        drop(store);
        Ok(self
            .found
            .as_ref()
            .zip(deadline)
            .map(|(value, deadline)| jwm_cache::backend::Entry { value, deadline }))
    }
    fn remove(&mut self, key: &u32, now: jwm_cache::time::Instant) -> Result<bool, Self::Error> {
        self.store.lock().unwrap().remove(key, now)
    }
}

/// A clear of shards that share one namespace detaches every shard's computations
/// before it clears the namespace (through the first shard): a computation begun
/// before the clear, on another shard, stored after it when that shard's turn came
/// only after the namespace was cleared.
#[test]
fn a_clear_of_a_shared_namespace_outlives_no_computation_begun_before_it() {
    let (store, looked_up) = (Arc::default(), Arc::new(Mutex::new(Vec::new())));
    let (clearing, cleared) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let mut made = 0;
    let cache = SyncCacheBuilder::new().shards(2).build_with_backend(|| {
        made += 1;
        Whole {
            shard: made - 1,
            store: Arc::clone(&store),
            looked_up: Arc::clone(&looked_up),
            clearing: Arc::clone(&clearing),
            cleared: Arc::clone(&cleared),
            found: None,
        }
    });
    // A key of the second shard, found by the shard that looks it up.
    let key = (0..64u32)
        .find(|k| {
            cache.get(k).unwrap();
            looked_up.lock().unwrap().last() == Some(&(*k, 1))
        })
        .expect("no key of 64 in the second shard");
    let (computing, release) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let leader = {
        let (cache, computing, release) = (cache.clone(), computing.clone(), release.clone());
        thread::spawn(move || {
            cache.get_or_insert_with(key, || {
                computing.open();
                release.wait();
                7
            })
        })
    };
    computing.wait();
    let clear = {
        let cache = cache.clone();
        thread::spawn(move || cache.clear().unwrap())
    };
    // The namespace is cleared, the clear not yet returned: the computation ends, and
    // tries to store.
    clearing.wait();
    release.open();
    assert_eq!(leader.join().unwrap(), 7);
    cleared.open();
    clear.join().unwrap();
    assert_eq!(
        cache.get(&key).unwrap(),
        None,
        "a value computed before the clear"
    );
}
