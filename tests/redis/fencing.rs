//! The lease as a fence across processes: a write of a key while another process
//! computes it keeps that process's older value out; a holder keeps its lease for as
//! long as it computes; a process that outwaited a lease stores only under it. Each
//! cache has a backend of its own, so a connection and tokens of its own, as a process
//! has.

use jwm_cache::key::PersistentDigest;

use super::*;
use common::fencing::{computing, writes_keep_a_holders_older_value_out};

/// A cache over a backend of its own on `server`, leasing for `lease`, with operations
/// bounded by `timeout`.
fn process(server: &RedisServer, lease: Duration, timeout: Duration) -> Arc<Cache<u64>> {
    let options = RedisOptions::default().timeout(timeout);
    let backend = RedisBackend::open_with(&server.url(0), options).unwrap();
    let cache = AsyncCacheBuilder::new()
        .identifier("fenced")
        .serializer(Stamped::new(Postcard))
        .ttl(Duration::from_secs(60))
        .lease(lease)
        .build_with_backend(backend);
    Arc::new(cache)
}

/// The name of the one lease held on the server.
fn the_lease(raw: &mut redis::Connection) -> String {
    let leases: Vec<String> = raw.keys("*:lease").unwrap();
    match leases.as_slice() {
        [lease] => lease.clone(),
        _ => panic!("{leases:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_another_process_computes_keeps_its_older_value_out() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let (lease, timeout) = (Duration::from_secs(30), Duration::from_secs(2));
    let leased = |key: u64| {
        let name = format!(
            "jwm-cache:fenced:{}:lease",
            key.persistent_digest().unwrap()
        );
        raw.exists::<_, bool>(name).unwrap()
    };
    writes_keep_a_holders_older_value_out(|| process(&server, lease, timeout), leased).await;
}

/// A holder computing for several times its lease keeps it (renewed), so no other
/// process takes it, and its value is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_keeps_its_lease_while_it_computes_and_stores_past_it() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let lease = Duration::from_millis(300);
    let holder = process(&server, lease, Duration::from_secs(2));
    let (open, call) = computing(&holder, 4, 400).await;
    let held = the_lease(&mut raw);
    let began = Instant::now();
    // Polling the server's own expiry: the lease would have ended four times over.
    while began.elapsed() < lease * 4 {
        assert!(
            raw.exists::<_, bool>(&held).unwrap(),
            "the lease ended {:?} into the computation",
            began.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    open.send(()).unwrap();
    assert_eq!(call.await.unwrap(), 400);
    let other = process(&server, lease, Duration::from_secs(2));
    assert_eq!(other.get(&4).await.unwrap(), Some(400), "not stored");
}

/// A process whose wait for another's lease runs out computes, and stores under that
/// lease: its value lands while the holder still holds it, and not once a write took
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_outwaited_a_lease_stores_only_under_it() {
    let server = RedisServer::start();
    // The waiter waits at most its lease plus its timeout: 300 ms.
    let (lease, timeout) = (Duration::from_millis(200), Duration::from_millis(100));
    for (key, written) in [(5, false), (6, true)] {
        let holder = process(&server, lease, Duration::from_secs(2));
        let (open_holder, holding) = computing(&holder, key, 100).await;
        // Begins computing once its wait ran out.
        let waiter = process(&server, lease, timeout);
        let (open_waiter, waiting) = computing(&waiter, key, 300).await;
        if written {
            process(&server, lease, timeout).remove(&key).await.unwrap();
        }
        open_waiter.send(()).unwrap();
        assert_eq!(waiting.await.unwrap(), 300);
        let stored = (!written).then_some(300);
        assert_eq!(
            holder.get(&key).await.unwrap(),
            stored,
            "written: {written}"
        );
        open_holder.send(()).unwrap();
        assert_eq!(holding.await.unwrap(), 100);
        let stored = (!written).then_some(100);
        assert_eq!(
            holder.get(&key).await.unwrap(),
            stored,
            "written: {written}"
        );
    }
}
