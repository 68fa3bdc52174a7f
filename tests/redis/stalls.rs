//! A connection that stalls without an error, while the server lives on.

use super::*;

/// A connection that stalls while the server lives on (a failover behind one address,
/// the old host gone without a reset, which no error ever reports): once the pause
/// after the first timeout ends, calls reach the server on a new connection, instead
/// of timing out on the old one, pause after pause, until the kernel gives up on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stalls_is_replaced_after_the_pause() {
    let server = RedisServer::start();
    let proxy = common::black_hole::BlackHole::to(server.port);
    let timeout = Duration::from_millis(200);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { n + 7 }
    })
    .identifier("black-hole")
    .serializer(Stamped::new(Postcard))
    .build_with_backend(
        RedisBackend::open_with(&proxy.url(), RedisOptions::default().timeout(timeout)).unwrap(),
    );
    assert_eq!(memo.call(1).await, 8);
    assert_eq!(memo.call(1).await, 8);
    assert_eq!(runs.load(SeqCst), 1, "the second call hit");

    proxy.swallow_open_connections();
    let began = Instant::now();
    let mut timed_out = 0;
    loop {
        let (before, started) = (runs.load(SeqCst), Instant::now());
        assert_eq!(memo.call(1).await, 8);
        if runs.load(SeqCst) == before {
            break; // A hit: the server is reached again.
        }
        if started.elapsed() >= timeout {
            timed_out += 1; // A miss that waited out the timeout.
        }
        // Bounded polling: a pause is 500 ms, so 3 s is six of them.
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "no hit in 3 s; {timed_out} calls timed out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Two at most: a connection younger than 500 ms is kept through the first failure
    // (so that a burst of failures replaces it once), and this one is that young.
    assert!(timed_out <= 2, "{timed_out} calls timed out");
}

/// A value too large to arrive within the timeout fails its own reads only: once this
/// process has stored it, or seen a read of it time out, it is read on a connection of
/// its own, so that other keys' lookups neither wait behind its bytes nor find the
/// backend paused. (Before, every read of it paused the backend for every key.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_too_large_to_arrive_in_time_fails_only_its_own_reads() {
    let server = RedisServer::start();
    // 4 MiB/s: a 2 MiB value takes half a second, over twice the timeout; a small one
    // microseconds.
    let proxy = common::black_hole::BlackHole::throttled(server.port, 4 << 20);
    let timeout = Duration::from_millis(200);
    let open = |url: &str| {
        let options = RedisOptions::default().timeout(timeout);
        AsyncCacheBuilder::new()
            .identifier("large-reads")
            .ttl(Duration::from_secs(60))
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::<u64>::open_with(url, options).unwrap())
    };
    let (writer, slow) = (open(&server.url(0)), open(&proxy.url()));
    let large = vec![7u8; 2 << 20];
    writer.insert(1, large.clone()).await.unwrap();
    writer.insert(2, vec![1]).await.unwrap();
    assert_eq!(slow.get(&2).await.unwrap(), Some(vec![1]));

    // Stored by this process: read apart from its first read.
    slow.insert(3, large.clone()).await.unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        assert!(slow.get(&3).await.is_err(), "2 MiB arrived within 200 ms");
        assert!(started.elapsed() < timeout * 2, "{:?}", started.elapsed());
        assert_eq!(
            slow.get(&2).await.unwrap(),
            Some(vec![1]),
            "key 2 after key 3"
        );
    }

    // Stored elsewhere: its first read times out with the others' connection, and
    // pauses the backend, once.
    assert!(slow.get(&1).await.is_err());
    let began = Instant::now();
    while slow.get(&2).await.is_err() {
        assert!(began.elapsed() < Duration::from_secs(3), "still paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..3 {
        assert!(slow.get(&1).await.is_err(), "2 MiB arrived within 200 ms");
        assert_eq!(
            slow.get(&2).await.unwrap(),
            Some(vec![1]),
            "key 2 after key 1"
        );
    }
    // A many-key call reads it apart too, beside its MGET of the others.
    assert!(slow.get_many(&[1, 2]).await.is_err());
    assert_eq!(slow.get(&2).await.unwrap(), Some(vec![1]), "after get_many");
}
