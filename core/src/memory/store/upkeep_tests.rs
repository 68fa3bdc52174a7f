//! The store's upkeep: weights that stay bounded whatever the weigher says, and expiry
//! work that keeps up with reads.

use super::*;

/// An entry that weighs 0 counts as 1: the capacity bounds how many are held, and a
/// heavy entry makes room by evicting what its weight needs, not every weightless one.
#[test]
fn entries_that_weigh_nothing_still_take_room() {
    let weigher = |_: &u32, value: &u32| *value;
    let mut store = MemoryBackend::<u32, u32>::with_capacity(10).with_weigher(weigher);
    let now = Instant::ZERO;
    for key in 0..100 {
        store.set(key, 0, Deadline::NEVER, now).unwrap();
    }
    assert_eq!((store.stored(), store.weight()), (10, 10));
    store.set(1_000, 4, Deadline::NEVER, now).unwrap();
    assert_eq!(
        (store.stored(), store.weight()),
        (7, 10),
        "four made room for 4"
    );
    assert_eq!(store.reclaimed().evictions, 90 + 4);
}

/// Reads that keep many entries from idling out move their deadlines, which the wheel
/// pays for when their old slots come due: the reads pay their share of that work, or
/// with few writes the wheel falls behind and entries idle long ago stay held.
#[test]
fn reads_that_keep_entries_alive_pay_for_their_relinking() {
    let idle = Ttl::from_secs(10);
    let mut store = MemoryBackend::<u32, u32>::new().with_time_to_idle(idle);
    let second = |s: u64| Instant::from_nanos(s * 1_000_000_000);
    const HOT: u32 = 3_000;
    for key in 0..HOT {
        store.set(key, key, Deadline::NEVER, second(0)).unwrap();
    }
    // Each second, every hot key read once and one cold key written, never read.
    for s in 1..=200u64 {
        for key in 0..HOT {
            assert!(store.get(&key, second(s)).unwrap().is_some());
        }
        let cold = HOT + s as u32;
        store.set(cold, 0, Deadline::NEVER, second(s)).unwrap();
    }
    // The cold keys of the last 10 s are live; a few more may wait for their slot.
    let held = store.stored() - HOT as usize;
    assert!(held <= 20, "{held} cold entries held, 10 live");
}

/// A weigher that weighs an entry more when it comes in than when it leaves breaks its
/// contract; an emptied store still holds no weight, and takes entries again.
#[test]
fn an_emptied_store_holds_no_weight_whatever_the_weigher_said() {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    static HEAVY: AtomicUsize = AtomicUsize::new(8);
    let weigher = |_: &u32, _: &u32| HEAVY.load(Relaxed);
    let mut store = MemoryBackend::<u32, u32>::with_capacity(10).with_weigher(weigher);
    let now = Instant::ZERO;
    store.set(1, 1, Deadline::NEVER, now).unwrap();
    HEAVY.store(1, Relaxed);
    assert!(store.remove(&1, now).unwrap());
    assert_eq!((store.stored(), store.weight()), (0, 0));
    HEAVY.store(10, Relaxed);
    store.set(2, 2, Deadline::NEVER, now).unwrap();
    assert_eq!(store.stored(), 1, "refused for weight left by the first");
}
