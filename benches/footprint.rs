//! Bytes per live `u64 -> u64` entry at 1M entries, by a counting allocator.
//!
//! `cargo bench -p jwm-cache-benches --bench footprint`
//!
//! It counts the bytes each structure asks of the allocator (not the allocator's own
//! overhead), live after the inserts, divided by the entry count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use jwm_cache::{CacheBuilder, SystemClock};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting sizes on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout as requested.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N: u64 = 1_000_000;
const TTL: Duration = Duration::from_secs(3600);

/// Live bytes per entry of what `build` returns, kept alive while measuring.
fn per_entry<T>(name: &str, build: impl FnOnce() -> T) -> f64 {
    let before = LIVE.load(Ordering::Relaxed);
    let structure = build();
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    drop(structure);
    let per = bytes as f64 / N as f64;
    println!("{name:<36} {per:>7.1} B/entry");
    per
}

fn main() {
    let floor = per_entry("hashbrown + fnv (floor)", || {
        (0..N)
            .map(|k| (k, k))
            .collect::<hashbrown::HashMap<u64, u64, fnv::FnvBuildHasher>>()
    });
    let ours = per_entry("jwm-cache MemoryBackend (ttl)", || {
        let mut cache = CacheBuilder::new(SystemClock).ttl(TTL).build::<u64, u64>();
        for k in 0..N {
            cache.insert(k, k).unwrap();
        }
        cache
    });
    let ours_bounded = per_entry("jwm-cache MemoryBackend (ttl, cap: TinyLfu)", || {
        let mut cache = CacheBuilder::new(SystemClock)
            .ttl(TTL)
            .capacity(N as usize)
            .build::<u64, u64>();
        for k in 0..N {
            cache.insert(k, k).unwrap();
        }
        cache
    });
    // A tenth more keys than the capacity: full, and past its first eviction, the
    // policy holds what it does in use (a cache of 128 Ki or more, its simulation).
    per_entry("jwm-cache MemoryBackend (cap, after evicting)", || {
        let mut cache = CacheBuilder::new(SystemClock)
            .ttl(TTL)
            .capacity(N as usize)
            .build::<u64, u64>();
        for k in 0..N + N / 10 {
            cache.insert(k, k).unwrap();
        }
        cache
    });
    per_entry("jwm-cache MemoryBackend (ttl, SIEVE)", || {
        let backend = jwm_cache::memory::MemoryBackend::<u64, u64>::new()
            .with_eviction(jwm_cache::memory::Sieve::new(N as usize));
        let mut cache = CacheBuilder::new(SystemClock)
            .ttl(TTL)
            .build_with_backend(backend);
        for k in 0..N {
            cache.insert(k, k).unwrap();
        }
        cache
    });
    per_entry("jwm-cache SyncCache (ttl, cap, shards)", || {
        let cache = jwm_cache::SyncCache::builder()
            .ttl(TTL)
            .capacity(N as usize)
            .build::<u64, u64>();
        for k in 0..N {
            cache.insert(k, k).unwrap();
        }
        cache
    });
    let moka = per_entry("moka::sync::Cache (ttl)", || {
        let cache = moka::sync::Cache::builder().time_to_live(TTL).build();
        for k in 0..N {
            cache.insert(k, k);
        }
        cache.run_pending_tasks();
        cache
    });
    per_entry("quick_cache::unsync (no ttl)", || {
        let mut cache = quick_cache::unsync::Cache::new(N as usize);
        for k in 0..N {
            cache.insert(k, k);
        }
        cache
    });
    per_entry("lru (no ttl)", || {
        let mut cache = lru::LruCache::new(NonZeroUsize::new(N as usize).unwrap());
        for k in 0..N {
            cache.put(k, k);
        }
        cache
    });
    println!(
        "jwm-cache / moka: {:.2} (bounded {:.2}); jwm-cache / floor: {:.2}",
        ours / moka,
        ours_bounded / moka,
        ours / floor
    );
}
