#[doc(hidden)]
async fn __jwm_cache_compute_lookup(
    city: String,
    client: &Client,
) -> Result<Coords, Error> {
    client.locate(&city).await
}
async fn lookup(city: String, client: &Client) -> Result<Coords, Error> {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Stamped<
                ::jwm_cache::codec::Json,
                (),
            >: ::jwm_cache::codec::Serializer<V>,
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
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_lookup = ::jwm_cache::AsyncCache<
    String,
    Coords,
    ::jwm_cache::RedisBackend<String>,
    ::jwm_cache::codec::Stamped<::jwm_cache::codec::Json, String>,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`lookup`]: `cache_info().await`, `cache_clear().await` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static LOOKUP: LOOKUP = LOOKUP {
    cache: ::jwm_cache::FnCache::new(|| {
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
                        .serializer(
                            ::jwm_cache::codec::Stamped::new(::jwm_cache::codec::Json),
                        )
                        .clock(::jwm_cache::time::CoarseClock)
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
        .with_ttl(::jwm_cache::Ttl::from_millis(300000u64)),
};
/// The type of [`LOOKUP`](static@LOOKUP), the handle on [`lookup`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `lookup`'s arguments.
#[allow(non_camel_case_types)]
struct LOOKUP {
    cache: ::jwm_cache::FnCache<__JwmCache_lookup>,
}
impl ::core::ops::Deref for LOOKUP {
    type Target = ::jwm_cache::FnCache<__JwmCache_lookup>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_lookup> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for LOOKUP {
    type Cache = __JwmCache_lookup;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl LOOKUP {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    async fn cache_remove(
        &self,
        city: String,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::Error<
            ::jwm_cache::error::RedisBackendError,
            <::jwm_cache::codec::Stamped<
                ::jwm_cache::codec::Json,
                String,
            > as ::jwm_cache::codec::Serializer<Coords>>::Error,
        >,
    > {
        let _ = &city;
        let __jwm_cache_key = ::core::clone::Clone::clone(&city);
        self.cache.cache().remove(&__jwm_cache_key).await
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    async fn cache_set(
        &self,
        city: String,
        value: Coords,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::Error<
            ::jwm_cache::error::RedisBackendError,
            <::jwm_cache::codec::Stamped<
                ::jwm_cache::codec::Json,
                String,
            > as ::jwm_cache::codec::Serializer<Coords>>::Error,
        >,
    > {
        let _ = &city;
        let __jwm_cache_key = ::core::clone::Clone::clone(&city);
        self.cache
            .cache()
            .insert_with_ttl(
                __jwm_cache_key,
                value,
                ::jwm_cache::Ttl::from_millis(300000u64),
            )
            .await
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    async fn cache_prime(&self, city: String, client: &Client) -> Result<Coords, Error> {
        let __jwm_cache_key = ::core::clone::Clone::clone(&city);
        let __jwm_cache_value = __jwm_cache_compute_lookup(city, client).await;
        if let ::core::result::Result::Ok(stored) = &__jwm_cache_value {
            let _counted = self
                .cache
                .cache()
                .insert_with_ttl(
                    __jwm_cache_key,
                    ::core::clone::Clone::clone(stored),
                    ::jwm_cache::Ttl::from_millis(300000u64),
                )
                .await;
        }
        __jwm_cache_value
    }
}
