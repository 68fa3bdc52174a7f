//! `Options`: every setting of a cache in one value, and the setters every builder shares.

use alloc::string::String;

use crate::codec::Identity;
use crate::time::Ttl;

/// The TTL of entries in a cache built without one: 60 seconds.
pub const DEFAULT_TTL: Ttl = Ttl::from_secs(60);
/// The identifier of a cache built without one.
pub const DEFAULT_IDENTIFIER: &str = "default";

/// Every setting of a cache, in one value: what each builder and `#[ttl_cache]` fill in.
///
/// Every builder holds one and offers the same setters, written once; `#[ttl_cache]`
/// passes `capacity`, `shards` and `single_flight` straight to them. Settings a cache
/// does not use are ignored by it: the single-threaded [`Cache`](crate::Cache) has no
/// shards and no single-flight, and a builder's `build_with_backend` leaves the
/// capacity to the backend.
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::{Options, ManualClock, Ttl};
///
/// let options = Options::new(ManualClock::new()).ttl(Duration::from_secs(5)).capacity(10);
/// assert_eq!((options.ttl, options.capacity), (Ttl::from_secs(5), Some(10)));
/// assert_eq!(options.identifier_or_default(), "default");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options<S, C> {
    /// The TTL of entries stored without one (default 60 s).
    pub ttl: Ttl,
    /// How long an entry of the memory backend lives without a read (default
    /// [`Ttl::NEVER`]: no limit). Only the built-in memory stores use it: a backend
    /// handed to `build_with_backend` has its own. Not with `refresh_after` or
    /// `stale_if_error` (see [`idle_limit`](Self::idle_limit)).
    pub time_to_idle: Ttl,
    /// How old an entry must be for a hit to recompute it in the background (default
    /// `None`: never). Only memoized calls refresh: they own their function.
    pub refresh_after: Option<Ttl>,
    /// How long an entry is kept past its TTL, as the fallback for a computation that
    /// fails (default zero: not kept).
    pub stale_if_error: Ttl,
    /// How long a key's lease in a backend shared across processes (Redis) outlives the
    /// process that holds it, which renews it while it computes the missing key, so
    /// that one computation per key runs in the whole fleet and a write through a
    /// leasing cache keeps a computation under the lease begun before it from storing
    /// (default `None`: each process computes on its own, unfenced). Only async
    /// backends that implement leases use it (`RedisBackend`, also under a sync
    /// function's `BlockingCache`); misses take leases only with single-flight on,
    /// while writes revoke them regardless.
    pub lease: Option<Ttl>,
    /// The namespace of the cache's entries, if one was given.
    pub identifier: Option<String>,
    /// The most entries (or, with a weigher, the most weight) the memory backend holds.
    pub capacity: Option<usize>,
    /// The number of locks a thread-safe cache spreads its keys over.
    pub shards: Option<usize>,
    /// Whether concurrent misses on one key run the computation once (default on).
    pub single_flight: bool,
    /// The codec.
    pub serializer: S,
    /// The clock.
    pub clock: C,
}

impl<C> Options<Identity, C> {
    /// The defaults, with `clock`: 60 s TTL, no identifier, unbounded, [`Identity`],
    /// single-flight on, shards chosen by the cache.
    pub fn new(clock: C) -> Self {
        Options {
            ttl: DEFAULT_TTL,
            time_to_idle: Ttl::NEVER,
            refresh_after: None,
            stale_if_error: Ttl::ZERO,
            lease: None,
            identifier: None,
            capacity: None,
            shards: None,
            single_flight: true,
            serializer: Identity,
            clock,
        }
    }
}

