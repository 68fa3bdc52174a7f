//! Model-based property tests: random operation sequences against a reference model.
//!
//! Run with `PROPTEST_CASES=10000` for the full local check; the default is 1000.

use std::collections::HashMap;
use std::time::Duration;

use jwm_cache_core::{
    Cache, CacheBuilder, CacheInfo, Counters, Identity, Instant, ManualClock, MemoryBackend, Ttl,
};
use proptest::prelude::*;

type TestCache = Cache<u8, u16, MemoryBackend<u8, u16>, Identity, ManualClock>;

const TICK: u64 = 1 << 20;
const DEFAULT_TTL: Ttl = Ttl::from_nanos(3 * TICK + 7);

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, u16),
    InsertWithTtl(u8, u16, Ttl),
    Get(u8),
    GetOrInsert(u8, u16),
    Remove(u8),
    Clear,
    Advance(u64),
    Info,
}

fn ttl() -> impl Strategy<Value = Ttl> {
    prop_oneof![
        Just(Ttl::ZERO),
        Just(Ttl::from_nanos(1)),
        Just(Ttl::from_nanos(TICK - 1)),
        Just(Ttl::from_nanos(TICK)),
        // Deadlines inside a tick: the wheel must not expire a slot before its time.
        Just(Ttl::from_nanos(TICK / 2)),
        Just(Ttl::from_nanos(TICK + TICK / 2)),
        Just(Ttl::from_nanos(5 * TICK + 3)),
        Just(Ttl::from_nanos(70 * TICK)),
        Just(Ttl::from_nanos(5000 * TICK)),
        Just(Ttl::NEVER),
        Just(Ttl::from(Duration::MAX)),
        (1..20 * TICK).prop_map(Ttl::from_nanos),
    ]
}

