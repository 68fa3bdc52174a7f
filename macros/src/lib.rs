//! `#[ttl_cache]`: memoize a function with a TTL, in one line. Re-exported by
//! [jwm-cache](https://docs.rs/jwm-cache), whose docs describe it.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod call;
mod crate_path;
mod duration;
mod entries;
mod expand;
mod handle;
mod key;
mod option_reads;
mod options;
mod refusals;
mod signature;
mod storage;

use proc_macro::TokenStream;
use syn::{ItemFn, parse_macro_input};

/// Memoizes a function with a TTL, in one line: the function keeps its signature, and a
/// static named after it holds its cache. Examples: the
/// [crate documentation](https://docs.rs/jwm-cache).
///
/// ```text
/// #[ttl_cache]                                  // 60 s, in memory
/// #[ttl_cache(ttl = "30s")]                     // also "250ms", "5m", "1h", "2d", "never"
/// #[ttl_cache(ttl = "1h", time_to_idle = "5m")]  // also gone after 5 minutes unread
/// #[ttl_cache(ttl = "5m", refresh_after = "4m", stale_if_error = "1h")]
/// #[ttl_cache(backend = redis(url = "redis://127.0.0.1/"), lease = "10s")]
/// #[ttl_cache(backend = redis(url = "redis://127.0.0.1/", near = 10_000))]
/// #[ttl_cache(backend = redis(cluster = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]))]
/// #[ttl_cache(ttl_ms = 30_000, identifier = "geo", capacity = 10_000, shards = 16,
///             serializer = postcard, clock = system, single_flight = false, cache_none = false)]
/// #[ttl_cache(ttl = "5m", backend = redis(url = "redis://127.0.0.1/", prefix = "app:",
///             timeout = "250ms"), serializer = json)]
/// #[ttl_cache(key = city.to_lowercase())]      // the key's PersistentHash digest
/// #[ttl_cache(clock = manual(CLOCK))]           // a static ManualClock: deterministic tests
/// #[ttl_cache(clock = scoped)]                  // system time, or a test's installed clock
/// ```
///
/// For example, with a clock the test moves:
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::{CacheControls, ManualClock, ttl_cache};
///
/// static CLOCK: ManualClock = ManualClock::new();
///
/// #[ttl_cache(ttl = "30s", clock = manual(CLOCK))]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// assert_eq!(square(12), 144); // computed
/// assert_eq!(square(12), 144); // a hit
/// assert_eq!(SQUARE.cache_info().hits, 1);
/// CLOCK.advance(Duration::from_secs(30));
/// assert_eq!(square(12), 144); // expired: computed again
/// assert_eq!(SQUARE.cache_info().misses, 2);
/// ```
///
/// - **Functions**: sync and `async`, generic or not, and `&self` methods of inherent
///   `impl` blocks. The function keeps its signature, attributes and visibility (an
///   `expect` stays on the body; the wrapper gets it as an `allow`). Not in a trait's
///   `impl` block or definition, nor an associated function without `self`: the
///   attribute adds items beside the function (its handle, and a method's compute
///   function), which those places do not take; wrap such a function in a
///   `jwm_cache::Memoized` or `MemoizedMethod` instead (`AsyncMemoized`,
///   `AsyncMemoizedMethod` for an `async fn`).
/// - **Key**: every argument, as a tuple; `#[ttl_cache::ignore]` on a parameter leaves
///   it out. An owned argument is cloned into the key; a borrowed one (`&str`, `&[T]`,
///   `&Path`, `&T`) is kept in its owned form (`String`, `Vec<T>`, `PathBuf`, `T`, by
///   `ToOwned`), which hashes and digests as the borrowed value does, so equal values
///   hit whatever buffer they come from. What is kept must be
///   `Hash + Eq + Clone + Send + Sync + 'static` (and `PersistentHash` over Redis).
///   `key = <expression>` replaces them: the key is the expression's `PersistentHash`
///   digest, which does not name its type (so `&str` and `String` keys share), as a
///   Redis name must stay the same across builds and compilers. Functions sharing a
///   named identifier with key expressions should give them one type: values of two
///   types that encode alike (`1u64` and `(1u32, 0u32)`) share an entry. The expression
///   runs before the function, which then takes its arguments: borrow an owned one
///   rather than move it (`key = (&user, page)`; a reference digests as its value).
/// - **Methods**: `key = |shape| shape.id` projects the receiver, whose digest enters the
///   key with the arguments (the whole receiver's, without `key`); an expression may
///   also name `self`. The cache is `Shape::area_cache()`. Each receiver type keeps its
///   own cache (a generic `impl` block serves many), so it must be `'static`.
/// - **Generic functions and methods** keep one cache per instantiation, told apart by
///   the type arguments' `TypeId`s (`largest::<u32>` never shares with `largest::<u64>`,
///   nor one closure argument's instantiation with another's); an `impl Trait`
///   argument left out of the key (ignored, or under `key = ...`) is not a type
///   parameter one can name, so its types share one cache, as suits a logger: name
///   it as a type parameter (`F: Fn(u32) -> u32`) when its type changes the result.
///   The identifier of each is the function's with the type names appended. Type parameters must be `'static`;
///   const parameters are refused. In Redis, instantiations are told apart by those
///   names: two closures in one function have the same name, so give such functions a
///   key that tells them apart.
/// - **Results**: `result = true` caches only `Ok` of any `Result` type, aliases
///   included, and `result = false` caches every value whole. Without it, a return type
///   written `Result<T, E>` caches only `Ok`; callers
///   waiting on the same computation get its `Err`, cloned (`E: Clone + Send + 'static`).
///   For an error type that is not `Clone` (`anyhow::Result<T>`, `io::Result<T>`), write
///   `shared_errors = false`: waiters then compute again when the call fails. One written `Option<T>` caches `None` like any other value
///   unless `cache_none = false`. The spelling decides: an
///   alias of `Result` is cached whole.
/// - **Identifier**: `module_path::function@file:line:column` of the attribute by default
///   (methods and generic functions add the type names), unique to the function and the
///   same in every process running the build. A named identifier (a string, or an
///   expression read on the first call) shares a cache between the functions under it
///   with the same types, each storing with its own TTL; they must agree on the clock,
///   capacity, time-to-idle, `refresh_after`, `stale_if_error`, single-flight, lease
///   and backend settings (a server's address, prefix and timeout), or the first call
///   panics naming both. A default one never shares in
///   memory.
///   An `identifier` or `url` expression that panics poisons the function's static,
///   as any panicking static initializer does.
/// - **Backend**: `memory` (default; values stored as they are unless a serializer is
///   named), or `redis(url = ...)`, where `url` is any expression of a `&str`-like type,
///   evaluated on the first call, or `redis(cluster = [...])`, the seed URLs of a Redis
///   Cluster (any expression that is `AsRef<[S]>`, `S: AsRef<str>`: an array, a `Vec`,
///   a slice); values are postcard (default) or JSON. A malformed URL
///   or a dead server costs counted errors (`cache_info().errors`), never a wrong value:
///   the function computes. `near = 10_000` puts a near tier in front
///   (`jwm_cache::NearBackend`): up to that many decoded values in process memory, hit
///   with no I/O, and retired when any process changes them. A sync function reaches Redis through
///   `jwm_cache::Bridge::shared()`, or `bridge = <expression>`; its first call panics
///   only if the OS cannot start that bridge's thread.
/// - **Clock**: as named; by default `coarse` for TTLs of a second or more and `system`
///   for shorter ones, and `coarse` for any TTL under a named identifier (so that the
///   functions sharing it agree without naming one; name it on all of them, or on
///   none). The coarse clock's reading lags by its 1 ms period plus any delay
///   the OS gives its refreshing thread (a background thread woken every millisecond),
///   so an entry's life is off by about 0.1% of a one-second TTL; a read costs one
///   atomic load instead of ~32 ns. `scoped` is `jwm_cache::ScopedClock`: the system
///   clock, except on a thread where a test installed a `ManualClock`, so one
///   attribute serves production and tests.
/// - **Refresh ahead**: with `refresh_after = "4m"` (below the TTL), a hit on an entry
///   older than that returns at once and recomputes it in the background, once per key:
///   an async function on a task of the caller's runtime, a sync one on the library's
///   refresh threads. A refresh that fails keeps the old value until its TTL ends, and
///   its key starts no refresh for a quarter of `refresh_after` (at most a minute). The
///   function is called again from the key alone, so it must be a plain function of
///   owned arguments, all in the key (no method, generic, `&` argument, `key = ...` or
///   ignored argument).
/// - **Serve stale on error**: with `stale_if_error = "1h"`, an entry is kept that long
///   past its TTL, never as a hit, but returned when the function fails (`Err`, or
///   `None` with `cache_none = false`) instead of the failure.
/// - **One computation per key across processes**: with Redis, `lease = "10s"` lets the
///   first process that misses compute while the others wait for its value (each at
///   most the lease plus the timeout). Choose it longer than the computation.
/// - **Crate path**: the expansion names jwm-cache as `::jwm_cache`; `crate =
///   ::facade::cache` (or `crate = "facade::cache"`) names it where a `Cargo.toml`
///   renames it or another crate re-exports it.
/// - **Cache options**: `capacity`, `shards` and `single_flight` take any expression and
///   are the cache builders' setters of the same name (see `jwm_cache::backend::Options`).
/// - **Handle**: a static named after the function in upper case (`fib` → `FIB`),
///   of a type of the same name that derefs to a `jwm_cache::FnCache` and has its
///   controls: `cache_info()`, `cache_clear()` and `cache_parameters()` from
///   `jwm_cache::CacheControls` (`AsyncCacheControls`, awaited, for an async function),
///   so `&FIB` is an `impl CacheControls`; and per-entry
///   `cache_remove(args…)`, `cache_set(args…, value)` and `cache_prime(args…)` (calls
///   the function and stores its result), which take the function's own arguments and
///   compute its key as a call does. A generic function's handle is a
///   `jwm_cache::GenericFnCache`, whose controls span its instantiations; a method's
///   is `Type::method_cache()`. Neither has the per-entry methods yet.
/// - **Compile errors** point at the offending token: an unknown option, a bad or
///   negative duration, a key argument that is `&mut`, unhashable, `impl Trait` or a
///   borrow with no owned form (`&dyn Trait`), an option that reads `self` or an
///   argument (options are read once, on the first call), a `bridge`
///   on an async function, an in-memory-only option with Redis, a `lease` without it,
///   a `refresh_after` not below the TTL or on a function it cannot call again.
#[proc_macro_attribute]
pub fn ttl_cache(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attribute as options::Options);
    let function = parse_macro_input!(item as ItemFn);
    let path = options.crate_path.clone();
    let expansion =
        expand::expand(options, function).unwrap_or_else(syn::Error::into_compile_error);
    match path {
        Some(path) => crate_path::rebased(expansion, &path).into(),
        None => expansion.into(),
    }
}

#[cfg(test)]
mod expansion_tests;
