//! A claim's own faults on one server: a claim that the server runs after a freeze,
//! and a claim's looks bounded by the call's budget.

use jwm_cache::backend::{AsyncBackend, AsyncLookup, Claim};

use super::leases::pausing;
use super::*;

/// Waits, at most 3 s, until the server behind `raw`, just thawed, has run a claim's
/// script and its release's, and holds no lease (a release that overtook its claim
/// leaves a tombstone, `gone: <token>`, which refuses it).
async fn claimed_then_given_back(raw: &mut redis::Connection) {
    let thawed = Instant::now();
    let evals = |raw: &mut redis::Connection| command_calls(raw).get("eval").copied();
    let leases = |raw: &mut redis::Connection| {
        let names = raw.keys::<_, Vec<String>>("*:lease").unwrap();
        // Gone since the listing: given back meanwhile.
        let held = |name: &String| {
            let value: Option<String> = raw.get(name).unwrap();
            value.is_some_and(|value| !value.starts_with("gone:"))
        };
        names.into_iter().filter(held).collect::<Vec<_>>()
    };
    loop {
        let (ran, held) = (evals(raw), leases(raw));
        if ran >= Some(2) && held.is_empty() {
            return;
        }
        assert!(
            thawed.elapsed() < Duration::from_secs(3),
            "after the thaw: {ran:?} scripts run, leases held: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A claim sent just as the server froze runs when the server wakes, however long the
/// freeze: here 1.5 s, five pauses and their probes. Its lease is given back then, not
/// left to hold every other process's callers of its key for its 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_run_after_a_long_freeze_is_given_back() {
    let server = RedisServer::start();
    let backend = pausing(&server);
    let now = jwm_cache::time::Instant::ZERO;
    let mut raw = server.client(0);
    // Connected before the freeze.
    assert!(AsyncBackend::len(&backend, now).await.is_ok());
    server.freeze();
    let claimed = backend.claim(&9, now, None).await;
    assert!(matches!(claimed, Claim::Failed), "{claimed:?}");
    // The fault: the server stays frozen for 1.5 s.
    let frozen = Instant::now();
    while frozen.elapsed() < Duration::from_millis(1_500) {
        assert!(AsyncLookup::get(&backend, &9, now).await.is_err());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.thaw();
    // Within a pause and a lost probe's life of the thaw.
    claimed_then_given_back(&mut raw).await;
}

/// A claim's own looks, before any wait for another process, end within what the
/// call's lookups left of its budget: on a server that stalls, the claim fails by then,
/// not after a timeout of its own on top of the lookup's. The look the server runs when
/// it wakes takes the lease, which is given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claims_looks_end_within_the_calls_budget() {
    let server = RedisServer::start();
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(400))
        .pause_after_failure(Duration::ZERO);
    let mut backend = RedisBackend::<u64>::open_with(&server.url(0), options).unwrap();
    backend.use_lease(Ttl::from_secs(30));
    let now = jwm_cache::time::Instant::ZERO;
    let mut raw = server.client(0);
    // Connected before the freeze.
    assert!(AsyncBackend::len(&backend, now).await.is_ok());
    server.freeze();
    let began = Instant::now();
    let claimed = backend
        .claim(&9, now, Some(Duration::from_millis(50)))
        .await;
    let took = began.elapsed();
    server.thaw();
    assert!(matches!(claimed, Claim::Failed), "{claimed:?}");
    // Before, the look waited out its own 400 ms timeout.
    assert!(took < Duration::from_millis(300), "the claim took {took:?}");
    claimed_then_given_back(&mut raw).await;
}