impl<S, C> Options<S, C> {
    /// The time to idle the built-in memory stores apply: [`time_to_idle`](Self::time_to_idle),
    /// unless `refresh_after` or `stale_if_error` is set. Those go by an entry's age
    /// since its write, which an idle deadline would hide (a stale entry would look
    /// expired, and every read would miss): with either, entries expire by their TTL
    /// alone.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{ManualClock, Options, Ttl};
    ///
    /// let idle = Options::new(ManualClock::new()).time_to_idle(Duration::from_secs(5));
    /// assert_eq!(idle.idle_limit(), Ttl::from_secs(5));
    /// let stale = idle.stale_if_error(Duration::from_secs(60));
    /// assert_eq!(stale.idle_limit(), Ttl::NEVER);
    /// ```
    pub fn idle_limit(&self) -> Ttl {
        if self.reads_ttl_from_deadlines() {
            Ttl::NEVER
        } else {
            self.time_to_idle
        }
    }

    /// Whether the cache reads an entry's deadline as the end of its TTL (plus the stale
    /// window), to time a refresh or the stale window: `refresh_after` or
    /// `stale_if_error` is set. Time-to-idle would cut those deadlines short.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{ManualClock, Options};
    ///
    /// let options = Options::new(ManualClock::new());
    /// assert!(!options.reads_ttl_from_deadlines());
    /// assert!(options.refresh_after(Duration::from_secs(5)).reads_ttl_from_deadlines());
    /// ```
    pub fn reads_ttl_from_deadlines(&self) -> bool {
        self.refresh_after.is_some() || !self.stale_if_error.is_zero()
    }

    /// The identifier: the one given, else [`DEFAULT_IDENTIFIER`].
    pub fn identifier_or_default(&self) -> &str {
        self.identifier.as_deref().unwrap_or(DEFAULT_IDENTIFIER)
    }

    /// The TTL of entries stored without one: a [`Duration`](core::time::Duration)
    /// (saturating) or a [`Ttl`], such as [`Ttl::NEVER`].
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.ttl = ttl.into();
        self
    }

    /// How long an entry of the memory backend lives without a read: each read
    /// extends it, up to the entry's TTL. Whichever deadline comes first wins. Not with
    /// `refresh_after` or `stale_if_error`: see [`idle_limit`](Self::idle_limit).
    pub fn time_to_idle(mut self, limit: impl Into<Ttl>) -> Self {
        self.time_to_idle = limit.into();
        self
    }

    /// How old an entry must be for a memoized hit to recompute it in the background;
    /// the hit still returns the entry's value at once.
    pub fn refresh_after(mut self, age: impl Into<Ttl>) -> Self {
        self.refresh_after = Some(age.into());
        self
    }

    /// How long an entry is kept past its TTL, not as a hit but as the value a memoized
    /// call returns when its computation fails.
    pub fn stale_if_error(mut self, window: impl Into<Ttl>) -> Self {
        self.stale_if_error = window.into();
        self
    }

    /// How long a key's lease in a backend shared across processes outlives its
    /// holder, the process computing the missing key: the holder renews it while it
    /// computes (Redis does), so one that dies frees the key within this long, and the
    /// other processes wait for its value at most this plus the backend's timeout.
    pub fn lease(mut self, lease: impl Into<Ttl>) -> Self {
        self.lease = Some(lease.into());
        self
    }

    /// The namespace of the cache's entries.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }

    /// The most entries the memory backend holds; W-TinyLFU evicts beyond it.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The number of shards, rounded up to a power of two and kept within 1..=4096.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.clamp(1, 4096).next_power_of_two());
        self
    }

    /// Whether concurrent misses on one key run the computation once (the default) or
    /// once per caller.
    pub fn single_flight(mut self, on: bool) -> Self {
        self.single_flight = on;
        self
    }

    /// The codec, replaced by `f` of the current one: for a wrapper such as
    /// [`Stamped`](crate::Stamped).
    pub fn map_serializer<S2>(self, f: impl FnOnce(S) -> S2) -> Options<S2, C> {
        self.with_parts(|serializer, clock| (f(serializer), clock, ()))
            .0
    }

    /// The codec, taken out, and these settings with `replacement` in its place: for a
    /// backend that encodes values itself (a near tier stores decoded ones).
    pub fn swap_serializer<S2>(self, replacement: S2) -> (Options<S2, C>, S) {
        self.with_parts(|serializer, clock| (replacement, clock, serializer))
    }

    /// The clock.
    pub fn clock<C2>(self, clock: C2) -> Options<S, C2> {
        self.with_parts(|serializer, _| (serializer, clock, ())).0
    }

    /// The same settings with the codec and clock `f` makes of these, and what else `f`
    /// returns: the one place that lists every field, since Rust has no type-changing
    /// struct update.
    fn with_parts<S2, C2, X>(self, f: impl FnOnce(S, C) -> (S2, C2, X)) -> (Options<S2, C2>, X) {
        let (serializer, clock, extra) = f(self.serializer, self.clock);
        let options = Options {
            ttl: self.ttl,
            time_to_idle: self.time_to_idle,
            refresh_after: self.refresh_after,
            stale_if_error: self.stale_if_error,
            lease: self.lease,
            identifier: self.identifier,
            capacity: self.capacity,
            shards: self.shards,
            single_flight: self.single_flight,
            serializer,
            clock,
        };
        (options, extra)
    }
}

