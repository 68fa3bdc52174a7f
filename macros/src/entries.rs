//! Per-entry control on a function's handle: `cache_remove`, `cache_set` and
//! `cache_prime`, each taking the function's own arguments, so that callers never
//! spell the key (a bare argument, a tuple, or a digest under `key =`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, Ident, ReturnType, Signature, Visibility};

use crate::key::KeyParts;
use crate::signature::{Argument, Returns};

/// What the methods are generated from.
pub(crate) struct Entries<'a> {
    pub(crate) vis: &'a Visibility,
    /// The wrapper's signature: its generics (lifetimes only: a generic function has no
    /// typed handle) and arguments, each bound to a plain name.
    pub(crate) wrapper: &'a Signature,
    pub(crate) arguments: &'a [Argument],
    pub(crate) returns: &'a Returns,
    pub(crate) is_async: bool,
    /// Whether the key is `key = <expression>`, which may read any argument; otherwise
    /// `cache_remove` and `cache_set` leave out the `#[ttl_cache::ignore]`d ones.
    pub(crate) key_expression: bool,
    /// The call of the compute function with the arguments.
    pub(crate) computed: TokenStream,
    /// The error of the cache's per-entry operations.
    pub(crate) error: TokenStream,
    pub(crate) ttl: TokenStream,
}

impl Entries<'_> {
    /// The `impl` block's items; `key(fallback)` gives the key's parts, returning
    /// `fallback` from the method when the key cannot be named.
    pub(crate) fn methods(
        &self,
        key: impl Fn(TokenStream) -> syn::Result<KeyParts>,
    ) -> syn::Result<TokenStream> {
        let cache = quote!(self.cache.cache());
        let vis = self.vis;
        let ttl = &self.ttl;
        let error = &self.error;
        let (asyncness, awaited) = if self.is_async {
            (quote!(async), quote!(.await))
        } else {
            (quote!(), quote!())
        };
        let generics = &self.wrapper.generics;
        let where_clause = &generics.where_clause;
        let inputs: Vec<&FnArg> = self.wrapper.inputs.iter().collect();
        // A database handle marked `#[ttl_cache::ignore]` is not needed to name an entry.
        let (keyed_inputs, keyed_names): (Vec<&FnArg>, Vec<&Ident>) = inputs
            .iter()
            .zip(self.arguments)
            .filter(|(_, argument)| self.key_expression || !argument.ignored)
            .map(|(input, argument)| (*input, &argument.name))
            .unzip();
        // A `key = ...` expression need not read every argument it is given.
        let used = quote!(#(let _ = &#keyed_names;)*);
        let cached = self.returns.cached();
        // `value` names the stored value unless an argument already has that name.
        let taken = self.arguments.iter().any(|a| a.name == "value");
        let set_value = if taken {
            format_ident!("__jwm_cache_set_value")
        } else {
            format_ident!("value")
        };
        let value = format_ident!("__jwm_cache_value");

        let remove = key(quote!(::core::result::Result::Ok(false)))?;
        let set = key(quote!(::core::result::Result::Ok(())))?;
        let prime_fallback = &self.computed;
        let prime = key(quote!(#prime_fallback #awaited))?;
        let (remove_key, set_key, prime_key) = (steps(&remove), steps(&set), steps(&prime));
        let output = match &self.wrapper.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let store = self.store(&cache, &value, &awaited);
        let computed = &self.computed;

        Ok(quote! {
            /// Removes the entry for these arguments; returns whether a live one was
            /// there. A computation in flight for them still answers its callers, but
            /// its value is not stored.
            #[allow(clippy::too_many_arguments)]
            #vis #asyncness fn cache_remove #generics (&self, #(#keyed_inputs),*) -> ::core::result::Result<bool, #error> #where_clause {
                #used
                #remove_key
                #cache.remove(&__jwm_cache_key) #awaited
            }

            /// Stores the value as the result for these arguments, with the function's
            /// TTL, without calling the function. Under `key = ...`, arguments whose key
            /// cannot be encoded name no entry: nothing is stored.
            #[allow(clippy::too_many_arguments)]
            #vis #asyncness fn cache_set #generics (&self, #(#keyed_inputs,)* #set_value: #cached) -> ::core::result::Result<(), #error> #where_clause {
                #used
                #set_key
                #cache.insert_with_ttl(__jwm_cache_key, #set_value, #ttl) #awaited
            }

            /// Calls the function with these arguments and stores what it caches,
            /// whatever is stored: to warm the cache or refresh an entry. A failed
            /// store is counted in `cache_info().errors`; the result is returned
            /// either way.
            #[allow(clippy::too_many_arguments)]
            #vis #asyncness fn cache_prime #generics (&self, #(#inputs),*) -> #output #where_clause {
                #prime_key
                let #value = #computed #awaited;
                #store
                #value
            }
        })
    }

    /// Stores what the function caches out of `value`: all of it, its `Ok` or its `Some`.
    fn store(&self, cache: &TokenStream, value: &Ident, awaited: &TokenStream) -> TokenStream {
        let ttl = &self.ttl;
        let insert = |of: TokenStream| {
            quote! {
                let _counted = #cache
                    .insert_with_ttl(__jwm_cache_key, ::core::clone::Clone::clone(#of), #ttl)
                    #awaited;
            }
        };
        match self.returns {
            Returns::Value(_) => insert(quote!(&#value)),
            Returns::Result(_) => {
                let stored = insert(quote!(stored));
                quote!(if let ::core::result::Result::Ok(stored) = &#value { #stored })
            }
            Returns::SomeOnly(_) => {
                let stored = insert(quote!(stored));
                quote!(if let ::core::option::Option::Some(stored) = &#value { #stored })
            }
        }
    }
}

/// The statements that compute `__jwm_cache_key`. The key's compile-time checks are
/// the wrapper's; they are not repeated here.
fn steps(key: &KeyParts) -> TokenStream {
    let (prelude, value) = (&key.prelude, &key.value);
    quote! {
        #prelude
        let __jwm_cache_key = #value;
    }
}
