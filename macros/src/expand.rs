//! What `#[ttl_cache]` turns a function into.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::duration::Ttl;
use crate::options::{Clock, Codec, Options};

/// How the function's result is cached.
enum Returns {
    /// Any value, cached as it is.
    Value(Type),
    /// `Result<T, E>`: only `Ok(T)` is cached.
    Result(Type),
    /// `Option<T>` with `cache_none = false`: only `Some(T)` is cached.
    SomeOnly(Type),
}

pub(crate) fn expand(options: Options, mut function: ItemFn) -> syn::Result<TokenStream> {
    refuse_unsupported(&function)?;
    let method = function.sig.receiver().is_some();
    if let (Some(key), false) = (&options.key, method) {
        return Err(syn::Error::new_spanned(
            key,
            "`key` projects a method's receiver; on a function, every argument not marked `#[ttl_cache::ignore]` is the key",
        ));
    }
    let name = function.sig.ident.clone();
    let (key_names, mut key_types) = key_arguments(&mut function)?;
    let returns = returns(&function.sig.output, options.cache_none);
    let value = match &returns {
        Returns::Value(v) | Returns::Result(v) | Returns::SomeOnly(v) => v.clone(),
    };
    // Checked per argument, so that an unfit key type is pointed at where it is written.
    let key_checks: Vec<_> = key_types
        .iter()
        .map(|ty| {
            quote_spanned! {ty.span()=>
                {
                    fn __jwm_cache_key_is_fit<T: ::core::hash::Hash + ::core::cmp::Eq + ::core::clone::Clone>() {}
                    __jwm_cache_key_is_fit::<#ty>();
                }
            }
        })
        .collect();
    let mut key_parts: Vec<TokenStream> = key_names
        .iter()
        .map(|n| quote!(::core::clone::Clone::clone(&#n)))
        .collect();
    if method {
        // The receiver enters the key as the digest of its projection (or of itself),
        // so the cache never holds the receiver and never borrows it.
        key_types.insert(0, syn::parse_quote!(::jwm_cache::Digest));
        key_parts.insert(0, quote!(__jwm_cache_receiver));
    }
    let key_type = match key_types.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many,)*)),
    };
    let key = match key_parts.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many,)*)),
    };
    let is_async = function.sig.asyncness.is_some();
    let cache_type = cache_type(&options, is_async, &key_type, &value);
    let builder = builder(&options, is_async, &name, method);

    let args: Vec<_> = function
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => Some(ident.ident.clone()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    // The body runs as a function with the original signature, so `return`, `?` and
    // the argument patterns mean what they meant: nested in a function, or beside a
    // method (where it keeps its receiver).
    let mut inner = function.clone();
    inner.sig.ident = format_ident!("__jwm_cache_compute_{}", name);
    inner.vis = syn::Visibility::Inherited;
    inner.attrs = vec![syn::parse_quote!(#[doc(hidden)])];
    let compute_name = &inner.sig.ident;
    let computed = if method {
        quote!(self.#compute_name(#(#args),*))
    } else {
        quote!(#compute_name(#(#args),*))
    };
    let awaited = if is_async { quote!(.await) } else { quote!() };
    let (handle_decl, cache) = if method {
        let handle_fn = format_ident!("{}_cache", name, span = name.span());
        let doc = format!(
            "The cache of [`Self::{name}`]: `cache_info()`, `cache_clear()` and `cache_parameters()`."
        );
        let vis = &function.vis;
        (
            quote! {
                #inner
                #[doc = #doc]
                #vis fn #handle_fn() -> &'static ::jwm_cache::FnCache<#cache_type> {
                    static CACHE: ::jwm_cache::FnCache<#cache_type> =
                        ::jwm_cache::FnCache::new(|| ::jwm_cache::FnCache::shared(#builder));
                    &CACHE
                }
            },
            quote!(Self::#handle_fn().cache()),
        )
    } else {
        let handle = format_ident!("{}", name.to_string().to_uppercase(), span = name.span());
        let doc = format!(
            "The cache of [`{name}`]: `cache_info()`, `cache_clear()` and `cache_parameters()`."
        );
        let vis = &function.vis;
        (
            quote! {
                #[doc = #doc]
                #[allow(non_upper_case_globals)]
                #vis static #handle: ::jwm_cache::FnCache<#cache_type> =
                    ::jwm_cache::FnCache::new(|| ::jwm_cache::FnCache::shared(#builder));
            },
            quote!(#handle.cache()),
        )
    };
    let receiver = if method {
        let projected = match &options.key {
            Some(projection) => quote!(&(#projection)(self)),
            None => quote!(self),
        };
        quote! {
            // A receiver without a canonical encoding cannot be keyed: computed, not cached.
            let Ok(__jwm_cache_receiver) = ::jwm_cache::PersistentHash::persistent_digest(#projected) else {
                return #computed #awaited;
            };
        }
    } else {
        quote!()
    };
    let compute = quote!(|| #computed);
    let call = match &returns {
        Returns::Value(_) => quote!(#cache.get_or_insert_with(__jwm_cache_key, #compute) #awaited),
        Returns::Result(_) => {
            quote!(#cache.try_get_or_insert_with(__jwm_cache_key, #compute) #awaited)
        }
        Returns::SomeOnly(_) if is_async => quote! {
            #cache.try_get_or_insert_with(__jwm_cache_key, || async { #computed.await.ok_or(()) }).await.ok()
        },
        Returns::SomeOnly(_) => quote! {
            #cache.try_get_or_insert_with(__jwm_cache_key, || #computed.ok_or(())).ok()
        },
    };
    let nested = if method { quote!() } else { quote!(#inner) };
    let (vis, attrs, sig) = (&function.vis, &function.attrs, &function.sig);
    Ok(quote! {
        #handle_decl

        #(#attrs)*
        #vis #sig {
            #nested
            #(#key_checks)*
            #receiver
            let __jwm_cache_key = #key;
            #call
        }
    })
}

fn refuse_unsupported(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let refuse =
        |spanned: &dyn quote::ToTokens, what: &str| Err(syn::Error::new_spanned(spanned, what));
    if let Some(constness) = &sig.constness {
        return refuse(constness, "#[ttl_cache] cannot cache a `const fn`");
    }
    if let Some(unsafety) = &sig.unsafety {
        return refuse(unsafety, "#[ttl_cache] does not wrap `unsafe fn`s");
    }
    if !sig.generics.params.is_empty() {
        return refuse(
            &sig.generics,
            "#[ttl_cache] does not yet cache generic functions: one cache per function needs one key type",
        );
    }
    if let Some(receiver) = sig.receiver() {
        if receiver.reference.is_none() || receiver.mutability.is_some() {
            return refuse(
                receiver,
                "#[ttl_cache] caches methods that take `&self`: a method that consumes or mutates its receiver is not a pure function of it",
            );
        }
    }
    if let Some(variadic) = &sig.variadic {
        return refuse(variadic, "#[ttl_cache] cannot cache a variadic function");
    }
    Ok(())
}

/// The arguments that form the key, in order, with `#[ttl_cache::ignore]` stripped.
fn key_arguments(function: &mut ItemFn) -> syn::Result<(Vec<syn::Ident>, Vec<Type>)> {
    let (mut names, mut types) = (Vec::new(), Vec::new());
    for arg in &mut function.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        let before = typed.attrs.len();
        typed.attrs.retain(|a| !is_ignore(a));
        if typed.attrs.len() != before {
            continue;
        }
        let Pat::Ident(ident) = &*typed.pat else {
            return Err(syn::Error::new_spanned(
                &typed.pat,
                "#[ttl_cache] keys on named arguments: bind this one to a name",
            ));
        };
        match &*typed.ty {
            Type::Reference(reference) => {
                return Err(syn::Error::new_spanned(
                    reference,
                    "a borrowed argument cannot be kept in the cache: take it by value (`String` for `&str`), or mark it `#[ttl_cache::ignore]`",
                ));
            }
            Type::ImplTrait(opaque) => {
                return Err(syn::Error::new_spanned(
                    opaque,
                    "an `impl Trait` argument has no type the cache can store: name the type",
                ));
            }
            _ => {}
        }
        names.push(ident.ident.clone());
        types.push((*typed.ty).clone());
    }
    Ok((names, types))
}

fn is_ignore(attribute: &syn::Attribute) -> bool {
    let segments: Vec<String> = attribute
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments == ["ttl_cache", "ignore"]
}

fn returns(output: &ReturnType, cache_none: bool) -> Returns {
    let ty = match output {
        ReturnType::Default => return Returns::Value(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if let Type::Path(path) = &ty {
        if let Some(last) = path.path.segments.last() {
            let first = match &last.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                    GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                }),
                _ => None,
            };
            match (last.ident.to_string().as_str(), first) {
                ("Result", Some(ok)) => return Returns::Result(ok),
                ("Option", Some(some)) if !cache_none => return Returns::SomeOnly(some),
                _ => {}
            }
        }
    }
    Returns::Value(ty)
}

fn codec(options: &Options) -> TokenStream {
    match options.serializer {
        Codec::Identity => quote!(::jwm_cache::Identity),
        Codec::Postcard => quote!(::jwm_cache::Postcard),
        Codec::Json => quote!(::jwm_cache::Json),
    }
}

/// The clock's type.
fn clock(options: &Options) -> TokenStream {
    match options.clock {
        Clock::System => quote!(::jwm_cache::SystemClock),
        Clock::Coarse => quote!(::jwm_cache::CoarseClock),
        Clock::Manual(_) => quote!(::jwm_cache::ManualClock),
    }
}

/// The clock's value.
fn clock_value(options: &Options) -> TokenStream {
    match &options.clock {
        Clock::Manual(clock) => {
            quote_spanned!(clock.span()=> ::jwm_cache::ManualClock::clone(&#clock))
        }
        _ => clock(options),
    }
}

fn cache_type(options: &Options, is_async: bool, key: &TokenStream, value: &Type) -> TokenStream {
    let (codec, clock) = (codec(options), clock(options));
    let memory = quote!(::jwm_cache::MemoryBackend<#key, <#codec as ::jwm_cache::Serializer<#value>>::Encoded>);
    if is_async {
        quote!(::jwm_cache::AsyncCache<#key, #value, ::jwm_cache::Sharded<#memory>, #codec, #clock>)
    } else {
        quote!(::jwm_cache::SyncCache<#key, #value, #memory, #codec, #clock>)
    }
}

fn builder(options: &Options, is_async: bool, name: &syn::Ident, method: bool) -> TokenStream {
    let identifier = match &options.identifier {
        Some(id) => quote!(#id),
        // Several types in one module may have a method of this name: the line keeps
        // their caches apart (and is the same in every process running this build).
        None if method => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#name),
            ":",
            ::core::line!()
        )),
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#name)
        )),
    };
    let mut builder = quote!(::jwm_cache::SyncCacheBuilder::new().identifier(#identifier));
    match options.ttl {
        Some(Ttl::Millis(ms)) => {
            builder.extend(quote!(.ttl(::core::time::Duration::from_millis(#ms))))
        }
        Some(Ttl::Never) => builder.extend(quote!(.ttl(::jwm_cache::Ttl::NEVER))),
        None => {}
    }
    if let Some(capacity) = &options.capacity {
        builder.extend(quote_spanned!(capacity.span()=> .capacity(#capacity)));
    }
    if !options.single_flight {
        builder.extend(quote!(.single_flight(false)));
    }
    let (codec, clock) = (codec(options), clock_value(options));
    builder.extend(quote!(.serializer(#codec).clock(#clock)));
    let build = if is_async {
        quote!(.build_async())
    } else {
        quote!(.build())
    };
    quote!(#identifier, || #builder #build)
}
