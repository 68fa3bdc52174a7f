//! Concurrent misses on one key run the function once; a failed leader hands over.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use jwm_cache::{SyncCache, SyncCacheBuilder};

const THREADS: usize = 16;

/// A gate the test opens when it decides, so computations can be held in flight.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// Runs `call` on THREADS threads at once; returns their results.
fn race<T: Send + 'static>(call: impl Fn() -> T + Send + Sync + 'static) -> Vec<thread::Result<T>> {
    let call = Arc::new(call);
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let call = call.clone();
            thread::spawn(move || call())
        })
        .collect();
    handles.into_iter().map(|h| h.join()).collect()
}

fn wait_until(what: impl Fn() -> bool) {
    while !what() {
        thread::yield_now();
    }
}

#[test]
fn sixteen_threads_missing_one_key_run_it_once() {
    let cache: Arc<SyncCache<&str, u64>> = Arc::new(SyncCache::new());
    let (runs, entered, gate) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Gate::default()),
    );
    let opener = {
        let (entered, gate) = (entered.clone(), gate.clone());
        thread::spawn(move || {
            wait_until(|| entered.load(Ordering::SeqCst) == THREADS);
            gate.open();
        })
    };
    let results = {
        let (cache, runs) = (cache.clone(), runs.clone());
        race(move || {
            entered.fetch_add(1, Ordering::SeqCst);
            cache.get_or_insert_with("k", || {
                runs.fetch_add(1, Ordering::SeqCst);
                gate.wait();
                42
            })
        })
    };
    opener.join().unwrap();
    assert!(results.into_iter().all(|r| r.unwrap() == 42));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let info = cache.info();
    assert_eq!(
        (info.hits + info.misses, info.current_size),
        (THREADS as u64, 1)
    );
}

#[test]
fn without_single_flight_every_miss_runs() {
    let cache: Arc<SyncCache<&str, u64>> =
        Arc::new(SyncCacheBuilder::new().single_flight(false).build());
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Gate::default()));
    let opener = {
        let (runs, gate) = (runs.clone(), gate.clone());
        thread::spawn(move || {
            wait_until(|| runs.load(Ordering::SeqCst) == THREADS);
            gate.open();
        })
    };
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
    let cache: Arc<SyncCache<&str, u64>> = Arc::new(SyncCache::new());
    let (runs, entered, gate) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Gate::default()),
    );
    let opener = {
        let (entered, gate) = (entered.clone(), gate.clone());
        thread::spawn(move || {
            wait_until(|| entered.load(Ordering::SeqCst) == THREADS);
            gate.open();
        })
    };
    let results = {
        let (cache, runs) = (cache.clone(), runs.clone());
        race(move || {
            entered.fetch_add(1, Ordering::SeqCst);
            cache.try_get_or_insert_with("k", || {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                gate.wait();
                if run == 0 { fail() } else { Ok(7) }
            })
        })
    };
    opener.join().unwrap();
    assert_eq!(cache.get(&"k").unwrap(), Some(7));
    (runs.load(Ordering::SeqCst), results)
}

#[test]
fn a_failing_leader_hands_over_and_its_error_is_not_cached() {
    let (runs, results) = leader_fails(|| Err("down"));
    assert_eq!(runs, 2);
    let errors = results
        .iter()
        .filter(|r| matches!(r, Ok(Err("down"))))
        .count();
    let values = results.iter().filter(|r| matches!(r, Ok(Ok(7)))).count();
    assert_eq!((errors, values), (1, THREADS - 1));
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
