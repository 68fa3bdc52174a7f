//! The handle on a memoized function's cache, and the identifier it is built under.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::options::Options;

/// The identifier's base, an expression of a `&str`-like type: as given, else the module
/// path, the function's name and the attribute's place in the source. That is unique to
/// each function in a program (same-named nested functions, and a type's inherent and
/// trait methods of one name, differ by place), and the same in every process running
/// this build.
pub(crate) fn identifier(options: &Options, name: &Ident) -> TokenStream {
    match &options.identifier {
        Some(id) => quote_spanned!(id.span()=> #id),
        // A method's receiver type name is appended per instantiation.
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#name),
            "@",
            ::core::file!(),
            ":",
            ::core::line!(),
            ":",
            ::core::column!()
        )),
    }
}

/// What a plain function's handle adds: the cache's type, and the per-entry methods.
pub(crate) struct Entries {
    pub(crate) cache: TokenStream,
    pub(crate) methods: TokenStream,
}

/// The handle on a function's cache: a static named after a function, or for a method
/// an associated function `Type::method_cache()`.
pub(crate) struct Handle<'a> {
    pub(crate) name: &'a Ident,
    pub(crate) method: bool,
    pub(crate) is_async: bool,
    pub(crate) vis: &'a syn::Visibility,
    pub(crate) generic: bool,
    /// The function's `cfg` and `cfg_attr` attributes, for every generated item.
    pub(crate) cfgs: Vec<syn::Attribute>,
}

impl Handle<'_> {
    /// Declares the handle, of type `ty`, as `init`; returns the declaration and an
    /// expression for the handle.
    /// `entries`, the per-entry methods of a function's own typed handle, makes the
    /// static a struct of the static's name that derefs to `ty`.
    pub(crate) fn declare(
        &self,
        ty: TokenStream,
        init: TokenStream,
        entries: Option<Entries>,
    ) -> (TokenStream, TokenStream) {
        let (name, vis, cfgs) = (self.name, self.vis, &self.cfgs);
        let awaited = if self.is_async { ".await" } else { "" };
        let per_instantiation = if self.generic {
            " One cache per instantiation; the controls span them all."
        } else {
            ""
        };
        if self.method {
            let handle_fn = format_ident!("{}_cache", name.unraw(), span = name.span());
            let doc = format!(
                " The cache of [`Self::{name}`]: `cache_info(){awaited}`, `cache_clear(){awaited}` and `cache_parameters()`.{per_instantiation}"
            );
            let declaration = quote! {
                #(#cfgs)*
                #[doc = #doc]
                #vis fn #handle_fn() -> &'static #ty {
                    static CACHE: #ty = #init;
                    &CACHE
                }
            };
            (declaration, quote!(Self::#handle_fn()))
        } else {
            let upper = name.unraw().to_string().to_uppercase();
            let handle = format_ident!("{}", upper, span = name.span());
            let doc = format!(
                " The cache of [`{name}`]: `cache_info(){awaited}`, `cache_clear(){awaited}` and `cache_parameters()`.{per_instantiation}"
            );
            let Some(Entries {
                cache,
                methods: entries,
            }) = entries
            else {
                let declaration = quote! {
                    #(#cfgs)*
                    #[doc = #doc]
                    #[allow(non_upper_case_globals)]
                    #vis static #handle: #ty = #init;
                };
                return (declaration, quote!(#handle));
            };
            // A braced struct lives in the type namespace only, so it shares the
            // static's name without a clash.
            let type_doc = format!(
                " The type of [`{upper}`](static@{upper}), the handle on [`{name}`]'s cache: the controls of the cache it derefs to, and per-entry `cache_remove`, `cache_set` and `cache_prime`, which take `{name}`'s arguments."
            );
            let declaration = quote! {
                #(#cfgs)*
                #[doc = #doc]
                #[allow(non_upper_case_globals)]
                #vis static #handle: #handle = #handle { cache: #init };

                #(#cfgs)*
                #[doc = #type_doc]
                #[allow(non_camel_case_types)]
                #vis struct #handle {
                    cache: #ty,
                }

                #(#cfgs)*
                impl ::core::ops::Deref for #handle {
                    type Target = #ty;

                    fn deref(&self) -> &#ty {
                        &self.cache
                    }
                }

                // The controls on the handle itself, so `&FIB` is an `impl CacheControls`.
                #(#cfgs)*
                impl ::jwm_cache::__private::Memo for #handle {
                    type Cache = #cache;

                    fn memo_cache(&self) -> ::jwm_cache::__private::CurrentCache<'_, Self::Cache> {
                        ::jwm_cache::__private::Memo::memo_cache(&self.cache)
                    }

                    fn memo_ttl(&self) -> ::core::option::Option<::jwm_cache::Ttl> {
                        ::jwm_cache::__private::Memo::memo_ttl(&self.cache)
                    }
                }

                #(#cfgs)*
                impl #handle {
                    #entries
                }
            };
            (declaration, quote!(#handle))
        }
    }
}
