//! Time-to-idle on the thread-safe caches: an entry expires after a set time without a
//! read, each read extends it, and the TTL still caps it: whichever deadline comes first.

use std::time::Duration;

use jwm_cache::{ManualClock, SyncCacheBuilder, Ttl};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn an_unread_entry_expires_after_the_idle_time() {
    let clock = ManualClock::new();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(60 * SECOND)
        .time_to_idle(10 * SECOND)
        .build::<u32, u32>();
    assert_eq!(cache.parameters().time_to_idle, Some(Ttl::from_secs(10)));
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    for _ in 0..5 {
        clock.advance(9 * SECOND);
        assert_eq!(cache.get(&1).unwrap(), Some(1), "each read extends it");
    }
    // 2 was never read: gone 10 s after its write, long before its TTL.
    assert_eq!(cache.get(&2).unwrap(), None);
    assert_eq!(cache.info().current_size, 1);
    // 45 s in, read every 9 s: the TTL of 60 s still ends it.
    clock.advance(9 * SECOND);
    assert_eq!(cache.get(&1).unwrap(), Some(1));
    clock.advance(6 * SECOND);
    assert_eq!(cache.get(&1).unwrap(), None);
}

#[test]
fn an_idle_entry_is_reclaimed_without_a_read() {
    let clock = ManualClock::new();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .time_to_idle(SECOND)
        .shards(4)
        .build::<u32, u32>();
    for key in 0..1_000 {
        cache.insert(key, key).unwrap();
    }
    clock.advance(SECOND / 2);
    for key in 0..500 {
        cache.get(&key).unwrap();
    }
    clock.advance(SECOND / 2);
    // The 500 unread ones are due and reclaimed by `info`; the read ones live on.
    let info = cache.info();
    assert_eq!((info.current_size, info.expirations), (500, 500));
    clock.advance(SECOND / 2);
    assert_eq!(cache.info().current_size, 0);
    assert_eq!(cache.weighted_size(), 0);
}

#[test]
fn a_per_entry_ttl_shorter_than_the_idle_time_wins() {
    let clock = ManualClock::new();
    let cache = SyncCacheBuilder::new()
        .clock(clock.clone())
        .time_to_idle(10 * SECOND)
        .build::<u32, u32>();
    cache.insert_with_ttl(1, 1, 3 * SECOND).unwrap();
    clock.advance(2 * SECOND);
    assert_eq!(cache.get(&1).unwrap(), Some(1));
    clock.advance(SECOND);
    assert_eq!(cache.get(&1).unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn the_async_cache_extends_on_read_too() {
    let clock = ManualClock::new();
    let cache = jwm_cache::AsyncCacheBuilder::new()
        .clock(clock.clone())
        .time_to_idle(2 * SECOND)
        .build::<u32, u32>();
    assert_eq!(cache.parameters().time_to_idle, Some(Ttl::from_secs(2)));
    cache.insert(1, 1).await.unwrap();
    clock.advance(SECOND);
    assert_eq!(cache.get(&1).await.unwrap(), Some(1));
    clock.advance(SECOND + SECOND / 2);
    assert_eq!(cache.get(&1).await.unwrap(), Some(1));
    clock.advance(2 * SECOND);
    assert_eq!(cache.get(&1).await.unwrap(), None);
}

/// A store given its own time-to-idle, under a cache that times a stale window or a
/// refresh from each entry's deadline: the builder turns the store's idle time off, as
/// it does for the stores it makes. Cut short by the idle time, the deadline read as
/// past the TTL (a miss for a live entry), or as due for a refresh at every hit.
#[test]
fn a_given_store_keeps_no_idle_time_under_a_stale_window_or_a_refresh() {
    use jwm_cache::{CacheControls, Memoized, memory::MemoryBackend};

    let clock = ManualClock::new();
    let idle = || MemoryBackend::new().with_time_to_idle(5 * SECOND);
    let stale = SyncCacheBuilder::new()
        .clock(clock.clone())
        .ttl(60 * SECOND)
        .stale_if_error(60 * SECOND)
        .build_with_backend(idle);
    stale.insert(1, 1).unwrap();
    assert_eq!(stale.get(&1).unwrap(), Some(1), "a live entry");
    assert_eq!(stale.parameters().time_to_idle, None);

    let refreshing = Memoized::builder(|n: u32| n * 2)
        .clock(clock.clone())
        .ttl(60 * SECOND)
        .refresh_after(45 * SECOND)
        .build_with_backend(idle);
    for _ in 0..3 {
        assert_eq!(refreshing.call(1), 2);
        clock.advance(SECOND);
    }
    let info = refreshing.cache_info();
    assert_eq!(
        (info.hits, info.refreshes),
        (2, 0),
        "no refresh before 45 s"
    );
}

#[tokio::test]
async fn a_given_async_store_keeps_no_idle_time_under_a_stale_window() {
    use jwm_cache::backend::{Offloaded, Sharded};
    use jwm_cache::{AsyncCacheBuilder, memory::MemoryBackend};

    let clock = ManualClock::new();
    let idle = || MemoryBackend::new().with_time_to_idle(5 * SECOND);
    let builder = || {
        AsyncCacheBuilder::new()
            .clock(clock.clone())
            .ttl(60 * SECOND)
            .stale_if_error(60 * SECOND)
    };
    let sharded = builder().build_with_backend::<u32, u32, _>(Sharded::new(2, idle));
    let offloaded = builder().build_with_backend::<u32, u32, _>(Offloaded::new(idle()));
    sharded.insert(1, 1).await.unwrap();
    offloaded.insert(1, 1).await.unwrap();
    clock.advance(10 * SECOND);
    assert_eq!(sharded.get(&1).await.unwrap(), Some(1), "a live entry");
    assert_eq!(offloaded.get(&1).await.unwrap(), Some(1), "a live entry");
    assert_eq!(sharded.parameters().time_to_idle, None);
    assert_eq!(offloaded.parameters().time_to_idle, None);
}
