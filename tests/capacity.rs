//! Capacity as a budget of count or weight: the shards of a thread-safe cache share it,
//! so a sharded cache holds all of it, and never more.

use std::thread;

use jwm_cache::{AsyncCacheBuilder, SyncCache, SyncCacheBuilder};

/// Deterministic weights in `1..=max`.
fn weight_of(key: u64, max: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15) % max + 1
}

#[test]
fn a_sharded_cache_holds_its_whole_count_budget() {
    for capacity in [5_000, 100_000] {
        let cache: SyncCache<u64, u64> = SyncCache::builder().capacity(capacity).build();
        assert!(cache.shard_count() > 1);
        for key in 0..capacity as u64 {
            cache.insert(key, key).unwrap();
        }
        // Nothing is evicted before the whole cache is full.
        assert_eq!(cache.info().current_size, capacity, "capacity {capacity}");
        assert_eq!(cache.info().evictions, 0);
        // At steady state, every write evicts one entry of its own shard.
        for key in capacity as u64..4 * capacity as u64 {
            cache.insert(key, key).unwrap();
            if key % 997 == 0 {
                let size = cache.info().current_size;
                assert!(size <= capacity, "{size} > {capacity}");
                assert!(size * 100 >= capacity * 99, "{size} of {capacity}");
            }
        }
        assert_eq!(cache.parameters().capacity, Some(capacity));
    }
}

#[test]
fn a_sharded_cache_holds_its_whole_weight_budget() {
    const BUDGET: usize = 1_000_000;
    const HEAVIEST: u64 = 4_000;
    let cache = SyncCacheBuilder::new()
        .capacity(BUDGET)
        .weigher(|key: &u64, _: &u64| weight_of(*key, HEAVIEST))
        .build::<u64, u64>();
    assert!(cache.shard_count() > 1);
    let mut stored = 0;
    for key in 0..5_000u64 {
        cache.insert(key, key).unwrap();
        stored += weight_of(key, HEAVIEST) as usize;
        let held = cache.weighted_size();
        // Exact: nothing leaves before the budget is reached.
        if stored <= BUDGET {
            assert_eq!(held, stored);
        } else {
            assert!(held <= BUDGET + HEAVIEST as usize, "{held}");
            assert!(held >= BUDGET - HEAVIEST as usize, "{held}");
        }
    }
    let held = cache.weighted_size();
    assert!(held * 100 >= BUDGET * 99, "{held} of {BUDGET}");
}

