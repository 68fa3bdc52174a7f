//! Memoized calls shared through axum state: a struct of named handle types, cloned
//! into every request, with one cache behind each.
//!
//! Run with `cargo run --example axum_server --features async`, then
//! `curl 127.0.0.1:3000/users/7` twice and `curl 127.0.0.1:3000/stats`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use jwm_cache::{AsyncCacheControls, AsyncMemoized, AsyncMemoizedFn, Memoized, MemoizedFn};

/// The application's state: named types, no generics, cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    /// An async lookup (a database or a remote service, in a real server).
    pub(crate) profile: AsyncMemoizedFn<u64, String>,
    /// A sync computation, memoized too.
    pub(crate) slug: MemoizedFn<String, String>,
    /// How many profile lookups reached the slow store.
    pub(crate) lookups: Arc<AtomicUsize>,
}

impl AppState {
    /// The memoized functions, each with a cache of its own.
    pub(crate) fn new() -> Self {
        let lookups = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&lookups);
        let profile = AsyncMemoized::builder(move |id: u64| {
            counted.fetch_add(1, Ordering::Relaxed);
            async move {
                // Stands in for a round trip to a slow store.
                tokio::time::sleep(Duration::from_millis(5)).await;
                format!("user {id}")
            }
        })
        .ttl(Duration::from_secs(60))
        .build();
        let slug = Memoized::new(|title: String| title.to_lowercase().replace(' ', "-"));
        AppState {
            profile: profile.boxed(),
            slug: slug.boxed(),
            lookups,
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// The routes, over `state`.
pub(crate) fn app(state: AppState) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/slugs/{title}", get(slug))
        .route("/stats", get(stats))
        .with_state(state)
}

async fn user(State(state): State<AppState>, Path(id): Path<u64>) -> String {
    state.profile.call(id).await
}

async fn slug(State(state): State<AppState>, Path(title): Path<String>) -> String {
    state.slug.call(title)
}

/// The profile cache's counters, read without `.await`, and the lookups that reached
/// the store, as `hits=H misses=M coalesced=C lookups=L`. A caller who waited for
/// another's lookup is coalesced, not a miss.
async fn stats(State(state): State<AppState>) -> String {
    let counters = state.profile.cache_counters();
    let lookups = state.lookups.load(Ordering::Relaxed);
    format!(
        "hits={} misses={} coalesced={} lookups={lookups}",
        counters.hits, counters.misses, counters.coalesced
    )
}

#[allow(dead_code)] // The loopback test includes this file and serves `app` itself.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(AppState::new())).await
}
