//! A memoized function over a cluster and the tasks that call it while a test fails
//! a node over or moves slots: how many calls, how many wrong, the slowest.
#![allow(unused_macros)]

use std::sync::atomic::{AtomicU64, AtomicUsize};

use super::many_keys::KeySpace;

/// The keys the tasks call over, and how many tasks call.
pub(crate) const KEYS: u64 = 1_000;
pub(crate) const TASKS: usize = 64;

/// The keys the tasks call over, each with its value.
pub(crate) const SPACE: KeySpace = KeySpace {
    len: KEYS,
    value_of,
};

/// The value the memoized function computes for `n`.
pub(crate) fn value_of(n: u64) -> u64 {
    n.wrapping_mul(0x9e37_79b9).rotate_left(7) ^ 0x5555
}

/// What the tasks calling over the keys saw.
#[derive(Default)]
pub(crate) struct Load {
    pub(crate) calls: AtomicU64,
    pub(crate) wrong: AtomicU64,
    /// The slowest call, in microseconds.
    pub(crate) slowest_us: AtomicU64,
    pub(crate) computed: AtomicUsize,
}

/// A memoized function over the cluster, named `identifier` (each test its own: memoized
/// functions in one process share a cache by identifier).
macro_rules! memoized_over {
    ($seeds:expr, $load:expr, $identifier:expr, $timeout:expr) => {{
        let load = Arc::clone(&$load);
        let options = RedisOptions::default().timeout($timeout);
        Arc::new(
            AsyncMemoized::builder(move |n: u64| {
                load.computed.fetch_add(1, SeqCst);
                async move { value_of(n) }
            })
            .identifier($identifier)
            .build_with_redis(RedisBackend::open_cluster_with(&$seeds, options).unwrap()),
        )
    }};
}

/// Starts `tasks` tasks (`TASKS` unless given) calling `memo` over every key until
/// `stop`; each checks its value and times its call.
macro_rules! start_load {
    ($memo:expr, $load:expr, $stop:expr) => {
        start_load!($memo, $load, $stop, TASKS)
    };
    ($memo:expr, $load:expr, $stop:expr, $tasks:expr) => {{
        (0..$tasks)
            .map(|task| {
                let (memo, load, stop) =
                    (Arc::clone(&$memo), Arc::clone(&$load), Arc::clone(&$stop));
                tokio::spawn(async move {
                    let mut n = task as u64 * 15;
                    while !stop.load(SeqCst) {
                        n = (n + 7) % KEYS;
                        let began = Instant::now();
                        let got = memo.call(n).await;
                        let took = began.elapsed().as_micros() as u64;
                        load.slowest_us.fetch_max(took, SeqCst);
                        load.calls.fetch_add(1, SeqCst);
                        if got != value_of(n) {
                            load.wrong.fetch_add(1, SeqCst);
                        }
                    }
                })
            })
            .collect::<Vec<_>>()
    }};
}

/// Starts a task reading `$count` keys at a time through `$memo`'s cache (`get_many`)
/// and one writing as many (`set_many`), until `$stop`: their handles.
macro_rules! read_and_write_many {
    ($memo:expr, $count:expr, $stop:expr) => {{
        let (memo, stop) = (Arc::clone(&$memo), Arc::clone(&$stop));
        let get_many = move |keys: Vec<u64>| {
            let memo = Arc::clone(&memo);
            async move { memo.cache().get_many(&keys).await.ok() }
        };
        let reads = tokio::spawn(async move { SPACE.read_until(get_many, $count, &stop).await });
        let (memo, stop) = (Arc::clone(&$memo), Arc::clone(&$stop));
        let writes = tokio::spawn(async move {
            let backend = memo.cache().backend();
            SPACE.write_until(backend, $count, &stop).await
        });
        (reads, writes)
    }};
}
