//! TTL edges, counters and the one-clock-read rule.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use core::time::Duration;

use super::*;
use crate::backend::{Entry, Lookup, Reclaimed};
use crate::time::{Deadline, ManualClock};

const SEC: Duration = Duration::from_secs(1);

fn cache(
    clock: &ManualClock,
) -> Cache<u32, String, MemoryBackend<u32, String>, Identity, ManualClock> {
    CacheBuilder::new(clock.clone()).ttl(10 * SEC).build()
}

#[test]
fn an_entry_is_live_until_exactly_its_deadline() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert(1, "a".into()).unwrap();
    clock.advance(10 * SEC - Duration::from_nanos(1));
    assert_eq!(c.get(&1).unwrap().as_deref(), Some("a"));
    clock.advance(Duration::from_nanos(1));
    assert_eq!(c.get(&1).unwrap(), None);
    assert_eq!(c.info().current_size, 0);
}

#[test]
fn zero_ttl_stores_nothing_and_drops_the_previous_value() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert(1, "old".into()).unwrap();
    c.insert_with_ttl(1, "new".into(), Duration::ZERO).unwrap();
    c.insert_with_ttl(2, "new".into(), Ttl::ZERO).unwrap();
    assert_eq!(c.get(&1).unwrap(), None);
    assert_eq!(c.get(&2).unwrap(), None);
    assert_eq!(c.info().current_size, 0);

    let mut zero = CacheBuilder::new(clock.clone())
        .ttl(Duration::ZERO)
        .build::<u32, u32>();
    let mut calls = 0;
    for _ in 0..3 {
        zero.get_or_insert_with(5, || {
            calls += 1;
            5
        });
    }
    assert_eq!(calls, 3);
    assert_eq!(zero.info().current_size, 0);
}

#[test]
fn never_outlives_any_clock_and_huge_ttls_saturate() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert_with_ttl(1, "never".into(), Ttl::NEVER).unwrap();
    c.insert_with_ttl(2, "huge".into(), Duration::MAX).unwrap();
    c.insert_with_ttl(3, "secs".into(), Duration::from_secs(u64::MAX))
        .unwrap();
    clock.set(Instant::from_nanos(u64::MAX - 1));
    for k in 1..=3 {
        assert!(c.get(&k).unwrap().is_some(), "key {k}");
    }
    let late = CacheBuilder::new(clock.clone())
        .ttl(Ttl::from_secs(u64::MAX))
        .build::<u8, u8>();
    assert_eq!(late.parameters().ttl, Ttl::NEVER);
}

#[test]
fn reinserting_resets_the_deadline_and_a_hit_does_not() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert(1, "a".into()).unwrap();
    c.insert(2, "b".into()).unwrap();
    clock.advance(6 * SEC);
    assert!(c.get(&1).unwrap().is_some()); // a hit at 6 s does not move 1's deadline
    c.insert(2, "b2".into()).unwrap(); // 2 now lives until 16 s
    clock.advance(4 * SEC);
    assert_eq!(c.get(&1).unwrap(), None);
    assert_eq!(c.get(&2).unwrap().as_deref(), Some("b2"));
    clock.advance(6 * SEC);
    assert_eq!(c.get(&2).unwrap(), None);
}

#[test]
fn a_shorter_ttl_on_reinsert_shortens_the_life() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert_with_ttl(1, "a".into(), Ttl::NEVER).unwrap();
    c.insert_with_ttl(1, "a".into(), SEC).unwrap();
    clock.advance(SEC);
    assert_eq!(c.get(&1).unwrap(), None);
}

#[test]
fn counters_add_up_and_clear_resets_all_but_the_lifetime_totals() {
    let clock = ManualClock::new();
    // SIEVE, whose victims are known, so the hits are too.
    let mut c = CacheBuilder::new(clock.clone())
        .ttl(SEC)
        .build_with_backend(MemoryBackend::new().with_eviction(crate::memory::Sieve::new(2)));
    for k in [1, 2, 1, 3, 1, 4] {
        c.get_or_insert_with(k, || k * 10);
    }
    clock.advance(SEC);
    assert_eq!(c.get(&1).unwrap(), None);
    let info = c.info();
    assert_eq!((info.hits, info.misses), (2, 5));
    assert_eq!(info.current_size, 0);
    assert_eq!(info.evictions, 2);
    assert_eq!(info.expirations, 2);
    assert_eq!(info.errors, 0);

    c.insert(9, 9).unwrap();
    c.clear().unwrap();
    let cleared = c.info();
    assert_eq!(cleared.counters(), Counters::default());
    assert_eq!(cleared.current_size, 0);
    // What was counted before the clear stays in the lifetime totals.
    assert_eq!(cleared.lifetime, info.lifetime);
    assert_eq!(
        (
            info.lifetime.hits,
            info.lifetime.misses,
            info.lifetime.evictions,
            info.lifetime.expirations
        ),
        (2, 5, 2, 2)
    );
    assert_eq!(c.get(&9).unwrap(), None);
    assert_eq!(c.info().lifetime.misses, 6);
}

