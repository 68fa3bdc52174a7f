//! Hit ratios on the ARC block traces and on synthetic workloads, beside the peers.
//!
//! `cargo bench -p jwm-cache-benches --bench hit_ratio` (add `-- --quick` for the
//! traces' first capacity and shorter synthetic runs; set `JWM_BENCH_ROWS` to, say,
//! `OLTP:15000,P3` for only those rows). Every contender gets the same capacity and the
//! same accesses: look the key up, and insert it on a miss.
//!
//! The core TinyLfu hashes with a fixed seed, so a run repeats; `SyncCache` seeds at
//! random. The seed decides which keys share a half of the split test and which share
//! sketch counters, so one run shows one draw. `JWM_BENCH_SEEDS=6` adds five more
//! seeds of the core TinyLfu, as columns after the peers, judged with ours: a row is
//! "ok" only if every seed is.
//!
//! The traces are `../shared/traces/*.lis.zst` beside the repository (or the folder
//! named by `JWM_CACHE_TRACES`); they are from the ARC paper (Megiddo and Modha, FAST
//! 2003), whose licence asks for that citation.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

#[path = "tools/workloads.rs"]
mod workloads;

use jwm_cache::SyncCache;
use jwm_cache::backend::{Backend, Deadline, Instant as At, Lookup};
use jwm_cache::memory::{Eviction, MemoryBackend, Sieve, TinyLfu, WindowChoice};
use workloads::{drifting, looping, scan_mix, shifting, zipf};

/// A cache under test: looks `key` up, inserts it on a miss, and says whether it hit.
trait Contender {
    fn access(&mut self, key: u64) -> bool;
}

/// The core's memory backend under the eviction policy `P`, with a fixed hasher seed
/// so that a run can be repeated (TinyLfu's halves and sketch follow the hashes).
struct Core<P>(MemoryBackend<u64, (), foldhash::fast::FixedState, P>);

impl<P: Eviction> Contender for Core<P> {
    fn access(&mut self, key: u64) -> bool {
        if let Ok(Some(())) = self.0.get(&key, At::ZERO) {
            return true;
        }
        let _ = self.0.set(key, (), Deadline::NEVER, At::ZERO);
        false
    }
}

/// `SyncCache`, whose shards split the capacity.
struct Sharded(SyncCache<u64, ()>);

impl Contender for Sharded {
    fn access(&mut self, key: u64) -> bool {
        if let Ok(Some(())) = self.0.get(&key) {
            return true;
        }
        let _ = self.0.insert(key, ());
        false
    }
}

/// TinyLfu split over as many shards as a `SyncCache` of `capacity` has, each shard
/// with its own policy and an even share, and no pool between them (but one window
/// choice, as in `SyncCache`): to set beside `SyncCache`, whose shards share one
/// capacity.
struct ShardedTinyLfu(Vec<MemoryBackend<u64, (), foldhash::fast::FixedState, TinyLfu>>);

impl ShardedTinyLfu {
    fn new(capacity: usize) -> Self {
        let shards = SyncCache::builder()
            .capacity(capacity)
            .build::<u64, ()>()
            .shard_count();
        let window = WindowChoice::new(shards);
        ShardedTinyLfu(
            (0..shards)
                .map(|i| {
                    let share = capacity / shards + usize::from(i < capacity % shards);
                    MemoryBackend::with_hasher(None, foldhash::fast::FixedState::with_seed(SEED))
                        .with_eviction(TinyLfu::new(share).with_window_choice(&window))
                })
                .collect(),
        )
    }
}

impl Contender for ShardedTinyLfu {
    fn access(&mut self, key: u64) -> bool {
        // Routed as `SyncCache` routes: the stores' own hasher, bits 32 and up.
        let hash = foldhash::fast::FixedState::with_seed(SEED).hash_one(key);
        let shard = (hash >> 32) as usize & (self.0.len() - 1);
        let store = &mut self.0[shard];
        if let Ok(Some(())) = store.get(&key, At::ZERO) {
            return true;
        }
        let _ = store.set(key, (), Deadline::NEVER, At::ZERO);
        false
    }
}

struct Moka(moka::sync::Cache<u64, ()>);

impl Contender for Moka {
    fn access(&mut self, key: u64) -> bool {
        if self.0.get(&key).is_some() {
            return true;
        }
        self.0.insert(key, ());
        false
    }
}

