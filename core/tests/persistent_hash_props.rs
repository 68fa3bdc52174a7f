//! Property tests of the persistent key hashing.

use std::collections::{BTreeMap, HashMap, HashSet};

use jwm_cache_core::{PersistentDigest, PersistentHash};
use proptest::prelude::*;
use proptest::sample::Index;

fn d<T: PersistentHash + ?Sized>(value: &T) -> jwm_cache_core::Digest {
    value.persistent_digest().unwrap()
}

type Key = (Vec<String>, Option<u16>, BTreeMap<u8, Vec<u8>>);

proptest! {
    /// What lets a shared store find a `String` key by `&str`, or a `Vec` key by a slice.
    #[test]
    fn borrowed_forms_have_their_owners_digest(s in ".{0,24}", v in any::<Vec<(u16, String)>>()) {
        prop_assert_eq!(d(s.as_str()), d(&s));
        prop_assert_eq!(d(&*Box::<str>::from(s.as_str())), d(&s));
        prop_assert_eq!(d(v.as_slice()), d(&v));
        prop_assert_eq!(d(&*std::sync::Arc::<[(u16, String)]>::from(v.clone())), d(&v));
    }

    #[test]
    fn distinct_values_have_distinct_digests(a in any::<Key>(), b in any::<Key>()) {
        prop_assert_eq!(a == b, d(&a) == d(&b));
    }

    #[test]
    fn equal_values_built_differently_have_equal_digests(a in any::<Key>()) {
        // Same value, different history: maps filled in reverse, fresh string buffers
        // with spare capacity.
        let strings: Vec<String> = a.0.iter().map(|s| {
            let mut fresh = String::with_capacity(s.len() + 16);
            fresh.push_str(s);
            fresh
        }).collect();
        let map: BTreeMap<_, _> = a.2.iter().rev().map(|(k, v)| (*k, v.clone())).collect();
        prop_assert_eq!(d(&a), d(&(strings, a.1, map)));
    }

    #[test]
    fn splitting_a_string_differently_never_collides(s in "[a-c]{0,12}", i in any::<Index>(), j in any::<Index>()) {
        let (i, j) = (i.index(s.len() + 1), j.index(s.len() + 1));
        let left = (&s[..i], &s[i..]);
        let right = (&s[..j], &s[j..]);
        prop_assert_eq!(i == j, d(&left) == d(&right));
    }

    #[test]
    fn splitting_a_sequence_differently_never_collides(v in proptest::collection::vec(0u8..3, 0..12), i in any::<Index>(), j in any::<Index>()) {
        let (i, j) = (i.index(v.len() + 1), j.index(v.len() + 1));
        let left = vec![v[..i].to_vec(), v[i..].to_vec()];
        let right = vec![v[..j].to_vec(), v[j..].to_vec()];
        prop_assert_eq!(i == j, d(&left) == d(&right));
    }

    #[test]
    fn hash_maps_ignore_insertion_order(
        pairs in proptest::collection::hash_map(any::<String>(), any::<i32>(), 0..20),
        seed in any::<u64>(),
    ) {
        let mut entries: Vec<_> = pairs.into_iter().collect();
        let forward: HashMap<_, _> = entries.iter().cloned().collect();
        // A deterministic shuffle, then insertion into a map with a different capacity.
        let len = entries.len().max(1) as u64;
        entries.sort_by_key(|(k, _)| (d(k).0[0] as u64).wrapping_mul(seed) % len);
        let mut shuffled = HashMap::with_capacity(64);
        shuffled.extend(entries.iter().cloned());
        prop_assert_eq!(d(&forward), d(&shuffled));
        let keys: HashSet<_> = entries.iter().map(|(k, _)| k.clone()).collect();
        let fewer: HashSet<_> = entries.iter().skip(1).map(|(k, _)| k.clone()).collect();
        prop_assert_eq!(keys.len() == fewer.len(), d(&keys) == d(&fewer));
    }
}
