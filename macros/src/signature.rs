//! What the attribute reads from the function's signature.

use proc_macro2::Span;
use quote::format_ident;
use syn::{
    FnArg, GenericArgument, Ident, ItemFn, Lifetime, Pat, PathArguments, ReturnType, Signature,
    Type, TypeParamBound,
};

/// One argument of the function.
pub(crate) struct Argument {
    /// Its name in the wrapper: the original's, or a fresh one for a pattern.
    pub(crate) name: Ident,
    pub(crate) ty: Type,
    /// Marked `#[ttl_cache::ignore]`: passed on, never part of the key.
    pub(crate) ignored: bool,
}

/// How the function's result is cached.
pub(crate) enum Returns {
    /// Any value, cached as it is.
    Value(Type),
    /// `Result<T, E>`: only `Ok(T)` is cached.
    Result(Type),
    /// `Option<T>` with `cache_none = false`: only `Some(T)` is cached.
    SomeOnly(Type),
}

impl Returns {
    /// The type of what is cached.
    pub(crate) fn cached(&self) -> &Type {
        match self {
            Returns::Value(v) | Returns::Result(v) | Returns::SomeOnly(v) => v,
        }
    }
}

/// Refuses what cannot be memoized, at the offending token.
pub(crate) fn refuse_unsupported(sig: &Signature) -> syn::Result<()> {
    let refuse =
        |spanned: &dyn quote::ToTokens, what: &str| Err(syn::Error::new_spanned(spanned, what));
    if let Some(constness) = &sig.constness {
        return refuse(constness, "#[ttl_cache] cannot cache a `const fn`");
    }
    if let Some(unsafety) = &sig.unsafety {
        return refuse(unsafety, "#[ttl_cache] does not wrap `unsafe fn`s");
    }
    if let Some(constant) = sig.generics.const_params().next() {
        return refuse(
            constant,
            "#[ttl_cache] keeps one cache per instantiation by the type parameters' types; a const parameter has no type to tell instantiations apart: pass it as an argument",
        );
    }
    if let Some(receiver) = sig.receiver()
        && receiver.colon_token.is_some()
    {
        return refuse(
            receiver,
            "#[ttl_cache] caches methods whose receiver is written `&self`: write it so, not as a typed receiver (`self: &Self`, `self: Arc<Self>`)",
        );
    }
    if let Some(receiver) = sig.receiver()
        && (receiver.reference.is_none() || receiver.mutability.is_some())
    {
        return refuse(
            receiver,
            "#[ttl_cache] caches methods that take `&self`: a method that consumes or mutates its receiver is not a pure function of it",
        );
    }
    if let Some(variadic) = &sig.variadic {
        return refuse(variadic, "#[ttl_cache] cannot cache a variadic function");
    }
    Ok(())
}

/// Splits `function` into the wrapper's signature and its arguments. Both lose their
/// `#[ttl_cache::ignore]` marks; the wrapper binds every argument to a plain name, so it
/// can pass them all on to the original body.
pub(crate) fn arguments(function: &mut ItemFn) -> (Signature, Vec<Argument>) {
    let mut arguments = Vec::new();
    for arg in &mut function.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        let before = typed.attrs.len();
        typed.attrs.retain(|a| !is_ignore(a));
        let name = match &*typed.pat {
            Pat::Ident(ident) if ident.subpat.is_none() => ident.ident.clone(),
            _ => format_ident!("__jwm_cache_arg{}", arguments.len()),
        };
        arguments.push(Argument {
            name,
            ty: (*typed.ty).clone(),
            ignored: typed.attrs.len() != before,
        });
    }
    let mut wrapper = function.sig.clone();
    let mut names = arguments.iter().map(|a| &a.name);
    for arg in &mut wrapper.inputs {
        if let FnArg::Typed(typed) = arg
            && let Some(name) = names.next()
        {
            *typed.pat = syn::parse_quote!(#name);
        }
    }
    (wrapper, arguments)
}

/// Refuses a key argument the cache cannot keep. A shared borrow is kept in its owned
/// form; a type with none is refused by the `OwnedKey` bound, with its own message.
pub(crate) fn refuse_unkeepable(argument: &Argument) -> syn::Result<()> {
    let ty = unwrapped(&argument.ty);
    let pointee = match ty {
        Type::Reference(reference) if reference.mutability.is_some() => {
            return Err(syn::Error::new_spanned(
                reference,
                "a `&mut` argument cannot be part of the key: what the function mutates is not an input the cache can compare; mark it `#[ttl_cache::ignore]`, or key on an expression with `key = ...`",
            ));
        }
        Type::Reference(reference) => unwrapped(&reference.elem),
        ty => ty,
    };
    match pointee {
        Type::ImplTrait(opaque) => Err(syn::Error::new_spanned(
            opaque,
            "an `impl Trait` argument has no type the cache can store: name the type",
        )),
        Type::TraitObject(object) => Err(syn::Error::new_spanned(
            object,
            "a `dyn Trait` argument has no owned form the cache can keep: take a named type, mark it `#[ttl_cache::ignore]`, or key on an expression with `key = ...`",
        )),
        pointee => match borrow_within(pointee) {
            Some(span) => Err(syn::Error::new(
                span,
                "a borrow inside a key argument's type cannot be kept in the cache: only a whole argument `&T` is kept in its owned form; take this argument owned (`Option<String>` for `Option<&str>`), mark it `#[ttl_cache::ignore]`, or key on an expression with `key = ...`",
            )),
            None => Ok(()),
        },
    }
}

