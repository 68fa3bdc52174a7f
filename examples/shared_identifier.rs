//! Sharing a cache between functions: by identifier, or by handing over the cache.
//!
//! Run with `cargo run --example shared_identifier`.

use std::sync::Arc;

use jwm_cache::{CacheControls, Memoized, SyncCache};

fn main() {
    // Same identifier: the second function finds the first one's entries.
    let to_celsius = Memoized::builder(|f: i64| (f - 32) * 5 / 9)
        .identifier("temperature")
        .build();
    let also_to_celsius = Memoized::builder(|f: i64| (f - 32) * 5 / 9)
        .identifier("temperature")
        .build();
    to_celsius.call(212);
    also_to_celsius.call(212);
    println!("shared by identifier: {:?}", also_to_celsius.cache_info());

    // Another identifier never sees them.
    let other = Memoized::builder(|f: i64| f).identifier("other").build();
    other.call(212);
    println!("another identifier:   {:?}", other.cache_info());

    // cache_clear on one clears the shared namespace and the counters both see.
    to_celsius.cache_clear();
    println!("after clearing one:   {:?}", also_to_celsius.cache_info());

    // Or hand the same cache to several functions explicitly.
    let cache: Arc<SyncCache<String, usize>> = Arc::new(SyncCache::new());
    let chars = Memoized::with_cache(|s: String| s.chars().count(), Arc::clone(&cache));
    let also_chars = Memoized::with_cache(|s: String| s.chars().count(), cache);
    chars.call("héllo".into());
    println!(
        "explicit sharing: {} (a hit)",
        also_chars.call("héllo".into())
    );
    println!("{:?}", also_chars.cache_info());
}
