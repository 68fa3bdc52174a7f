//! Hit ratios on small synthetic workloads, replayed deterministically: a policy change
//! that loses ratio fails here, not only in the bench (`benches/hit_ratio.rs`).

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use jwm_cache_core::{Backend, Deadline, Eviction, Instant, Lookup, MemoryBackend, Sieve, TinyLfu};

#[path = "../../benches/tools/workloads.rs"]
mod workloads;

/// SipHash with fixed keys: the same hashes, so the same ratio, on every run.
type Fixed = BuildHasherDefault<DefaultHasher>;

// Floors sit about 0.3 points under the ratios measured when they were set (printed
// by `--nocapture`): the replay is deterministic, so only a change of policy moves
// them.

/// The percentage of `accesses` that hit a store under `policy`, inserting on a miss.
fn hit_ratio(policy: impl Eviction, accesses: &[u64]) -> f64 {
    let now = Instant::ZERO;
    let mut store =
        MemoryBackend::<u64, (), Fixed>::with_hasher(None, Fixed::default()).with_eviction(policy);
    let mut hits = 0;
    for &key in accesses {
        if store.get(&key, now).unwrap().is_some() {
            hits += 1;
        } else {
            store.set(key, (), Deadline::NEVER, now).unwrap();
        }
    }
    100.0 * hits as f64 / accesses.len() as f64
}

fn at_least(what: &str, ratio: f64, floor: f64) {
    println!("{what}: {ratio:.2}%");
    assert!(ratio >= floor, "{what}: {ratio:.2}% < {floor}%");
}

#[test]
fn tinylfu_keeps_its_ratio_on_zipf() {
    let accesses = workloads::zipf(20_000, 0.9, 200_000, 3);
    at_least(
        "TinyLfu, Zipf 0.9",
        hit_ratio(TinyLfu::new(500), &accesses),
        49.8,
    );
    at_least(
        "SIEVE, Zipf 0.9",
        hit_ratio(Sieve::new(500), &accesses),
        48.6,
    );
}

#[test]
fn the_default_policy_of_a_capacity_resists_scans() {
    // `with_hasher(Some(n), ..)` is what `with_capacity` builds, with a fixed hasher:
    // the default policy, replayed deterministically. SIEVE scores 8.50% here.
    let accesses = workloads::scan_mix(1_000, 200_000, 5);
    let mut store = MemoryBackend::<u64, (), Fixed>::with_hasher(Some(1_000), Fixed::default());
    let now = Instant::ZERO;
    let hits = accesses
        .iter()
        .filter(|&&key| {
            let hit = store.get(&key, now).unwrap().is_some();
            if !hit {
                store.set(key, (), Deadline::NEVER, now).unwrap();
            }
            hit
        })
        .count();
    at_least(
        "the default policy, hot set and scans",
        100.0 * hits as f64 / accesses.len() as f64,
        8.9,
    );
}

#[test]
fn tinylfu_resists_scans() {
    let accesses = workloads::scan_mix(1_000, 200_000, 5);
    at_least(
        "TinyLfu, hot set and scans",
        hit_ratio(TinyLfu::new(1_000), &accesses),
        8.9,
    );
    at_least(
        "SIEVE, hot set and scans",
        hit_ratio(Sieve::new(1_000), &accesses),
        8.2,
    );
}

#[test]
fn tinylfu_follows_a_shifting_working_set() {
    // Working sets of 800 keys for a cache of 1,000, each for 40,000 accesses.
    let accesses = workloads::shifting(800, 40_000, 400_000, 9);
    at_least(
        "TinyLfu, shifting sets",
        hit_ratio(TinyLfu::new(1_000), &accesses),
        86.3,
    );
    at_least(
        "SIEVE, shifting sets",
        hit_ratio(Sieve::new(1_000), &accesses),
        91.5,
    );
}
