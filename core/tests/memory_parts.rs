//! The memory backend's parts against a model: a listener hears every entry that leaves,
//! exactly once and with the right cause; what it has not heard about is still held;
//! the weight stays under the capacity; an unbounded policy never evicts; with a
//! time-to-idle, an entry expires at the sooner of its TTL and its last read plus the
//! idle time.
//!
//! Time is an `Instant` the test moves itself: no clock, no sleeps.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jwm_cache_core::{Backend, Deadline, Lookup, Reclaimed};
use jwm_cache_core::{
    DefaultEviction, Eviction, Instant, MemoryBackend, RemovalCause, Sieve, TinyLfu, Ttl,
    Unbounded, UnitWeight, Weigher,
};
use proptest::prelude::*;

const TICK: u64 = 1 << 20;

#[derive(Clone, Debug, PartialEq)]
enum Op {
    /// Sets the key to a value never used before, live for the TTL (`None`: forever).
    Set(u8, Option<u64>),
    Get(u8),
    Remove(u8),
    Len,
    Clear,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..8;
    let ttl = prop_oneof![
        Just(None),
        Just(Some(0)),
        Just(Some(1)),
        Just(Some(TICK / 2)),
        Just(Some(TICK)),
        Just(Some(3 * TICK)),
        Just(Some(70 * TICK)),
        (0..5 * TICK).prop_map(Some),
    ];
    let advance = prop_oneof![
        Just(0),
        Just(1),
        Just(TICK / 3),
        Just(TICK),
        Just(64 * TICK),
        0..4 * TICK,
    ];
    prop_oneof![
        12 => (key.clone(), ttl).prop_map(|(k, ttl)| Op::Set(k, ttl)),
        6 => key.clone().prop_map(Op::Get),
        2 => key.prop_map(Op::Remove),
        2 => Just(Op::Len),
        1 => Just(Op::Clear),
        4 => advance.prop_map(Op::Advance),
    ]
}

/// What the store holds by key (its unique value and deadline), and what it counted.
#[derive(Default)]
struct Model {
    held: HashMap<u8, (u32, Deadline)>,
    /// Each held entry's deadline from its TTL, which reads never extend past.
    own: HashMap<u8, Deadline>,
    reclaimed: Reclaimed,
}

impl Model {
    fn live(&self, key: u8, now: Instant) -> Option<u32> {
        let &(value, deadline) = self.held.get(&key)?;
        (!deadline.is_expired(now)).then_some(value)
    }
}

/// Runs `ops` on a store under `eviction` and `weigher`, checking every report its
/// listener gets against the model.
fn check<P, W>(eviction: P, weigher: W, ops: Vec<Op>) -> Result<(), TestCaseError>
where
    P: Eviction,
    W: Weigher<u8, u32> + Clone,
{
    check_idle(eviction, weigher, None, ops)
}

