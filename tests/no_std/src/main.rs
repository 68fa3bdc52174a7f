//! Proves that jwm-cache-core needs nothing but `core` and `alloc`: this binary has its
//! own panic handler and allocator, and fails to link (`duplicate lang item`) if any
//! dependency pulls in std. It runs a real insert / get / expire and exits 0.
#![no_std]
#![no_main]

extern crate alloc;

mod bump;

use alloc::string::String;
use core::time::Duration;

use jwm_cache_core::{
    Backend, CacheBuilder, Deadline, Instant, Lookup, ManualClock, MemoryBackend, PersistentDigest,
    Postcard, RemovalCause, Sieve, TinyLfu, Ttl,
};

unsafe extern "C" {
    fn abort() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: libc's abort takes no arguments and never returns.
    unsafe { abort() }
}

#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let clock = ManualClock::new();
    let mut cache = CacheBuilder::new(clock.clone())
        .ttl(Duration::from_secs(1))
        .capacity(64)
        .build::<u32, u32>();
    for key in 0..100 {
        assert_eq!(cache.get_or_insert_with(key, || key * 2), key * 2);
    }
    assert_eq!(cache.get(&99), Ok(Some(198)));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get(&99), Ok(None));
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 101, 0));
    assert_eq!(info.evictions, 36);

    let mut bytes = CacheBuilder::new(clock.clone())
        .serializer(Postcard)
        .build::<String, (u8, String)>();
    bytes
        .insert_with_ttl("k".into(), (1, "v".into()), Ttl::NEVER)
        .unwrap();
    assert_eq!(bytes.get("k").unwrap(), Some((1, "v".into())));
    assert!(("k", 1u8).persistent_digest().is_ok());

    let mut evicted = 0;
    let mut weighed = MemoryBackend::<u32, String>::new()
        .with_eviction(Sieve::new(8))
        .with_weigher(|_: &u32, value: &String| value.len())
        .with_listener(|_, _, cause| evicted += u32::from(cause == RemovalCause::Evicted));
    for key in 0..4 {
        weighed
            .set(key, "abc".into(), Deadline::NEVER, Instant::ZERO)
            .unwrap();
    }
    assert_eq!((weighed.stored(), weighed.weight()), (2, 6));
    drop(weighed);
    assert_eq!(evicted, 2);

    // W-TinyLFU: a key read often stays while one-time keys stream through.
    let mut frequent = MemoryBackend::<u32, u32>::new().with_eviction(TinyLfu::new(16));
    frequent.set(0, 0, Deadline::NEVER, Instant::ZERO).unwrap();
    for key in 1..200 {
        assert_eq!(frequent.get(&0, Instant::ZERO).unwrap(), Some(&0));
        frequent
            .set(key, key, Deadline::NEVER, Instant::ZERO)
            .unwrap();
    }
    assert_eq!(frequent.stored(), 16);

    #[cfg(feature = "all")]
    all_features::run();
    0
}

#[cfg(feature = "all")]
mod all_features {
    use core::sync::atomic::{AtomicU64, Ordering};
    use core::task::Waker;

    use jwm_cache_core::{CacheBuilder, Clock, EmbassyClock, Json};

    /// A timer the test moves by hand, standing in for a board's.
    struct Timer(AtomicU64);

    impl embassy_time_driver::Driver for Timer {
        fn now(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
        fn schedule_wake(&self, _at: u64, _waker: &Waker) {}
    }

    embassy_time_driver::time_driver_impl!(static TIMER: Timer = Timer(AtomicU64::new(0)));

    pub(crate) fn run() {
        let mut cache = CacheBuilder::new(EmbassyClock)
            .ttl(core::time::Duration::from_millis(5))
            .serializer(Json)
            .build::<u8, alloc::vec::Vec<u16>>();
        cache.insert(1, alloc::vec![1, 2]).unwrap();
        TIMER.0.store(4_999, Ordering::Relaxed); // 1 MHz ticks
        assert_eq!(cache.get(&1).unwrap(), Some(alloc::vec![1, 2]));
        TIMER.0.store(5_000, Ordering::Relaxed);
        assert_eq!(EmbassyClock.now().as_nanos(), 5_000_000);
        assert_eq!(cache.get(&1).unwrap(), None);
    }
}
