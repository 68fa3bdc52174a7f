#[doc(hidden)]
async fn __jwm_cache_compute_rate(from: String, to: String) -> Result<f64, Error> {
    fetch(&from, &to).await
}
async fn rate(from: String, to: String) -> Result<f64, Error> {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<f64>();
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
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<String>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<String>();
    }
    let __jwm_cache_key = (
        ::core::clone::Clone::clone(&from),
        ::core::clone::Clone::clone(&to),
    );
    {
        let __jwm_cache_current = RATE.cache();
        __jwm_cache_current
            .try_get_or_refresh_by(
                __jwm_cache_key,
                ::jwm_cache::Ttl::from_millis(300000u64),
                &(),
                |_: &(), __jwm_cache_key: (String, String)| {
                    let (from, to) = __jwm_cache_key;
                    async move { __jwm_cache_compute_rate(from, to).await }
                },
                || __jwm_cache_current.owned(),
            )
            .await
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_rate = ::jwm_cache::AsyncCache<
    (String, String),
    f64,
    ::jwm_cache::backend::Sharded<
        ::jwm_cache::memory::MemoryBackend<
            (String, String),
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<
                f64,
            >>::Encoded,
        >,
    >,
    ::jwm_cache::codec::Identity,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`rate`]: `cache_info().await`, `cache_clear().await` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static RATE: RATE = RATE {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(rate), "@",
                ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
            );
            let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
                &__jwm_cache_named,
            );
            ::jwm_cache::FnCache::listed(
                ::jwm_cache::AsyncCacheBuilder::new()
                    .identifier(__jwm_cache_identifier)
                    .ttl(::core::time::Duration::from_millis(300000u64))
                    .refresh_after(::core::time::Duration::from_millis(240000u64))
                    .stale_if_error(::core::time::Duration::from_millis(3600000u64))
                    .serializer(::jwm_cache::codec::Identity)
                    .clock(::jwm_cache::time::CoarseClock)
                    .build(),
            )
        })
        .with_ttl(::jwm_cache::Ttl::from_millis(300000u64)),
};
/// The type of [`RATE`](static@RATE), the handle on [`rate`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `rate`'s arguments.
#[allow(non_camel_case_types)]
struct RATE {
    cache: ::jwm_cache::FnCache<__JwmCache_rate>,
}
impl ::core::ops::Deref for RATE {
    type Target = ::jwm_cache::FnCache<__JwmCache_rate>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_rate> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for RATE {
    type Cache = __JwmCache_rate;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl RATE {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    async fn cache_remove(
        &self,
        from: String,
        to: String,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<f64>>::Error,
        >,
    > {
        let _ = &from;
        let _ = &to;
        let __jwm_cache_key = (
            ::core::clone::Clone::clone(&from),
            ::core::clone::Clone::clone(&to),
        );
        self.cache.cache().remove(&__jwm_cache_key).await
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    async fn cache_set(
        &self,
        from: String,
        to: String,
        value: f64,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<f64>>::Error,
        >,
    > {
        let _ = &from;
        let _ = &to;
        let __jwm_cache_key = (
            ::core::clone::Clone::clone(&from),
            ::core::clone::Clone::clone(&to),
        );
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
    async fn cache_prime(&self, from: String, to: String) -> Result<f64, Error> {
        let __jwm_cache_key = (
            ::core::clone::Clone::clone(&from),
            ::core::clone::Clone::clone(&to),
        );
        let __jwm_cache_value = __jwm_cache_compute_rate(from, to).await;
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
