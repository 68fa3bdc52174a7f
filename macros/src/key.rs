//! The key a memoized call is cached under: its type and how each call computes it.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::options::{Key, Options};
use crate::signature::{self, Argument};
use crate::storage::Storage;

/// How one argument is kept in the key: the type stored, and the value from the argument.
struct Kept {
    ty: Type,
    value: TokenStream,
    /// For a borrowed argument: that its type has an owned form, checked first so that a
    /// type with none is reported as such.
    check: Option<TokenStream>,
}

impl Kept {
    /// A borrowed argument (`&str`, `&[T]`, `&Path`, `&T`) is kept in its owned form
    /// (`ToOwned`), which hashes, compares and digests as the borrowed one does; any other
    /// argument is kept as a clone.
    fn of(argument: &Argument) -> Kept {
        let name = &argument.name;
        match signature::unwrapped(&argument.ty) {
            Type::Reference(borrowed) => {
                let pointee = &borrowed.elem;
                Kept {
                    ty: syn::parse_quote_spanned!(pointee.span()=>
                        <#pointee as ::jwm_cache::__private::OwnedKey>::Owned
                    ),
                    value: quote!(::jwm_cache::__private::OwnedKey::owned_key(#name)),
                    check: Some(quote_spanned! {pointee.span()=>
                        {
                            fn __jwm_cache_has_owned_form<T: ?::core::marker::Sized + ::jwm_cache::__private::OwnedKey>() {}
                            __jwm_cache_has_owned_form::<#pointee>();
                        }
                    }),
                }
            }
            _ => Kept {
                ty: argument.ty.clone(),
                value: quote!(::core::clone::Clone::clone(&#name)),
                check: None,
            },
        }
    }
}

/// The key: its type, the statements that compute it, and its value.
pub(crate) struct KeyParts {
    pub(crate) ty: TokenStream,
    /// For a key of one borrowed argument, that argument: a lookup by it builds no owned
    /// key.
    pub(crate) borrowed: Option<TokenStream>,
    pub(crate) checks: Vec<TokenStream>,
    pub(crate) prelude: TokenStream,
    pub(crate) value: TokenStream,
}

/// A key that cannot be encoded cannot be named: the call computes, uncached.
fn digest_or_compute(binding: &Ident, of: TokenStream, uncached: &TokenStream) -> TokenStream {
    quote! {
        let ::core::result::Result::Ok(#binding) = ::jwm_cache::key::PersistentDigest::persistent_digest(#of) else {
            return #uncached;
        };
    }
}

pub(crate) fn key(
    options: &Options,
    storage: &Storage<'_>,
    method: bool,
    arguments: &[Argument],
    uncached: &TokenStream,
) -> syn::Result<KeyParts> {
    let digest = format_ident!("__jwm_cache_digest");
    if let Some(Key::Whole(expression)) = &options.key {
        return Ok(KeyParts {
            ty: quote!(::jwm_cache::key::Digest),
            borrowed: None,
            checks: Vec::new(),
            prelude: digest_or_compute(
                &digest,
                quote_spanned!(expression.span()=> &(#expression)),
                uncached,
            ),
            value: quote!(#digest),
        });
    }
    let keyed: Vec<&Argument> = arguments.iter().filter(|a| !a.ignored).collect();
    for argument in &keyed {
        signature::refuse_unkeepable(argument)?;
    }
    let kept: Vec<Kept> = keyed.iter().map(|a| Kept::of(a)).collect();
    let checks = kept
        .iter()
        .map(|k| {
            let fits = storage.key_check(&k.ty);
            let owned = &k.check;
            quote!(#owned #fits)
        })
        .collect();
    let mut types: Vec<TokenStream> = kept.iter().map(|k| k.ty.to_token_stream()).collect();
    let mut values: Vec<TokenStream> = kept.into_iter().map(|k| k.value).collect();
    let mut prelude = quote!();
    if method {
        // The receiver enters the key as the digest of its projection (or of itself),
        // so the cache never holds the receiver and never borrows it.
        let projected = match &options.key {
            // Through a function, so that the closure's parameter type is known.
            Some(Key::Receiver(projection)) => quote!(&{
                fn __jwm_cache_project<'a, S: ?::core::marker::Sized, R>(
                    this: &'a S,
                    projection: impl ::core::ops::FnOnce(&'a S) -> R,
                ) -> R {
                    projection(this)
                }
                __jwm_cache_project(self, #projection)
            }),
            _ => quote!(self),
        };
        prelude = digest_or_compute(&digest, projected, uncached);
        types.insert(0, quote!(::jwm_cache::key::Digest));
        values.insert(0, quote!(#digest));
    }
    let tuple = |parts: &[TokenStream]| match parts {
        [one] => quote!(#one),
        many => quote!((#(#many,)*)),
    };
    let borrowed = match (method, keyed.as_slice()) {
        (false, [only]) if matches!(signature::unwrapped(&only.ty), Type::Reference(_)) => {
            let name = &only.name;
            Some(quote!(#name))
        }
        _ => None,
    };
    Ok(KeyParts {
        ty: tuple(&types),
        borrowed,
        checks,
        prelude,
        value: tuple(&values),
    })
}
