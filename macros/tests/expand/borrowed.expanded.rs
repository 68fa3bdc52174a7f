/// The cache of [`fetch`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
#[allow(non_upper_case_globals)]
static FETCH: ::jwm_cache::FnCache<
    ::jwm_cache::SyncCache<
        (<str as ::jwm_cache::__private::OwnedKey>::Owned, u8),
        String,
        ::jwm_cache::MemoryBackend<
            (<str as ::jwm_cache::__private::OwnedKey>::Owned, u8),
            <::jwm_cache::Identity as ::jwm_cache::Serializer<String>>::Encoded,
        >,
        ::jwm_cache::Identity,
        ::jwm_cache::CoarseClock,
    >,
> = ::jwm_cache::FnCache::new(|| {
        let __jwm_cache_named = ::core::concat!(
            ::core::module_path!(), "::", ::core::stringify!(fetch), "@",
            ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
        );
        let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
            &__jwm_cache_named,
        );
        ::std::sync::Arc::new(
            ::jwm_cache::SyncCacheBuilder::new()
                .identifier(__jwm_cache_identifier)
                .ttl(::core::time::Duration::from_millis(60000u64))
                .serializer(::jwm_cache::Identity)
                .clock(::jwm_cache::CoarseClock)
                .build(),
        )
    })
    .with_ttl(::jwm_cache::Ttl::from_millis(60000u64));
/// A borrowed argument: the key keeps its owned form, a `String`.
fn fetch(url: &str, retries: u8) -> Result<String, Error> {
    #[doc(hidden)]
    fn __jwm_cache_compute_fetch(url: &str, retries: u8) -> Result<String, Error> {
        download(url, retries)
    }
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::Identity: ::jwm_cache::Serializer<V>,
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
