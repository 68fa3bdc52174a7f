//! The lease's faults on one server: a release that meets the pause, a wait whose last
//! look is slow, and the lease taken over a value past its TTL. A claim's own faults
//! are in `claims`.

use jwm_cache::backend::{AsyncBackend, AsyncLookup, Claim};

use super::*;

/// How long the backend of [`pausing`] pauses after a failure.
const PAUSE: Duration = Duration::from_millis(300);

/// A backend on `server` with 30 s leases, a 100 ms timeout and a pause of [`PAUSE`].
pub(super) fn pausing(server: &RedisServer) -> RedisBackend<u64> {
    pausing_for(server, PAUSE)
}

/// [`pausing`], with a pause of `pause`.
fn pausing_for(server: &RedisServer, pause: Duration) -> RedisBackend<u64> {
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(100))
        .pause_after_failure(pause);
    let mut backend = RedisBackend::<u64>::open_with(&server.url(0), options).unwrap();
    backend.use_lease(Ttl::from_secs(30));
    backend
}

/// Starts `backend`'s pause: a lookup that times out on the frozen server.
async fn start_the_pause(server: &RedisServer, backend: &RedisBackend<u64>) {
    server.freeze();
    let failed = AsyncBackend::len(backend, jwm_cache::time::Instant::ZERO).await;
    server.thaw();
    assert!(failed.is_err());
}

/// The lease of `key`, claimed on `backend`.
async fn leased(backend: &RedisBackend<u64>, key: u64) -> jwm_cache::backend::Lease {
    let now = jwm_cache::time::Instant::ZERO;
    let Claim::Compute(Some(lease)) = backend.claim(&key, now, None).await else {
        panic!("no lease taken");
    };
    lease
}

/// Polls the server until `lease` is gone, failing if it is still held `patience` after
/// `released`.
fn gone_within(raw: &mut redis::Connection, lease: &str, released: Instant, patience: Duration) {
    while raw.exists::<_, bool>(lease).unwrap() {
        assert!(
            released.elapsed() < patience,
            "the lease was still held {patience:?} after its release"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A lease given back while the backend is paused (a failure of this process's, as
/// the timeout of the very claim that took it can be) is given back once the pause
/// ends: left to run out, it would hold every other process's callers of its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_given_back_during_the_pause_is_released_once_it_ends() {
    let server = RedisServer::start();
    let backend = pausing(&server);
    let now = jwm_cache::time::Instant::ZERO;
    let lease = leased(&backend, 7).await;
    let mut raw = server.client(0);
    assert!(raw.exists::<_, bool>(lease.name()).unwrap());
    start_the_pause(&server, &backend).await;
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
    gone_within(
        &mut raw,
        lease.name(),
        released,
        PAUSE + Duration::from_secs(1),
    );
}

/// The same, given back from a runtime made for the call and dropped at once: the
/// release waits for the pause on the process-wide bridge, not on the caller's runtime,
/// which takes its tasks with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_given_back_from_a_runtime_that_ends_is_released_once_the_pause_ends() {
    let server = RedisServer::start();
    let backend = pausing(&server);
    let lease = leased(&backend, 8).await;
    let mut raw = server.client(0);
    start_the_pause(&server, &backend).await;
    let released = Instant::now();
    let (giving, given) = (backend.clone(), lease.clone());
    std::thread::spawn(move || {
        let per_call = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        per_call.block_on(giving.release(given));
        // Dropped here, with whatever the release left on it.
    })
    .join()
    .unwrap();
    // Within the pause and a lost probe's life, with room for a loaded machine; the
    // lease lasts 30 s.
    gone_within(
        &mut raw,
        lease.name(),
        released,
        PAUSE + Duration::from_secs(3),
    );
}

/// Claims made while the backend is paused never reach the server, so nothing is given
/// back for them: a release each would all reach it together as the pause ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_during_the_pause_leave_nothing_to_release() {
    let server = RedisServer::start();
    // A long pause: the claims, and the statistics reset before them, fit in it on a
    // loaded machine.
    let pause = Duration::from_secs(2);
    let backend = pausing_for(&server, pause);
    let now = jwm_cache::time::Instant::ZERO;
    let mut raw = server.client(0);
    start_the_pause(&server, &backend).await;
    let paused = Instant::now();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut raw)
        .unwrap();
    for key in 0..200 {
        assert!(matches!(
            backend.claim(&key, now, None).await,
            Claim::Compute(None)
        ));
    }
    assert!(paused.elapsed() < pause, "the claims outlasted the pause");
    // Watched until well past the pause's end, when the releases would have gone.
    let evals = |raw: &mut redis::Connection| {
        let stats: String = redis::cmd("INFO").arg("commandstats").query(raw).unwrap();
        stats.contains("cmdstat_eval:")
    };
    while paused.elapsed() < pause + Duration::from_millis(500) {
        assert!(
            !evals(&mut raw),
            "releases reached the server after the pause"
        );
        std::thread::sleep(Duration::from_millis(20));
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
    // The freezer thread may wake late on a loaded machine, and then the wait ends
    // before the freeze, which tests nothing: tried again, on another key, a few times.
    for key in 9..14 {
        // The holder takes a lease longer than the wait, and never gives it back.
        let Claim::Compute(Some(held)) = holder.claim(&key, now, None).await else {
            panic!("no lease taken");
        };
        let began = Instant::now();
        let frozen = Arc::clone(&server);
        let froze = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let freezing = Arc::clone(&froze);
        let freezer = std::thread::spawn(move || {
            // Just before the wait's end (the lease plus the timeout, 500 ms), for longer
            // than a look's timeout.
            std::thread::sleep(Duration::from_millis(430));
            frozen.freeze();
            freezing.store(true, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(400));
            frozen.thaw();
        });
        let claimed = waiter.claim(&key, now, None).await;
        let waited = began.elapsed();
        let in_time = froze.load(std::sync::atomic::Ordering::SeqCst);
        freezer.join().unwrap();
        if !in_time {
            continue;
        }
        // Its wait ran out, outwaiting the holder's lease, or its last look did.
        let computes = match &claimed {
            Claim::Outwaited(theirs) => *theirs == held,
            claimed => matches!(claimed, Claim::Failed),
        };
        assert!(computes, "{claimed:?}");
        assert!(
            waited < lease + timeout + Duration::from_millis(100),
            "waited {waited:?} for a lease of {lease:?} with a timeout of {timeout:?}"
        );
        return;
    }
    panic!("the server froze only after the wait ended, five times");
}

/// A record of `value` whose deadline (1 ms after the epoch) is long past, as a writer's
/// stale window leaves it: the server still holds it, and it is no answer.
fn past_its_ttl(value: u64) -> Vec<u8> {
    [&1u64.to_le_bytes()[..], &stamped(&value)[..]].concat()
}

fn entry_name(identifier: &str, key: u64) -> String {
    format!(
        "jwm-cache:{identifier}:{}",
        jwm_cache::key::PersistentDigest::persistent_digest(&key).unwrap()
    )
}

/// A backend on `url` with a lease of `lease` and a timeout of 200 ms.
fn leasing(url: &str, identifier: &str, lease: Duration) -> RedisBackend<u64> {
    let options = RedisOptions::default().timeout(Duration::from_millis(200));
    let mut backend = RedisBackend::<u64>::open_with(url, options)
        .unwrap()
        .with_identifier(identifier);
    backend.use_lease(Ttl::from(lease));
    backend
}

/// Over a value past its TTL the lease is taken, and held while another process
/// holds it, until a fresh value lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_past_its_ttl_is_no_answer_and_its_lease_is_taken_over() {
    let server = RedisServer::start();
    let backend = leasing(&server.url(0), "stale", Duration::from_secs(30));
    let mut raw = server.client(0);
    let now = jwm_cache::time::Instant::ZERO;
    let _: () = raw.set(entry_name("stale", 1), past_its_ttl(10)).unwrap();
    let Claim::Compute(Some(lease)) = backend.claim(&1, now, None).await else {
        panic!("the lease beside a value past its TTL was not taken");
    };
    let holder: String = raw.get(lease.name()).unwrap();
    assert_eq!(holder, lease.token());

    // Another process holds the lease of key 2: a look finds the old value and waits,
    // until the holder stores a fresh one.
    let name = entry_name("stale", 2);
    let _: () = raw.set(&name, past_its_ttl(20)).unwrap();
    let _: () = raw
        .set_options(
            format!("{name}:lease"),
            "another-process",
            redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(30_000)),
        )
        .unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let fresh = [&u64::MAX.to_le_bytes()[..], &stamped(&21)[..]].concat();
        let _: () = raw.set(&name, fresh).unwrap();
    });
    let began = Instant::now();
    let claimed = backend.claim(&2, now, None).await;
    writer.join().unwrap();
    match claimed {
        Claim::Found(value) => assert_eq!(value.as_bytes(), stamped(&21)),
        other => panic!("the fresh value was not found: {other:?}"),
    }
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
}

