//! Why a 1M-entry hit with a serializing clock costs what it does: the same lookup on
//! several table layouts, interleaved round by round in one process so that machine
//! noise hits every contender alike. Prints medians over 15 rounds of 200k lookups.
//!
//! `cargo bench -p jwm-cache-benches --bench layout`
#[path = "shuffled.rs"]
mod shuffled;
use shuffled::shuffled;

use jwm_cache::backend::{Backend, Lookup};
use jwm_cache::{CacheBuilder, SystemClock, Ttl, memory::MemoryBackend, time::Clock};
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant as StdInstant};

fn time(keys: &[u64], mut f: impl FnMut(u64) -> u64) -> f64 {
    let start = StdInstant::now();
    let mut acc = 0;
    for &k in keys.iter().take(200_000) {
        acc ^= f(k);
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / 200_000.0
}
fn main() {
    let n = 1_000_000u64;
    let keys = shuffled(n);
    let ttl = Duration::from_secs(3600);
    let floor: hashbrown::HashMap<u64, u64, fnv::FnvBuildHasher> = (0..n).map(|k| (k, k)).collect();
    let mut ours = CacheBuilder::new(SystemClock).ttl(ttl).build::<u64, u64>();
    for k in 0..n {
        ours.insert(k, k).unwrap();
    }
    let mut raw = MemoryBackend::<u64, u64>::new();
    for k in 0..n {
        raw.set(
            k,
            k,
            Ttl::from(ttl).deadline_from(SystemClock.now()),
            SystemClock.now(),
        )
        .unwrap();
    }
    let mut lru = lru::LruCache::new(NonZeroUsize::new(n as usize).unwrap());
    for k in 0..n {
        lru.put(k, k);
    }
    let quick = quick_cache::unsync::Cache::new(n as usize);
    let mut quick = quick;
    for k in 0..n {
        quick.insert(k, k);
    }
    use std::hash::BuildHasher;
    let hs = foldhash::fast::RandomState::default();
    let mut t16: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let v16: Vec<(u64, u64)> = (0..n).map(|k| (k, k)).collect();
    let v48: Vec<[u64; 6]> = (0..n).map(|k| [k, k, 0, 0, 0, 0]).collect();
    for k in 0..n {
        t16.insert_unique(hs.hash_one(k), k as u32, |&i| {
            hs.hash_one(v16[i as usize].0)
        });
    }
    let mut tk: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::new();
    for k in 0..n {
        tk.insert_unique(hs.hash_one(k), (k, k as u32), |&(key, _)| hs.hash_one(key));
    }
    let mut tp: hashbrown::HashTable<Box<(u64, u64)>> = hashbrown::HashTable::new();
    for k in 0..n {
        tp.insert_unique(hs.hash_one(k), Box::new((k, k)), |b| hs.hash_one(b.0));
    }
    let mut res: Vec<Vec<f64>> = vec![vec![]; 9];
    for round in 0..15 {
        let ks = &keys[(round * 50_000) % 500_000..];
        res[0].push(time(ks, |k| {
            let t = SystemClock.now();
            floor.get(&k).copied().unwrap_or(0) ^ t.as_nanos()
        }));
        res[1].push(time(ks, |k| ours.get(&k).unwrap().unwrap_or(0)));
        res[2].push(time(ks, |k| {
            let t = SystemClock.now();
            raw.get(&k, t).unwrap().copied().unwrap_or(0)
        }));
        res[3].push(time(ks, |k| {
            let t = SystemClock.now();
            lru.get(&k).copied().unwrap_or(0) ^ t.as_nanos()
        }));
        res[4].push(time(ks, |k| {
            let t = SystemClock.now();
            quick.get(&k).copied().unwrap_or(0) ^ t.as_nanos()
        }));
        res[5].push(time(ks, |k| {
            let t = SystemClock.now();
            t16.find(hs.hash_one(k), |&i| v16[i as usize].0 == k)
                .map(|&i| v16[i as usize].1)
                .unwrap_or(0)
                ^ t.as_nanos()
        }));
        res[7].push(time(ks, |k| {
            let t = SystemClock.now();
            tk.find(hs.hash_one(k), |&(key, _)| key == k)
                .map(|&(_, i)| v16[i as usize].1)
                .unwrap_or(0)
                ^ t.as_nanos()
        }));
        res[8].push(time(ks, |k| {
            let t = SystemClock.now();
            tp.find(hs.hash_one(k), |b| b.0 == k)
                .map(|b| b.1)
                .unwrap_or(0)
                ^ t.as_nanos()
        }));
        res[6].push(time(ks, |k| {
            let t = SystemClock.now();
            t16.find(hs.hash_one(k), |&i| v48[i as usize][0] == k)
                .map(|&i| v48[i as usize][1])
                .unwrap_or(0)
                ^ t.as_nanos()
        }));
    }
    for (name, mut v) in [
        "floor+clock",
        "ours cache",
        "raw backend+clock",
        "lru+clock",
        "quick+clock",
        "table u32 -> 16B vec",
        "table u32 -> 48B vec",
        "table (key,u32) -> vec",
        "table Box<(k,v)>",
    ]
    .iter()
    .zip(res)
    {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{name:<20} median {:>6.1} ns  min {:>6.1}",
            v[v.len() / 2],
            v[0]
        );
    }
}