struct QuickCache(quick_cache::unsync::Cache<u64, ()>);

impl Contender for QuickCache {
    fn access(&mut self, key: u64) -> bool {
        if self.0.get(&key).is_some() {
            return true;
        }
        self.0.insert(key, ());
        false
    }
}

struct Lru(lru::LruCache<u64, ()>);

impl Contender for Lru {
    fn access(&mut self, key: u64) -> bool {
        if self.0.get(&key).is_some() {
            return true;
        }
        self.0.put(key, ());
        false
    }
}

/// Every contender's name and a cache of `capacity`: ours, TinyLfu split over shards,
/// SIEVE, the peers, then the core TinyLfu under the other seeds asked for (see
/// [`seeds`]).
fn contenders(capacity: usize) -> Vec<(String, Box<dyn Contender>)> {
    let store =
        |seed| MemoryBackend::with_hasher(None, foldhash::fast::FixedState::with_seed(seed));
    let all: Vec<(&str, Box<dyn Contender>)> = vec![
        (
            "jwm TinyLfu",
            Box::new(Core(store(SEED).with_eviction(TinyLfu::new(capacity)))),
        ),
        (
            "jwm SyncCache (default: TinyLfu)",
            Box::new(Sharded(
                SyncCache::builder().capacity(capacity).build::<u64, ()>(),
            )),
        ),
        (
            "jwm TinyLfu, shards as SyncCache",
            Box::new(ShardedTinyLfu::new(capacity)),
        ),
        (
            "jwm Sieve",
            Box::new(Core(store(SEED).with_eviction(Sieve::new(capacity)))),
        ),
        (
            "moka",
            Box::new(Moka(moka::sync::Cache::new(capacity as u64))),
        ),
        (
            "quick_cache",
            Box::new(QuickCache(quick_cache::unsync::Cache::new(capacity))),
        ),
        (
            "lru",
            Box::new(Lru(lru::LruCache::new(
                NonZeroUsize::new(capacity).expect("a capacity above 0"),
            ))),
        ),
    ];
    debug_assert_eq!(all.len(), PEERS_END, "the contenders' ranges moved");
    let mut all: Vec<(String, Box<dyn Contender>)> = all
        .into_iter()
        .map(|(name, cache)| (name.to_string(), cache))
        .collect();
    for (n, seed) in seeds().into_iter().enumerate().skip(1) {
        let cache = Core(store(seed).with_eviction(TinyLfu::new(capacity)));
        all.push((format!("jwm TinyLfu, seed {}", n + 1), Box::new(cache)));
    }
    all
}

