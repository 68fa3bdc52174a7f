//! Trust in memory: strict codecs, one digest per key whatever wraps it, and functions
//! that share an identifier but not a TTL, nor (loudly) a clock or a capacity.

use std::borrow::Cow;
use std::panic;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use jwm_cache::CacheControls;
use jwm_cache::{
    ManualClock, Memoized, PersistentHash, SystemClock,
    codec::{Json, Postcard, PostcardError, Serializer, Stamped, StampedError},
    key::{KeyHasher, PersistentDigest},
    ttl_cache,
};
use proptest::prelude::*;

#[test]
fn postcard_refuses_trailing_bytes() {
    let decode = |bytes: &[u8]| Serializer::<u64>::decode(&Postcard, &bytes.to_vec());
    assert_eq!(decode(b"garbage"), Err(PostcardError::TrailingBytes(6)));
    assert_eq!(decode(b"\x00garbage"), Err(PostcardError::TrailingBytes(7)));
    let mut real = Serializer::<u64>::encode(&Postcard, &300).unwrap();
    assert_eq!(decode(&real), Ok(300));
    real.extend_from_slice(b"XYZ");
    assert_eq!(decode(&real), Err(PostcardError::TrailingBytes(3)));
}

proptest! {
    #[test]
    fn no_codec_accepts_an_encoding_with_bytes_after_it(
        value in any::<(u32, String, Vec<u8>)>(),
        tail in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        type V = (u32, String, Vec<u8>);
        let postcard = [Serializer::<V>::encode(&Postcard, &value).unwrap(), tail.clone()].concat();
        prop_assert!(Serializer::<V>::decode(&Postcard, &postcard).is_err());
        // JSON allows whitespace around a value, and nothing else.
        if tail.iter().any(|b| !b" \t\r\n".contains(b)) {
            let json = [Serializer::<V>::encode(&Json, &value).unwrap(), tail.clone()].concat();
            prop_assert!(Serializer::<V>::decode(&Json, &json).is_err());
        }
        let codec = Stamped::<_, u8>::new(Postcard);
        let stamped = Serializer::<V>::encode(&codec, &value).unwrap();
        prop_assert_eq!(Serializer::<V>::decode(&codec, &stamped).unwrap(), value);
        let longer = jwm_cache::codec::StampedBytes::<u8>::from_stored([stamped.into_bytes(), tail].concat());
        prop_assert!(Serializer::<V>::decode(&codec, &longer).is_err());
    }
}

#[test]
fn a_stamped_value_reads_only_as_its_own_type_and_codec() {
    let postcard = Stamped::<_, u8>::new(Postcard);
    let json = Stamped::<_, u8>::new(Json);
    let as_string = Serializer::<String>::encode(&postcard, &"user-42".to_string()).unwrap();
    assert_eq!(
        Serializer::<u64>::decode(&postcard, &as_string),
        Err(StampedError::OtherType)
    );
    assert!(matches!(
        Serializer::<String>::decode(&json, &as_string),
        Err(StampedError::OtherType)
    ));
    let mut newer = as_string.clone().into_bytes();
    newer[2] = 2;
    let newer = jwm_cache::codec::StampedBytes::<u8>::from_stored(newer);
    assert_eq!(
        Serializer::<String>::decode(&postcard, &newer),
        Err(StampedError::Version(2))
    );
    let short = jwm_cache::codec::StampedBytes::<u8>::from_stored(b"jw".to_vec());
    assert_eq!(
        Serializer::<String>::decode(&postcard, &short),
        Err(StampedError::Foreign)
    );
}

#[test]
fn a_stamped_value_reads_only_under_its_own_key_type() {
    // `7u64` and `(0u32, 7u32)` have the same canonical encoding, so their digests (and
    // Redis key names) can be equal: the header tells them apart.
    let bytes = Serializer::<String>::encode(&Stamped::<_, u64>::new(Postcard), &"x".into());
    let as_pair =
        jwm_cache::codec::StampedBytes::<(u32, u32)>::from_stored(bytes.unwrap().into_bytes());
    assert_eq!(
        Serializer::<String>::decode(&Stamped::<_, (u32, u32)>::new(Postcard), &as_pair),
        Err(StampedError::OtherType)
    );
}

