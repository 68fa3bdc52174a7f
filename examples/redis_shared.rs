//! Two processes, one Redis: the second gets hits for what the first computed.
//!
//! Start a server, then run this twice:
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no --daemonize yes
//! cargo run --example redis_shared --features redis
//! cargo run --example redis_shared --features redis   # computes nothing
//! ```
//!
//! Arguments (all optional): `URL IDENTIFIER KEYS`, by default
//! `redis://127.0.0.1:6379/0 redis-shared-demo 10`. A comma-separated list of URLs is a
//! Redis Cluster's seeds. It prints one line, `computed=C hits=H misses=M errors=E`,
//! which the cross-process tests read.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jwm_cache::{AsyncCacheControls, ttl_cache};

static COMPUTED: AtomicUsize = AtomicUsize::new(0);

/// Where the cache lives, read from the command line before the first call.
struct Config {
    url: String,
    seeds: Vec<String>,
    identifier: String,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

fn config() -> &'static Config {
    CONFIG.get().expect("set in main before the first call")
}

/// The expensive function both processes share the results of. The URL and the
/// identifier are expressions, read on the first call.
#[ttl_cache(ttl = "5m", identifier = config().identifier.as_str(), backend = redis(url = config().url.as_str()))]
async fn slow_cube(n: u64) -> u64 {
    COMPUTED.fetch_add(1, Ordering::Relaxed);
    n * n * n
}

/// The same, over a Redis Cluster: the seeds are any expression that is `AsRef<[S]>`.
#[ttl_cache(ttl = "5m", identifier = config().identifier.as_str(), backend = redis(cluster = config().seeds.as_slice()))]
async fn slow_cube_in_a_cluster(n: u64) -> u64 {
    COMPUTED.fetch_add(1, Ordering::Relaxed);
    n * n * n
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into());
    let identifier = args.next().unwrap_or_else(|| "redis-shared-demo".into());
    let keys: u64 = args.next().and_then(|k| k.parse().ok()).unwrap_or(10);
    let seeds: Vec<String> = url.split(',').map(str::to_string).collect();
    let cluster = seeds.len() > 1;
    let config = Config {
        url,
        seeds,
        identifier,
    };
    let _first = CONFIG.set(config).is_ok();

    for n in 0..keys {
        let cube = if cluster {
            slow_cube_in_a_cluster(n).await
        } else {
            slow_cube(n).await
        };
        assert_eq!(cube, n * n * n);
    }
    let info = if cluster {
        SLOW_CUBE_IN_A_CLUSTER.cache_info().await
    } else {
        SLOW_CUBE.cache_info().await
    };
    println!(
        "computed={} hits={} misses={} errors={}",
        COMPUTED.load(Ordering::Relaxed),
        info.hits,
        info.misses,
        info.errors
    );
}
