/// The cache of [`population`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static POPULATION: ::jwm_cache::FnCache<
    ::jwm_cache::SyncCache<
        ::jwm_cache::Digest,
        u64,
        ::jwm_cache::MemoryBackend<
            ::jwm_cache::Digest,
            <::jwm_cache::Identity as ::jwm_cache::Serializer<u64>>::Encoded,
        >,
        ::jwm_cache::Identity,
        ::jwm_cache::ManualClock,
    >,
> = ::jwm_cache::FnCache::new(|| {
        let __jwm_cache_named = ::core::concat!(
            ::core::module_path!(), "::", ::core::stringify!(population), "@",
            ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
        );
        let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
            &__jwm_cache_named,
        );
        ::std::sync::Arc::new(
            ::jwm_cache::SyncCacheBuilder::new()
                .identifier(__jwm_cache_identifier)
                .serializer(::jwm_cache::Identity)
                .clock(::jwm_cache::ManualClock::clone(&CLOCK))
                .build(),
        )
    })
    .with_ttl(::jwm_cache::DEFAULT_TTL);
fn population(city: &str) -> u64 {
    #[doc(hidden)]
    fn __jwm_cache_compute_population(city: &str) -> u64 {
        census(city)
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
    let ::core::result::Result::Ok(__jwm_cache_digest) = ::jwm_cache::PersistentDigest::persistent_digest(
        &(city.to_lowercase()),
    ) else {
        return __jwm_cache_compute_population(city);
    };
    let __jwm_cache_key = __jwm_cache_digest;
    match POPULATION
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::DEFAULT_TTL,
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_population(city))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
