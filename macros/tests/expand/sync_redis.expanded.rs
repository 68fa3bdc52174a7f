#[doc(hidden)]
fn __jwm_cache_compute_rates(currency: String) -> Option<f64> {
    fetch(&currency)
}
fn rates(currency: String) -> Option<f64> {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Stamped<
                ::jwm_cache::codec::Postcard,
                (),
            >: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<Option<f64>>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static
                + ::jwm_cache::PersistentHash,
        >() {}
        __jwm_cache_key_is_fit::<String>();
    }
    let __jwm_cache_key = ::core::clone::Clone::clone(&currency);
    match RATES
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::Ttl::from_millis(30000u64),
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_rates(currency))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_rates = ::jwm_cache::BlockingCache<
    String,
    Option<f64>,
    ::jwm_cache::RedisBackend<String>,
    ::jwm_cache::codec::Stamped<::jwm_cache::codec::Postcard, String>,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`rates`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static RATES: RATES = RATES {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(rates), "@",
                ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
            );
            let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
                &__jwm_cache_named,
            );
            ::jwm_cache::FnCache::listed(
                ::jwm_cache::BlockingCache::new(
                    ::std::sync::Arc::new(
                        ::jwm_cache::AsyncCacheBuilder::new()
                            .identifier(__jwm_cache_identifier)
                            .ttl(::core::time::Duration::from_millis(30000u64))
                            .serializer(
                                ::jwm_cache::codec::Stamped::new(
                                    ::jwm_cache::codec::Postcard,
                                ),
                            )
                            .clock(::jwm_cache::time::CoarseClock)
                            .build_with_backend(
                                ::jwm_cache::RedisBackend::open_deferring_errors(
                                    ::core::convert::AsRef::<
                                        str,
                                    >::as_ref(
                                        &(std::env::var("REDIS_URL").unwrap_or_default()),
                                    ),
                                    ::jwm_cache::RedisOptions::default()
                                        .timeout(::core::time::Duration::from_millis(100u64)),
                                ),
                            ),
                    ),
                    ::jwm_cache::Bridge::shared()
                        .expect(
                            "#[ttl_cache]: cannot start the thread of the bridge to Redis",
                        ),
                ),
            )
        })
        .with_ttl(::jwm_cache::Ttl::from_millis(30000u64)),
};
/// The type of [`RATES`](static@RATES), the handle on [`rates`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `rates`'s arguments.
#[allow(non_camel_case_types)]
struct RATES {
    cache: ::jwm_cache::FnCache<__JwmCache_rates>,
}
impl ::core::ops::Deref for RATES {
    type Target = ::jwm_cache::FnCache<__JwmCache_rates>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_rates> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for RATES {
    type Cache = __JwmCache_rates;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl RATES {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_remove(
        &self,
        currency: String,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::error::BridgeError<
            ::jwm_cache::Error<
                ::jwm_cache::error::RedisBackendError,
                <::jwm_cache::codec::Stamped<
                    ::jwm_cache::codec::Postcard,
                    String,
                > as ::jwm_cache::codec::Serializer<Option<f64>>>::Error,
            >,
        >,
    > {
        let _ = &currency;
        let __jwm_cache_key = ::core::clone::Clone::clone(&currency);
        self.cache.cache().remove(&__jwm_cache_key)
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_set(
        &self,
        currency: String,
        value: Option<f64>,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::error::BridgeError<
            ::jwm_cache::Error<
                ::jwm_cache::error::RedisBackendError,
                <::jwm_cache::codec::Stamped<
                    ::jwm_cache::codec::Postcard,
                    String,
                > as ::jwm_cache::codec::Serializer<Option<f64>>>::Error,
            >,
        >,
    > {
        let _ = &currency;
        let __jwm_cache_key = ::core::clone::Clone::clone(&currency);
        self.cache
            .cache()
            .insert_with_ttl(
                __jwm_cache_key,
                value,
                ::jwm_cache::Ttl::from_millis(30000u64),
            )
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    fn cache_prime(&self, currency: String) -> Option<f64> {
        let __jwm_cache_key = ::core::clone::Clone::clone(&currency);
        let __jwm_cache_value = __jwm_cache_compute_rates(currency);
        let _counted = self
            .cache
            .cache()
            .insert_with_ttl(
                __jwm_cache_key,
                ::core::clone::Clone::clone(&__jwm_cache_value),
                ::jwm_cache::Ttl::from_millis(30000u64),
            );
        __jwm_cache_value
    }
}