fn advance() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(TICK - 1),
        Just(TICK / 3),
        Just(TICK / 3),
        Just(TICK),
        Just(64 * TICK),
        Just(4096 * TICK),
        0..10 * TICK,
    ]
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    let key = 0..keys;
    prop_oneof![
        4 => (key.clone(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (key.clone(), any::<u16>(), ttl()).prop_map(|(k, v, t)| Op::InsertWithTtl(k, v, t)),
        4 => key.clone().prop_map(Op::Get),
        2 => (key.clone(), any::<u16>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
        1 => key.prop_map(Op::Remove),
        1 => Just(Op::Clear),
        3 => advance().prop_map(Op::Advance),
        1 => Just(Op::Info),
    ]
}

/// The trivially correct cache: a map of values and deadlines, read by brute force.
#[derive(Default)]
struct Model {
    now: u64,
    entries: HashMap<u8, (u16, u64)>,
    hits: u64,
    misses: u64,
    /// Hits and misses before the last clear, which the lifetime totals keep.
    retired: (u64, u64),
}

impl Model {
    fn live(&self, key: u8) -> Option<u16> {
        let &(value, deadline) = self.entries.get(&key)?;
        (deadline == u64::MAX || self.now < deadline).then_some(value)
    }

    fn insert(&mut self, key: u8, value: u16, ttl: Ttl) {
        if ttl.is_zero() {
            self.entries.remove(&key);
        } else {
            let deadline = ttl.deadline_from(Instant::from_nanos(self.now)).as_nanos();
            self.entries.insert(key, (value, deadline));
        }
    }

    fn lookup(&mut self, key: u8) -> Option<u16> {
        let found = self.live(key);
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    fn len(&self) -> usize {
        self.entries
            .keys()
            .filter(|&&k| self.live(k).is_some())
            .count()
    }
}

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 1000;
    }
    config
}

/// Runs `ops`; with a capacity the cache may drop live entries, which the model then
/// forgets (an evicted key stays gone until it is written again).
fn run(ops: Vec<Op>, keys: u8, capacity: Option<usize>) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    let mut builder = CacheBuilder::new(clock.clone()).ttl(DEFAULT_TTL);
    if let Some(capacity) = capacity {
        builder = builder.capacity(capacity);
    }
    let mut cache: TestCache = builder.build();
    let mut model = Model::default();
    let bounded = capacity.is_some();
    // The lifetime totals of the last `info`: a clear never takes them back.
    let mut last_lifetime = Counters::default();
    let mut check_info = |model: &Model, info: CacheInfo| -> Result<(), TestCaseError> {
        prop_assert_eq!(
            (info.hits, info.misses, info.coalesced),
            (model.hits, model.misses, 0)
        );
        prop_assert_eq!(
            (info.lifetime.hits, info.lifetime.misses),
            (model.retired.0 + model.hits, model.retired.1 + model.misses)
        );
        let lifetime = info.lifetime;
        prop_assert!(lifetime.evictions >= last_lifetime.evictions.max(info.evictions));
        prop_assert!(lifetime.expirations >= last_lifetime.expirations.max(info.expirations));
        last_lifetime = lifetime;
        Ok(())
    };

    // A lookup must agree with the model; with a capacity, a live entry may be missing.
    let check = |model: &mut Model, key: u8, got: Option<u16>| -> Result<(), TestCaseError> {
        let expected = model.live(key);
        if bounded && got.is_none() && expected.is_some() {
            model.entries.remove(&key);
            return Ok(());
        }
        prop_assert_eq!(got, expected, "key {}", key);
        Ok(())
    };

    for op in ops {
        match op {
            Op::Insert(k, v) => {
                cache.insert(k, v).unwrap();
                model.insert(k, v, DEFAULT_TTL);
            }
            Op::InsertWithTtl(k, v, ttl) => {
                cache.insert_with_ttl(k, v, ttl).unwrap();
                model.insert(k, v, ttl);
            }
            Op::Get(k) => {
                let Ok(got) = cache.get(&k);
                check(&mut model, k, got)?;
                model.lookup(k);
            }
            Op::GetOrInsert(k, v) => {
                // Whether the cache computed tells a hit from a miss even when the
                // computed value equals the stored one.
                let mut computed = false;
                let got = cache.get_or_insert_with(k, || {
                    computed = true;
                    v
                });
                let expected = model.lookup(k);
                match expected {
                    Some(stored) if !computed => prop_assert_eq!(got, stored, "key {}", k),
                    // A miss: the cache computed `v` and stored it.
                    _ if computed => {
                        prop_assert_eq!(got, v, "key {}", k);
                        if expected.is_some() {
                            // Evicted under capacity: the lookup was really a miss.
                            prop_assert!(bounded);
                            model.hits -= 1;
                            model.misses += 1;
                        }
                        model.insert(k, v, DEFAULT_TTL);
                    }
                    _ => prop_assert!(false, "key {k}: a hit on {got}, model {expected:?}"),
                }
            }
            Op::Remove(k) => {
                let Ok(removed) = cache.remove(&k);
                if !bounded || removed {
                    prop_assert_eq!(removed, model.live(k).is_some());
                }
                model.entries.remove(&k);
            }
            Op::Clear => {
                cache.clear().unwrap();
                model = Model {
                    now: model.now,
                    retired: (model.retired.0 + model.hits, model.retired.1 + model.misses),
                    ..Model::default()
                };
            }
            Op::Advance(nanos) => {
                clock.advance(Duration::from_nanos(nanos));
                model.now += nanos;
            }
            Op::Info => {
                // Only here and at the end: `info` reclaims every due entry, which would
                // otherwise hide the wheel's budgeted, partial reclamation from the test.
                let info = cache.info();
                check_info(&model, info)?;
                prop_assert_eq!(info.errors, 0);
                if bounded {
                    // Evictions are invisible until observed; the size can only be smaller.
                    prop_assert!(info.current_size <= model.len());
                    prop_assert!(info.current_size <= capacity.unwrap());
                } else {
                    prop_assert_eq!(info.current_size, model.len());
                    prop_assert_eq!(info.evictions, 0);
                }
            }
        }
    }
    // Every key agrees at the end, and the size is exact without a capacity.
    for k in 0..keys {
        let Ok(got) = cache.get(&k);
        check(&mut model, k, got)?;
        model.lookup(k);
    }
    let info = cache.info();
    check_info(&model, info)?;
    if !bounded {
        prop_assert_eq!(info.current_size, model.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unbounded_cache_matches_the_model(ops in proptest::collection::vec(op(6), 1..80)) {
        run(ops, 6, None)?;
    }

    #[test]
    fn bounded_cache_never_returns_a_wrong_value(
        ops in proptest::collection::vec(op(6), 1..80),
        capacity in 0usize..5,
    ) {
        run(ops, 6, Some(capacity))?;
    }

    /// Many keys and long runs: backlogs larger than an insert's reclaim budget, so
    /// slots are left partly processed between operations.
    #[test]
    fn many_keys_match_the_model(ops in proptest::collection::vec(op(200), 1..400)) {
        run(ops, 200, None)?;
    }
}
