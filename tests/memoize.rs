//! Memoized functions and methods: the Python original's acceptance cases and its
//! defects, as Rust tests.

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jwm_cache::{CacheControls, ManualClock, Memoized, MemoizedMethod, SyncCache, Ttl};

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn two_identical_calls_give_one_hit_one_miss_one_entry() {
    let runs = counter();
    let r = runs.clone();
    let add = Memoized::new(move |(a, b): (i64, i64)| {
        r.fetch_add(1, Ordering::SeqCst);
        a + b
    });
    assert_eq!(add.call((1, 2)), 3);
    assert_eq!(add.call((1, 2)), 3);
    let info = add.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn entries_expire_by_the_injected_clock() {
    let clock = ManualClock::new();
    let runs = counter();
    let r = runs.clone();
    let f = Memoized::builder(move |n: u32| {
        r.fetch_add(1, Ordering::SeqCst);
        n
    })
    .ttl(Duration::from_secs(30))
    .clock(clock.clone())
    .build();
    f.call(1);
    clock.advance(Duration::from_secs(29));
    f.call(1);
    clock.advance(Duration::from_secs(1));
    f.call(1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(f.cache_parameters().ttl, Ttl::from_secs(30));
    assert_eq!(f.cache_parameters().clock, "manual");
}

#[test]
fn only_ok_results_are_cached_and_unit_and_none_are_values() {
    let runs = counter();
    let r = runs.clone();
    let flaky = Memoized::fallible(move |n: u32| {
        let run = r.fetch_add(1, Ordering::SeqCst);
        if run == 0 {
            Err("transient")
        } else {
            Ok(n * 10)
        }
    });
    assert_eq!(flaky.try_call(1), Err("transient"));
    assert_eq!(flaky.try_call(1), Ok(10));
    assert_eq!(flaky.try_call(1), Ok(10));
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let units = counter();
    let u = units.clone();
    let unit = Memoized::new(move |_: u8| {
        u.fetch_add(1, Ordering::SeqCst);
    });
    unit.call(1);
    unit.call(1);
    assert_eq!(units.load(Ordering::SeqCst), 1);

    let nones = counter();
    let n = nones.clone();
    let none = Memoized::new(move |_: u8| -> Option<u8> {
        n.fetch_add(1, Ordering::SeqCst);
        None
    });
    assert_eq!(none.call(1), None);
    assert_eq!(none.call(1), None);
    assert_eq!(nones.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panic_poisons_nothing_and_the_next_call_recomputes() {
    let runs = counter();
    let r = runs.clone();
    let f = Memoized::new(move |n: u32| {
        if r.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("first call fails");
        }
        n + 1
    });
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let first = panic::catch_unwind(panic::AssertUnwindSafe(|| f.call(1)));
    panic::set_hook(hook);
    assert!(first.is_err());
    assert_eq!(f.call(1), 2);
    assert_eq!(f.call(1), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn recursion_through_the_memoized_function_works() {
    use std::sync::OnceLock;
    static FIB: OnceLock<Memoized<fn(u64) -> u64, SyncCache<u64, u64>>> = OnceLock::new();
    fn fib(n: u64) -> u64 {
        if n < 2 {
            n
        } else {
            FIB.get().unwrap().call(n - 1) + FIB.get().unwrap().call(n - 2)
        }
    }
    let _ = FIB.set(Memoized::new(fib as fn(u64) -> u64));
    assert_eq!(FIB.get().unwrap().call(90), 2_880_067_194_370_816_120);
    assert_eq!(FIB.get().unwrap().cache_info().current_size, 91);
}

#[test]
fn cache_clear_resets_entries_and_counters() {
    let f = Memoized::new(|n: u32| n);
    f.call(1);
    f.call(1);
    f.cache_clear();
    let info = f.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (0, 0, 0));
    f.call(1);
    assert_eq!(f.cache_info().misses, 1);
}

struct Shape {
    id: u32,
    side: u32,
}

#[test]
fn receivers_share_entries_only_when_their_keys_are_equal() {
    let runs = counter();
    let r = runs.clone();
    let area = MemoizedMethod::new(
        |s: &Shape| s.id,
        move |s: &Shape, scale: u32| {
            r.fetch_add(1, Ordering::SeqCst);
            s.side * s.side * scale
        },
    );
    let c1 = Shape { id: 1, side: 2 };
    let c2 = Shape { id: 2, side: 3 };
    let c1_again = Shape { id: 1, side: 2 };
    assert_eq!(area.call(&c1, 1), 4);
    assert_eq!(area.call(&c2, 1), 9);
    assert_eq!(area.call(&c1_again, 1), 4); // equal key: a hit
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// The original's `mm = c1.m; c2.m; mm(7)` bug: the wrapper kept the last receiver.
/// Here the receiver is an argument of every call, so "binding" one is just a closure
/// that captures it, and another binding cannot overwrite it.
#[test]
fn a_bound_method_keeps_its_own_receiver() {
    let area = Arc::new(MemoizedMethod::new(
        |s: &Shape| s.id,
        |s: &Shape, k: u32| s.side * k,
    ));
    let (c1, c2) = (Shape { id: 1, side: 10 }, Shape { id: 2, side: 20 });
    let mm = |k: u32| area.call(&c1, k);
    let other = |k: u32| area.call(&c2, k);
    assert_eq!(other(7), 140);
    assert_eq!(mm(7), 70);
}

struct Catalog {
    prices: MemoizedMethod<
        fn(&Catalog) -> u32,
        fn(&Catalog, String) -> usize,
        SyncCache<(u32, String), usize>,
    >,
    id: u32,
}

impl Catalog {
    fn price(&self, item: String) -> usize {
        self.prices.call(self, item)
    }
}

#[test]
fn a_struct_can_hold_its_memoized_method() {
    let catalog = Catalog {
        prices: MemoizedMethod::new(
            |c: &Catalog| c.id,
            |c: &Catalog, item: String| item.len() * c.id as usize,
        ),
        id: 3,
    };
    assert_eq!(catalog.price("tea".into()), 9);
    assert_eq!(catalog.price("tea".into()), 9);
    assert_eq!(catalog.prices.cache_info().hits, 1);
}

#[test]
fn identifiers_share_and_isolate() {
    let a = Memoized::builder(|n: u64| n * 2)
        .identifier("tests::share")
        .build();
    let b = Memoized::builder(|n: u64| n + n)
        .identifier("tests::share")
        .build();
    let c = Memoized::builder(|n: u64| n * 3)
        .identifier("tests::other")
        .build();
    assert_eq!(a.call(5), 10);
    assert_eq!(b.call(5), 10);
    assert_eq!(b.cache_info().hits, 1, "same identifier: b hits a's entry");
    assert_eq!(c.call(5), 15, "different identifier: never a's entry");
    assert!(Arc::ptr_eq(a.cache(), b.cache()));
    assert!(!Arc::ptr_eq(a.cache(), c.cache()));

    // Clearing one clears the shared namespace, and the counters both see.
    b.cache_clear();
    assert_eq!(a.cache_info().current_size, 0);
    assert_eq!(a.cache_info().hits, 0);
    assert_eq!(c.cache_info().current_size, 1);
}

#[test]
fn one_cache_can_serve_several_functions() {
    let shared: Arc<SyncCache<u64, u64>> = Arc::new(SyncCache::new());
    let square = Memoized::with_cache(|n: u64| n * n, shared.clone());
    let also_square = Memoized::with_cache(|n: u64| n.pow(2), shared.clone());
    square.call(9);
    assert_eq!(also_square.call(9), 81);
    assert_eq!(shared.info().hits, 1);
}

#[test]
fn parameters_name_every_part() {
    let f = Memoized::builder(|n: u8| n)
        .ttl(Ttl::NEVER)
        .identifier("params")
        .capacity(10)
        .build();
    assert_eq!(f.call(1), 1);
    let p = f.cache_parameters();
    assert_eq!(
        (
            p.ttl,
            p.identifier.as_str(),
            p.capacity,
            p.backend,
            p.codec,
            p.clock
        ),
        (
            Ttl::NEVER,
            "params",
            Some(10),
            "memory",
            "identity",
            "system"
        )
    );
}

/// A backend whose every call fails, like a store that is down.
struct Down;

impl jwm_cache::backend::Backend<u32, u32> for Down {
    type Error = &'static str;
    const NAME: &'static str = "down";
    fn set(
        &mut self,
        _: u32,
        _: u32,
        _: jwm_cache::backend::Deadline,
        _: jwm_cache::time::Instant,
    ) -> Result<(), &'static str> {
        Err("down")
    }
    fn clear(&mut self) -> Result<(), &'static str> {
        Err("down")
    }
    fn len(&mut self, _: jwm_cache::time::Instant) -> Result<usize, &'static str> {
        Err("down")
    }
}

impl jwm_cache::backend::Lookup<u32, u32, u32> for Down {
    fn get_entry(
        &mut self,
        _: &u32,
        _: jwm_cache::time::Instant,
    ) -> Result<Option<jwm_cache::backend::Entry<&u32>>, &'static str> {
        Err("down")
    }

    fn remove(&mut self, _: &u32, _: jwm_cache::time::Instant) -> Result<bool, &'static str> {
        Err("down")
    }
}