#[test]
fn remove_reports_only_live_entries() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    c.insert(1, "a".into()).unwrap();
    c.insert_with_ttl(2, "b".into(), SEC).unwrap();
    clock.advance(SEC);
    assert!(c.remove(&1).unwrap());
    assert!(!c.remove(&1).unwrap());
    assert!(!c.remove(&2).unwrap());
    assert_eq!(c.info().current_size, 0);
}

#[test]
fn errors_are_never_cached() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    let r: Result<String, &str> = c.try_get_or_insert_with(1, || Err("boom"));
    assert_eq!(r, Err("boom"));
    assert_eq!(c.get(&1).unwrap(), None);
    let r: Result<String, &str> = c.try_get_or_insert_with(1, || Ok("fine".into()));
    assert_eq!(r.as_deref(), Ok("fine"));
    let r: Result<String, &str> = c.try_get_or_insert_with(1, || Err("not called"));
    assert_eq!(r.as_deref(), Ok("fine"));
}

#[test]
fn a_slow_computation_counts_its_deadline_from_the_lookup() {
    let clock = ManualClock::new();
    let mut c = cache(&clock);
    let value = c.get_or_insert_with(1, || {
        clock.advance(4 * SEC);
        "slow".to_string()
    });
    assert_eq!(value, "slow");
    clock.advance(6 * SEC); // 10 s after the lookup
    assert_eq!(c.get(&1).unwrap(), None);
}

/// A clock that counts its readings.
#[derive(Default)]
struct CountingClock {
    reads: Cell<u32>,
}

impl Clock for CountingClock {
    const NAME: &'static str = "counting";
    fn now(&self) -> Instant {
        self.reads.set(self.reads.get() + 1);
        Instant::ZERO
    }
}

#[test]
fn every_operation_reads_the_clock_once() {
    let mut c = CacheBuilder::new(CountingClock::default()).build::<u32, u32>();
    let mut reads = Vec::new();
    let mut step = |c: &mut Cache<_, _, _, _, CountingClock>,
                    op: &dyn Fn(&mut Cache<_, _, _, _, _>)| {
        let before = c.clock().reads.get();
        op(c);
        reads.push(c.clock().reads.get() - before);
    };
    step(&mut c, &|c| {
        let _ = c.insert(1, 1);
    });
    step(&mut c, &|c| {
        let _ = c.get(&1);
    });
    step(&mut c, &|c| {
        let _ = c.get(&2);
    });
    step(&mut c, &|c| {
        let _ = c.get_or_insert_with(3, || 3);
    });
    step(&mut c, &|c| {
        let _ = c.try_get_or_insert_with(4, || Ok::<_, ()>(4));
    });
    step(&mut c, &|c| {
        let _ = c.remove(&1);
    });
    step(&mut c, &|c| {
        let _ = c.info();
    });
    assert_eq!(reads, [1; 7]);
}

/// A backend that fails every call, to check the documented fallbacks.
struct Broken;

#[derive(Debug, PartialEq)]
struct Down;

impl Backend<u32, u32> for Broken {
    type Error = Down;
    const NAME: &'static str = "broken";
    fn set(&mut self, _: u32, _: u32, _: Deadline, _: Instant) -> Result<(), Down> {
        Err(Down)
    }
    fn clear(&mut self) -> Result<(), Down> {
        Err(Down)
    }
    fn len(&mut self, _: Instant) -> Result<usize, Down> {
        Err(Down)
    }
}

impl Lookup<u32, u32, u32> for Broken {
    fn get_entry(&mut self, _: &u32, _: Instant) -> Result<Option<Entry<&u32>>, Down> {
        Err(Down)
    }
    fn remove(&mut self, _: &u32, _: Instant) -> Result<bool, Down> {
        Err(Down)
    }
}

