//! What an eviction policy costs: a hit on a bounded cache, and an insert that evicts,
//! under SIEVE and TinyLfu, beside an unbounded cache and quick_cache.
//!
//! `cargo bench -p jwm-cache-benches --bench eviction`
//!
//! Every contender runs once per round, rounds interleaved; the figures are medians.
//! Caches read a `ManualClock`, so the figures are the engine's and its policy's, not
//! the system clock's (a serializing read that would hide them).

use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "shuffled.rs"]
mod shuffled;

use jwm_cache::backend::Backend;
use jwm_cache::codec::Identity;
use jwm_cache::memory::{Eviction, MemoryBackend, Sieve, TinyLfu};
use jwm_cache::{Cache, CacheBuilder, ManualClock};
use shuffled::shuffled;

const ROUNDS: usize = 15;
const TTL: Duration = Duration::from_secs(3600);
/// Operations timed per contender per round.
const OPS: usize = 2_000_000;

type Store<P> = MemoryBackend<u64, u64, foldhash::fast::RandomState, P>;

fn store<P: Eviction>(policy: P) -> Store<P> {
    MemoryBackend::with_hasher(None, foldhash::fast::RandomState::default()).with_eviction(policy)
}

/// A cache over `policy`, holding keys `0..n`.
fn filled<P: Eviction>(policy: P, n: u64) -> Cache<u64, u64, Store<P>, Identity, ManualClock> {
    let mut cache = CacheBuilder::new(ManualClock::new())
        .ttl(TTL)
        .build_with_backend(store(policy));
    for k in 0..n {
        cache.insert(k, k).unwrap();
    }
    cache
}

/// Nanoseconds per call of `op` over `OPS` calls.
fn time(mut op: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..OPS {
        op(i);
    }
    start.elapsed().as_nanos() as f64 / OPS as f64
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Runs each contender once per round and prints the medians, as ratios to the first.
fn report(title: &str, contenders: &mut [(&str, Box<dyn FnMut() -> f64 + '_>)]) {
    let mut samples = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            samples[i].push(run());
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("\n{title}");
    println!("| contender | ns | ÷ {} |", contenders[0].0);
    println!("|---|---:|---:|");
    for ((name, _), ns) in contenders.iter().zip(&medians) {
        println!("| {name} | {ns:.1} | {:.2} |", ns / medians[0]);
    }
}

fn hits(n: u64) {
    // 10% more keys than the capacity: the policies have evicted, as in use (TinyLfu
    // counts hits for its split test only once full), and each is timed on the keys
    // it holds, in a shuffled order.
    let given = n + n / 10;
    let held = |get: &mut dyn FnMut(u64) -> bool| -> Vec<u64> {
        shuffled(given).into_iter().filter(|&k| get(k)).collect()
    };
    let mut sieve = filled(Sieve::new(n as usize), given);
    let sieve_keys = held(&mut |k| sieve.get(&k).unwrap().is_some());
    let mut tinylfu = filled(TinyLfu::new(n as usize), given);
    let tinylfu_keys = held(&mut |k| tinylfu.get(&k).unwrap().is_some());
    // The default: the same policy, boxed, behind an `Option`.
    let mut default = filled(Some(Box::new(TinyLfu::new(n as usize))), given);
    let default_keys = held(&mut |k| default.get(&k).unwrap().is_some());
    let mut unbounded = filled(None::<Sieve>, n);
    let unbounded_keys = shuffled(n);
    let mut quick = quick_cache::unsync::Cache::new(n as usize);
    for k in 0..given {
        quick.insert(k, k);
    }
    let quick_keys = held(&mut |k| quick.get(&k).is_some());
    let at = |keys: &[u64], i: usize| keys[i % keys.len()];
    report(
        &format!("A hit, capacity {n}, {given} keys given"),
        &mut [
            (
                "SIEVE",
                Box::new(|| time(|i| _ = black_box(sieve.get(&at(&sieve_keys, i)))))
                    as Box<dyn FnMut() -> f64>,
            ),
            (
                "TinyLfu",
                Box::new(|| time(|i| _ = black_box(tinylfu.get(&at(&tinylfu_keys, i))))),
            ),
            (
                "default (TinyLfu, boxed)",
                Box::new(|| time(|i| _ = black_box(default.get(&at(&default_keys, i))))),
            ),
            (
                "unbounded",
                Box::new(|| time(|i| _ = black_box(unbounded.get(&at(&unbounded_keys, i))))),
            ),
            (
                "quick_cache::unsync",
                Box::new(|| time(|i| _ = black_box(quick.get(&at(&quick_keys, i))))),
            ),
        ],
    );
}

fn inserts(capacity: u64) {
    let mut sieve = filled(Sieve::new(capacity as usize), capacity);
    let mut tinylfu = filled(TinyLfu::new(capacity as usize), capacity);
    let mut sieve_store = store(Sieve::new(capacity as usize));
    let mut tinylfu_store = store(TinyLfu::new(capacity as usize));
    let mut quick = quick_cache::unsync::Cache::new(capacity as usize);
    let now = jwm_cache::backend::Instant::ZERO;
    let never = jwm_cache::backend::Deadline::NEVER;
    // Full before timing, and fresh keys every round, so that every insert evicts.
    for k in 0..capacity {
        quick.insert(k, k);
        let _ = sieve_store.set(k, k, never, now);
        let _ = tinylfu_store.set(k, k, never, now);
    }
    let mut next = [capacity; 5];
    let fresh = |next: &mut u64| {
        *next += 1;
        *next
    };
    let [a, b, c, d, e] = &mut next;
    report(
        &format!("An insert that evicts, capacity {capacity}"),
        &mut [
            (
                "quick_cache::unsync insert",
                Box::new(|| {
                    time(|_| {
                        let k = fresh(a);
                        quick.insert(k, k);
                    })
                }) as Box<dyn FnMut() -> f64>,
            ),
            (
                "SIEVE Cache::insert",
                Box::new(|| time(|_| _ = sieve.insert(fresh(b), 1))),
            ),
            (
                "TinyLfu Cache::insert",
                Box::new(|| time(|_| _ = tinylfu.insert(fresh(c), 1))),
            ),
            (
                "SIEVE MemoryBackend::set",
                Box::new(|| time(|_| _ = sieve_store.set(fresh(d), 1, never, now))),
            ),
            (
                "TinyLfu MemoryBackend::set",
                Box::new(|| time(|_| _ = tinylfu_store.set(fresh(e), 1, never, now))),
            ),
        ],
    );
}

fn main() {
    for n in [1_000, 1_000_000] {
        hits(n);
    }
    for capacity in [1_000, 1_000_000] {
        inserts(capacity);
    }
}
