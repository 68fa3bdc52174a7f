impl Shape {
    #[doc(hidden)]
    fn __jwm_cache_compute_area(&self, scale: u64) -> Option<u64> {
        Some(self.side * self.side * scale)
    }
    /// The cache of [`Self::area`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
    pub fn area_cache() -> &'static ::jwm_cache::FnCache<
        ::jwm_cache::SyncCache<
            (::jwm_cache::Digest, u64),
            u64,
            ::jwm_cache::MemoryBackend<
                (::jwm_cache::Digest, u64),
                <::jwm_cache::Identity as ::jwm_cache::Serializer<u64>>::Encoded,
            >,
            ::jwm_cache::Identity,
            ::jwm_cache::SystemClock,
        >,
    > {
        static CACHE: ::jwm_cache::FnCache<
            ::jwm_cache::SyncCache<
                (::jwm_cache::Digest, u64),
                u64,
                ::jwm_cache::MemoryBackend<
                    (::jwm_cache::Digest, u64),
                    <::jwm_cache::Identity as ::jwm_cache::Serializer<u64>>::Encoded,
                >,
                ::jwm_cache::Identity,
                ::jwm_cache::SystemClock,
            >,
        > = ::jwm_cache::FnCache::new(|| {
            let __jwm_cache_named = ::core::concat!(
                ::core::module_path!(), "::", ::core::stringify!(area), ":",
                ::core::line!()
            );
            let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(
                &__jwm_cache_named,
            );
            ::jwm_cache::FnCache::shared(
                __jwm_cache_identifier,
                || {
                    ::jwm_cache::SyncCacheBuilder::new()
                        .identifier(__jwm_cache_identifier)
                        .ttl(::core::time::Duration::from_millis(250u64))
                        .serializer(::jwm_cache::Identity)
                        .clock(::jwm_cache::SystemClock)
                        .build()
                },
            )
        });
        &CACHE
    }
    pub fn area(&self, scale: u64) -> Option<u64> {
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
        let ::core::result::Result::Ok(__jwm_cache_digest) = ::jwm_cache::PersistentHash::persistent_digest(
            &(|shape: &Shape| shape.id)(self),
        ) else {
            return self.__jwm_cache_compute_area(scale);
        };
        let __jwm_cache_key = (__jwm_cache_digest, ::core::clone::Clone::clone(&scale));
        Self::area_cache()
            .cache()
            .try_get_or_insert_with(
                __jwm_cache_key,
                || self.__jwm_cache_compute_area(scale).ok_or(()),
            )
            .ok()
    }
}
