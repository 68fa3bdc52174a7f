//! What `#[ttl_cache]` turns a function into.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn};

use crate::call::{Refreshing, plain_call, refuse_unrefreshable};
use crate::entries::Entries;
use crate::handle::{self, Handle, identifier};
use crate::key::{KeyParts, key};
use crate::option_reads::refuse_call_reads;
use crate::options::{Key, Options};
use crate::refusals::{refuse_conflicts, refuse_misplaced_cache_none, refuse_unscopable};
use crate::signature::{self, Argument, Returns};
use crate::storage::Storage;

/// The items `function` becomes under `#[ttl_cache(options)]`, or the first refusal.
pub(crate) fn expand(options: Options, mut function: ItemFn) -> syn::Result<TokenStream> {
    signature::refuse_unsupported(&function.sig)?;
    let is_async = function.sig.asyncness.is_some();
    let method = function.sig.receiver().is_some();
    refuse_conflicts(&options, is_async, method)?;
    refuse_unscopable(&options, method, &function)?;
    let name = function.sig.ident.clone();
    let (wrapper, arguments) = signature::arguments(&mut function);
    refuse_call_reads(&options, &arguments)?;
    let returns = signature::returns(&function.sig.output, options.cache_none, options.result);
    refuse_misplaced_cache_none(&options, &returns)?;
    let memoized = Memoized::new(&options, &function, &name, is_async, method);
    let inner = memoized.compute_function();
    let computed = memoized.compute_call(&inner.sig.ident, &arguments);
    let awaited = memoized.awaited();
    let uncached = quote!(#computed #awaited);
    let key_with =
        |fallback: TokenStream| key(&options, &memoized.storage, method, &arguments, &fallback);
    let key = key_with(uncached)?;
    let generic = !memoized.type_params.is_empty();
    refuse_unrefreshable(&options, method, generic, &arguments, &returns)?;
    let mut cache_type = memoized.storage.cache_type(&key.ty, returns.cached());
    let mut cache_alias = quote!();
    if memoized.typed_handle() {
        // Named once: the handle's field, its deref and its methods' errors use it.
        let alias = format_ident!("__JwmCache_{}", name.unraw());
        let cfgs = memoized.cfgs();
        cache_alias = quote! {
            #(#cfgs)*
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            type #alias = #cache_type;
        };
        cache_type = quote!(#alias);
    }
    let value_checks = memoized.value_checks(&returns);
    let entries = if memoized.typed_handle() {
        let entries = Entries {
            vis: &function.vis,
            wrapper: &wrapper,
            arguments: &arguments,
            returns: &returns,
            is_async,
            key_expression: matches!(options.key, Some(Key::Whole(_))),
            computed: computed.clone(),
            error: memoized.storage.error_type(&key.ty, returns.cached()),
            ttl: memoized.storage.ttl(),
        };
        Some(handle::Entries {
            cache: cache_type.clone(),
            methods: entries.methods(key_with)?,
        })
    } else {
        None
    };
    let (handle_decl, cache) = memoized.handle_and_cache(&cache_type, entries);
    // A key of one borrowed argument is looked up as it is, and made owned on a miss,
    // where the cache can (in memory, sync, errors shared).
    let by_ref = key.borrowed.is_some()
        && memoized.type_params.is_empty()
        && memoized.storage.sync_in_memory()
        && (options.shared_errors || !matches!(returns, Returns::Result(_)));
    let call = if options.refresh_after.is_some() {
        let refreshing = Refreshing {
            is_async,
            key_type: &key.ty,
            arguments: &arguments,
            computed: &computed,
            cache: &cache,
            ttl: memoized.storage.ttl(),
        };
        refreshing.call(&returns)
    } else {
        let ttl = memoized.storage.ttl();
        let shared_errors = options.shared_errors;
        plain_call(
            &returns,
            &cache,
            &computed,
            by_ref,
            &ttl,
            is_async,
            shared_errors,
        )
    };
    let body = memoized.body(&inner, &value_checks, &key, &call, by_ref);
    let beside = if memoized.compute_beside() {
        quote!(#inner)
    } else {
        quote!()
    };
    let vis = &function.vis;
    let attrs = function.attrs.iter().map(signature::on_wrapper);
    // The wrapper first: its checks name what is wrong with a key or a value before
    // the handle's methods trip over the same types.
    Ok(quote! {
        #beside

        #(#attrs)*
        #vis #wrapper {
            #body
        }

        #cache_alias
        #handle_decl
    })
}

/// A function being memoized, as the steps of its expansion see it.
struct Memoized<'a> {
    options: &'a Options,
    storage: Storage<'a>,
    function: &'a ItemFn,
    name: &'a Ident,
    is_async: bool,
    method: bool,
    type_params: Vec<&'a Ident>,
}

impl<'a> Memoized<'a> {
    fn new(
        options: &'a Options,
        function: &'a ItemFn,
        name: &'a Ident,
        is_async: bool,
        method: bool,
    ) -> Self {
        let type_params = function.sig.generics.type_params();
        Memoized {
            options,
            storage: Storage { options, is_async },
            function,
            name,
            is_async,
            method,
            type_params: type_params.map(|p| &p.ident).collect(),
        }
    }

    /// The original function, renamed and hidden. The body runs as a function with the
    /// original signature, so `return`, `?` and the argument patterns mean what they
    /// meant: nested in a function, or beside a method (where it keeps its receiver).
    /// It keeps the original's lint levels and `cfg`s, which it no longer inherits when
    /// it sits beside the wrapper.
    fn compute_function(&self) -> ItemFn {
        let mut inner = self.function.clone();
        inner.sig.ident = format_ident!("__jwm_cache_compute_{}", self.name.unraw());
        inner.vis = syn::Visibility::Inherited;
        inner.attrs = vec![syn::parse_quote!(#[doc(hidden)])];
        inner.attrs.extend(
            self.function
                .attrs
                .iter()
                .filter(|a| signature::is_lint_level(a))
                .cloned(),
        );
        inner.attrs.extend(self.cfgs().cloned());
        inner
    }

    /// The original's `cfg` and `cfg_attr` attributes, which every item generated beside
    /// it carries too, so that a function compiled out takes its cache with it.
    fn cfgs(&self) -> impl Iterator<Item = &syn::Attribute> {
        self.function.attrs.iter().filter(|a| signature::is_cfg(a))
    }

    /// A call of the compute function `compute` with the wrapper's arguments.
    fn compute_call(&self, compute: &Ident, arguments: &[Argument]) -> TokenStream {
        let type_params = &self.type_params;
        // Explicit type arguments, since a parameter may appear in no argument.
        let turbofish = if type_params.is_empty() {
            quote!()
        } else {
            quote!(::<#(#type_params),*>)
        };
        let names = arguments.iter().map(|a| &a.name);
        if self.method {
            quote!(self.#compute #turbofish(#(#names),*))
        } else {
            quote!(#compute #turbofish(#(#names),*))
        }
    }

    /// A plain function (not a method, not generic) gets a handle of its own type, with
    /// per-entry methods that take its arguments.
    fn typed_handle(&self) -> bool {
        !self.method && self.type_params.is_empty()
    }

    /// The compute function sits beside the wrapper, not in it, for a method (it keeps
    /// its receiver) and for a typed handle (whose `cache_prime` calls it).
    fn compute_beside(&self) -> bool {
        self.method || self.typed_handle()
    }

    fn awaited(&self) -> TokenStream {
        if self.is_async {
            quote!(.await)
        } else {
            quote!()
        }
    }

    /// Compile-time checks that the cache can hold the value, and share the error.
    fn value_checks(&self, returns: &Returns) -> TokenStream {
        let mut value_checks = self.storage.value_checks(returns.cached());
        if matches!(returns, Returns::Result(_)) && self.options.shared_errors {
            let output = &self.function.sig.output;
            if let Some(error) = signature::result_error(output, self.options.result) {
                value_checks.extend(quote_spanned! {error.span()=>
                    {
                        // Callers waiting on a computation get its error, cloned.
                        fn __jwm_cache_error_is_shareable<E: ::core::clone::Clone + ::core::marker::Send + 'static>() {}
                        __jwm_cache_error_is_shareable::<#error>();
                    }
                });
            }
        }
        value_checks
    }

    /// The handle's declaration, and an expression for the cache that a call uses: the
    /// function's one cache, or its instantiation's.
    fn handle_and_cache(
        &self,
        cache_type: &TokenStream,
        entries: Option<handle::Entries>,
    ) -> (TokenStream, TokenStream) {
        // Methods go by instantiation too: in a generic `impl` block, or a trait's default
        // method, one definition serves many receiver types, which must not share entries.
        let mut instance_types: Vec<TokenStream> = Vec::new();
        if self.method {
            instance_types.push(quote!(Self));
        }
        instance_types.extend(self.type_params.iter().map(|p| quote!(#p)));
        let handle = Handle {
            name: self.name,
            method: self.method,
            is_async: self.is_async,
            vis: &self.function.vis,
            generic: !self.type_params.is_empty(),
            cfgs: self.cfgs().cloned().collect(),
        };
        if instance_types.is_empty() {
            self.one_cache(&handle, cache_type, entries)
        } else {
            self.cache_per_instantiation(&handle, &instance_types)
        }
    }

    /// Only a named identifier shares: a default one may repeat (same-named functions
    /// nested in two functions of one module), and must not mix their entries.
    fn shares(&self) -> bool {
        self.options.identifier.is_some()
    }

    /// A `FnCache` handle on the function's one cache, of type `cache_type`.
    fn one_cache(
        &self,
        handle: &Handle<'_>,
        cache_type: &TokenStream,
        entries: Option<handle::Entries>,
    ) -> (TokenStream, TokenStream) {
        let identifier = identifier(self.options, self.name);
        let build = self.storage.build(&quote!(__jwm_cache_identifier));
        let make = if self.shares() {
            quote!(::jwm_cache::FnCache::shared(__jwm_cache_identifier, || #build))
        } else {
            quote!(::jwm_cache::FnCache::listed(#build))
        };
        // The function's own TTL: functions sharing an identifier share a cache, not a TTL.
        let ttl = self.storage.ttl();
        // Under `clock = scoped`, a test that installs a clock gets a cache of its own,
        // never shared through the registry.
        let per_installation = if self.storage.scoped_clock() {
            quote! {
                .per_installation(|| {
                    let __jwm_cache_named = #identifier;
                    let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(&__jwm_cache_named);
                    ::std::sync::Arc::new(#build)
                })
            }
        } else {
            quote!()
        };
        let (declaration, handle) = handle.declare(
            quote!(::jwm_cache::FnCache<#cache_type>),
            quote! {
                ::jwm_cache::FnCache::new(|| {
                    let __jwm_cache_named = #identifier;
                    let __jwm_cache_identifier: &str = ::core::convert::AsRef::as_ref(&__jwm_cache_named);
                    #make
                })
                .with_ttl(#ttl)
                #per_installation
            },
            entries,
        );
        (declaration, quote!(#handle.cache()))
    }

    /// A `GenericFnCache` handle, with a cache per instantiation: per combination of
    /// `instance_types`.
    fn cache_per_instantiation(
        &self,
        handle: &Handle<'_>,
        instance_types: &[TokenStream],
    ) -> (TokenStream, TokenStream) {
        let identifier = identifier(self.options, self.name);
        let build = self.storage.build(&quote!(&__jwm_cache_identifier));
        let controls = if self.is_async {
            quote!(::jwm_cache::__private::AsyncControls)
        } else {
            quote!(::jwm_cache::__private::SyncControls)
        };
        let (declaration, handle) = handle.declare(
            quote!(::jwm_cache::GenericFnCache<#controls>),
            quote!(::jwm_cache::GenericFnCache::new()),
            None,
        );
        let instantiation =
            quote_spanned!(self.function.sig.generics.span()=> fn(#(*const #instance_types),*));
        let make = if self.shares() {
            quote!(::jwm_cache::FnCache::<_>::shared_as::<#instantiation>(&__jwm_cache_identifier, || #build))
        } else {
            quote!(::jwm_cache::FnCache::listed(#build))
        };
        let cache = quote! {
            #handle.instance::<#instantiation, _>(|| {
                let __jwm_cache_named = #identifier;
                let __jwm_cache_identifier = #handle.instance_identifier(
                    ::core::convert::AsRef::as_ref(&__jwm_cache_named),
                    &[#(::core::any::type_name::<#instance_types>()),*],
                );
                #make
            })
        };
        (declaration, cache)
    }

    /// The wrapper's body: the compute function (unless it sits beside a method), the
    /// checks, the key, and the cache's call.
    fn body(
        &self,
        inner: &ItemFn,
        value_checks: &TokenStream,
        key: &KeyParts,
        call: &TokenStream,
        by_ref: bool,
    ) -> TokenStream {
        let nested = if self.compute_beside() {
            quote!()
        } else {
            quote!(#inner)
        };
        let (key_checks, key_prelude) = (&key.checks, &key.prelude);
        let key_value = match (&key.borrowed, by_ref) {
            (Some(borrowed), true) => borrowed,
            _ => &key.value,
        };
        quote! {
            #nested
            #value_checks
            #(#key_checks)*
            #key_prelude
            let __jwm_cache_key = #key_value;
            #call
        }
    }
}
