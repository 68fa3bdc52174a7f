//! Golden vectors: the persistent digests of fixed values, committed so that any change
//! to the encoding or the algorithm fails CI. A digest must never change once released:
//! caches shared across processes and versions depend on it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use jwm_cache_core::{Digest, PersistentDigest, PersistentHash, PostcardKey};
use serde::Serialize;

#[derive(Serialize)]
struct Query {
    city: String,
    limit: u32,
    tags: Vec<String>,
}

fn d<T: PersistentHash + ?Sized>(value: &T) -> String {
    value.persistent_digest().unwrap().to_string()
}

fn map(pairs: &[(&'static str, u32)]) -> HashMap<&'static str, u32> {
    let mut m = HashMap::new();
    for &(k, v) in pairs {
        m.insert(k, v);
    }
    m
}

/// `(name, digest of the value)`, in a fixed order.
fn vectors() -> Vec<(&'static str, String)> {
    vec![
        ("unit", d(&())),
        ("u8 0", d(&0u8)),
        ("u8 255", d(&255u8)),
        ("u32 42", d(&42u32)),
        ("i64 -1", d(&-1i64)),
        ("u128 max", d(&u128::MAX)),
        ("usize 7", d(&7usize)),
        ("bool true", d(&true)),
        ("char é", d(&'é')),
        ("f64 1.5", d(&1.5f64)),
        ("f64 -0.0", d(&-0.0f64)),
        ("str empty", d("")),
        ("str hello", d("hello")),
        ("str unicode", d("héllo wörld ✓")),
        ("tuple (ab, c)", d(&("ab", "c"))),
        ("tuple (a, bc)", d(&("a", "bc"))),
        ("tuple (abc,)", d(&("abc",))),
        ("vec [a, b]", d(&vec!["a", "b"])),
        ("vec [ab]", d(&vec!["ab"])),
        ("bytes [1, 2, 3]", d(&vec![1u8, 2, 3])),
        ("array u16 [1, 2, 3]", d(&[1u16, 2, 3])),
        ("nested [[1], [2, 3]]", d(&vec![vec![1u8], vec![2, 3]])),
        ("nested [[1, 2], [3]]", d(&vec![vec![1u8, 2], vec![3]])),
        ("some 0", d(&Some(0u32))),
        ("none", d(&None::<u32>)),
        ("ok 1", d(&Ok::<u8, u8>(1))),
        ("err 1", d(&Err::<u8, u8>(1))),
        (
            "nested tuple",
            d(&((1u8, (2u16, "x")), [3u32; 2], (), Some(("y", -4i8)))),
        ),
        ("duration 1.5 s", d(&Duration::from_millis(1500))),
        ("btreemap", d(&BTreeMap::from([("b", 2u32), ("a", 1)]))),
        ("btreeset", d(&BTreeSet::from([3u64, 1, 2]))),
        ("hashmap", d(&map(&[("a", 1), ("b", 2), ("c", 3)]))),
        (
            "hashmap, reverse insertion",
            d(&map(&[("c", 3), ("b", 2), ("a", 1)])),
        ),
        ("hashset", d(&HashSet::from([1u64, 2, 3]))),
        ("empty hashmap", d(&HashMap::<u8, u8>::new())),
        (
            "postcard struct",
            d(&PostcardKey(Query {
                city: "Oslo".into(),
                limit: 3,
                tags: vec!["a".into(), "bc".into()],
            })),
        ),
        (
            "mixed args",
            d(&(7u8, String::from("key"), Some(vec![-1i32, 2]))),
        ),
    ]
}

const GOLDEN: &[(&str, &str)] = &[
    ("unit", "e67b1109ceeba205dd1ac6f26d7548e8"),
    ("u8 0", "9c25dcabbc5ca7586070001ffe29edae"),
    ("u8 255", "b422cac4f5a72a3cca709beb37d72e79"),
    ("u32 42", "d671c192ca080085ce97a0bf17a96b76"),
    ("i64 -1", "99e32974b08141bb1db83d65eae39e6e"),
    ("u128 max", "b1417a828ffef6a543f409f2ba098682"),
    ("usize 7", "6c82e6f692605f43e75147a3b79b057d"),
    ("bool true", "efe6a197fbcce9ff833efe972c93bbd1"),
    ("char é", "66af6e102e8ee8fd33e3a2551344a976"),
    ("f64 1.5", "13953853bc1e4a488bfe7d02cbcf884c"),
    ("f64 -0.0", "d94115046145b060b75cebb59b45d854"),
    ("str empty", "bc217453c34e5a15d101d4e92065daf1"),
    ("str hello", "1b117606c65caef2ba6b50faa7b7c3b6"),
    ("str unicode", "e51a3a474b82abd83e32d267b4e2154c"),
    ("tuple (ab, c)", "8444b0aab3a456be3543d93d89c02548"),
    ("tuple (a, bc)", "5b3dfbfafa3186c587bbd8e920a40b64"),
    ("tuple (abc,)", "f03149edd1d39f31d053907f2839858a"),
    ("vec [a, b]", "b44eff0ab2e8af0d9815bef0977f99fa"),
    ("vec [ab]", "5f45541a86f85e04ee7a1d1af5dd74ab"),
    ("bytes [1, 2, 3]", "a173b8d8a97a3386d4f5a702c639bcae"),
    ("array u16 [1, 2, 3]", "d869e13c412f31bce478050289abb353"),
    ("nested [[1], [2, 3]]", "6de5e685e698ea415c6c7ae95c2bae49"),
    ("nested [[1, 2], [3]]", "dc9931dafceb868f53f31f9cdb834e64"),
    ("some 0", "8c7f8f25d317a2ff36b2874f378600df"),
    ("none", "9c25dcabbc5ca7586070001ffe29edae"),
    ("ok 1", "1d009e8344ed3380e476c4737a6c1e7c"),
    ("err 1", "1752ccd5cf5964cbe68ba2ecf1a71e39"),
    ("nested tuple", "d5039d3d59f7ad775b8f5e78626388e9"),
    ("duration 1.5 s", "a2f9e8147b95239213ffb73daab653f0"),
    ("btreemap", "7df7fd13c32cbdbd9cd88844f3635a5c"),
    ("btreeset", "25b45315d0929d65a8642ac9c6d6236c"),
    ("hashmap", "55c606a0b05218552402fead5cb0dd33"),
    (
        "hashmap, reverse insertion",
        "55c606a0b05218552402fead5cb0dd33",
    ),
    ("hashset", "574393cfc2547de3b2a1bd71fe0222ea"),
    ("empty hashmap", "bc217453c34e5a15d101d4e92065daf1"),
    ("postcard struct", "8ac685ad5a7777c5e9119654fdc2f12d"),
    ("mixed args", "bef8c7fc687b99f7e71235c9f3f02728"),
];

#[test]
fn digests_match_the_golden_vectors() {
    let actual = vectors();
    if std::env::var_os("JWM_PRINT_GOLDEN").is_some() {
        for (name, digest) in &actual {
            println!("    (\"{name}\", \"{digest}\"),");
        }
    }
    assert_eq!(actual.len(), GOLDEN.len());
    for ((name, digest), (golden_name, golden)) in actual.iter().zip(GOLDEN) {
        assert_eq!(name, golden_name);
        assert_eq!(digest, golden, "{name}");
    }
}

/// Vectors that must coincide: the same map filled in another order, and two pairs of
/// values of different types with the same bytes (a digest identifies a value within
/// its type; like std's `Hash`, the encoding carries no type tags).
const EXPECTED_COINCIDENCES: &[(&str, &str)] = &[
    ("hashmap, reverse insertion", "hashmap"),
    ("none", "u8 0"),
    ("empty hashmap", "str empty"),
];

#[test]
fn golden_vectors_are_distinct_but_for_the_expected_coincidences() {
    let digest = |name: &str| GOLDEN.iter().find(|(n, _)| *n == name).unwrap().1;
    let mut seen = HashMap::new();
    for (name, digest) in GOLDEN {
        if let Some(first) = seen.insert(digest, name) {
            assert!(
                EXPECTED_COINCIDENCES.contains(&(name, first)),
                "{name} collides with {first}"
            );
        }
    }
    for (a, b) in EXPECTED_COINCIDENCES {
        assert_eq!(digest(a), digest(b));
    }
}

#[test]
fn equal_values_of_related_types_share_a_digest() {
    let s = d("hello");
    assert_eq!(d(&String::from("hello")), s);
    assert_eq!(d(&Box::<str>::from("hello")), s);
    assert_eq!(d(&Cow::Borrowed("hello")), s);
    assert_eq!(d(&Arc::<str>::from("hello")), s);
    assert_eq!(d(&Rc::<str>::from("hello")), s);
    assert_eq!(d(&&&"hello"), s);
    assert_eq!(d(&7usize), d(&7u64));
    assert_eq!(d(&[1u16, 2, 3]), d(&vec![1u16, 2, 3]));
    assert_eq!(d(&[1u16, 2, 3][..]), d(&vec![1u16, 2, 3]));
    let mut rotated: VecDeque<u8> = VecDeque::from(vec![3, 1, 2]);
    rotated.rotate_left(1);
    assert_eq!(d(&rotated), d(&vec![1u8, 2, 3]));
}

#[test]
fn hash_collections_ignore_insertion_order() {
    let forward = map(&[("a", 1), ("b", 2), ("c", 3)]);
    let backward = map(&[("c", 3), ("b", 2), ("a", 1)]);
    assert_eq!(d(&forward), d(&backward));
    let mut grown = HashSet::with_capacity(1024);
    grown.extend((0..100u32).rev());
    let small: HashSet<u32> = (0..100).collect();
    assert_eq!(d(&grown), d(&small));
    let brown: hashbrown::HashSet<u32> = (0..100).collect();
    assert_eq!(d(&brown), d(&small));
}

/// A `Serialize` impl that fails, as an unbounded iterator does in postcard.
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no canonical form"))
    }
}

#[test]
fn a_failing_adapter_is_unhashable_not_a_shared_digest() {
    assert!(PostcardKey(Unserializable).persistent_digest().is_err());
    assert!(
        (1u8, PostcardKey(Unserializable))
            .persistent_digest()
            .is_err()
    );
    let set: HashSet<u8> = [1].into();
    assert!(set.persistent_digest().is_ok());
}

/// The encoding spelled out by hand for one value, to pin the documented format
/// independently of the impls: `("ab", 7u32, Some(-1i16))`.
#[test]
fn the_encoding_is_as_documented() {
    let mut bytes = Vec::new();
    bytes.extend(2u64.to_le_bytes());
    bytes.extend(b"ab");
    bytes.extend(7u32.to_le_bytes());
    bytes.push(1);
    bytes.extend((-1i16).to_le_bytes());
    let mut key = [0u8; 32];
    key[..28].copy_from_slice(b"jwm-cache persistent-hash v1");
    let full = blake3::keyed_hash(&key, &bytes);
    let expected = Digest(full.as_bytes()[..16].try_into().unwrap());
    assert_eq!(("ab", 7u32, Some(-1i16)).persistent_digest(), Ok(expected));
}
