//! `crate = ...`: where the expansion finds jwm-cache when it is not a dependency named
//! `jwm_cache` (renamed in `Cargo.toml`, or re-exported by a facade crate).

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, ExprLit, Lit};

/// `crate = ::facade::cache` or `crate = "facade::cache"`.
pub(crate) fn parse(value: &Expr) -> syn::Result<syn::Path> {
    match value {
        Expr::Path(path) => Ok(path.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(path),
            ..
        }) => path.parse(),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected the path jwm-cache is reached by, such as `crate = ::facade::cache`",
        )),
    }
}

/// `expansion` with every absolute `::jwm_cache` path starting at `path` instead.
pub(crate) fn rebased(expansion: TokenStream, path: &syn::Path) -> TokenStream {
    let tokens: Vec<TokenTree> = expansion.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tokens.len() {
        if let TokenTree::Group(group) = &tokens[i] {
            let mut inner =
                proc_macro2::Group::new(group.delimiter(), rebased(group.stream(), path));
            inner.set_span(group.span());
            out.extend([TokenTree::Group(inner)]);
            i += 1;
            continue;
        }
        // A path's leading `::` (not one after a segment), then `jwm_cache`.
        let leading = !continues_path(&tokens[..i]);
        if leading && starts_jwm_cache(&tokens[i..]) {
            path.to_tokens(&mut out);
            i += 3;
            continue;
        }
        out.extend([tokens[i].clone()]);
        i += 1;
    }
    out
}

/// Whether `tokens` start with `:: jwm_cache`.
fn starts_jwm_cache(tokens: &[TokenTree]) -> bool {
    match tokens {
        [
            TokenTree::Punct(first),
            TokenTree::Punct(second),
            TokenTree::Ident(name),
            ..,
        ] => {
            first.as_char() == ':'
                && first.spacing() == Spacing::Joint
                && second.as_char() == ':'
                && name == "jwm_cache"
        }
        _ => false,
    }
}

/// Keywords that a path may follow (`where ::a::B: C`, `as ::a::B`, `impl ::a::B`),
/// which a `::` after them starts, where after any other word it continues one.
const BEFORE_PATHS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "type", "unsafe", "use", "where", "while",
];

/// Whether a `::` after `before` continues a path (`a::`, `Vec<T>::`) rather than
/// starting one (`-> ::`, `=> ::`, `where ::`, `&'a ::`, `impl<T> ::`, `for<'a> ::`).
fn continues_path(before: &[TokenTree]) -> bool {
    match before {
        [rest @ .., TokenTree::Punct(close)] if close.as_char() == '>' && ends_an_arrow(rest) => {
            false
        }
        // A lifetime's name.
        [.., TokenTree::Punct(tick), TokenTree::Ident(_)] if tick.as_char() == '\'' => false,
        [.., TokenTree::Ident(word)] => !BEFORE_PATHS.iter().any(|keyword| word == keyword),
        [rest @ .., TokenTree::Punct(close)] if close.as_char() == '>' => {
            !closes_impl_or_for_generics(rest)
        }
        _ => false,
    }
}

/// Whether a `>` after `before` ends an `->` or a `=>`.
fn ends_an_arrow(before: &[TokenTree]) -> bool {
    matches!(before, [.., TokenTree::Punct(p)]
        if p.spacing() == Spacing::Joint && matches!(p.as_char(), '-' | '='))
}

/// Whether the `>` after `before` closes the generics of an `impl` or a `for`.
fn closes_impl_or_for_generics(before: &[TokenTree]) -> bool {
    let mut depth = 1;
    for (i, token) in before.iter().enumerate().rev() {
        let TokenTree::Punct(punct) = token else {
            continue;
        };
        match punct.as_char() {
            '>' if !ends_an_arrow(&before[..i]) => depth += 1,
            '<' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return matches!(&before[..i], [.., TokenTree::Ident(word)] if word == "impl" || word == "for");
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn absolute_paths_move_and_others_stay() {
        let path: syn::Path = syn::parse_quote!(::facade::cache);
        let expansion = quote! {
            let a: ::jwm_cache::Ttl = ::jwm_cache::Ttl::ZERO;
            let b = other::jwm_cache::Thing;
            fn f() -> Vec<::jwm_cache::Digest> { (::jwm_cache::f)() }
            impl ::jwm_cache::Memo for X where ::jwm_cache::T: Clone {}
            fn g() -> ::jwm_cache::Ttl { match 1 { _ => ::jwm_cache::Ttl::ZERO } }
            let c = <T as X>::jwm_cache::y;
            impl<T> ::jwm_cache::Memo for Vec<T> {}
            fn h<'a>(x: &'a ::jwm_cache::Ttl, f: &dyn for<'b> ::jwm_cache::F<'b>) {}
        };
        let expected = quote! {
            let a: ::facade::cache::Ttl = ::facade::cache::Ttl::ZERO;
            let b = other::jwm_cache::Thing;
            fn f() -> Vec<::facade::cache::Digest> { (::facade::cache::f)() }
            impl ::facade::cache::Memo for X where ::facade::cache::T: Clone {}
            fn g() -> ::facade::cache::Ttl { match 1 { _ => ::facade::cache::Ttl::ZERO } }
            let c = <T as X>::jwm_cache::y;
            impl<T> ::facade::cache::Memo for Vec<T> {}
            fn h<'a>(x: &'a ::facade::cache::Ttl, f: &dyn for<'b> ::facade::cache::F<'b>) {}
        };
        assert_eq!(rebased(expansion, &path).to_string(), expected.to_string());
    }
}