/// Where `ty` borrows for less than `'static`: a reference not `&'static`, or another
/// lifetime (`Cow<'a, str>`, `Wrapper<'_>`, `dyn Trait + 'a`). A function pointer's or
/// an `Fn` bound's own arguments borrow for each call only (`fn(&str)`), and stay.
fn borrow_within(ty: &Type) -> Option<Span> {
    let lifetime = |lifetime: &Lifetime| (lifetime.ident != "static").then(|| lifetime.span());
    match ty {
        Type::Reference(reference) => match &reference.lifetime {
            Some(l) if l.ident == "static" => borrow_within(&reference.elem),
            _ => Some(reference.and_token.span),
        },
        Type::Path(path) => {
            let qualified = path.qself.as_ref().and_then(|q| borrow_within(&q.ty));
            qualified.or_else(|| path_borrows(&path.path))
        }
        Type::TraitObject(object) => object.bounds.iter().find_map(|bound| match bound {
            TypeParamBound::Lifetime(l) => lifetime(l),
            TypeParamBound::Trait(bound) => path_borrows(&bound.path),
            _ => None,
        }),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(borrow_within),
        Type::Array(array) => borrow_within(&array.elem),
        Type::Slice(slice) => borrow_within(&slice.elem),
        Type::Paren(paren) => borrow_within(&paren.elem),
        Type::Group(group) => borrow_within(&group.elem),
        Type::Ptr(pointer) => borrow_within(&pointer.elem),
        _ => None,
    }
}

/// Where a path's generic arguments borrow for less than `'static` (see
/// [`borrow_within`]); an `Fn(..)` bound's parenthesized arguments do not.
fn path_borrows(path: &syn::Path) -> Option<Span> {
    path.segments.iter().find_map(|segment| {
        let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|argument| match argument {
            GenericArgument::Type(ty) => borrow_within(ty),
            GenericArgument::Lifetime(l) => (l.ident != "static").then(|| l.span()),
            _ => None,
        })
    })
}

/// `ty` without the invisible groups and parentheses a `macro_rules!` `$t:ty` adds.
pub(crate) fn unwrapped(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => unwrapped(&group.elem),
        Type::Paren(paren) => unwrapped(&paren.elem),
        ty => ty,
    }
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

/// The `E` of a return type written `Result<T, E>`, or with `result = true` of any
/// `Result` type: callers waiting on a computation get its error, cloned, so it must be
/// `Clone + Send + 'static`.
pub(crate) fn result_error(output: &ReturnType, result: Option<bool>) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let spelled = spelled_error(ty);
    match (spelled, result) {
        (Some(error), _) => Some(error),
        (None, Some(true)) => {
            Some(syn::parse_quote!(<#ty as ::jwm_cache::__private::IsResult>::Err))
        }
        (None, _) => None,
    }
}

/// The `E` of a type written `Result<T, E>`.
fn spelled_error(ty: &Type) -> Option<Type> {
    let Type::Path(path) = unwrapped(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if last.ident != "Result" {
        return None;
    }
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    types.nth(1)
}

/// How the return type is cached. `result` states the `Result` rule outright: `false`
/// caches any value whole, `true` caches only `Ok` of any `Result` type, aliases
/// included; without it, only a type written `Result<T, E>` is one.
pub(crate) fn returns(output: &ReturnType, cache_none: bool, result: Option<bool>) -> Returns {
    let ty = match output {
        ReturnType::Default => return Returns::Value(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let spelled = returns_spelled(&ty, cache_none);
    match (spelled, result) {
        (Returns::Result(_), Some(false)) => Returns::Value(ty),
        (Returns::Result(ok), _) => Returns::Result(ok),
        (_, Some(true)) => {
            Returns::Result(syn::parse_quote!(<#ty as ::jwm_cache::__private::IsResult>::Ok))
        }
        (spelled, _) => spelled,
    }
}

/// How the return type is cached, by its spelling alone.
fn returns_spelled(ty: &Type, cache_none: bool) -> Returns {
    if let Type::Path(path) = unwrapped(ty)
        && let Some(last) = path.path.segments.last()
    {
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
    Returns::Value(ty.clone())
}

/// `allow`, `warn`, `deny`, `forbid` or `expect`, clippy's included.
pub(crate) fn is_lint_level(attribute: &syn::Attribute) -> bool {
    ["allow", "warn", "deny", "forbid", "expect"]
        .iter()
        .any(|level| attribute.path().is_ident(level))
}

/// `attribute` as the wrapper carries it: an `expect` becomes an `allow`, since the
/// lint it expects fires in the original body, which the compute function keeps (with
/// the `expect`), and an unfulfilled expectation on the wrapper would warn.
pub(crate) fn on_wrapper(attribute: &syn::Attribute) -> syn::Attribute {
    let mut attribute = attribute.clone();
    if let syn::Meta::List(list) = &mut attribute.meta
        && list.path.is_ident("expect")
    {
        list.path = syn::parse_quote!(allow);
    }
    attribute
}

/// `cfg` or `cfg_attr`.
pub(crate) fn is_cfg(attribute: &syn::Attribute) -> bool {
    attribute.path().is_ident("cfg") || attribute.path().is_ident("cfg_attr")
}
