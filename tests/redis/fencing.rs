//! The lease as a fence across processes: a write of a key while another process
//! computes it keeps that process's older value out; a holder keeps its lease for as
//! long as it computes; a process that outwaited a lease stores only under it; a
//! background refresh runs in one process at a time, under the lease. Each
//! cache has a backend of its own, so a connection and tokens of its own, as a process
//! has.

use jwm_cache::key::PersistentDigest;

use super::in_transit::{calls, calls_reach};
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
    let lease = Duration::from_millis(900);
    let holder = process(&server, lease, Duration::from_secs(2));
    let (open, call) = computing(&holder, 4, 400).await;
    let held = the_lease(&mut raw);
    let began = Instant::now();
    // Polling the server's own expiry: the lease would have ended three times over.
    while began.elapsed() < lease * 3 {
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
    // The waiter waits at most its lease plus its timeout: 1.2 s.
    let (lease, timeout) = (Duration::from_millis(200), Duration::from_secs(1));
    let (long_lease, long_timeout) = (Duration::from_secs(30), Duration::from_secs(2));
    for (key, written) in [(5, false), (6, true)] {
        let holder = process(&server, long_lease, long_timeout);
        let (open_holder, holding) = computing(&holder, key, 100).await;
        // Begins computing once its wait ran out.
        let waiter = process(&server, lease, timeout);
        let (open_waiter, waiting) = computing(&waiter, key, 300).await;
        if written {
            let writer = process(&server, long_lease, long_timeout);
            writer.remove(&key).await.unwrap();
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

/// A near tier passes the lease on: its holder renews it past its length, stores under
/// it, and a removal by another process while it computes keeps its value out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_tier_holder_keeps_its_lease_and_stores_under_it() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let lease = Duration::from_millis(900);
    let near = jwm_cache::NearBackend::new(RedisBackend::open(&server.url(0)).unwrap(), 100);
    let holder: AsyncCache<u64, u64, jwm_cache::NearBackend<u64, u64>> = AsyncCacheBuilder::new()
        .identifier("fenced")
        .ttl(Duration::from_secs(60))
        .lease(lease)
        .build_with_backend(near);
    let (open, gate) = tokio::sync::oneshot::channel::<()>();
    let holder = Arc::new(holder);
    let holding = tokio::spawn({
        let holder = Arc::clone(&holder);
        async move {
            let compute = || async move {
                gate.await.unwrap();
                100
            };
            holder.get_or_insert_with(9, compute).await
        }
    });
    let began = Instant::now();
    let held = loop {
        let leases: Vec<String> = raw.keys("*:lease").unwrap();
        if let [held] = leases.as_slice() {
            break held.clone();
        }
        assert!(began.elapsed() < Duration::from_secs(10), "no lease taken");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // Polling the server's own expiry: renewed, the lease outlives its length.
    let began = Instant::now();
    while began.elapsed() < lease * 2 {
        assert!(raw.exists::<_, bool>(&held).unwrap(), "the lease ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let writer = process(&server, lease, Duration::from_secs(2));
    writer.remove(&9).await.unwrap();
    open.send(()).unwrap();
    assert_eq!(holding.await.unwrap(), 100);
    assert_eq!(
        writer.get(&9).await.unwrap(),
        None,
        "the holder's value landed"
    );
}

/// A value computed without the lease (here by a process with single-flight off,
/// which claims none) is stored as it is, and leaves a holder its lease: the holder's
/// store, which began no earlier, lands after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_computed_without_the_lease_leaves_the_holder_its_lease() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let (lease, timeout) = (Duration::from_secs(30), Duration::from_secs(2));
    let holder = process(&server, lease, timeout);
    let (open, holding) = computing(&holder, 8, 100).await;
    let held = the_lease(&mut raw);
    let options = RedisOptions::default().timeout(timeout);
    let alone: Cache<u64> = AsyncCacheBuilder::new()
        .identifier("fenced")
        .serializer(Stamped::new(Postcard))
        .ttl(Duration::from_secs(60))
        .lease(lease)
        .single_flight(false)
        .build_with_backend(RedisBackend::open_with(&server.url(0), options).unwrap());
    let computed = alone.get_or_insert_with(8, || async { 200 }).await;
    assert_eq!(computed, 200);
    assert_eq!(alone.get(&8).await.unwrap(), Some(200));
    assert!(
        raw.exists::<_, bool>(&held).unwrap(),
        "the holder lost its lease"
    );
    open.send(()).unwrap();
    assert_eq!(holding.await.unwrap(), 100);
    assert_eq!(
        alone.get(&8).await.unwrap(),
        Some(100),
        "the holder's store"
    );
}

/// The refresh tests' lease: long enough that no renewal (every 40 s) runs among the
/// scripts they count; a busy key is left alone for a quarter of it, 30 s.
const REFRESH_LEASE: Duration = Duration::from_secs(120);

/// A cache named `identifier` over `backend`, leasing for [`REFRESH_LEASE`] and
/// refreshing entries older than 30 s of their 60 s TTL.
fn refreshed(identifier: &str, backend: RedisBackend<u64>) -> Cache<u64> {
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .serializer(Stamped::new(Postcard))
        .ttl(Duration::from_secs(60))
        .refresh_after(Duration::from_secs(30))
        .lease(REFRESH_LEASE)
        .build_with_backend(backend)
}

/// A memoized function on a backend of its own on `$server` ("a process"), leasing
/// for [`REFRESH_LEASE`], refreshing entries older than 30 s of their 60 s TTL: each
/// run is counted in `$runs` and waits for a permit of `$gate`, then returns 100.
macro_rules! refreshing {
    ($server:expr, $runs:expr, $gate:expr) => {{
        let (runs, gate) = (Arc::clone($runs), Arc::clone($gate));
        let options = RedisOptions::default().timeout(Duration::from_secs(2));
        let backend = RedisBackend::open_with(&$server.url(0), options).unwrap();
        // A cache of its own: memoized functions of one identifier share one per process.
        let cache = refreshed("refreshed", backend);
        let function = move |_: u64| {
            runs.fetch_add(1, SeqCst);
            let gate = Arc::clone(&gate);
            async move {
                gate.acquire().await.unwrap().forget();
                100
            }
        };
        AsyncMemoized::with_cache(function, Arc::new(cache))
    }};
}

/// A background refresh takes the key's lease at once or not at all: while one
/// process refreshes a key, another's refresh does not run; and a write by another
/// process while it runs keeps its value out, as a miss's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_runs_in_one_process_under_the_lease_and_never_undoes_a_write() {
    use tokio::sync::Semaphore;

    let server = RedisServer::start();
    let (a_runs, b_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a_gate, b_gate) = (Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(0)));
    let a = refreshing!(&server, &a_runs, &a_gate);
    let b = refreshing!(&server, &b_runs, &b_gate);
    // Stored 40 s ago, as its deadline and the TTL say: due for a refresh.
    let due = Duration::from_secs(20);
    a.cache().insert_with_ttl(7, 1, due).await.unwrap();
    assert_eq!(a.call(7).await, 1, "a hit");
    let patience = Instant::now();
    while a_runs.load(SeqCst) == 0 {
        assert!(patience.elapsed() < Duration::from_secs(10), "no refresh");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // B's due hit starts a refresh, which asks for the lease once and finds A's: it
    // does not run, and B's due hits ask no more for a quarter of the lease.
    let (lease, evals) = a_holds(&server);
    assert_eq!(b.call(7).await, 1);
    assert!(
        calls_reach(&server, "eval", evals + 1, 2_000).await,
        "B never asked"
    );
    for _ in 0..20 {
        assert_eq!(b.call(7).await, 1);
    }
    b_stayed_out(&server, &lease, evals, b_runs.load(SeqCst));
    let counts = b.cache_info().await;
    assert_eq!((counts.refreshes, counts.refresh_failures), (1, 0));
    // B writes the key while A's refresh computes; then A's refresh ends, its store
    // refused, and A's due hits start another.
    b.cache().insert_with_ttl(7, 2, due).await.unwrap();
    a_gate.add_permits(1);
    while a.cache_info().await.refreshes < 2 {
        assert_eq!(a.call(7).await, 2, "A's refresh undid B's write");
        assert!(
            patience.elapsed() < Duration::from_secs(10),
            "A's refresh never ended"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let found = a.cache().get(&7).await.unwrap();
    assert_eq!(found, Some(2), "A's refresh undid B's write");
}

/// The one lease on `server` (A's), its value (A's token), and how many scripts the
/// server has run.
fn a_holds(server: &RedisServer) -> ((String, String), u64) {
    let mut raw = server.client(0);
    let name = the_lease(&mut raw);
    let token: String = raw.get(&name).unwrap();
    ((name, token), calls(server, "eval"))
}

/// B asked for the lease once (one script since `evals`), and neither took it nor ran
/// its function (`b_runs`).
fn b_stayed_out(server: &RedisServer, (name, token): &(String, String), evals: u64, b_runs: usize) {
    assert_eq!(calls(server, "eval"), evals + 1, "B asked again");
    let held: String = server.client(0).get(name).unwrap();
    assert_eq!(&held, token, "B took the lease");
    assert_eq!(b_runs, 0, "B refreshed beside A");
}

/// A gate sync functions wait at: each pass takes a permit.
#[derive(Default)]
struct Gate {
    permits: std::sync::Mutex<usize>,
    added: std::sync::Condvar,
}

impl Gate {
    fn pass(&self) {
        let permits = self.permits.lock().unwrap();
        let mut permits = self.added.wait_while(permits, |p| *p == 0).unwrap();
        *permits -= 1;
    }

    fn open_once(&self) {
        *self.permits.lock().unwrap() += 1;
        self.added.notify_all();
    }
}

/// A sync memoized function over Redis, on a bridge and a cache of their own ("a
/// process"), as [`refreshing!`] makes an async one.
macro_rules! refreshing_sync {
    ($server:expr, $runs:expr, $gate:expr) => {{
        let (runs, gate) = (Arc::clone($runs), Arc::clone($gate));
        let bridge = Bridge::new().unwrap();
        let cache = refreshed("refreshed-sync", $server.backend_on(&bridge));
        let cache = Arc::new(jwm_cache::BlockingCache::new(Arc::new(cache), bridge));
        let function = move |_: u64| {
            runs.fetch_add(1, SeqCst);
            gate.pass();
            100
        };
        (Memoized::with_cache(function, Arc::clone(&cache)), cache)
    }};
}

/// [`a_refresh_runs_in_one_process_under_the_lease_and_never_undoes_a_write`] for sync
/// functions, which refresh on the library's threads and keep the lease on their
/// bridge meanwhile.
#[test]
fn a_sync_refresh_runs_in_one_process_under_the_lease_and_never_undoes_a_write() {
    let server = RedisServer::start();
    let (a_runs, b_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a_gate, b_gate) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let (a, a_cache) = refreshing_sync!(&server, &a_runs, &a_gate);
    let (b, b_cache) = refreshing_sync!(&server, &b_runs, &b_gate);
    let due = Duration::from_secs(20);
    a_cache.insert_with_ttl(7, 1, due).unwrap();
    assert_eq!(a.call(7), 1, "a hit");
    let patience = Instant::now();
    let wait = |what: &str| {
        assert!(patience.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    };
    while a_runs.load(SeqCst) == 0 {
        wait("no refresh");
    }
    let (lease, evals) = a_holds(&server);
    assert_eq!(b.call(7), 1);
    while calls(&server, "eval") == evals {
        wait("B never asked");
    }
    for _ in 0..20 {
        assert_eq!(b.call(7), 1);
    }
    b_stayed_out(&server, &lease, evals, b_runs.load(SeqCst));
    let counts = b.cache_info();
    assert_eq!((counts.refreshes, counts.refresh_failures), (1, 0));
    b_cache.insert_with_ttl(7, 2, due).unwrap();
    a_gate.open_once();
    while a.cache_info().refreshes < 2 {
        assert_eq!(a.call(7), 2, "A's refresh undid B's write");
        wait("A's refresh never ended");
    }
    assert_eq!(
        a_cache.get(&7).unwrap(),
        Some(2),
        "A's refresh undid B's write"
    );
    // The threads left waiting at their gates are let go.
    for _ in 0..4 {
        a_gate.open_once();
        b_gate.open_once();
    }
}
