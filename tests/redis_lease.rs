//! One computation per key across processes: eight OS processes with sixteen tasks each
//! call one missing key through a real Redis server, with a lease. The function counts
//! its runs in Redis (or, with the server down, in a file).

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, command_calls};
use jwm_cache::{AsyncCacheControls, AsyncMemoized, RedisBackend, RedisOptions};
use redis::Commands;

const PROCESSES: usize = 8;
const TASKS: usize = 16;
const KEY: u64 = 21;
/// How long any wait of these tests may take before it fails them.
const PATIENCE: Duration = Duration::from_secs(60);

/// Not a test of its own: one process of the fleet the tests below start. It calls
/// `KEY` from sixteen tasks and prints what each got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of the fleet tests"]
async fn one_process_of_the_fleet() {
    let url = std::env::var("JWM_FLEET_URL").expect("run by a fleet test");
    let lease_ms: u64 = std::env::var("JWM_FLEET_LEASE_MS")
        .unwrap()
        .parse()
        .unwrap();
    let runs_file = std::env::var("JWM_FLEET_RUNS_FILE").ok();
    let gated = std::env::var("JWM_FLEET_GATE").is_ok();
    let (counter, recorded) = (url.clone(), runs_file.clone());
    let compute = move |n: u64| {
        let (counter, runs_file) = (counter.clone(), recorded.clone());
        async move {
            tokio::task::spawn_blocking(move || record_run(&counter, runs_file, gated))
                .await
                .unwrap();
            n * 2
        }
    };
    let options = RedisOptions::default().timeout(Duration::from_millis(250));
    let backend = RedisBackend::open_with(&url, options).unwrap();
    let memo = AsyncMemoized::builder(compute)
        .identifier("fleet")
        .ttl(Duration::from_secs(60))
        .lease(Duration::from_millis(lease_ms))
        .build_with_redis(backend);
    let cache = std::sync::Arc::clone(memo.cache());
    let counted = move || {
        let counters = cache.cache_counters();
        counters.misses + counters.coalesced
    };
    let _ = CALLERS_COUNTED.set(Box::new(counted));
    if runs_file.is_none() {
        let mut redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        let _: u64 = redis.incr("fleet-test:arrived", 1).unwrap();
    }
    let calls: Vec<_> = (0..TASKS)
        .map(|_| {
            let memo = memo.clone();
            tokio::spawn(async move { memo.call(KEY).await })
        })
        .collect();
    let mut values = Vec::new();
    for call in calls {
        values.push(call.await.unwrap().to_string());
    }
    println!("values={}", values.join(","));
}

/// How many of this process's calls missed or waited: every call, once all have joined.
static CALLERS_COUNTED: std::sync::OnceLock<Box<dyn Fn() -> u64 + Send + Sync>> =
    std::sync::OnceLock::new();