#[test]
fn threads_writing_at_once_settle_within_the_budget() {
    const CAPACITY: usize = 20_000;
    let cache: SyncCache<u64, u64> = SyncCache::builder().capacity(CAPACITY).shards(16).build();
    let writers: Vec<_> = (0..4u64)
        .map(|t| {
            let cache = cache.clone();
            thread::spawn(move || {
                for k in 0..30_000 {
                    cache.insert(t << 32 | k, k).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    // Overlapping writes may pass the budget by an entry each; the next ones evict it.
    for key in 0..64 {
        cache.insert(u64::MAX - key, key).unwrap();
    }
    let size = cache.info().current_size;
    assert!(size <= CAPACITY, "{size}");
    assert!(size * 100 >= CAPACITY * 99, "{size}");
}

#[test]
fn an_entry_heavier_than_the_budget_is_returned_but_not_stored() {
    const BUDGET: usize = 1 << 20;
    let cache = SyncCacheBuilder::new()
        .capacity(BUDGET)
        .weigher(|_: &u8, value: &Vec<u8>| value.len() as u32)
        .build::<u8, Vec<u8>>();
    assert!(cache.shard_count() > 1);
    cache.insert(1, vec![1; 600_000]).unwrap();
    let heavy = cache.get_or_insert_with(2, || vec![2; BUDGET + 1]);
    assert_eq!(heavy.len(), BUDGET + 1);
    assert_eq!(cache.get(&2).unwrap(), None);
    // Lighter than the budget, though heavier than any shard's share: stored.
    cache.insert(3, vec![3; 400_000]).unwrap();
    assert_eq!(cache.get(&3).unwrap().map(|v| v.len()), Some(400_000));
    // The entry already held stays.
    assert_eq!(cache.get(&1).unwrap().map(|v| v.len()), Some(600_000));
    assert_eq!(cache.weighted_size(), 1_000_000);
}

#[tokio::test]
async fn the_async_cache_shares_its_budget_across_shards() {
    const CAPACITY: usize = 8_192;
    let cache = AsyncCacheBuilder::new()
        .capacity(CAPACITY)
        .build::<u64, u64>();
    for key in 0..CAPACITY as u64 {
        cache.insert(key, key).await.unwrap();
    }
    assert_eq!(cache.info().await.current_size, CAPACITY);
    for key in 0..CAPACITY as u64 {
        cache.insert((key + 1) << 40, key).await.unwrap();
    }
    let info = cache.info().await;
    assert!(
        info.current_size <= CAPACITY && info.current_size * 100 >= CAPACITY * 99,
        "{}",
        info.current_size
    );
    assert_eq!(cache.parameters().capacity, Some(CAPACITY));
}

#[tokio::test]
async fn the_async_cache_bounds_its_weight() {
    const BUDGET: usize = 1 << 20;
    let cache = AsyncCacheBuilder::new()
        .capacity(BUDGET)
        .weigher(|key: &u64, _: &u64| weight_of(*key, 4_000))
        .build::<u64, u64>();
    for key in 0..2_000 {
        cache.insert(key, key).await.unwrap();
    }
    let held = cache.weighted_size();
    assert!(
        held <= BUDGET + 4_000 && held * 100 >= BUDGET * 99,
        "{held}"
    );
}

#[test]
fn sums_over_shards_saturate_rather_than_overflow() {
    use jwm_cache::{SystemClock, backend::Options, memory::MemoryBackend};
    // Each of two shards bounded at `usize::MAX`: the total is no more than that.
    let options = Options::new(SystemClock).shards(2);
    let cache = SyncCache::from_options(options, || {
        MemoryBackend::<u64, u64>::with_capacity(usize::MAX)
    });
    assert_eq!(cache.parameters().capacity, Some(usize::MAX));
    // Unbounded, with entries as heavy as can be, in more than one shard.
    let heavy = SyncCacheBuilder::new()
        .shards(4)
        .weigher(|_: &u64, _: &u64| usize::MAX)
        .build::<u64, u64>();
    for key in 0..64 {
        heavy.insert(key, key).unwrap();
    }
    assert_eq!(heavy.weighted_size(), usize::MAX);
    // The async shell's shards, likewise.
    use jwm_cache::backend::{AsyncBackend, Sharded};
    let sharded = Sharded::new(2, || MemoryBackend::<u64, u64>::with_capacity(usize::MAX));
    assert_eq!(
        AsyncBackend::<u64, u64>::capacity(&sharded),
        Some(usize::MAX)
    );
    let weighed = Sharded::new(4, || {
        MemoryBackend::<u64, u64>::new().with_weigher(|_: &u64, _: &u64| usize::MAX)
    });
    let now = jwm_cache::time::Instant::ZERO;
    run_ready(async {
        for key in 0..64 {
            let deadline = jwm_cache::backend::Deadline::NEVER;
            AsyncBackend::set(&weighed, key, key, deadline, now)
                .await
                .unwrap();
        }
    });
    assert_eq!(weighed.weighted_size(), usize::MAX);
}

/// Runs a future that never waits (the in-memory shards answer at once).
fn run_ready(future: impl std::future::Future<Output = ()>) {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
}

/// A computation slower than its TTL gives a value that would expire on arrival: it is
/// not stored, so it takes no live entry's place in a full cache.
#[test]
fn a_value_expired_on_arrival_evicts_nothing() {
    let clock = jwm_cache::ManualClock::new();
    let cache: SyncCache<u64, u64, _, _, _> = SyncCacheBuilder::new()
        .capacity(1)
        .clock(clock.clone())
        .build();
    let hour = std::time::Duration::from_secs(3_600);
    cache.insert_with_ttl(1, 1, hour).unwrap();
    let second = std::time::Duration::from_secs(1);
    let slow = || {
        clock.advance(2 * second);
        Ok::<_, ()>(2)
    };
    assert_eq!(cache.try_get_or_insert_with_ttl(2, second, slow), Ok(2));
    assert_eq!(cache.info().evictions, 0);
    assert_eq!(cache.get(&1).unwrap(), Some(1), "the live entry stays");
}

/// With a time-to-idle shorter than the computation, the value would arrive already
/// idle (the store counts idleness from the lookup): not stored either, while the live
/// entry read meanwhile stays.
#[test]
fn a_value_idle_on_arrival_evicts_nothing() {
    let clock = jwm_cache::ManualClock::new();
    let second = std::time::Duration::from_secs(1);
    let cache: SyncCache<u64, u64, _, _, _> = SyncCacheBuilder::new()
        .capacity(1)
        .ttl(3_600 * second)
        .time_to_idle(10 * second)
        .clock(clock.clone())
        .build();
    cache.insert(1, 1).unwrap();
    let slow = || {
        for _ in 0..3 {
            clock.advance(5 * second);
            assert_eq!(cache.get(&1).unwrap(), Some(1), "read, so never idle");
        }
        2
    };
    assert_eq!(cache.get_or_insert_with(2, slow), 2);
    assert_eq!(cache.info().evictions, 0);
    assert_eq!(cache.get(&1).unwrap(), Some(1), "the live entry stays");

    // The async cache's miss too.
    let cache = AsyncCacheBuilder::new()
        .capacity(1)
        .ttl(3_600 * second)
        .time_to_idle(10 * second)
        .clock(clock.clone())
        .build::<u64, u64>();
    run_ready(async {
        cache.insert(1, 1).await.unwrap();
        let slow = || async {
            for _ in 0..3 {
                clock.advance(5 * second);
                assert_eq!(cache.get(&1).await.unwrap(), Some(1));
            }
            2
        };
        assert_eq!(cache.get_or_insert_with(2, slow).await, 2);
        assert_eq!(cache.info().await.evictions, 0);
        assert_eq!(cache.get(&1).await.unwrap(), Some(1));
    });
}

/// The same for the async cache.
#[tokio::test]
async fn an_async_value_expired_on_arrival_evicts_nothing() {
    let clock = jwm_cache::ManualClock::new();
    let cache = AsyncCacheBuilder::new()
        .capacity(1)
        .clock(clock.clone())
        .build::<u64, u64>();
    let hour = std::time::Duration::from_secs(3_600);
    cache.insert_with_ttl(1, 1, hour).await.unwrap();
    let second = std::time::Duration::from_secs(1);
    let slow = || async {
        clock.advance(2 * second);
        Ok::<_, ()>(2)
    };
    let computed = cache.try_get_or_insert_with_ttl(2, second, slow).await;
    assert_eq!(computed, Ok(2));
    assert_eq!(cache.info().await.evictions, 0);
    assert_eq!(
        cache.get(&1).await.unwrap(),
        Some(1),
        "the live entry stays"
    );
}
