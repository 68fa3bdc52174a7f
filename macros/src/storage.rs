//! Where a memoized function's results live: the cache's type and how it is built.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use crate::duration::Ttl;
use crate::options::{Backend, Clock, Codec, Options, Server};

/// The cache a function gets from its options, sync or async.
pub(crate) struct Storage<'a> {
    pub(crate) options: &'a Options,
    pub(crate) is_async: bool,
}

/// The TTL when none is given, as `SyncCacheBuilder`'s.
pub(crate) const DEFAULT_TTL_MS: u64 = 60_000;

/// From this TTL up, the coarse clock's lag (its 1 ms period, plus any delay of its
/// thread) is about 0.1% of an entry's life, and its reads cost one atomic load instead
/// of a system clock read.
const COARSE_FROM_MS: u64 = 1_000;

impl Storage<'_> {
    fn redis(&self) -> bool {
        matches!(self.options.backend, Backend::Redis { .. })
    }

    /// The near tier's capacity, with Redis and `near = ...`.
    fn near(&self) -> Option<usize> {
        match self.options.backend {
            Backend::Redis { near, .. } => near,
            Backend::Memory => None,
        }
    }

    /// The cache's codec: [`stored_codec`](Self::stored_codec), except over a near
    /// tier, which keeps values decoded (and stores them with that codec itself).
    fn codec(&self, key: &TokenStream) -> TokenStream {
        match self.near() {
            Some(_) => quote!(::jwm_cache::codec::Identity),
            None => self.stored_codec(key),
        }
    }

    /// The codec values are stored with: as asked, else values as they are in memory
    /// and postcard in Redis. In Redis it is stamped, so every value carries its header.
    /// `key` is the cache's key type, which a stamped codec names (`()` where only the
    /// value type matters).
    fn stored_codec(&self, key: &TokenStream) -> TokenStream {
        let codec = match self.options.serializer.map(|(codec, _)| codec) {
            Some(Codec::Identity) => quote!(::jwm_cache::codec::Identity),
            Some(Codec::Json) => quote!(::jwm_cache::codec::Json),
            Some(Codec::Postcard) => quote!(::jwm_cache::codec::Postcard),
            None if self.redis() => quote!(::jwm_cache::codec::Postcard),
            None => quote!(::jwm_cache::codec::Identity),
        };
        if self.redis() {
            quote!(::jwm_cache::codec::Stamped<#codec, #key>)
        } else {
            codec
        }
    }

    /// The codec's value, of the type [`codec`](Self::codec) names.
    fn codec_value(&self) -> TokenStream {
        if self.near().is_some() {
            return quote!(::jwm_cache::codec::Identity);
        }
        self.stored_codec_value()
    }

    /// The stored codec's value, of the type [`stored_codec`](Self::stored_codec) names.
    fn stored_codec_value(&self) -> TokenStream {
        if self.redis() {
            let codec = match self.options.serializer.map(|(codec, _)| codec) {
                Some(Codec::Json) => quote!(::jwm_cache::codec::Json),
                _ => quote!(::jwm_cache::codec::Postcard),
            };
            quote!(::jwm_cache::codec::Stamped::new(#codec))
        } else {
            self.codec(&quote!(()))
        }
    }

    /// The clock: as asked, else the coarse clock for TTLs of a second or more (and
    /// "never") and the system clock below. Under a named identifier the coarse clock
    /// whatever the TTL: functions sharing a cache must agree on its clock, and each may
    /// store with a TTL of its own.
    fn clock(&self) -> Clock {
        self.options.clock.clone().unwrap_or_else(|| {
            if self.options.identifier.is_some() {
                return Clock::Coarse;
            }
            match self.options.ttl.unwrap_or(Ttl::Millis(DEFAULT_TTL_MS)) {
                Ttl::Millis(ms) if ms < COARSE_FROM_MS => Clock::System,
                _ => Clock::Coarse,
            }
        })
    }

    /// Whether the cache is a `SyncCache` in memory, which looks a key up by a borrowed
    /// form without building the owned one.
    pub(crate) fn sync_in_memory(&self) -> bool {
        !self.is_async && !self.redis()
    }

    /// Whether the clock is `ScopedClock`, whose tests get caches of their own.
    pub(crate) fn scoped_clock(&self) -> bool {
        matches!(self.clock(), Clock::Scoped(_))
    }

    fn clock_type(&self) -> TokenStream {
        match self.clock() {
            Clock::System => quote!(::jwm_cache::SystemClock),
            Clock::Coarse => quote!(::jwm_cache::time::CoarseClock),
            Clock::Scoped(_) => quote!(::jwm_cache::ScopedClock),
            Clock::Manual(_) => quote!(::jwm_cache::ManualClock),
        }
    }

    fn clock_value(&self) -> TokenStream {
        match self.clock() {
            Clock::Manual(clock) => {
                quote_spanned!(clock.span()=> ::jwm_cache::ManualClock::clone(&#clock))
            }
            _ => self.clock_type(),
        }
    }

    /// The function's TTL, as a `Ttl` expression.
    pub(crate) fn ttl(&self) -> TokenStream {
        match self.options.ttl {
            Some(Ttl::Millis(ms)) => quote!(::jwm_cache::Ttl::from_millis(#ms)),
            Some(Ttl::Never) => quote!(::jwm_cache::Ttl::NEVER),
            None => quote!(::jwm_cache::backend::DEFAULT_TTL),
        }
    }

    /// Checks, spanned at the value's type, that the cache can keep it.
    pub(crate) fn value_checks(&self, value: &Type) -> TokenStream {
        let codec = self.stored_codec(&quote!(()));
        quote_spanned! {value.span()=>
            {
                fn __jwm_cache_value_is_fit<V: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static>()
                where
                    #codec: ::jwm_cache::codec::Serializer<V>,
                {}
                __jwm_cache_value_is_fit::<#value>();
            }
        }
    }

    /// Checks, spanned at a key argument's type, that the cache can keep it.
    pub(crate) fn key_check(&self, ty: &Type) -> TokenStream {
        let persistent = if self.redis() {
            quote!(+ ::jwm_cache::PersistentHash)
        } else {
            quote!()
        };
        quote_spanned! {ty.span()=>
            {
                fn __jwm_cache_key_is_fit<T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static #persistent>() {}
                __jwm_cache_key_is_fit::<#ty>();
            }
        }
    }

    /// The cache's type.
    pub(crate) fn cache_type(&self, key: &TokenStream, value: &Type) -> TokenStream {
        let (codec, clock) = (self.codec(key), self.clock_type());
        let backend = match (&self.options.backend, self.is_async) {
            (Backend::Memory, false) => {
                quote!(::jwm_cache::memory::MemoryBackend<#key, <#codec as ::jwm_cache::codec::Serializer<#value>>::Encoded>)
            }
            (Backend::Memory, true) => {
                quote!(::jwm_cache::backend::Sharded<::jwm_cache::memory::MemoryBackend<#key, <#codec as ::jwm_cache::codec::Serializer<#value>>::Encoded>>)
            }
            (Backend::Redis { near: None, .. }, _) => quote!(::jwm_cache::RedisBackend<#key>),
            (Backend::Redis { near: Some(_), .. }, _) => {
                let stored = self.stored_codec(key);
                quote!(::jwm_cache::NearBackend<#key, #value, #stored>)
            }
        };
        match (&self.options.backend, self.is_async) {
            (Backend::Redis { .. }, false) => {
                quote!(::jwm_cache::BlockingCache<#key, #value, #backend, #codec, #clock>)
            }
            (_, true) => quote!(::jwm_cache::AsyncCache<#key, #value, #backend, #codec, #clock>),
            (_, false) => quote!(::jwm_cache::SyncCache<#key, #value, #backend, #codec, #clock>),
        }
    }

    /// The error of the cache's per-entry operations, named without the key's bounds, so
    /// that an unfit key is reported once, by the key checks, not by every method.
    pub(crate) fn error_type(&self, key: &TokenStream, value: &Type) -> TokenStream {
        let codec = self.stored_codec(key);
        let codec_error = quote!(<#codec as ::jwm_cache::codec::Serializer<#value>>::Error);
        let error = match &self.options.backend {
            Backend::Memory => {
                return quote!(::jwm_cache::Error<::core::convert::Infallible, #codec_error>);
            }
            // The near tier decodes: the cache's own codec is `Identity`.
            Backend::Redis { near: Some(_), .. } => quote! {
                ::jwm_cache::Error<::jwm_cache::error::NearError<#codec_error>, ::core::convert::Infallible>
            },
            Backend::Redis { near: None, .. } => {
                quote!(::jwm_cache::Error<::jwm_cache::error::RedisBackendError, #codec_error>)
            }
        };
        if self.is_async {
            error
        } else {
            quote!(::jwm_cache::error::BridgeError<#error>)
        }
    }

    /// An expression that builds the cache, named `identifier` (a `&str` expression).
    pub(crate) fn build(&self, identifier: &TokenStream) -> TokenStream {
        let options = self.options;
        // Redis is an async backend: a sync function reaches it through a BlockingCache.
        let mut builder = if self.is_async || self.redis() {
            quote!(::jwm_cache::AsyncCacheBuilder::new().identifier(#identifier))
        } else {
            quote!(::jwm_cache::SyncCacheBuilder::new().identifier(#identifier))
        };
        match options.ttl {
            Some(Ttl::Millis(ms)) => {
                builder.extend(quote!(.ttl(::core::time::Duration::from_millis(#ms))))
            }
            Some(Ttl::Never) => builder.extend(quote!(.ttl(::jwm_cache::Ttl::NEVER))),
            None => {}
        }
        match options.time_to_idle {
            Some((Ttl::Millis(ms), _)) => builder.extend(quote!(
                .time_to_idle(::core::time::Duration::from_millis(#ms))
            )),
            Some((Ttl::Never, _)) | None => {}
        }
        for (setter, option) in [
            ("refresh_after", &options.refresh_after),
            ("stale_if_error", &options.stale_if_error),
            ("lease", &options.lease),
        ] {
            let setter = quote::format_ident!("{setter}");
            match option {
                Some((Ttl::Millis(ms), _)) => builder.extend(quote!(
                    .#setter(::core::time::Duration::from_millis(#ms))
                )),
                Some((Ttl::Never, _)) => builder.extend(quote!(.#setter(::jwm_cache::Ttl::NEVER))),
                None => {}
            }
        }
        for (setter, value) in &options.setters {
            builder.extend(quote_spanned!(value.span()=> .#setter(#value)));
        }
        let (codec, clock) = (self.codec_value(), self.clock_value());
        builder.extend(quote!(.serializer(#codec).clock(#clock)));
        let Backend::Redis {
            server,
            prefix,
            timeout_ms,
            near,
        } = &options.backend
        else {
            return quote!(#builder.build());
        };
        let mut redis_options = quote!(::jwm_cache::RedisOptions::default());
        if let Some(prefix) = prefix {
            redis_options.extend(quote!(.prefix(#prefix)));
        }
        if let Some(ms) = timeout_ms {
            redis_options.extend(quote!(.timeout(::core::time::Duration::from_millis(#ms))));
        }
        let mut backend = match server {
            Server::Url(url) => {
                let url =
                    quote_spanned!(url.span()=> ::core::convert::AsRef::<str>::as_ref(&(#url)));
                quote!(::jwm_cache::RedisBackend::open_deferring_errors(#url, #redis_options))
            }
            Server::Cluster(seeds) => {
                let seeds =
                    quote_spanned!(seeds.span()=> ::core::convert::AsRef::<[_]>::as_ref(&(#seeds)));
                quote!(::jwm_cache::RedisBackend::open_cluster_deferring_errors(#seeds, #redis_options))
            }
        };
        if let Some(capacity) = near {
            let stored = self.stored_codec_value();
            backend = quote!(::jwm_cache::NearBackend::with_codec(#backend, #capacity, #stored));
        }
        let cache = quote!(#builder.build_with_backend(#backend));
        if self.is_async {
            return cache;
        }
        let bridge = match &options.bridge {
            Some((bridge, _)) => quote_spanned!(bridge.span()=> #bridge),
            None => quote! {
                ::jwm_cache::Bridge::shared()
                    .expect("#[ttl_cache]: cannot start the thread of the bridge to Redis")
            },
        };
        quote!(::jwm_cache::BlockingCache::new(::std::sync::Arc::new(#cache), #bridge))
    }
}