/// Counts one run of the function, in the file if given (the server is down), else in
/// Redis, where the first run also notes its process and start, and waits at the gate
/// if the test closed one.
fn record_run(url: &str, runs_file: Option<String>, gated: bool) {
    if let Some(path) = runs_file {
        // Nothing is stored with the server down: held until every task of this
        // process has joined this computation, so that a late one cannot start another.
        let began = Instant::now();
        while CALLERS_COUNTED
            .get()
            .is_none_or(|counted| counted() < TASKS as u64)
        {
            assert!(began.elapsed() < PATIENCE, "the tasks never all called");
            std::thread::yield_now();
        }
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        // One write: `writeln!` may make two (the number, then the newline), and
        // another process's line could land between them.
        file.write_all(format!("{}\n", std::process::id()).as_bytes())
            .unwrap();
        return;
    }
    let mut redis = redis::Client::open(url).unwrap().get_connection().unwrap();
    let run: u64 = redis.incr("fleet-test:runs", 1).unwrap();
    let started = wall_ms();
    let _: () = redis
        .set(format!("fleet-test:started:{run}"), started)
        .unwrap();
    if run == 1 {
        let _: () = redis.set("fleet-test:holder", std::process::id()).unwrap();
        if gated {
            // Held here until the test opens the gate, or kills this process.
            let _: Option<(String, String)> = redis.blpop("fleet-test:gate", 60.0).unwrap();
        }
    }
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Starts the fleet against `url`.
fn start_fleet(url: &str, lease: Duration, runs_file: Option<&str>, gated: bool) -> Vec<Child> {
    (0..PROCESSES)
        .map(|_| {
            let mut command = Command::new(std::env::current_exe().unwrap());
            command
                .args(["--exact", "one_process_of_the_fleet", "--ignored"])
                .args(["--nocapture", "--test-threads", "1"])
                .env("JWM_FLEET_URL", url)
                .env("JWM_FLEET_LEASE_MS", lease.as_millis().to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(path) = runs_file {
                command.env("JWM_FLEET_RUNS_FILE", path);
            }
            if gated {
                command.env("JWM_FLEET_GATE", "1");
            }
            command.spawn().unwrap()
        })
        .collect()
}

/// What a process of the fleet printed: every task's value.
fn values_of(child: Child) -> Vec<u64> {
    let out = common::redis_server::output_within(child, 120);
    assert!(
        out.status.success(),
        "a process of the fleet failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("values=").map(|(_, values)| values))
        .expect("the process's report");
    line.split(',').map(|v| v.parse().unwrap()).collect()
}

/// Polls `done` (each look a Redis round trip) until it holds, failing after `PATIENCE`.
fn eventually<T>(what: &str, mut look: impl FnMut() -> Option<T>) -> T {
    let began = Instant::now();
    loop {
        if let Some(found) = look() {
            return found;
        }
        assert!(
            began.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn eight_processes_of_sixteen_tasks_compute_a_missing_key_once() {
    let server = RedisServer::start();
    let mut redis = server.client(0);
    let fleet = start_fleet(&server.url(0), Duration::from_secs(10), None, true);
    // The first run holds at the gate until every process has called and the others
    // are looking for the lease (each waiting process runs the claim script again and
    // again).
    eventually("every process calls, one computes", || {
        let arrived: Option<u64> = redis.get("fleet-test:arrived").unwrap();
        let runs: Option<u64> = redis.get("fleet-test:runs").unwrap();
        (arrived == Some(PROCESSES as u64) && runs >= Some(1)).then_some(())
    });
    let waited = command_calls(&mut redis).get("eval").copied().unwrap_or(0);
    eventually("the others wait for the lease", || {
        (command_calls(&mut redis).get("eval").copied().unwrap_or(0)
            >= waited + 2 * (PROCESSES as u64 - 1))
            .then_some(())
    });
    let _: () = redis.lpush("fleet-test:gate", "open").unwrap();
    for child in fleet {
        assert_eq!(values_of(child), vec![KEY * 2; TASKS]);
    }
    let runs: u64 = redis.get("fleet-test:runs").unwrap();
    assert_eq!(runs, 1, "one computation for {} callers", PROCESSES * TASKS);
    let leases: Vec<String> = redis.keys("*:lease").unwrap();
    assert!(
        leases.is_empty(),
        "the holder gave its lease back: {leases:?}"
    );
}

#[test]
fn when_the_holder_is_killed_another_process_computes_once_its_lease_ends() {
    let server = RedisServer::start();
    let mut redis = server.client(0);
    let lease = Duration::from_millis(1_000);
    let mut fleet = start_fleet(&server.url(0), lease, None, true);
    let holder: u32 = eventually("a process takes the lease", || {
        redis.get("fleet-test:holder").unwrap()
    });
    let at = fleet.iter().position(|c| c.id() == holder).unwrap();
    let mut killed = fleet.remove(at);
    killed.kill().unwrap(); // SIGKILL: it never gives its lease back
    killed.wait().unwrap();
    for child in fleet {
        assert_eq!(values_of(child), vec![KEY * 2; TASKS]);
    }
    let runs: u64 = redis.get("fleet-test:runs").unwrap();
    assert_eq!(runs, 2, "the holder's run, and one other");
    let first: u64 = redis.get("fleet-test:started:1").unwrap();
    let second: u64 = redis.get("fleet-test:started:2").unwrap();
    let took = second - first;
    // Taken over when the lease ended, with half a lease of room for eight processes on
    // a loaded machine. (Waiters that waited out their whole wait and computed on their
    // own would make more than two runs, which the count above catches.)
    assert!(
        took <= lease.as_millis() as u64 * 3 / 2,
        "taken over {took} ms after the holder started, with a lease of {lease:?}"
    );
}

#[test]
fn with_the_server_down_each_process_computes_once() {
    let mut server = RedisServer::start();
    let url = server.url(0);
    server.kill();
    let runs = std::env::temp_dir().join(format!("jwm-fleet-runs-{}", std::process::id()));
    let _ = std::fs::remove_file(&runs);
    let fleet = start_fleet(&url, Duration::from_secs(10), runs.to_str(), false);
    for child in fleet {
        assert_eq!(values_of(child), vec![KEY * 2; TASKS]);
    }
    let recorded = std::fs::read_to_string(&runs).unwrap();
    let _ = std::fs::remove_file(&runs);
    let mut processes: Vec<&str> = recorded.lines().collect();
    assert_eq!(
        processes.len(),
        PROCESSES,
        "one run per process: {recorded}"
    );
    processes.sort_unstable();
    processes.dedup();
    assert_eq!(
        processes.len(),
        PROCESSES,
        "each process ran once: {recorded}"
    );
}

#[tokio::test]
async fn a_lease_is_given_back_when_the_computation_panics_or_is_cancelled() {
    let server = RedisServer::start();
    let mut redis = server.client(0);
    let compute = |n: u64| async move {
        if n == 1 {
            panic!("the computation panics");
        }
        tokio::time::sleep(Duration::from_secs(60)).await; // cancelled before it ends
        n
    };
    let memo = AsyncMemoized::builder(compute)
        .identifier("given-back")
        .lease(Duration::from_secs(60))
        .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    let panicked = tokio::spawn({
        let memo = memo.clone();
        async move { memo.call(1).await }
    });
    assert!(panicked.await.unwrap_err().is_panic());
    no_lease_soon(&mut redis).await;
    let cancelled = tokio::spawn({
        let memo = memo.clone();
        async move { memo.call(2).await }
    });
    let began = Instant::now();
    while redis.keys::<_, Vec<String>>("*:lease").unwrap().is_empty() {
        assert!(began.elapsed() < PATIENCE, "the lease was never taken");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancelled.abort(); // the caller gives up while its computation holds the lease
    no_lease_soon(&mut redis).await;
}

/// Polls until no lease is held, for a few seconds: the leases given back in the
/// background would otherwise hold for 60.
async fn no_lease_soon(redis: &mut redis::Connection) {
    let began = Instant::now();
    loop {
        let leases: Vec<String> = redis.keys("*:lease").unwrap();
        if leases.is_empty() {
            return;
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "still held: {leases:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
