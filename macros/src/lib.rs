//! `#[ttl_cache]`: memoize a function with a TTL, in one line. Re-exported by
//! [jwm-cache](https://docs.rs/jwm-cache), whose docs describe it.
#![deny(missing_docs)]

mod duration;
mod expand;
mod options;
mod signature;
mod storage;

use proc_macro::TokenStream;
use syn::{ItemFn, parse_macro_input};

/// Memoizes a function with a TTL, in memory.
///
/// ```text
/// #[ttl_cache]                                  // 60 s
/// #[ttl_cache(ttl = "30s")]                     // also "250ms", "5m", "1h", "2d", "never"
/// #[ttl_cache(ttl_ms = 30_000, identifier = "geo", capacity = 10_000,
///             serializer = postcard, clock = coarse, single_flight = false, cache_none = false)]
/// #[ttl_cache(clock = manual(CLOCK))]           // a static ManualClock: deterministic tests
/// ```
///
/// - Works on sync and `async` functions and `&self` methods (not yet on generic
///   functions: use `Memoized` or `AsyncMemoized`). The function keeps its signature,
///   attributes and visibility.
/// - **Methods**: `key = |s: &Shape| s.id` projects the receiver; its
///   `PersistentHash` digest enters the key (the whole receiver's, without `key`).
///   The cache is `Shape::area_cache()`.
/// - **Key**: every argument, cloned, as a tuple; `#[ttl_cache::ignore]` on a parameter
///   leaves it out. Key arguments must be owned and `Hash + Eq + Clone`.
/// - **Results**: a `Result` caches only `Ok`; an `Option` caches `None` like any value
///   (as the Python original does) unless `cache_none = false`.
/// - **Identifier**: `module_path::function` by default, the same in every process;
///   functions under one identifier with the same types share a cache.
/// - **Handle**: a static named after the function in upper case (`fib` → `FIB`), a
///   `jwm_cache::FnCache`, with `cache_info()`, `cache_clear()` and
///   `cache_parameters()` (awaited for an async function's `cache_info`/`cache_clear`).
/// - Mistakes are compile errors at the offending token: an unknown option, a bad
///   duration, a borrowed or unhashable key argument.
#[proc_macro_attribute]
pub fn ttl_cache(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attribute as options::Options);
    let function = parse_macro_input!(item as ItemFn);
    expand::expand(options, function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
mod expansion_tests;
