impl Shape {
    #[doc(hidden)]
    fn __jwm_cache_compute_area(&self, scale: u64) -> Option<u64> {
        Some(self.side * self.side * scale)
    }
    pub fn area(&self, scale: u64) -> Option<u64> {
        {
            fn __jwm_cache_value_is_fit<
                V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
                    + 'static,
            >()
            where
                ::jwm_cache::codec::Identity: ::jwm_cache::codec::Serializer<V>,
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
        let ::core::result::Result::Ok(__jwm_cache_digest) = ::jwm_cache::key::PersistentDigest::persistent_digest(
            &{
                fn __jwm_cache_project<'a, S: ?::core::marker::Sized, R>(
                    this: &'a S,
                    projection: impl ::core::ops::FnOnce(&'a S) -> R,
                ) -> R {
                    projection(this)
                }
                __jwm_cache_project(self, |shape: &Shape| shape.id)
            },
        ) else {
            return self.__jwm_cache_compute_area(scale);
        };
        let __jwm_cache_key = (__jwm_cache_digest, ::core::clone::Clone::clone(&scale));
        Self::area_cache()
            .instance::<
                fn(*const Self),
                _,
            >(|| {
                let __jwm_cache_named = ::core::concat!(
                    ::core::module_path!(), "::", ::core::stringify!(area), "@",
                    ::core::file!(), ":", ::core::line!(), ":", ::core::column!()
                );
                let __jwm_cache_identifier = Self::area_cache()
                    .instance_identifier(
                        ::core::convert::AsRef::as_ref(&__jwm_cache_named),
                        &[::core::any::type_name::<Self>()],
                    );
                ::jwm_cache::FnCache::listed(
                    ::jwm_cache::SyncCacheBuilder::new()
                        .identifier(&__jwm_cache_identifier)
                        .ttl(::core::time::Duration::from_millis(250u64))
                        .serializer(::jwm_cache::codec::Identity)
                        .clock(::jwm_cache::SystemClock)
                        .build(),
                )
            })
            .try_get_or_insert_with_ttl(
                __jwm_cache_key,
                ::jwm_cache::Ttl::from_millis(250u64),
                || self.__jwm_cache_compute_area(scale).ok_or(()),
            )
            .ok()
    }
    /// The cache of [`Self::area`]: `cache_info()`, `cache_clear()` and `cache_parameters()`.
    pub fn area_cache() -> &'static ::jwm_cache::GenericFnCache<
        ::jwm_cache::__private::SyncControls,
    > {
        static CACHE: ::jwm_cache::GenericFnCache<
            ::jwm_cache::__private::SyncControls,
        > = ::jwm_cache::GenericFnCache::new();
        &CACHE
    }
}
