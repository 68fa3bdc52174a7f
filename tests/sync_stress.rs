//! Eight threads over a small key space, with time moving underneath them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use jwm_cache::{ManualClock, SyncCacheBuilder, time::Clock};

const THREADS: usize = 8;
const KEYS: u64 = 16;
const OPS: u64 = 20_000;
const TTL: Duration = Duration::from_micros(50);

#[test]
fn counters_stay_exact_and_no_expired_value_is_served() {
    let clock = ManualClock::new();
    let cache = Arc::new(
        SyncCacheBuilder::new()
            .clock(clock.clone())
            .ttl(TTL)
            .shards(4)
            .build::<u64, (u64, u64)>(),
    );
    let lookups = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(THREADS + 1));

    let ticker = {
        let (clock, stop, start) = (clock.clone(), stop.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            while !stop.load(Ordering::Relaxed) {
                clock.advance(Duration::from_micros(7));
                thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let (cache, clock, lookups, start) =
                (cache.clone(), clock.clone(), lookups.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let mut x = t + 1;
                for _ in 0..OPS {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let key = (x >> 33) % KEYS;
                    let before = clock.now().as_nanos();
                    let (found, from_cache_only) = match (x >> 20) % 4 {
                        0 => (cache.get(&key).unwrap(), true),
                        1 => {
                            // Stamped 0: its deadline comes from a clock reading inside
                            // `insert`, later than any stamp taken here, so no bound.
                            cache.insert(key, (key, 0)).unwrap();
                            continue;
                        }
                        // A waiter may be handed a value its leader computed during this
                        // call: fresh, but stamped before `before`, so only its key is
                        // checked.
                        _ => (
                            Some(cache.get_or_insert_with(key, || (key, clock.now().as_nanos()))),
                            false,
                        ),
                    };
                    lookups.fetch_add(1, Ordering::Relaxed);
                    if let Some((stored_key, written_at)) = found {
                        assert_eq!(stored_key, key, "another key's value");
                        // A computed value is stamped after the lookup whose reading set
                        // its deadline, so that deadline is at most stamp + TTL; a `get`
                        // reads the clock after `before`.
                        if from_cache_only && written_at > 0 {
                            let deadline_bound = written_at + TTL.as_nanos() as u64;
                            assert!(before < deadline_bound, "expired value served");
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();

    let info = cache.info();
    // Every lookup is one hit, one miss or one wait on another thread's computation.
    assert_eq!(info.counters().calls(), lookups.load(Ordering::Relaxed));
    assert_eq!(info.errors, 0);
    let recount = (0..KEYS)
        .filter(|k| cache.get(k).unwrap().is_some())
        .count();
    assert_eq!(info.current_size, recount);
    assert!(
        info.hits > 0 && info.misses > 0 && info.expirations > 0,
        "{info:?}"
    );
}
