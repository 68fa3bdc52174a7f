//! The cache call a wrapper makes: the plain one, which computes with the function's
//! body on a miss, and with `refresh_after` the one that hands the cache a function of
//! the key to run again in the background, with the shapes of function it refuses.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Type;

use crate::options::Options;
use crate::signature::{self, Argument, Returns};

/// The call of `cache` that computes with `computed` on a miss, as the function's
/// return type: only `Ok` or `Some` values are kept, where they are asked for.
/// `by_ref`: the key is a borrowed form, looked up through
/// `try_get_or_insert_with_ttl_by_ref`. `shared_errors`: callers waiting on a failed
/// computation get its error.
pub(crate) fn plain_call(
    returns: &Returns,
    cache: &TokenStream,
    computed: &TokenStream,
    by_ref: bool,
    ttl: &TokenStream,
    is_async: bool,
    shared_errors: bool,
) -> TokenStream {
    let awaited = if is_async { quote!(.await) } else { quote!() };
    let try_get_or_insert_with_ttl = if by_ref {
        format_ident!("try_get_or_insert_with_ttl_by_ref")
    } else {
        format_ident!("try_get_or_insert_with_ttl")
    };
    match returns {
        Returns::Value(_) if is_async => quote! {
            match #cache.try_get_or_insert_with_ttl(__jwm_cache_key, #ttl, || async {
                ::core::result::Result::Ok::<_, ::core::convert::Infallible>(#computed.await)
            }).await {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(never) => match never {},
            }
        },
        Returns::Value(_) => quote! {
            match #cache.#try_get_or_insert_with_ttl(__jwm_cache_key, #ttl, || {
                ::core::result::Result::Ok::<_, ::core::convert::Infallible>(#computed)
            }) {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(never) => match never {},
            }
        },
        Returns::Result(_) if shared_errors => {
            quote!(#cache.#try_get_or_insert_with_ttl(__jwm_cache_key, #ttl, || #computed) #awaited)
        }
        Returns::Result(_) => {
            quote!(#cache.try_get_or_insert_unshared(__jwm_cache_key, #ttl, || #computed) #awaited)
        }
        Returns::SomeOnly(_) if is_async => quote! {
            #cache.try_get_or_insert_with_ttl(__jwm_cache_key, #ttl, || async { #computed.await.ok_or(()) }).await.ok()
        },
        Returns::SomeOnly(_) => quote! {
            #cache.#try_get_or_insert_with_ttl(__jwm_cache_key, #ttl, || #computed.ok_or(())).ok()
        },
    }
}

/// Refuses `refresh_after` on a function the cache could not call again from the key
/// alone, at the option.
pub(crate) fn refuse_unrefreshable(
    options: &Options,
    method: bool,
    generic: bool,
    arguments: &[Argument],
    returns: &Returns,
) -> syn::Result<()> {
    let Some((_, span)) = &options.refresh_after else {
        return Ok(());
    };
    let borrowed = arguments
        .iter()
        .any(|a| matches!(signature::unwrapped(&a.ty), Type::Reference(_)));
    let why = if method {
        "`refresh_after` recomputes in the background, after the call has returned: a method's receiver is not at hand then; memoize a function of owned arguments"
    } else if generic {
        "`refresh_after` is for a function that is not generic"
    } else if options.key.is_some() || arguments.iter().any(|a| a.ignored) {
        "`refresh_after` recomputes from the key alone: every argument must be in the key (no `key = ...`, no `#[ttl_cache::ignore]`)"
    } else if borrowed {
        "`refresh_after` recomputes in the background, after the call has returned: take owned arguments (`String`, not `&str`)"
    } else if matches!(returns, Returns::Result(_)) && !options.shared_errors {
        "`refresh_after` shares a failed refresh's error with the callers waiting for it: it needs `shared_errors = true` and a `Clone` error"
    } else {
        return Ok(());
    };
    Err(syn::Error::new(*span, why))
}

/// What a refreshing call needs to know of the function.
pub(crate) struct Refreshing<'a> {
    pub(crate) is_async: bool,
    /// The key's type: the tuple of the arguments, or the one argument.
    pub(crate) key_type: &'a TokenStream,
    pub(crate) arguments: &'a [Argument],
    /// The compute function's call with the arguments' names.
    pub(crate) computed: &'a TokenStream,
    /// The cache's expression, a `CurrentCache`.
    pub(crate) cache: &'a TokenStream,
    pub(crate) ttl: TokenStream,
}

impl Refreshing<'_> {
    /// The call, as the function's return type. The function the cache keeps is a
    /// closure that captures nothing: it takes the key apart into the arguments.
    pub(crate) fn call(&self, returns: &Returns) -> TokenStream {
        let names: Vec<_> = self.arguments.iter().map(|a| &a.name).collect();
        let pattern = match names.as_slice() {
            [one] => quote!(#one),
            many => quote!((#(#many,)*)),
        };
        let (computed, key_type, cache, ttl) =
            (self.computed, self.key_type, self.cache, &self.ttl);
        let awaited = if self.is_async {
            quote!(.await)
        } else {
            quote!()
        };
        let result = match returns {
            Returns::Value(_) => quote! {
                ::core::result::Result::Ok::<_, ::core::convert::Infallible>(#computed #awaited)
            },
            Returns::Result(_) => quote!(#computed #awaited),
            Returns::SomeOnly(_) => quote!(#computed #awaited.ok_or(())),
        };
        let run = if self.is_async {
            quote! {
                |_: &(), __jwm_cache_key: #key_type| {
                    let #pattern = __jwm_cache_key;
                    async move { #result }
                }
            }
        } else {
            quote! {
                |_: &(), __jwm_cache_key: #key_type| {
                    let #pattern = __jwm_cache_key;
                    #result
                }
            }
        };
        let refreshed = if self.is_async {
            quote! {{
                let __jwm_cache_current = #cache;
                __jwm_cache_current
                    .try_get_or_refresh_by(__jwm_cache_key, #ttl, &(), #run, || __jwm_cache_current.owned())
                    .await
            }}
        } else {
            quote!(#cache.try_get_or_refresh_by(__jwm_cache_key, #ttl, &(), #run))
        };
        match returns {
            Returns::Value(_) => quote! {
                match #refreshed {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(never) => match never {},
                }
            },
            Returns::Result(_) => refreshed,
            Returns::SomeOnly(_) => quote!(#refreshed.ok()),
        }
    }
}