/// [`check`] with a time-to-idle of `idle` nanoseconds.
fn check_idle<P, W>(
    eviction: P,
    weigher: W,
    idle: Option<u64>,
    ops: Vec<Op>,
) -> Result<(), TestCaseError>
where
    P: Eviction,
    W: Weigher<u8, u32> + Clone,
{
    let reports = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&reports);
    let mut store = MemoryBackend::<u8, u32>::new()
        .with_eviction(eviction)
        .with_weigher(weigher.clone())
        .with_time_to_idle(idle.map_or(Ttl::NEVER, Ttl::from_nanos))
        .with_listener(move |key, value, cause| sink.borrow_mut().push((key, value, cause)));
    // The deadline of an entry whose own deadline is `own`, read or written at `at`.
    let idle_from = |own: Deadline, at: Instant| match idle {
        Some(idle) => own.min(Deadline::at(Instant::from_nanos(at.as_nanos() + idle))),
        None => own,
    };
    let capacity = store.capacity();
    let mut model = Model::default();
    let mut now = Instant::ZERO;
    let mut values = 0u32;
    for op in ops {
        // The entry this op sets, if it sets one.
        let mut setting = None;
        match op {
            Op::Set(key, ttl) => {
                values += 1;
                let own = ttl.map_or(Deadline::NEVER, |ttl| {
                    Deadline::at(Instant::from_nanos(now.as_nanos() + ttl))
                });
                store.set(key, values, own, now).unwrap();
                setting = Some((key, values, idle_from(own, now)));
                model.own.insert(key, own);
            }
            Op::Get(key) => {
                let got = store.get(&key, now).unwrap().copied();
                prop_assert_eq!(got, model.live(key, now), "get {}", key);
                if got.is_some() {
                    // A read extends the idle deadline, never back and never past its own.
                    let held = model.held.get_mut(&key).unwrap();
                    held.1 = held.1.max(idle_from(model.own[&key], now));
                }
            }
            Op::Remove(key) => {
                let removed = store.remove(&key, now).unwrap();
                prop_assert_eq!(removed, model.live(key, now).is_some(), "remove {}", key);
            }
            Op::Len => {
                let live = model.held.values().filter(|(_, d)| !d.is_expired(now));
                prop_assert_eq!(store.len(now).unwrap(), live.count());
            }
            Op::Clear => store.clear().unwrap(),
            Op::Advance(nanos) => now = Instant::from_nanos(now.as_nanos() + nanos),
        }

        let mut set_entry_left = false;
        for (key, value, cause) in reports.borrow_mut().drain(..) {
            if let Some((set_key, _, deadline)) = setting.filter(|&(_, v, _)| v == value) {
                // The value just set: too heavy to store, or stored in place over a
                // lighter one and then evicted (or, set already expired, reclaimed) to
                // make room for its own weight.
                prop_assert_eq!(key, set_key);
                match cause {
                    RemovalCause::Rejected => {
                        // A capacity of 0 stores nothing, weightless entries included.
                        let too_heavy = capacity
                            .is_some_and(|c| c == 0 || weigher.weigh(&key, &value).max(1) > c);
                        prop_assert!(too_heavy, "rejected {} = {}", key, value);
                    }
                    RemovalCause::Evicted if !deadline.is_expired(now) => {
                        model.reclaimed.evictions += 1;
                    }
                    RemovalCause::Expired if deadline.is_expired(now) => {
                        model.reclaimed.expirations += 1;
                    }
                    other => prop_assert!(false, "the value just set left as {:?}", other),
                }
                set_entry_left = true;
                continue;
            }
            let held = model.held.remove(&key);
            prop_assert_eq!(
                held.map(|(v, _)| v),
                Some(value),
                "{:?} reported for {} = {}, not held",
                cause,
                key,
                value
            );
            let expired = held.is_some_and(|(_, deadline)| deadline.is_expired(now));
            let set_key = setting.map(|(k, _, _)| k);
            match cause {
                RemovalCause::Expired => {
                    prop_assert!(expired, "{} expired early", key);
                    model.reclaimed.expirations += 1;
                }
                RemovalCause::Evicted => {
                    prop_assert!(!expired && setting.is_some(), "evicted {}", key);
                    prop_assert!(capacity.is_some(), "an unbounded store evicted {}", key);
                    model.reclaimed.evictions += 1;
                }
                RemovalCause::Removed => prop_assert!(!expired && op == Op::Remove(key)),
                RemovalCause::Replaced => prop_assert!(!expired && set_key == Some(key)),
                RemovalCause::Cleared => prop_assert_eq!(&op, &Op::Clear),
                other => prop_assert!(false, "{} = {} left as {:?}", key, value, other),
            }
        }
        if let Some((key, value, deadline)) = setting.filter(|_| !set_entry_left) {
            model.held.insert(key, (value, deadline));
        }
        if op == Op::Clear {
            prop_assert!(model.held.is_empty(), "clear kept {:?}", model.held);
            model.reclaimed = Reclaimed::default();
        }

        // Memory holds exactly what was not reported: nothing left unheard.
        prop_assert_eq!(store.stored(), model.held.len());
        let weight: usize = model
            .held
            .iter()
            .map(|(k, (v, _))| weigher.weigh(k, v).max(1))
            .sum();
        prop_assert_eq!(store.weight(), weight);
        if let Some(capacity) = capacity {
            prop_assert!(weight <= capacity, "weight {} over {}", weight, capacity);
        }
        prop_assert_eq!(store.reclaimed(), model.reclaimed);
    }
    Ok(())
}

/// Weighs an entry 0 to 4 by its value, so entries of no weight, rejections and several
/// evictions for one insert all happen.
fn by_value(_: &u8, value: &u32) -> usize {
    (*value % 5) as usize
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 500 }
    ))]

    #[test]
    fn unbounded_policies_never_evict(ops in proptest::collection::vec(op(), 1..150)) {
        check(Unbounded, UnitWeight, ops.clone())?;
        check(None::<Sieve>, by_value, ops)?;
    }

    #[test]
    fn the_listener_hears_every_removal_once(
        ops in proptest::collection::vec(op(), 1..150),
        capacity in 0usize..6,
    ) {
        check(Some(Sieve::new(capacity)), UnitWeight, ops.clone())?;
        check(DefaultEviction::Some(Box::new(TinyLfu::new(capacity))), UnitWeight, ops)?;
    }

    #[test]
    fn an_unread_entry_expires_at_its_idle_deadline(
        ops in proptest::collection::vec(op(), 1..150),
        capacity in 0usize..12,
        idle in prop_oneof![
            Just(0),
            Just(1),
            Just(TICK / 2),
            Just(TICK),
            Just(3 * TICK),
            Just(64 * TICK),
            0..5 * TICK,
        ],
    ) {
        check_idle(Unbounded, UnitWeight, Some(idle), ops.clone())?;
        check_idle(Sieve::new(capacity), by_value, Some(idle), ops.clone())?;
        check_idle(TinyLfu::new(capacity), by_value, Some(idle), ops)?;
    }

    #[test]
    fn weighed_entries_stay_under_the_capacity(
        ops in proptest::collection::vec(op(), 1..150),
        capacity in 0usize..12,
    ) {
        check(Sieve::new(capacity), by_value, ops.clone())?;
        check(TinyLfu::new(capacity), by_value, ops)?;
    }
}
