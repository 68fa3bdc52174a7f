//! What the near tier's multi-process tests share: children are this test binary, re-run
//! with one ignored test selected and its settings in the environment.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwm_cache::{AsyncCache, AsyncCacheBuilder, NearBackend, RedisBackend, RedisOptions};

/// How long after a write returns another process may still read the old value: the
/// near tiers' staleness bound, which holds however late an invalidation arrives (the
/// measured delays, far below it, are in BENCHMARKS.md).
pub(crate) const BOUND: Duration = Duration::from_millis(50);
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) type Near = AsyncCache<u64, u64, NearBackend<u64, u64>>;

/// A near tier over the server at `url`, or over the cluster whose comma-separated
/// seeds `url` lists.
///
/// Operations may take 2 s: a child that its test stops for a while does not fail them.
pub(crate) fn near(url: &str, identifier: &str) -> Near {
    let options = RedisOptions::default().timeout(Duration::from_secs(2));
    let redis = if url.contains(',') {
        let seeds: Vec<&str> = url.split(',').collect();
        RedisBackend::open_cluster_with(&seeds, options).unwrap()
    } else {
        RedisBackend::open_with(url, options).unwrap()
    };
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(600))
        .build_with_backend(NearBackend::new(redis, 10_000).staleness_bound(BOUND))
}

/// A plain synchronous connection to the server or cluster at `url` (as for [`near`]).
pub(crate) fn raw(url: &str) -> Box<dyn redis::ConnectionLike> {
    if url.contains(',') {
        let seeds: Vec<&str> = url.split(',').collect();
        let cluster = redis::cluster::ClusterClient::new(seeds).and_then(|c| c.get_connection());
        Box::new(cluster.unwrap())
    } else {
        Box::new(
            redis::Client::open(url)
                .and_then(|c| c.get_connection())
                .unwrap(),
        )
    }
}

pub(crate) fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub(crate) fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name}: run by a parent test"))
}

/// Runs the child test `name` with `vars`.
pub(crate) fn child(name: &str, vars: &[(&str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (var, value) in vars {
        command.env(var, value);
    }
    command.spawn().unwrap()
}

/// What a child printed, after it succeeded.
pub(crate) fn output_of(child: Child) -> String {
    let out = super::redis_server::output_within(child, 120);
    assert!(
        out.status.success(),
        "a child process failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
