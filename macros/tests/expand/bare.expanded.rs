/// The cache of [`fib`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
pub static FIB: ::jwm_cache::FnCache<
    ::jwm_cache::SyncCache<
        u64,
        u64,
        ::jwm_cache::MemoryBackend<
            u64,
            <::jwm_cache::Identity as ::jwm_cache::Serializer<u64>>::Encoded,
        >,
        ::jwm_cache::Identity,
        ::jwm_cache::CoarseClock,
    >,
> = ::jwm_cache::FnCache::new(|| {
        let __jwm_cache_named = ::core::concat!(
            ::core::module_path!(), "::", ::core::stringify!(fib), "@", ::core::file!(),
            ":", ::core::line!(), ":", ::core::column!()
        );
        let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
            &__jwm_cache_named,
        );
        ::std::sync::Arc::new(
            ::jwm_cache::SyncCacheBuilder::new()
                .identifier(__jwm_cache_identifier)
                .serializer(::jwm_cache::Identity)
                .clock(::jwm_cache::CoarseClock)
                .build(),
        )
    })
    .with_ttl(::jwm_cache::DEFAULT_TTL);
/// Fibonacci, memoized with the defaults: a 60 s TTL, in memory.
pub fn fib(n: u64) -> u64 {
    #[doc(hidden)]
    fn __jwm_cache_compute_fib(n: u64) -> u64 {
        if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
    }
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::Identity: ::jwm_cache::Serializer<V>,
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
            ::jwm_cache::DEFAULT_TTL,
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
