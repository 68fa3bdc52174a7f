//! Tasks that read and write many keys per call (`get_many`, `set_many`) while a test
//! moves a cluster's slots, and the wait for stores in transit after it.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use jwm_cache::codec::{Postcard, Serializer, Stamped, StampedBytes};
use jwm_cache::error::RedisBackendError;
use jwm_cache::time::Instant;
use jwm_cache::{RedisBackend, Ttl};

/// Keys `0..len`, each with its memoized value.
#[derive(Clone, Copy)]
pub(crate) struct KeySpace {
    pub(crate) len: u64,
    pub(crate) value_of: fn(u64) -> u64,
}

/// What a task reading many keys at a time saw.
#[derive(Debug, Default)]
pub(crate) struct ManyReads {
    pub(crate) calls: u64,
    pub(crate) wrong: u64,
    pub(crate) missed: u64,
    pub(crate) failed: u64,
    pub(crate) slowest: Duration,
}

/// What a task writing many keys at a time saw.
#[derive(Debug, Default)]
pub(crate) struct ManyWrites {
    pub(crate) calls: u64,
    pub(crate) failed: u64,
    /// Of those failed, by a timeout.
    pub(crate) timed_out: u64,
    pub(crate) slowest: Duration,
}

impl KeySpace {
    /// `count` keys from `first` on, wrapping around.
    fn keys(self, first: u64, count: usize) -> impl Iterator<Item = u64> {
        (first..first + count as u64).map(move |n| n % self.len)
    }

    /// `get_many` (`None`: it failed) of `count` keys at a time, from a different place
    /// each call, until `stop`.
    pub(crate) async fn read_until<F, Fut>(
        self,
        get_many: F,
        count: usize,
        stop: &AtomicBool,
    ) -> ManyReads
    where
        F: Fn(Vec<u64>) -> Fut,
        Fut: Future<Output = Option<Vec<Option<u64>>>>,
    {
        let mut seen = ManyReads::default();
        let mut first = 0;
        while !stop.load(SeqCst) {
            let keys: Vec<u64> = self.keys(first, count).collect();
            first = (first + 37) % self.len;
            seen.calls += 1;
            let began = std::time::Instant::now();
            let found = get_many(keys.clone()).await;
            seen.slowest = seen.slowest.max(began.elapsed());
            let Some(values) = found else {
                seen.failed += 1;
                continue;
            };
            for (n, value) in keys.iter().zip(values) {
                match value {
                    Some(value) if value != (self.value_of)(*n) => seen.wrong += 1,
                    Some(_) => {}
                    None => seen.missed += 1,
                }
            }
        }
        seen
    }

    /// `set_many` of `count` keys at a time, from a different place each call, until
    /// `stop`.
    pub(crate) async fn write_until(
        self,
        backend: &RedisBackend<u64>,
        count: usize,
        stop: &AtomicBool,
    ) -> ManyWrites {
        let mut seen = ManyWrites::default();
        let mut first = 0;
        while !stop.load(SeqCst) {
            seen.calls += 1;
            let began = std::time::Instant::now();
            let written = self.write(backend, self.keys(first, count)).await;
            seen.slowest = seen.slowest.max(began.elapsed());
            first = (first + 37) % self.len;
            if let Err(e) = written {
                seen.failed += 1;
                seen.timed_out += u64::from(matches!(e, RedisBackendError::Timeout(_)));
            }
        }
        seen
    }

    /// `set_many` of `keys`, each with its memoized value (these need not be in the
    /// space).
    pub(crate) async fn write(
        self,
        backend: &RedisBackend<u64>,
        keys: impl Iterator<Item = u64>,
    ) -> Result<(), RedisBackendError> {
        let codec = Stamped::<_, u64>::new(Postcard);
        let entries: Vec<(u64, StampedBytes<u64>)> = keys
            .map(|n| {
                let bytes = codec.encode(&(self.value_of)(n)).unwrap().into_bytes();
                (n, StampedBytes::from_stored(bytes))
            })
            .collect();
        let now = Instant::ZERO;
        let deadline = Ttl::from_secs(3_600).deadline_from(now);
        backend.set_many(entries, deadline, now).await
    }
}

/// `operation`'s outcome once the stores that timed out have landed: until then a
/// `clear` refuses (`Timeout`), as it cannot list what has not landed. Polled, and
/// bounded past the 20 s after which a store is no longer waited for.
pub(crate) async fn once_landed<T, F, Fut>(operation: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, RedisBackendError>>,
{
    for _ in 0..100 {
        match operation().await {
            Ok(outcome) => return outcome,
            Err(RedisBackendError::Timeout(_)) => {}
            Err(e) => panic!("failed: {e}"),
        }
    }
    panic!("stores still in transit after 100 tries")
}
