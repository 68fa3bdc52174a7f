//! `#[ttl_cache]`: what must never share entries does not (different closures, receiver
//! types of one generic `impl`, same-named nested functions), and receiver projections
//! need no type annotations.

use std::fmt::Debug;

use jwm_cache::ttl_cache;

#[ttl_cache]
fn apply<F>(#[ttl_cache::ignore] f: F, n: u32) -> u32
where
    F: Fn(u32) -> u32 + 'static,
{
    f(n)
}

#[ttl_cache(identifier = "named-apply")]
fn apply_named<F>(#[ttl_cache::ignore] f: F, n: u32) -> u32
where
    F: Fn(u32) -> u32 + 'static,
{
    f(n)
}

#[test]
fn two_closures_are_two_instantiations_even_with_one_type_name() {
    // Both closures have the type name `...::{{closure}}`; their types differ.
    assert_eq!(apply(|x| x + 1, 1), 2);
    assert_eq!(apply(|x| x * 10, 1), 10);
    assert_eq!(APPLY.cache_info().misses, 2);
    assert_eq!(apply_named(|x| x + 1, 1), 2);
    assert_eq!(apply_named(|x| x * 10, 1), 10);
    assert_eq!(APPLY_NAMED.cache_info().misses, 2);
    // Their identifiers keep no braces, which Redis Cluster would read as a hash tag
    // (every key of the instantiation in one slot).
    for parameters in APPLY_NAMED.cache_parameters() {
        let identifier = parameters.identifier;
        assert!(identifier.starts_with("named-apply<"), "{identifier}");
        assert!(
            identifier.contains("closure") && !identifier.contains(['{', '}']),
            "{identifier}"
        );
    }
}

struct Tagged<T>(T);

impl<T> Tagged<T>
where
    T: jwm_cache::PersistentHash + Debug + Copy + Send + Sync + 'static,
{
    /// `false` and `0u8` have one encoding: only the receiver's type tells them apart.
    #[ttl_cache(key = |tagged| tagged.0)]
    fn label(&self) -> String {
        format!("{:?}", self.0)
    }

    /// The block's parameter in the return type.
    #[ttl_cache(key = |tagged| tagged.0)]
    fn inner(&self) -> T {
        self.0
    }
}

#[test]
fn receiver_types_of_one_generic_impl_do_not_share() {
    assert_eq!(Tagged(false).label(), "false");
    assert_eq!(Tagged(0u8).label(), "0");
    assert_eq!(Tagged(false).label(), "false");
    let info = Tagged::<bool>::label_cache().cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
    assert_eq!(Tagged(7u64).inner(), 7);
    assert_eq!(Tagged('x').inner(), 'x');
}

struct Person {
    name: String,
    age: u8,
}

impl Person {
    /// A projection that borrows from the receiver.
    #[ttl_cache(key = |person| &person.name)]
    fn greeting(&self) -> String {
        format!("hello {}, {}", self.name, self.age)
    }
}

#[test]
fn a_projection_may_borrow_from_the_receiver() {
    let first = Person {
        name: "Ada".into(),
        age: 36,
    };
    let renamed_twin = Person {
        name: "Ada".into(),
        age: 99,
    };
    assert_eq!(first.greeting(), "hello Ada, 36");
    assert_eq!(
        renamed_twin.greeting(),
        "hello Ada, 36",
        "keyed on the name"
    );
}

#[test]
fn same_named_nested_functions_keep_apart() {
    fn first() -> u64 {
        #[ttl_cache]
        fn helper(n: u64) -> u64 {
            n + 1
        }
        helper(1)
    }
    fn second() -> u64 {
        #[ttl_cache]
        fn helper(n: u64) -> u64 {
            n + 2
        }
        helper(1)
    }
    assert_eq!((first(), second()), (2, 3));
}

/// The type parameter appears only in the return type, beside an `impl Trait` argument.
#[ttl_cache]
fn parsed<T>(text: String, #[ttl_cache::ignore] log: impl Fn(&str)) -> Option<T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
{
    log(&text);
    text.parse().ok()
}

#[test]
fn explicit_type_arguments_reach_the_body_beside_impl_trait() {
    assert_eq!(parsed::<u8>("7".into(), |_| {}), Some(7));
    assert_eq!(parsed::<f64>("7".into(), |_| {}), Some(7.0));
    assert_eq!(parsed::<u8>("7".into(), |_| {}), Some(7));
    assert_eq!(PARSED.cache_info().hits, 1);
}