#[test]
fn the_header_is_frozen_for_json_and_strings_too() {
    let bytes = Serializer::<String>::encode(&Stamped::<_, u64>::new(Json), &"a".to_string())
        .unwrap()
        .into_bytes();
    let fingerprint =
        jwm_cache::backend::value_fingerprint("json", "u64", "alloc::string::String", 0);
    assert_eq!(fingerprint, 0xfc1d_e08a_335d_cbd9);
    // With the shape of `String` folded in (`ByteCodec::value_shape`).
    let mut expected = b"jw\x01".to_vec();
    expected.extend_from_slice(&[16, 218, 211, 61, 73, 139, 199, 15]);
    expected.extend_from_slice(b"\"a\"");
    assert_eq!(bytes, expected);
}

/// A key type whose digest is its `persistent_hash`, and nothing else can change that.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Tenant {
    id: u64,
}

impl PersistentHash for Tenant {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_str("tenant");
        self.id.persistent_hash(hasher);
    }
}

#[test]
fn a_digest_is_the_same_through_every_wrapper() {
    let tenant = Tenant { id: 7 };
    let direct = tenant.persistent_digest().unwrap();
    let mut hasher = KeyHasher::new();
    tenant.persistent_hash(&mut hasher);
    assert_eq!(hasher.finish(), Ok(direct));
    assert_eq!(PersistentDigest::persistent_digest(&&tenant), Ok(direct));
    assert_eq!(PersistentDigest::persistent_digest(&&&tenant), Ok(direct));
    assert_eq!(Box::new(tenant.clone()).persistent_digest(), Ok(direct));
    assert_eq!(Rc::new(tenant.clone()).persistent_digest(), Ok(direct));
    assert_eq!(Arc::new(tenant.clone()).persistent_digest(), Ok(direct));
    assert_eq!(Cow::Borrowed(&tenant).persistent_digest(), Ok(direct));
    assert_eq!(
        Cow::<Tenant>::Owned(tenant.clone()).persistent_digest(),
        Ok(direct)
    );
}

static KEYED_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[ttl_cache(key = tenant)]
fn plan(tenant: &Tenant) -> u64 {
    KEYED_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    tenant.id * 10
}

