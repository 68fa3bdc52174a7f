//! Arbitrary bytes never make a codec or a byte cache panic: they are typed errors,
//! counted as a miss and an error, then overwritten.

use std::collections::BTreeMap;

use jwm_cache_core::Backend;
use jwm_cache_core::{CacheBuilder, Json, ManualClock, Postcard, Serializer, Ttl};
use proptest::prelude::*;

type Value = (String, Vec<u32>, Option<BTreeMap<u8, f64>>);

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Serializer::<Value>::decode(&Postcard, &bytes);
        let _ = Serializer::<Value>::decode(&Json, &bytes);
        let _ = Serializer::<String>::decode(&Postcard, &bytes);
        let _ = Serializer::<u64>::decode(&Json, &bytes);
    }

    #[test]
    fn a_corrupt_entry_is_recomputed_and_overwritten(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        let clock = ManualClock::new();
        let mut cache = CacheBuilder::new(clock.clone()).serializer(Json).build::<u8, Vec<String>>();
        let now = jwm_cache_core::Clock::now(&clock);
        cache.backend_mut().set(1, bytes.clone(), Ttl::NEVER.deadline_from(now), now).unwrap();
        let fresh = vec!["fresh".to_string()];
        let value = cache.get_or_insert_with(1, || fresh.clone());
        match serde_json::from_slice::<Vec<String>>(&bytes) {
            // The random bytes happened to be valid JSON of the right type: a hit.
            Ok(decoded) => prop_assert_eq!(value, decoded),
            Err(_) => {
                prop_assert_eq!(&value, &fresh);
                prop_assert_eq!(cache.get(&1).unwrap(), Some(fresh));
                let info = cache.info();
                prop_assert_eq!((info.hits, info.misses, info.errors), (1, 1, 1));
                // Counted as the codec's: the bytes were there, and would not decode.
                prop_assert_eq!((info.codec_errors, info.lifetime.codec_errors), (1, 1));
            }
        }
    }
}