/// The core TinyLfu's seeds: [`SEED`], then as many more as `JWM_BENCH_SEEDS` asks
/// for in all.
fn seeds() -> Vec<u64> {
    let count = std::env::var("JWM_BENCH_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    (0..count as u64)
        .map(|n| SEED.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect()
}

/// The hasher seed of our core contenders.
const SEED: u64 = 0x6a77_6d2d_6361_6368;

/// The first `OURS` contenders, and those after the peers (more seeds), are judged
/// against the peers from `PEERS` to `PEERS_END`: TinyLfu in the core, and `SyncCache`
/// under the default policy (TinyLfu per shard, the shards sharing the capacity).
/// Between them, for reference: TinyLfu split over shards with even shares, and SIEVE
/// in the core.
const OURS: usize = 2;
/// The peers: moka, quick_cache and lru.
const PEERS: usize = 4;
/// Where the peers end and the core TinyLfu's other seeds begin.
const PEERS_END: usize = 7;

/// Replays `accesses` on every contender at `capacity` and prints one row.
fn row(workload: &str, capacity: usize, accesses: &[u64]) {
    if !chosen(workload, capacity) {
        return;
    }
    let mut cells = Vec::new();
    for (_, mut cache) in contenders(capacity) {
        let hits = accesses.iter().filter(|&&key| cache.access(key)).count();
        cells.push(100.0 * hits as f64 / accesses.len() as f64);
    }
    let best_peer = cells[PEERS..PEERS_END]
        .iter()
        .copied()
        .fold(f64::MIN, f64::max);
    let worst_of_ours = cells[..OURS]
        .iter()
        .chain(&cells[PEERS_END..])
        .copied()
        .fold(f64::MAX, f64::min);
    let verdict = if worst_of_ours >= best_peer - 0.5 {
        "ok"
    } else {
        "BEHIND"
    };
    let cells: Vec<String> = cells.iter().map(|c| format!("{c:.2}")).collect();
    println!(
        "| {workload} | {capacity} | {} | {:+.2} | {verdict} |",
        cells.join(" | "),
        worst_of_ours - best_peer
    );
}

/// Whether the row was asked for: `JWM_BENCH_ROWS` lists rows as `workload:capacity`
/// (the workload by prefix), separated by commas; unset, every row runs.
fn chosen(workload: &str, capacity: usize) -> bool {
    let Ok(rows) = std::env::var("JWM_BENCH_ROWS") else {
        return true;
    };
    rows.split(',').any(|row| {
        let (name, at) = row.split_once(':').unwrap_or((row, ""));
        workload.starts_with(name) && (at.is_empty() || at == capacity.to_string())
    })
}

fn header() {
    let names: Vec<String> = contenders(16).into_iter().map(|(name, _)| name).collect();
    println!(
        "| workload | capacity | {} | ours - best peer | |",
        names.join(" | ")
    );
    println!("|---|---:|{}---:|---|", "---:|".repeat(names.len()));
}

fn traces_folder() -> PathBuf {
    std::env::var_os("JWM_CACHE_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"))
}

/// A trace's block accesses: each line `start count _ _` is `count` blocks from `start`.
fn trace(name: &str) -> Option<Vec<u64>> {
    let path = traces_folder().join(format!("{name}.lis.zst"));
    let file = File::open(&path)
        .map_err(|e| eprintln!("skipping {name}: {}: {e}", path.display()))
        .ok()?;
    let decoder = ruzstd::decoding::StreamingDecoder::new(BufReader::new(file)).ok()?;
    let mut accesses = Vec::new();
    for line in BufReader::new(decoder).lines() {
        let line = line.ok()?;
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(start)), Some(Ok(count))) = (fields.next(), fields.next()) else {
            continue;
        };
        accesses.extend(start..start + count);
    }
    Some(accesses)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let began = Instant::now();
    header();
    let traces: [(&str, &[usize]); 2] = [
        ("OLTP", &[1_000, 2_000, 5_000, 10_000, 15_000]),
        ("P3", &[10_000, 50_000, 100_000, 200_000, 400_000]),
    ];
    for (name, capacities) in traces {
        let Some(accesses) = trace(name) else {
            continue;
        };
        let capacities = if quick { &capacities[..1] } else { capacities };
        for &capacity in capacities {
            row(name, capacity, &accesses);
        }
    }
    let keys = 1_000_000;
    let length = if quick { 1_000_000 } else { 4_000_000 };
    for alpha in [0.7, 0.9, 1.1] {
        let accesses = zipf(keys, alpha, length, 7);
        for capacity in [keys as usize / 100, keys as usize / 10] {
            row(&format!("Zipf {alpha}, 1M keys"), capacity, &accesses);
        }
    }
    // Zipf 0.8 whose ranks move on to the next key on every access: recency-biased.
    let accesses = drifting(keys, 0.8, 1, length, 17);
    for capacity in [keys as usize / 100, keys as usize / 10] {
        row("drifting Zipf 0.8, 1M keys", capacity, &accesses);
    }
    for capacity in [10_000, 100_000] {
        let accesses = scan_mix(capacity, length, 11);
        row("hot 10% + scans", capacity, &accesses);
    }
    for capacity in [10_000, 100_000] {
        // Working sets of 80% of the capacity, replaced every 10 capacities of accesses.
        let accesses = shifting(capacity as u64 * 8 / 10, capacity * 10, length, 13);
        row("shifting sets", capacity, &accesses);
    }
    // Beyond the rows: loops longer than the cache, alone and under Zipf.
    for capacity in [10_000, 100_000] {
        let cap = capacity as u64;
        let loops = [
            ("loop of 3x the capacity", looping(cap * 3, 0, length, 23)),
            (
                "loop of 1.5x + half Zipf",
                looping(cap * 3 / 2, 2, length, 29),
            ),
            (
                "loop of 1.1x + 1/4 Zipf",
                looping(cap * 11 / 10, 4, length, 31),
            ),
        ];
        for (name, accesses) in loops {
            row(name, capacity, &accesses);
        }
    }
    eprintln!("took {:.1?}", began.elapsed());
}
