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
//! `redis://127.0.0.1:6379/0 redis-shared-demo 10`. It prints one line,
//! `computed=C hits=H misses=M errors=E`, which the cross-process test reads.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jwm_cache::{AsyncCacheControls, ttl_cache};

static COMPUTED: AtomicUsize = AtomicUsize::new(0);

/// Where the cache lives, read from the command line before the first call.
struct Config {
    url: String,
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into());
    let identifier = args.next().unwrap_or_else(|| "redis-shared-demo".into());
    let keys: u64 = args.next().and_then(|k| k.parse().ok()).unwrap_or(10);
    let _first = CONFIG.set(Config { url, identifier }).is_ok();

    for n in 0..keys {
        assert_eq!(slow_cube(n).await, n * n * n);
    }
    let info = SLOW_CUBE.cache_info().await;
    println!(
        "computed={} hits={} misses={} errors={}",
        COMPUTED.load(Ordering::Relaxed),
        info.hits,
        info.misses,
        info.errors
    );
}
