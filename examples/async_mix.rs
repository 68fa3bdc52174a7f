//! Sync and async functions over sync and async backends: all four pairings.
//!
//! Run with `cargo run --example async_mix --features async`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jwm_cache::backend::{AsyncBackend, AsyncLookup, Backend, Deadline, Entry, Lookup, Offloaded};
use jwm_cache::{
    AsyncCacheControls, AsyncMemoized, Bridge, CacheControls, Memoized, memory::MemoryBackend,
    time::Instant,
};

/// An async store standing in for a network one: every operation takes a round trip.
/// (The Redis backend plugs in the same way.)
struct RemoteStore {
    entries: Mutex<MemoryBackend<u64, String>>,
}

impl RemoteStore {
    fn new() -> Self {
        RemoteStore {
            entries: Mutex::new(MemoryBackend::new()),
        }
    }

    async fn round_trip<T>(
        &self,
        op: impl FnOnce(&mut MemoryBackend<u64, String>) -> Result<T, Infallible>,
    ) -> Result<T, Infallible> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        op(&mut self.entries.lock().unwrap())
    }
}

impl AsyncBackend<u64, String> for RemoteStore {
    type Error = Infallible;
    const NAME: &'static str = "remote";

    fn set(
        &self,
        key: u64,
        value: String,
        deadline: Deadline,
        now: Instant,
    ) -> impl Future<Output = Result<(), Infallible>> + Send {
        self.round_trip(move |s| s.set(key, value, deadline, now))
    }
    fn clear(&self) -> impl Future<Output = Result<(), Infallible>> + Send {
        self.round_trip(|s| s.clear())
    }
    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, Infallible>> + Send {
        self.round_trip(move |s| s.len(now))
    }
}

impl AsyncLookup<u64, u64, String> for RemoteStore {
    fn get_entry(
        &self,
        key: &u64,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<String>>, Infallible>> + Send {
        self.round_trip(move |s| {
            let entry = s.get_entry(key, now)?;
            Ok(entry.map(|entry| entry.map(String::clone)))
        })
    }

    fn remove(
        &self,
        key: &u64,
        now: Instant,
    ) -> impl Future<Output = Result<bool, Infallible>> + Send {
        self.round_trip(move |s| s.remove(key, now))
    }
}

static COMPUTED: AtomicUsize = AtomicUsize::new(0);

fn render(id: u64) -> String {
    format!("page {id}")
}

fn main() {
    // 1. Sync function, sync (in-memory) backend.
    let pages = Memoized::new(render);
    assert_eq!(pages.call(1), pages.call(1));
    println!(
        "sync  fn / sync  backend: {} (hits {})",
        pages.call(1),
        pages.cache_info().hits
    );

    // 4. Sync function, async backend: its I/O runs on the bridge's own runtime, so
    //    this works outside any runtime, and inside one (below).
    let bridge = Bridge::new().expect("start the bridge");
    let remote_pages = Memoized::builder(render)
        .identifier("pages")
        .build_with_async_backend(bridge.clone(), RemoteStore::new());
    remote_pages.call(2);
    println!(
        "sync  fn / async backend: {} (hits {})",
        remote_pages.call(2),
        remote_pages.cache_info().hits
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("start a runtime");
    runtime.block_on(async {
        // 4, again: the same sync function called from inside a current-thread runtime.
        println!(
            "sync  fn / async backend, inside a runtime: {}",
            remote_pages.call(2)
        );

        // 2. Async function, sync backends: in memory inline, or a blocking one kept off
        //    the executor on tokio's blocking pool.
        let fetch = AsyncMemoized::new(|id: u64| async move { render(id) });
        fetch.call(3).await;
        println!(
            "async fn / sync  backend: {} (hits {})",
            fetch.call(3).await,
            fetch.cache_info().await.hits
        );
        let fetch_blocking = AsyncMemoized::builder(|id: u64| async move { render(id) })
            .build_with_backend(Offloaded::new(MemoryBackend::<u64, String>::new()));
        println!(
            "async fn / blocking sync backend: {}",
            fetch_blocking.call(3).await
        );

        // 3. Async function, async backend, 100 concurrent callers: one computation.
        let remote_fetch = std::sync::Arc::new(
            AsyncMemoized::builder(|id: u64| async move {
                COMPUTED.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
                render(id)
            })
            .build_with_backend(RemoteStore::new()),
        );
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let remote_fetch = std::sync::Arc::clone(&remote_fetch);
                tokio::spawn(async move { remote_fetch.call(4).await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.expect("caller"), "page 4");
        }
        let computed = COMPUTED.load(Ordering::Relaxed);
        assert_eq!(computed, 1, "single-flight across tasks");
        let size = remote_fetch.cache_info().await.current_size;
        println!("async fn / async backend: 100 callers, {computed} computation, {size} entry");
    });
}
