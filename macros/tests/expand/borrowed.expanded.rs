#[doc(hidden)]
fn __jwm_cache_compute_fetch(url: &str, retries: u8) -> Result<String, Error> {
    download(url, retries)
}
/// A borrowed argument: the key keeps its owned form, a `String`.
fn fetch(url: &str, retries: u8) -> Result<String, Error> {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<String>();
    }
    {
        fn __jwm_cache_error_is_shareable<
            E: ::core::clone::Clone + ::core::marker::Send + 'static,
        >() {}
        __jwm_cache_error_is_shareable::<Error>();
    }
    {
        fn __jwm_cache_has_owned_form<
            T: ?::core::marker::Sized + ::jwm_cache::__private::OwnedKey,
        >() {}
        __jwm_cache_has_owned_form::<str>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<<str as ::jwm_cache::__private::OwnedKey>::Owned>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<u8>();
    }
    let __jwm_cache_key = (
        ::jwm_cache::__private::OwnedKey::owned_key(url),
        ::core::clone::Clone::clone(&retries),
    );
    FETCH
        .cache()
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::Ttl::from_millis(60000u64),
            || __jwm_cache_compute_fetch(url, retries),
        )
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_fetch = ::jwm_cache::SyncCache<
    (<str as ::jwm_cache::__private::OwnedKey>::Owned, u8),
    String,
    ::jwm_cache::memory::MemoryBackend<
        (<str as ::jwm_cache::__private::OwnedKey>::Owned, u8),
        <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<String>>::Encoded,
    >,
    ::jwm_cache::codec::Identity,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`fetch`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static FETCH: FETCH = FETCH {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(fetch), "@",
                ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
            );
            let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
                &__jwm_cache_named,
            );
            ::jwm_cache::FnCache::listed(
                ::jwm_cache::SyncCacheBuilder::new()
                    .identifier(__jwm_cache_identifier)
                    .ttl(::core::time::Duration::from_millis(60000u64))
                    .serializer(::jwm_cache::codec::Identity)
                    .clock(::jwm_cache::time::CoarseClock)
                    .build(),
            )
        })
        .with_ttl(::jwm_cache::Ttl::from_millis(60000u64)),
};
/// The type of [`FETCH`](static@FETCH), the handle on [`fetch`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `fetch`'s arguments.
#[allow(non_camel_case_types)]
struct FETCH {
    cache: ::jwm_cache::FnCache<__JwmCache_fetch>,
}
impl ::core::ops::Deref for FETCH {
    type Target = ::jwm_cache::FnCache<__JwmCache_fetch>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_fetch> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for FETCH {
    type Cache = __JwmCache_fetch;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl FETCH {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_remove(
        &self,
        url: &str,
        retries: u8,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<
                String,
            >>::Error,
        >,
    > {
        let _ = &url;
        let _ = &retries;
        let __jwm_cache_key = (
            ::jwm_cache::__private::OwnedKey::owned_key(url),
            ::core::clone::Clone::clone(&retries),
        );
        self.cache.cache().remove(&__jwm_cache_key)
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_set(
        &self,
        url: &str,
        retries: u8,
        value: String,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<
                String,
            >>::Error,
        >,
    > {
        let _ = &url;
        let _ = &retries;
        let __jwm_cache_key = (
            ::jwm_cache::__private::OwnedKey::owned_key(url),
            ::core::clone::Clone::clone(&retries),
        );
        self.cache
            .cache()
            .insert_with_ttl(
                __jwm_cache_key,
                value,
                ::jwm_cache::Ttl::from_millis(60000u64),
            )
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    fn cache_prime(&self, url: &str, retries: u8) -> Result<String, Error> {
        let __jwm_cache_key = (
            ::jwm_cache::__private::OwnedKey::owned_key(url),
            ::core::clone::Clone::clone(&retries),
        );
        let __jwm_cache_value = __jwm_cache_compute_fetch(url, retries);
        if let ::core::result::Result::Ok(stored) = &__jwm_cache_value {
            let _counted = self
                .cache
                .cache()
                .insert_with_ttl(
                    __jwm_cache_key,
                    ::core::clone::Clone::clone(stored),
                    ::jwm_cache::Ttl::from_millis(60000u64),
                );
        }
        __jwm_cache_value
    }
}
#[doc(hidden)]
fn __jwm_cache_compute_shout(word: &str) -> String {
    word.to_uppercase()
}
/// One borrowed argument: a hit looks it up as it is, and a miss makes it a `String`.
fn shout(word: &str) -> String {
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<String>();
    }
    {
        fn __jwm_cache_has_owned_form<
            T: ?::core::marker::Sized + ::jwm_cache::__private::OwnedKey,
        >() {}
        __jwm_cache_has_owned_form::<str>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<<str as ::jwm_cache::__private::OwnedKey>::Owned>();
    }
    let __jwm_cache_key = word;
    match SHOUT
        .cache()
        .try_get_or_insert_with_ttl_by_ref(
            __jwm_cache_key,
            ::jwm_cache::backend::DEFAULT_TTL,
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_shout(word))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types)]
type __JwmCache_shout = ::jwm_cache::SyncCache<
    <str as ::jwm_cache::__private::OwnedKey>::Owned,
    String,
    ::jwm_cache::memory::MemoryBackend<
        <str as ::jwm_cache::__private::OwnedKey>::Owned,
        <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<String>>::Encoded,
    >,
    ::jwm_cache::codec::Identity,
    ::jwm_cache::time::CoarseClock,
>;
/// The cache of [`shout`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static SHOUT: SHOUT = SHOUT {
    cache: ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(shout), "@",
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
/// The type of [`SHOUT`](static@SHOUT), the handle on [`shout`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `shout`'s arguments.
#[allow(non_camel_case_types)]
struct SHOUT {
    cache: ::jwm_cache::FnCache<__JwmCache_shout>,
}
impl ::core::ops::Deref for SHOUT {
    type Target = ::jwm_cache::FnCache<__JwmCache_shout>;
    fn deref(&self) -> &::jwm_cache::FnCache<__JwmCache_shout> {
        &self.cache
    }
}
impl ::jwm_cache::__private::Memo for SHOUT {
    type Cache = __JwmCache_shout;
    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
    }
    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
    }
}
impl SHOUT {
    /// Removes the entry for these arguments; returns whether a live one was
    /// there. A computation in flight for them still answers its callers, but
    /// its value is not stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_remove(
        &self,
        word: &str,
    ) -> ::core::result::Result<
        bool,
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<
                String,
            >>::Error,
        >,
    > {
        let _ = &word;
        let __jwm_cache_key = ::jwm_cache::__private::OwnedKey::owned_key(word);
        self.cache.cache().remove(&__jwm_cache_key)
    }
    /// Stores the value as the result for these arguments, with the function's
    /// TTL, without calling the function. Under `key = ...`, arguments whose key
    /// cannot be encoded name no entry: nothing is stored.
    #[allow(clippy::too_many_arguments)]
    fn cache_set(
        &self,
        word: &str,
        value: String,
    ) -> ::core::result::Result<
        (),
        ::jwm_cache::Error<
            ::core::convert::Infallible,
            <::jwm_cache::codec::Identity as ::jwm_cache::codec::Serializer<
                String,
            >>::Error,
        >,
    > {
        let _ = &word;
        let __jwm_cache_key = ::jwm_cache::__private::OwnedKey::owned_key(word);
        self.cache
            .cache()
            .insert_with_ttl(__jwm_cache_key, value, ::jwm_cache::backend::DEFAULT_TTL)
    }
    /// Calls the function with these arguments and stores what it caches,
    /// whatever is stored: to warm the cache or refresh an entry. A failed
    /// store is counted in `cache_info().errors`; the result is returned
    /// either way.
    #[allow(clippy::too_many_arguments)]
    fn cache_prime(&self, word: &str) -> String {
        let __jwm_cache_key = ::jwm_cache::__private::OwnedKey::owned_key(word);
        let __jwm_cache_value = __jwm_cache_compute_shout(word);
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