#[test]
fn a_key_expression_through_a_reference_uses_the_same_digest() {
    let tenant = Tenant { id: 3 };
    assert_eq!(plan(&tenant), 30);
    assert_eq!(plan(&Tenant { id: 3 }), 30);
    assert_eq!(plan(&Tenant { id: 4 }), 40);
    assert_eq!(KEYED_RUNS.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn functions_sharing_an_identifier_keep_their_own_ttls() {
    let clock = ManualClock::new();
    let short = Memoized::builder(|n: u64| n + 1)
        .identifier("trust-rates")
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build();
    let long = Memoized::builder(|n: u64| n + 1)
        .identifier("trust-rates")
        .ttl(Duration::from_secs(3600))
        .clock(clock.clone())
        .build();
    assert!(Arc::ptr_eq(short.cache(), long.cache()), "one shared cache");
    short.call(1);
    long.call(2);
    clock.advance(Duration::from_secs(1));
    assert_eq!(short.cache().get(&1).unwrap(), None, "1 s is up");
    assert_eq!(long.cache().get(&2).unwrap(), Some(3), "stored for an hour");
    clock.advance(Duration::from_secs(3598));
    assert_eq!(long.cache().get(&2).unwrap(), Some(3));
    clock.advance(Duration::from_secs(1));
    assert_eq!(long.cache().get(&2).unwrap(), None);
    assert_eq!(short.cache_parameters().ttl, jwm_cache::Ttl::from_secs(1));
    assert_eq!(long.cache_parameters().ttl, jwm_cache::Ttl::from_secs(3600));
}

/// The panic hook is the process's: tests that swap it take turns.
static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn panic_message(run: impl FnOnce() + panic::UnwindSafe) -> String {
    let _turn = HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(run);
    panic::set_hook(hook);
    let payload = caught.expect_err("a conflict panics");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_shared_cache_asked_for_another_clock_capacity_or_idle_time_says_so() {
    let first = Memoized::builder(|n: u64| n)
        .identifier("trust-conflict")
        .capacity(100)
        .clock(ManualClock::new())
        .build();
    let clock = panic_message(|| {
        Memoized::builder(|n: u64| n)
            .identifier("trust-conflict")
            .capacity(100)
            .clock(SystemClock)
            .build()
            .call(1);
    });
    assert!(clock.contains("`trust-conflict`"), "{clock}");
    assert!(
        clock.contains("clock manual") && clock.contains("clock system"),
        "{clock}"
    );
    let capacity = panic_message(|| {
        Memoized::builder(|n: u64| n)
            .identifier("trust-conflict")
            .capacity(5_000)
            .clock(ManualClock::new())
            .build()
            .call(1);
    });
    assert!(
        capacity.contains("capacity 100") && capacity.contains("capacity 5000"),
        "{capacity}"
    );
    let idle = panic_message(|| {
        Memoized::builder(|n: u64| n)
            .identifier("trust-conflict")
            .capacity(100)
            .time_to_idle(std::time::Duration::from_secs(5))
            .clock(ManualClock::new())
            .build()
            .call(1);
    });
    assert!(
        idle.contains("time_to_idle none") && idle.contains("time_to_idle 5s"),
        "{idle}"
    );
    let single_flight = panic_message(|| {
        Memoized::builder(|n: u64| n)
            .identifier("trust-conflict")
            .capacity(100)
            .single_flight(false)
            .clock(ManualClock::new())
            .build()
            .call(1);
    });
    assert!(
        single_flight.contains("single_flight true")
            && single_flight.contains("single_flight false"),
        "{single_flight}"
    );
    // Agreeing settings still share.
    let second = Memoized::builder(|n: u64| n * 2)
        .identifier("trust-conflict")
        .capacity(100)
        .clock(ManualClock::new())
        .build();
    assert_eq!(
        (first.call(2), second.call(2)),
        (2, 2),
        "shared: the second hits"
    );
    assert!(Arc::ptr_eq(first.cache(), second.cache()));
}

#[test]
fn functions_sharing_a_cache_agree_on_its_lease() {
    let first = jwm_cache::AsyncMemoized::builder(|n: u64| async move { n })
        .identifier("trust-lease")
        .lease(Duration::from_secs(10))
        .build();
    let other = panic_message(|| {
        let _ = jwm_cache::AsyncMemoized::builder(|n: u64| async move { n + 1 })
            .identifier("trust-lease")
            .build();
    });
    assert!(
        other.contains("lease 10s") && other.contains("lease none"),
        "{other}"
    );
    drop(first);
}

static READS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `io::Error` is not `Clone`: its failures are not shared, and the alias still counts
/// as a `Result`, so an `Err` is never cached.
#[ttl_cache(shared_errors = false)]
fn read_setting(n: u64) -> std::io::Result<u64> {
    let run = READS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if run == 0 {
        return Err(std::io::Error::other("disk busy"));
    }
    Ok(n * 2)
}

#[test]
fn an_error_type_that_is_not_clone_works_without_sharing() {
    assert!(read_setting(4).is_err());
    assert_eq!(read_setting(4).unwrap(), 8, "the error was not cached");
    assert_eq!(read_setting(4).unwrap(), 8);
    assert_eq!(READS.load(std::sync::atomic::Ordering::SeqCst), 2);
}
