#[doc(hidden)]
fn __jwm_cache_compute_fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}
/// Fibonacci, memoized with the defaults: a 60 s TTL, in memory.
pub fn fib(n: u64) -> u64 {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<u64>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<u64>();
    }
    let __jwm_cache_key = ::core::clone::Clone::clone(&n);
    match FIB
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::backend::DEFAULT_TTL,
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_fib(n))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_fib = ::jwm_cache::SyncCache<
    u64,
    u64,
    ::jwm_cache::memory::MemoryBackend<
        u64,
        <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<u64>>::Encoded,
    >,
    ::jwm_cache::codec::Identity,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`fib`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
pub static FIB: FIB = FIB {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(fib), "@",
                ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
            );
            let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
                &__jwm_cache_named,
            );
            ::jwm_cache::FnCache::listed(
                ::jwm_cache::SyncCacheBuilder::new()
                    .identifier(__jwm_cache_identifier)
                    .serializer(::jwm_cache::codec::Identity)
                    .clock(::jwm_cache::time::CoarseClock)
                    .build(),
            )
        })
        .with_ttl(::jwm_cache::backend::DEFAULT_TTL),
};
/// The type of [`FIB`](static@FIB), the handle on [`fib`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `fib`'s arguments.
#[allow(non_camel_case_types)]
pub struct FIB {
    cache: ::jwm_cache::FnCache<__JwmCache_fib>,
}
impl ::core::ops::Deref for FIB {
    type Target = ::jwm_cache::FnCache<__JwmCache_fib>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_fib> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for FIB {
    type Cache = __JwmCache_fib;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl FIB {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    pub fn cache_remove(
        &self,
        n: u64,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<u64>>::Error,
        >,
    > {
        let _ = &n;
        let __jwm_cache_key = ::core::clone::Clone::clone(&n);
        self.cache.cache().remove(&__jwm_cache_key)
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    pub fn cache_set(
        &self,
        n: u64,
        value: u64,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<u64>>::Error,
        >,
    > {
        let _ = &n;
        let __jwm_cache_key = ::core::clone::Clone::clone(&n);
        self.cache
            .cache()
            .insert_with_ttl(__jwm_cache_key, value, ::jwm_cache::backend::DEFAULT_TTL)
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    pub fn cache_prime(&self, n: u64) -> u64 {
        let __jwm_cache_key = ::core::clone::Clone::clone(&n);
        let __jwm_cache_value = __jwm_cache_compute_fib(n);
        let _counted = self
            .cache
            .cache()
            .insert_with_ttl(
                __jwm_cache_key,
                ::core::clone::Clone::clone(&__jwm_cache_value),
                ::jwm_cache::backend::DEFAULT_TTL,
            );
        __jwm_cache_value
    }
}