/// The setters of [`Options`], for a builder that holds one: written once here, so a
/// new option reaches every builder at once.
///
/// Invoke it inside `impl<.., S, C, ..> Builder<.., S, C, ..>`, naming the builder with
/// its parameters before `S` and `C` in brackets, optionally those after them in a
/// second pair (`option_setters!(MyBuilder[T,][, W]; ttl, capacity)`), and listing the
/// options the builder takes, or `all`. The builder provides
/// `fn with_options<S2, C2>(self, f: impl FnOnce(Options<S, C>) -> Options<S2, C2>) -> MyBuilder<.., S2, C2, ..>`.
#[macro_export]
#[doc(hidden)]
macro_rules! option_setters {
    // Every option: the thread-safe caches' builders take them all.
    ($builder:ident $params:tt; $($options:tt)*) => {
        $crate::option_setters!($builder $params []; $($options)*);
    };
    ($builder:ident $params:tt $after:tt; all) => {
        $crate::option_setters!(
            $builder $params $after;
            ttl, time_to_idle, refresh_after, stale_if_error, lease, identifier, capacity, shards, single_flight, serializer, clock
        );
    };
    ($builder:ident $params:tt $after:tt; $($option:ident),* $(,)?) => {
        $($crate::option_setters!(@$option $builder $params $after);)*
    };
    (@ttl $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The TTL of entries stored without one (default 60 s): a
        /// [`Duration`](core::time::Duration) (saturating) or a `Ttl`, such as `Ttl::NEVER`.
        pub fn ttl(self, ttl: impl ::core::convert::Into<$crate::Ttl>) -> Self {
            self.with_options(|options| options.ttl(ttl))
        }
    };
    (@time_to_idle $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// How long an entry of the built-in memory backend lives without a read (default:
        /// no limit). Each read extends it, never past the entry's TTL: whichever deadline
        /// comes first wins. Expiry by idleness is reclaimed as the TTL's is, by the timer
        /// wheel, with no thread. Not used with `refresh_after` or `stale_if_error`,
        /// which go by an entry's age since its write.
        pub fn time_to_idle(self, limit: impl ::core::convert::Into<$crate::Ttl>) -> Self {
            self.with_options(|options| options.time_to_idle(limit))
        }
    };
    (@refresh_after $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// How old an entry must be for a memoized hit to recompute it in the background
        /// (default: never). The hit returns the cached value at once; one refresh runs
        /// per key at a time, and its value replaces the old one with a fresh TTL. A
        /// refresh that fails leaves the old value until its TTL ends, and is counted in
        /// `refresh_failures`. Async functions refresh on a task of the caller's
        /// runtime, sync ones on a small pool of the library's threads. An age at or
        /// past the TTL never refreshes.
        pub fn refresh_after(self, age: impl ::core::convert::Into<$crate::Ttl>) -> Self {
            self.with_options(|options| options.refresh_after(age))
        }
    };
    (@stale_if_error $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// How long an entry is kept past its TTL as a fallback (default: not kept). It
        /// is no longer a hit, but a memoized call that misses and whose computation
        /// fails returns it instead of the error (counted in `stale_served`). The
        /// backend holds each entry that much longer, so it counts in its size.
        pub fn stale_if_error(self, window: impl ::core::convert::Into<$crate::Ttl>) -> Self {
            self.with_options(|options| options.stale_if_error(window))
        }
    };
    (@lease $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// One computation per key across the processes that share a backend (Redis):
        /// the process that misses first takes the key's lease, renews it while it
        /// computes, stores under it and gives it back; the others wait for its value,
        /// each at most the lease plus the backend's timeout (then they compute, and
        /// store only under the holder's lease). A holder that dies frees the key within
        /// this long. A write of the key through a cache that leases (`insert`,
        /// `remove`, `clear`), in any process, takes the lease, and the holder's store
        /// is then refused: a value computed under the lease before such a write never
        /// lands after it (see the backend's docs for what is not fenced). A background
        /// refresh takes the lease too; it is skipped while another process holds it,
        /// and fails if the backend cannot tell. If the server cannot be reached, each
        /// process computes once on its own. Only backends that lease (`RedisBackend`)
        /// use it; misses take leases only with single-flight on. A lease of zero, or
        /// one that never ends ([`Ttl::NEVER`](crate::Ttl::NEVER), or a `Duration` too
        /// long for a `Ttl`), is no lease: a holder that died would hold its key for
        /// ever.
        pub fn lease(self, lease: impl ::core::convert::Into<$crate::Ttl>) -> Self {
            self.with_options(|options| options.lease(lease))
        }
    };
    (@identifier $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The namespace of the cache's entries (for memoized functions, naming one
        /// shares its cache with the others under that identifier).
        pub fn identifier(self, identifier: impl ::core::convert::Into<$crate::__private::String>) -> Self {
            self.with_options(|options| options.identifier(identifier))
        }
    };
    (@capacity $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The most entries the built-in memory backend keeps, or with a weigher the most
        /// total weight; W-TinyLFU evicts beyond it. A sharded cache's shards share it, each
        /// evicting its own entries once the whole cache is full (a capacity also caps
        /// the shards at one per 1024).
        pub fn capacity(self, capacity: usize) -> Self {
            self.with_options(|options| options.capacity(capacity))
        }
    };
    (@shards $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The number of shards, rounded up to a power of two and kept within 1..=4096.
        /// Each is one lock.
        pub fn shards(self, shards: usize) -> Self {
            self.with_options(|options| options.shards(shards))
        }
    };
    (@single_flight $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// Whether concurrent misses on one key run the computation once (the default)
        /// or once per caller.
        pub fn single_flight(self, on: bool) -> Self {
            self.with_options(|options| options.single_flight(on))
        }
    };
    (@serializer $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The codec (default `Identity`: values stored as they are).
        pub fn serializer<S2>(self, serializer: S2) -> $builder<$($param)* S2, C $($after)*> {
            self.with_options(|options| options.map_serializer(|_| serializer))
        }

        /// The codec, replaced by `f` of the current one: for a wrapper such as
        /// `Stamped`.
        pub fn map_serializer<S2>(self, f: impl FnOnce(S) -> S2) -> $builder<$($param)* S2, C $($after)*> {
            self.with_options(|options| options.map_serializer(f))
        }
    };
    (@clock $builder:ident [$($param:tt)*] [$($after:tt)*]) => {
        /// The clock; a `ManualClock` makes tests deterministic.
        pub fn clock<C2>(self, clock: C2) -> $builder<$($param)* S, C2 $($after)*> {
            self.with_options(|options| options.clock(clock))
        }
    };
}
