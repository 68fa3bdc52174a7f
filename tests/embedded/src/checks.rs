//! What the firmware shows: a cache on `EmbassyClock` inserts, hits, evicts at capacity
//! and expires entries when the board's timer passes their TTL.

use core::time::Duration;

use embassy_time::Instant;
use jwm_cache_core::{CacheBuilder, EmbassyClock};

use crate::wait_until;

const TTL: Duration = Duration::from_millis(100);
const SHORT_TTL: Duration = Duration::from_millis(20);

fn ensure(holds: bool, check: &'static str) -> Result<(), &'static str> {
    if holds { Ok(()) } else { Err(check) }
}

pub fn run() -> Result<(), &'static str> {
    let mut cache = CacheBuilder::new(EmbassyClock)
        .ttl(TTL)
        .capacity(4)
        .build::<u32, u32>();

    for key in 0..4 {
        cache.insert(key, key * 10).map_err(|_| "insert")?;
    }
    ensure(cache.get(&0) == Ok(Some(0)), "a fresh entry is a hit")?;

    cache.insert(4, 40).map_err(|_| "insert past capacity")?;
    let info = cache.info();
    ensure(info.current_size == 4, "capacity bounds the size")?;
    ensure(info.evictions == 1, "a fifth key evicts one entry")?;
    // The default policy (W-TinyLFU) enters a new key in its window: it stays.
    ensure(cache.get(&4) == Ok(Some(40)), "the newest entry stays")?;

    let memoized_before = Instant::now();
    let mut calls = 0;
    for _ in 0..3 {
        let value = cache.get_or_insert_with(5, || {
            calls += 1;
            50
        });
        ensure(value == 50, "a memoized value")?;
    }
    ensure(calls == 1, "a memoized value is computed once")?;
    let memoized_after = Instant::now();

    // The cache reads the clock between `before` and `after`, so an entry's deadline lies
    // between `before + ttl` and `after + ttl`.
    // Room first, so that no eviction (the policy's choice) can take key 5.
    for key in 0..5 {
        cache.remove(&key).map_err(|_| "remove")?;
    }
    let before = Instant::now();
    cache
        .insert_with_ttl(6, 60, SHORT_TTL)
        .map_err(|_| "insert with a TTL of its own")?;
    let after = Instant::now();
    let heap_in_use = crate::HEAP.used();
    ensure(
        cache.get(&6) == Ok(Some(60)),
        "an entry is a hit before its TTL",
    )?;
    ensure(
        Instant::now() < before + ms(SHORT_TTL),
        "the hit came before the TTL",
    )?;

    wait_until(after + ms(SHORT_TTL))?;
    ensure(
        cache.get(&6) == Ok(None),
        "an entry expires when its own TTL has passed",
    )?;
    ensure(
        cache.get(&5) == Ok(Some(50)),
        "another entry lives on to its own deadline",
    )?;
    ensure(
        Instant::now() < memoized_before + ms(TTL),
        "that hit came before the TTL",
    )?;

    wait_until(memoized_after + ms(TTL))?;
    ensure(
        cache.get(&5) == Ok(None),
        "an entry expires when the default TTL has passed",
    )?;
    let info = cache.info();
    ensure(info.expirations >= 2, "expirations are counted")?;

    cortex_m_semihosting::hprintln!(
        "embedded: {} hits, {} misses, {} evictions, {} expirations; {} heap bytes in use with 2 entries (capacity 4)",
        info.hits,
        info.misses,
        info.evictions,
        info.expirations,
        heap_in_use
    );
    Ok(())
}

fn ms(duration: Duration) -> embassy_time::Duration {
    embassy_time::Duration::from_micros(duration.as_micros() as u64)
}
