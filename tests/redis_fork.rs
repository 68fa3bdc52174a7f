//! A child of `fork` has only the thread that forked: the bridge's runtime and the
//! refresh threads its parent started are gone there. Sync functions over Redis and
//! refreshes still work in the child, on threads of its own. Alone in its binary, so
//! that no other test's threads are copied into the child.
#![cfg(all(unix, feature = "redis"))]
// The test forks, which only `unsafe` can.
#![allow(unsafe_code)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{Bridge, CacheControls, ManualClock, Memoized};

unsafe extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
}

const SECOND: Duration = Duration::from_secs(1);

/// Why the child failed, as its exit code.
const HUNG: i32 = 2;
const WRONG_OVER_REDIS: i32 = 3;
const NO_REFRESH: i32 = 4;
const PANICKED: i32 = 5;

#[test]
fn a_forked_child_runs_sync_calls_over_redis_and_refreshes_on_threads_of_its_own() {
    let server = RedisServer::start();
    let bridge = Bridge::shared().unwrap();
    let redis = server.backend_on(&bridge);
    let over_redis = Memoized::builder(|n: u64| n * 3)
        .identifier("forked")
        .serializer(Stamped::new(Postcard))
        .build_with_async_backend(bridge, redis);
    assert_eq!(over_redis.call(1), 3);

    let clock = ManualClock::new();
    let runs = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&runs);
    let refreshed = Memoized::builder(move |n: u64| n * 10 + counted.fetch_add(1, SeqCst))
        .ttl(60 * SECOND)
        .refresh_after(5 * SECOND)
        .clock(clock.clone())
        .build();
    assert_eq!(refreshed.call(1), 10);
    // A refresh in the parent starts its refresh threads.
    clock.advance(6 * SECOND);
    assert_eq!(refreshed.call(1), 10);
    assert!(
        eventually(|| refreshed.cache().get(&1).unwrap() == Some(11)),
        "the parent's refresh never landed"
    );

    // SAFETY: the child calls the library, which starts threads of its own there, and
    // `_exit`s; the parent's other threads (the bridge's worker, the refresh threads)
    // hold no lock the child takes while they wait for work.
    let child = unsafe { fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(30));
            // SAFETY: ends the child at once, running none of the parent's exit handlers.
            unsafe { _exit(HUNG) };
        });
        // A panic must not unwind into the parent's test code (which would stop the
        // server it shares): it ends the child with a code of its own.
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let calls = (over_redis.call(1), over_redis.call(2), over_redis.call(2));
            if calls != (3, 6, 6) || over_redis.cache_info().hits != 2 {
                return WRONG_OVER_REDIS;
            }
            clock.advance(6 * SECOND);
            let old = refreshed.call(1);
            let landed = eventually(|| refreshed.cache().get(&1).unwrap() == Some(12));
            if old == 11 && landed { 0 } else { NO_REFRESH }
        }));
        // SAFETY: as above.
        unsafe { _exit(code.unwrap_or(PANICKED)) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked, into a local.
    let waited = unsafe { waitpid(child, &mut status, 0) };
    assert_eq!(waited, child);
    assert_eq!(
        status & 0x7f,
        0,
        "the child was killed by signal {}",
        status & 0x7f
    );
    let code = (status >> 8) & 0xff;
    assert_eq!(
        code,
        0,
        "the child failed: {}",
        match code {
            HUNG => "a call hung",
            WRONG_OVER_REDIS => "wrong values or no hits over Redis",
            NO_REFRESH => "no refresh",
            PANICKED => "it panicked",
            _ => "?",
        }
    );
}

/// Polls `done` for up to 10 s; whether it held.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let began = Instant::now();
    while !done() {
        if began.elapsed() > 10 * SECOND {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}