/// A take-over the server refuses (here an ACL that denies `SET`; as well, one whose
/// answer is lost after the server granted it) ends the wait at once, as a failed look
/// does. Polling on, the process would wait out the whole lease: in the lost answer's
/// case, its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_take_over_computes_at_once() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let _: () = redis::cmd("ACL")
        .arg(&[
            "SETUSER", "noset", "on", ">secret", "~*", "&*", "+@all", "-set",
        ])
        .query(&mut raw)
        .unwrap();
    let _: () = raw.set(entry_name("refused", 3), past_its_ttl(30)).unwrap();
    let url = format!("redis://noset:secret@127.0.0.1:{}/0", server.port);
    let lease = Duration::from_secs(3);
    let backend = leasing(&url, "refused", lease);
    let began = Instant::now();
    let claimed = backend
        .claim(&3, jwm_cache::time::Instant::ZERO, None)
        .await;
    let waited = began.elapsed();
    assert!(matches!(claimed, Claim::Failed), "{claimed:?}");
    assert!(
        waited < Duration::from_millis(1_500),
        "waited {waited:?} after the take-over failed, with a lease of {lease:?}"
    );
    let leases: Vec<String> = raw.keys("*:lease").unwrap();
    assert!(leases.is_empty(), "{leases:?}");
}

/// A call whose lookup used its whole timeout (the server froze, and no pause turns the
/// claim away) computes at once, without asking for the lease: the claim's look would
/// wait as long again before the computation began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_lookup_timed_out_claims_no_lease() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(500);
    let options = RedisOptions::default()
        .timeout(timeout)
        .pause_after_failure(Duration::ZERO);
    let cache: Cache<u64> = AsyncCacheBuilder::new()
        .identifier("spent")
        .lease(Duration::from_secs(30))
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open_with(&server.url(0), options).unwrap());
    // Connected before the freeze.
    cache.insert(1, 1).await.unwrap();
    server.freeze();
    let began = Instant::now();
    let value = cache.get_or_insert_with(2, || async { 20 }).await;
    let took = began.elapsed();
    server.thaw();
    assert_eq!(value, 20);
    assert!(
        took < timeout.mul_f64(1.5),
        "took {took:?} with a timeout of {timeout:?}"
    );
}
