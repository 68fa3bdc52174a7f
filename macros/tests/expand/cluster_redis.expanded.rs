#[doc(hidden)]
fn __jwm_cache_compute_user(id: u64) -> String {
    load(id)
}
fn user(id: u64) -> String {
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
        __jwm_cache_value_is_fit::<String>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static
                + ::jwm_cache::PersistentHash,
        >() {}
        __jwm_cache_key_is_fit::<u64>();
    }
    let __jwm_cache_key = ::core::clone::Clone::clone(&id);
    match USER
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::backend::DEFAULT_TTL,
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_user(id))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_user = ::jwm_cache::BlockingCache<
    u64,
    String,
    ::jwm_cache::NearBackend<
        u64,
        String,
        ::jwm_cache::codec::Stamped<::jwm_cache::codec::Postcard, u64>,
    >,
    ::jwm_cache::codec::Identity,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`user`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static USER: USER = USER {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(user), "@",
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
                            .serializer(::jwm_cache::codec::Identity)
                            .clock(::jwm_cache::time::CoarseClock)
                            .build_with_backend(
                                ::jwm_cache::NearBackend::with_codec(
                                    ::jwm_cache::RedisBackend::open_cluster_deferring_errors(
                                        ::core::convert::AsRef::<
                                            [_],
                                        >::as_ref(
                                            &(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]),
                                        ),
                                        ::jwm_cache::RedisOptions::default(),
                                    ),
                                    1000usize,
                                    ::jwm_cache::codec::Stamped::new(
                                        ::jwm_cache::codec::Postcard,
                                    ),
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
        .with_ttl(::jwm_cache::backend::DEFAULT_TTL),
};
/// The type of [`USER`](static@USER), the handle on [`user`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `user`'s arguments.
#[allow(non_camel_case_types)]
struct USER {
    cache: ::jwm_cache::FnCache<__JwmCache_user>,
}
impl ::core::ops::Deref for USER {
    type Target = ::jwm_cache::FnCache<__JwmCache_user>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_user> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for USER {
    type Cache = __JwmCache_user;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl USER {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_remove(
        &self,
        id: u64,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::error::BridgeError<
            ::jwm_cache::Error<
                ::jwm_cache::error::NearError<
                    <::jwm_cache::codec::Stamped<
                        ::jwm_cache::codec::Postcard,
                        u64,
                    > as ::jwm_cache::codec::Serializer<String>>::Error,
                >,
                ::core::convert::Infallible,
            >,
        >,
    > {
        let _ = &id;
        let __jwm_cache_key = ::core::clone::Clone::clone(&id);
        self.cache.cache().remove(&__jwm_cache_key)
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_set(
        &self,
        id: u64,
        value: String,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::error::BridgeError<
            ::jwm_cache::Error<
                ::jwm_cache::error::NearError<
                    <::jwm_cache::codec::Stamped<
                        ::jwm_cache::codec::Postcard,
                        u64,
                    > as ::jwm_cache::codec::Serializer<String>>::Error,
                >,
                ::core::convert::Infallible,
            >,
        >,
    > {
        let _ = &id;
        let __jwm_cache_key = ::core::clone::Clone::clone(&id);
        self.cache
            .cache()
            .insert_with_ttl(__jwm_cache_key, value, ::jwm_cache::backend::DEFAULT_TTL)
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    fn cache_prime(&self, id: u64) -> String {
        let __jwm_cache_key = ::core::clone::Clone::clone(&id);
        let __jwm_cache_value = __jwm_cache_compute_user(id);
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
