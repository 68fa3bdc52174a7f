//! `#[ttl_cache]` on generic functions, with key expressions, and with arguments bound
//! by patterns.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use jwm_cache::{CacheControls, ttl_cache};

static LARGEST_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = "1m")]
fn largest<T>(items: Vec<T>) -> Option<T>
where
    T: Ord + Clone + Hash + Send + Sync + 'static,
{
    LARGEST_RUNS.fetch_add(1, SeqCst);
    items.into_iter().max()
}

#[test]
fn a_generic_function_keeps_one_cache_per_instantiation() {
    assert_eq!(largest(vec![3u64, 9, 4]), Some(9));
    assert_eq!(largest(vec![3u64, 9, 4]), Some(9));
    // The same encoding in another type is another instantiation: computed, not a hit.
    assert_eq!(largest(vec![3u32, 9, 4]), Some(9));
    assert_eq!(largest(vec!["b".to_string(), "a".into()]), Some("b".into()));
    assert_eq!(LARGEST_RUNS.load(SeqCst), 3);

    let info = LARGEST.cache_info();
    assert_eq!(
        (info.hits, info.misses, info.current_size),
        (1, 3, 3),
        "the controls sum every instantiation"
    );
    let identifiers: Vec<String> = LARGEST
        .cache_parameters()
        .into_iter()
        .map(|p| p.identifier)
        .collect();
    let base = concat!(module_path!(), "::largest@", file!(), ":12:1");
    assert_eq!(
        identifiers,
        [
            format!("{base}<u64>"),
            format!("{base}<u32>"),
            format!("{base}<alloc::string::String>")
        ]
    );

    LARGEST.cache_clear();
    let cleared = LARGEST.cache_info();
    assert_eq!(cleared.counters(), jwm_cache::Counters::default());
    assert_eq!(
        cleared.lifetime.calls(),
        4,
        "a clear keeps the lifetime totals"
    );
    assert_eq!(largest(vec![1u64]), Some(1));
    assert_eq!(LARGEST_RUNS.load(SeqCst), 4, "cleared, so computed again");
}

/// The type parameter appears in no argument: only the instantiation tells results apart.
#[ttl_cache]
fn describe<T: Default + Debug + 'static>(width: usize) -> String {
    format!("{:?}/{width}", T::default())
}

#[test]
fn a_type_parameter_in_no_argument_still_separates_instantiations() {
    assert_eq!(describe::<u8>(3), "0/3");
    assert_eq!(describe::<String>(3), "\"\"/3");
    assert_eq!(describe::<bool>(3), "false/3");
    assert_eq!(describe::<u8>(3), "0/3");
    let info = DESCRIBE.cache_info();
    assert_eq!((info.hits, info.misses), (1, 3));
}

#[ttl_cache(serializer = json)]
async fn tagged<T>(value: T) -> String
where
    T: Debug + Clone + Hash + Eq + Send + Sync + 'static,
{
    tokio::task::yield_now().await;
    format!("<{value:?}>")
}

#[tokio::test]
async fn a_generic_async_function_too() {
    assert_eq!(tagged(1u8).await, "<1>");
    assert_eq!(tagged(1u8).await, "<1>");
    assert_eq!(tagged('x').await, "<'x'>");
    let info = TAGGED.cache_info().await;
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
    TAGGED.cache_clear().await;
    assert_eq!(TAGGED.cache_info().await.current_size, 0);
}

static NORMALIZE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Keyed on the lower-cased name: "Oslo" and "OSLO" are one entry. With a key
/// expression, arguments may be borrowed.
#[ttl_cache(key = city.to_lowercase())]
fn population(city: &str) -> u64 {
    NORMALIZE_RUNS.fetch_add(1, SeqCst);
    city.len() as u64 * 1000
}

#[test]
fn a_key_expression_is_the_whole_key() {
    assert_eq!(population("Oslo"), 4000);
    assert_eq!(population("OSLO"), 4000);
    assert_eq!(population("Rome"), 4000);
    assert_eq!(NORMALIZE_RUNS.load(SeqCst), 2);
    let info = POPULATION.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
}

