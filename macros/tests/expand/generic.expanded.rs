fn largest<T: Ord + Clone + Hash + Send + Sync + 'static>(items: Vec<T>) -> Option<T> {
    #[doc(hidden)]
    fn __jwm_cache_compute_largest<T: Ord + Clone + Hash + Send + Sync + 'static>(
        items: Vec<T>,
    ) -> Option<T> {
        items.into_iter().max()
    }
    {
        fn __jwm_cache_value_is_fit<
            V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                + 'static,
        >()
        where
            ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
        {}
        __jwm_cache_value_is_fit::<Option<T>>();
    }
    {
        fn __jwm_cache_key_is_fit<
            T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone
                + ::core::marker::Send + ::core::marker::Sync + 'static,
        >() {}
        __jwm_cache_key_is_fit::<Vec<T>>();
    }
    let __jwm_cache_key = ::core::clone::Clone::clone(&items);
    match LARGEST
        .instance::<
            fn(*const T),
            _,
        >(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(largest), "@",
                ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
            );
            let __jwm_cache_identifier = LARGEST
                .instance_identifier(
                    ::core::convert::AsRef::as_ref(&__jwm_cache_named),
                    &[::core::any::type_name::<T>()],
                );
            ::jwm_cache::FnCache::listed(
                ::jwm_cache::SyncCacheBuilder::new()
                    .identifier(&__jwm_cache_identifier)
                    .single_flight(false)
                    .capacity(1_000)
                    .serializer(::jwm_cache::codec::Identity)
                    .clock(::jwm_cache::time::CoarseClock)
                    .build(),
            )
        })
        .try_get_or_insert_with_ttl(
            __jwm_cache_key,
            ::jwm_cache::backend::DEFAULT_TTL,
            || {
                ::core::result::Result::Ok::<
                    _,
                    ::core::convert::Infallible,
                >(__jwm_cache_compute_largest::<T>(items))
            },
        )
    {
        ::core::result::Result::Ok(value) => value,
        ::core::result::Result::Err(never) => match never {}
    }
}
/// The cache of [`largest`]: `cache_info()`, `cache_clear()` and `cache_parameters()`. One cache per instantiation; the controls span them all.
#[allow(non_upper_case_globals)]
static LARGEST: ::jwm_cache::GenericFnCache<::jwm_cache::__private::SyncControls> = ::jwm_cache::GenericFnCache::new();