#[test]
fn a_failing_backend_still_yields_the_computed_value() {
    let mut c = CacheBuilder::new(ManualClock::new()).build_with_backend::<u32, u32, _>(Broken);
    assert_eq!(c.get_or_insert_with(1, || 7), 7);
    assert_eq!(c.try_get_or_insert_with(1, || Ok::<_, ()>(8)), Ok(8));
    assert_eq!(c.get(&1), Err(Error::Backend(Down)));
    assert_eq!(c.insert(1, 1), Err(Error::Backend(Down)));
    let info = c.info();
    // 3 failed lookups (misses), 2 failed stores, 1 insert, 1 size query.
    assert_eq!(
        (info.hits, info.misses, info.errors, info.current_size),
        (0, 3, 7, 0)
    );
    assert_eq!(c.clear(), Err(Error::Backend(Down)));
    assert_eq!(c.info().errors, 2);
    assert_eq!(c.parameters().backend, "broken");
}

#[cfg(feature = "postcard")]
#[test]
fn corrupt_bytes_are_a_counted_miss_then_overwritten() {
    use crate::codec::Postcard;
    let clock = ManualClock::new();
    let mut c = CacheBuilder::new(clock.clone())
        .serializer(Postcard)
        .build::<u32, String>();
    let now = clock.now();
    let deadline = Ttl::NEVER.deadline_from(now);
    c.backend_mut()
        .set(1, alloc::vec![0xff, 0xff, 0xff], deadline, now)
        .unwrap();
    assert!(matches!(c.get(&1), Err(Error::Codec(_))));
    assert_eq!(c.get_or_insert_with(1, || "fresh".into()), "fresh");
    assert_eq!(c.get(&1).unwrap().as_deref(), Some("fresh"));
    let info = c.info();
    assert_eq!((info.hits, info.misses, info.errors), (1, 2, 2));
}

#[test]
fn infallible_parts_give_an_uninhabited_error() {
    let mut c = cache(&ManualClock::new());
    // Compiles only because `Error<Infallible, Infallible>` has no values.
    let Ok(found) = c.get(&1);
    assert_eq!(found, None);
}

#[test]
fn parameters_name_every_part() {
    let c = CacheBuilder::new(ManualClock::new())
        .identifier("ns")
        .capacity(5)
        .build::<u32, u32>();
    let p = c.parameters();
    assert_eq!(
        (
            p.ttl,
            p.identifier.as_str(),
            p.capacity,
            p.backend,
            p.codec,
            p.clock
        ),
        (DEFAULT_TTL, "ns", Some(5), "memory", "identity", "manual")
    );
    assert_eq!(c.backend().reclaimed(), Reclaimed::default());
}

/// Near the timeline's end, a stale window that carries the backend's deadline past it
/// must not make the entry live for ever: it goes stale (early, a miss), never
/// served as a hit past its TTL.
#[test]
fn a_stale_window_past_the_timelines_end_does_not_keep_an_entry_fresh() {
    let clock = ManualClock::starting_at(Instant::from_nanos(u64::MAX - 2_000_000_000));
    let options = Options::new(clock.clone())
        .ttl(SEC)
        .stale_if_error(60 * SEC);
    let mut c = CacheBuilder::from_options(options).build::<u32, String>();
    c.insert(1, "a".into()).unwrap();
    clock.advance(SEC + SEC / 2);
    assert_eq!(c.get(&1).unwrap(), None);
}

/// Sums of counts saturate: a backend may report any count of its own.
#[test]
fn summed_counts_saturate() {
    let most = Reclaimed {
        expirations: u64::MAX,
        evictions: u64::MAX,
        near_hits: u64::MAX,
    };
    assert_eq!(most + most, most);
    let mut lifetime = Counters {
        hits: u64::MAX,
        misses: 1,
        ..Counters::default()
    };
    lifetime += lifetime;
    assert_eq!((lifetime.hits, lifetime.misses), (u64::MAX, 2));
    assert_eq!(lifetime.calls(), u64::MAX);
    assert!(lifetime.hit_ratio() <= 1.0);
    let shard = CacheInfo {
        evictions: u64::MAX,
        current_size: usize::MAX,
        lifetime,
        ..CacheInfo::default()
    };
    let whole = shard + shard;
    assert_eq!(
        (whole.evictions, whole.current_size),
        (u64::MAX, usize::MAX)
    );
}
