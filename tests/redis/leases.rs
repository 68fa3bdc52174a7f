//! The lease's faults on one server: a release that meets the pause, and a wait whose
//! last look is slow.

use jwm_cache::backend::{AsyncBackend, AsyncLookup, Claim};

use super::*;

/// A lease given back while the backend is paused (a failure of this process's, as
/// the timeout of the very claim that took it can be) is given back once the pause
/// ends: left to run out, it would hold every other process's callers of its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_given_back_during_the_pause_is_released_once_it_ends() {
    let server = RedisServer::start();
    let pause = Duration::from_millis(300);
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(100))
        .pause_after_failure(pause);
    let mut backend = RedisBackend::<u64>::open_with(&server.url(0), options).unwrap();
    backend.use_lease(Ttl::from_secs(30));
    let now = jwm_cache::time::Instant::ZERO;
    let Claim::Compute(Some(lease)) = backend.claim(&7, now).await else {
        panic!("no lease taken");
    };
    let mut raw = server.client(0);
    let held = |raw: &mut redis::Connection| raw.exists::<_, bool>(lease.name()).unwrap();
    assert!(held(&mut raw));
    // A lookup that times out on the frozen server starts the pause.
    server.freeze();
    let failed = AsyncBackend::len(&backend, now).await;
    server.thaw();
    assert!(failed.is_err());
    let paused = AsyncLookup::get(&backend, &7, now).await;
    assert!(
        matches!(paused, Err(RedisBackendError::Unavailable)),
        "the backend is not paused: {paused:?}"
    );
    let released = Instant::now();
    backend.release(lease.clone()).await;
    assert!(
        released.elapsed() < Duration::from_millis(150),
        "the release waited for the pause"
    );
    // Polled on the server, for up to the pause and a second.
    let patience = pause + Duration::from_secs(1);
    while held(&mut raw) {
        assert!(
            released.elapsed() < patience,
            "the lease was still held {patience:?} after its release"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A wait for another process's lease ends by the lease plus the timeout, even when
/// its last look at the server is slow: the server freezes just before the wait ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_for_a_lease_ends_in_time_when_its_last_look_is_slow() {
    let server = Arc::new(RedisServer::start());
    let (lease, timeout) = (Duration::from_millis(300), Duration::from_millis(200));
    let backend = |lease: Duration| {
        let options = RedisOptions::default().timeout(timeout);
        let mut backend = RedisBackend::<u64>::open_with(&server.url(0), options).unwrap();
        backend.use_lease(Ttl::from(lease));
        backend
    };
    let (holder, waiter) = (backend(Duration::from_secs(30)), backend(lease));
    let now = jwm_cache::time::Instant::ZERO;
    // The holder takes a lease longer than the wait, and never gives it back.
    let Claim::Compute(Some(_held)) = holder.claim(&9, now).await else {
        panic!("no lease taken");
    };
    let began = Instant::now();
    let frozen = Arc::clone(&server);
    let freezer = std::thread::spawn(move || {
        // Just before the wait's end (the lease plus the timeout, 500 ms), for longer
        // than a look's timeout.
        std::thread::sleep(Duration::from_millis(430));
        frozen.freeze();
        std::thread::sleep(Duration::from_millis(400));
        frozen.thaw();
    });
    let claimed = waiter.claim(&9, now).await;
    let waited = began.elapsed();
    freezer.join().unwrap();
    assert!(matches!(claimed, Claim::Compute(None)), "{claimed:?}");
    assert!(
        waited < lease + timeout + Duration::from_millis(100),
        "waited {waited:?} for a lease of {lease:?} with a timeout of {timeout:?}"
    );
}