struct Account {
    id: u32,
    balance: u64,
}

impl Account {
    /// Keyed on the account's id and the rate only.
    #[ttl_cache(key = (self.id, rate))]
    fn interest(&self, rate: u64, #[ttl_cache::ignore] _audit: &str) -> u64 {
        self.balance * rate / 100
    }
}

#[test]
fn a_method_key_expression_may_name_self_and_arguments() {
    let before = Account {
        id: 1,
        balance: 100,
    };
    let after = Account {
        id: 1,
        balance: 500,
    };
    assert_eq!(before.interest(5, "first"), 5);
    assert_eq!(after.interest(5, "second"), 5, "same id and rate: a hit");
    assert_eq!(after.interest(6, "third"), 30);
    assert_eq!(Account::interest_cache().cache_info().hits, 1);
}

#[ttl_cache]
fn span((start, end): (u32, u32), mut step: u32, #[ttl_cache::ignore] _: &str) -> u32 {
    step = step.max(1);
    (end - start) / step
}

#[test]
fn arguments_bound_by_patterns_are_keyed_and_passed_on() {
    assert_eq!(span((0, 10), 2, "a"), 5);
    assert_eq!(span((0, 10), 2, "b"), 5);
    assert_eq!(span((0, 10), 0, "c"), 10);
    assert_eq!(SPAN.cache_info().hits, 1);
}

#[ttl_cache]
fn zero_of<T: Default + Clone + Send + Sync + 'static>(label: u8) -> (u8, T) {
    (label, T::default())
}

/// Calls `zero_of` twice with each of ten types.
macro_rules! twice_each {
    ($($t:ty),*) => {
        $(
            assert_eq!(zero_of::<$t>(1), (1, <$t>::default()));
            assert_eq!(zero_of::<$t>(1), (1, <$t>::default()));
        )*
    };
}

#[test]
fn many_instantiations_each_keep_their_own_cache() {
    // More than the eight found without a lock.
    twice_each!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);
    let info = ZERO_OF.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (10, 10, 10));
    let identifiers: Vec<String> = ZERO_OF
        .cache_parameters()
        .into_iter()
        .map(|p| p.identifier)
        .collect();
    assert_eq!(identifiers.len(), 10);
    assert!(identifiers[9].ends_with(":162:1<i128>"), "{identifiers:?}");
}

#[ttl_cache]
fn halve<T>(n: T) -> T
where
    T: std::ops::Div<Output = T> + From<u8> + Copy + Hash + Eq + Send + Sync + 'static,
{
    n / T::from(2)
}

#[test]
fn racing_first_calls_of_an_instantiation_register_one_cache() {
    let start = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                start.wait();
                assert_eq!(halve(10u16), 5);
            });
        }
    });
    assert_eq!(HALVE.cache_parameters().len(), 1);
    let info = HALVE.cache_info();
    assert_eq!((info.counters().calls(), info.current_size), (8, 1));
}

struct Scaler {
    id: u32,
    factor: u8,
}

impl Scaler {
    /// A generic method: one cache per instantiation, keyed on the receiver's id.
    #[ttl_cache(key = |s: &Scaler| s.id)]
    fn scaled<T>(&self, value: T) -> T
    where
        T: std::ops::Mul<Output = T> + From<u8> + Copy + Hash + Eq + Send + Sync + 'static,
    {
        value * T::from(self.factor)
    }
}

#[test]
fn a_generic_method_keeps_one_cache_per_instantiation() {
    let double = Scaler { id: 1, factor: 2 };
    assert_eq!(double.scaled(5u32), 10);
    assert_eq!(double.scaled(5u64), 10);
    assert_eq!(double.scaled(5u32), 10);
    let info = Scaler::scaled_cache().cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
    assert_eq!(Scaler::scaled_cache().cache_parameters().len(), 2);
}