#[test]
fn a_failing_backend_still_gives_the_right_value() {
    let runs = counter();
    let r = runs.clone();
    let f = Memoized::builder(move |n: u32| {
        r.fetch_add(1, Ordering::SeqCst);
        n * 3
    })
    .build_with_backend(|| Down);
    assert_eq!(f.call(2), 6);
    assert_eq!(f.call(2), 6);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "nothing could be cached");
    let info = f.cache_info();
    assert_eq!((info.hits, info.misses), (0, 2));
    assert!(
        info.errors >= 4,
        "two failed lookups and two failed stores: {info:?}"
    );
    assert_eq!(f.cache_parameters().backend, "down");
}

/// The default identifier of a memoized function built by a helper from a closure.
fn identifier_of(function: impl Fn(u64) -> u64) -> String {
    Memoized::builder(function)
        .build()
        .cache_parameters()
        .identifier
}

#[test]
fn closures_given_to_one_helper_get_identifiers_of_their_own() {
    // One enclosing function, one place of construction: only the closures differ.
    let (add, double) = (identifier_of(|n| n + 1), identifier_of(|n| n * 2));
    assert_ne!(add, double);
    // One closure, built twice: one identifier, so the two share.
    let same: Vec<String> = (0..2).map(|_| identifier_of(|n| n + 3)).collect();
    assert_eq!(same[0], same[1]);
    assert!(add.contains("closure#"), "{add}");
}

/// A method's receiver is borrowed for its call only: a refresh could not call it
/// later, so `refresh_after` is refused when the method is built, not ignored.
#[test]
#[should_panic(expected = "a memoized method cannot refresh ahead")]
fn a_method_refuses_refresh_after() {
    struct Shape {
        side: u64,
    }
    let area = MemoizedMethod::builder(|s: &Shape| s.side, |s: &Shape, k: u64| s.side * k)
        .refresh_after(Duration::from_secs(10))
        .build();
    area.call(&Shape { side: 2 }, 3);
}
