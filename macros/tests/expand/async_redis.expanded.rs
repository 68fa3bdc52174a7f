/// The cache of [`lookup`]: `cache_info().await`, `cache_clear().await` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static LOOKUP: ::jwm_cache::FnCache<
    ::jwm_cache::AsyncCache<
        String,
        Coords,
        ::jwm_cache::RedisBackend<String>,
        ::jwm_cache::Stamped<::jwm_cache::Json, String>,
        ::jwm_cache::CoarseClock,
    >,
> = ::jwm_cache::FnCache::new(|| {
        let __jwm_cache_named = "geo";
        let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
            &__jwm_cache_named,
        );
        ::jwm_cache::FnCache::shared(
            __jwm_cache_identifier,
            || {
                ::jwm_cache::AsyncCacheBuilder::new()
                    .identifier(__jwm_cache_identifier)
                    .ttl(::core::time::Duration::from_millis(300000u64))
                    .serializer(::jwm_cache::Stamped::new(::jwm_cache::Json))
                    .clock(::jwm_cache::CoarseClock)
                    .build_with_backend(
                        ::jwm_cache::RedisBackend::open_deferring_errors(
                            ::core::convert::AsRef::<
                                str,
                            >::as_ref(&("redis://127.0.0.1/")),
                            ::jwm_cache::RedisOptions::default().prefix("app:"),
                        ),
                    )
            },
        )
    })
    .with_ttl(::jwm_cache::Ttl::from_millis(300000u64));
async fn lookup(city: String, client: &Client) -> Result<Coords, Error> {
    #[doc(hidden)]
    async fn __jwm_cache_compute_lookup(
        city: String,
        client: &Client,
    ) -> Result<Coords, Error> {
        client.locate(&city).await
    }
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::Stamped<::jwm_cache::Json, ()>: ::jwm_cache::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<Coords>();
    }
    {
        fn __jwm_cache_error_is_shareable<
            E: ::core::clone::Clone + ::core::marker::Send + 'static,
        >() {}
        __jwm_cache_error_is_shareable::<Error>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static
                + ::jwm_cache::PersistentHash,
        >() {}
        __jwm_cache_key_is_fit::<String>();
    }
    let __jwm_cache_key = ::core::clone::Clone::clone(&city);
    LOOKUP
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::Ttl::from_millis(300000u64),
            || __jwm_cache_compute_lookup(city, client),
        )
        .await
}
