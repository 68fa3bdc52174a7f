//! The committed expansions in `tests/expand/`: each `NAME.rs` there, expanded and
//! printed, must equal `NAME.expanded.rs`. After a deliberate change, rewrite them with
//! `JWM_CACHE_EXPAND=overwrite cargo test -p jwm-cache-macros` and review the diff.

use std::fs;
use std::path::Path;

use proc_macro2::TokenStream;
use syn::{Attribute, ImplItem, Item, ItemFn};

use crate::expand::expand;

/// Takes the `#[ttl_cache(...)]` off `attrs`, returning its options' tokens.
fn take_attribute(attrs: &mut Vec<Attribute>) -> Option<TokenStream> {
    let at = attrs.iter().position(|a| a.path().is_ident("ttl_cache"))?;
    let attribute = attrs.remove(at);
    Some(match attribute.meta {
        syn::Meta::List(list) => list.tokens,
        _ => TokenStream::new(),
    })
}

fn expand_fn(options: TokenStream, function: ItemFn) -> TokenStream {
    let options = syn::parse2(options).expect("options");
    expand(options, function).unwrap_or_else(syn::Error::into_compile_error)
}

/// The file with every `#[ttl_cache]` function and method expanded.
fn expand_file(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("a case parses");
    let mut items = Vec::new();
    for item in file.items {
        match item {
            Item::Fn(mut function) => match take_attribute(&mut function.attrs) {
                Some(options) => {
                    let expanded: syn::File =
                        syn::parse2(expand_fn(options, function)).expect("items");
                    items.extend(expanded.items);
                }
                None => items.push(Item::Fn(function)),
            },
            Item::Impl(mut block) => {
                let mut expanded_items = Vec::new();
                for member in block.items {
                    let ImplItem::Fn(method) = member else {
                        expanded_items.push(member);
                        continue;
                    };
                    let mut function = ItemFn {
                        attrs: method.attrs,
                        vis: method.vis,
                        sig: method.sig,
                        block: Box::new(method.block),
                    };
                    let Some(options) = take_attribute(&mut function.attrs) else {
                        expanded_items.push(syn::parse_quote!(#function));
                        continue;
                    };
                    let tokens = expand_fn(options, function);
                    let wrapped: syn::ItemImpl =
                        syn::parse2(quote::quote!(impl X { #tokens })).expect("members");
                    expanded_items.extend(wrapped.items);
                }
                block.items = expanded_items;
                items.push(Item::Impl(block));
            }
            other => items.push(other),
        }
    }
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: file.attrs,
        items,
    })
}

#[test]
fn committed_expansions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let overwrite = std::env::var("JWM_CACHE_EXPAND").as_deref() == Ok("overwrite");
    let mut cases = 0;
    let mut stale = Vec::new();
    for entry in fs::read_dir(&dir).expect("tests/expand") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || name.ends_with(".expanded.rs") {
            continue;
        }
        cases += 1;
        let actual = expand_file(&fs::read_to_string(&path).expect("a case"));
        let expected_path = path.with_extension("expanded.rs");
        if overwrite {
            fs::write(&expected_path, &actual).expect("written");
        } else if fs::read_to_string(&expected_path).ok().as_deref() != Some(actual.as_str()) {
            stale.push(name.to_string());
        }
    }
    assert!(cases >= 5, "only {cases} cases in {}", dir.display());
    assert!(
        stale.is_empty(),
        "expansions changed: {stale:?}; review with JWM_CACHE_EXPAND=overwrite and git diff"
    );
}

/// With `crate = ...`, no path of the expansion goes through `::jwm_cache`: every
/// committed case, functions and methods, rebased.
#[test]
fn a_crate_path_replaces_every_absolute_path() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let facade: syn::Path = syn::parse_quote!(::facade::cache);
    for entry in fs::read_dir(&dir).expect("tests/expand") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || name.ends_with(".expanded.rs") {
            continue;
        }
        let expanded = expand_file(&fs::read_to_string(&path).expect("a case"));
        assert!(
            expanded.contains("::jwm_cache::"),
            "{name} names no path to rebase"
        );
        let tokens: TokenStream = expanded.parse().expect("tokens");
        let rebased = crate::crate_path::rebased(tokens, &facade).to_string();
        let rebased = rebased.replace(' ', "");
        assert!(!rebased.contains("::jwm_cache::"), "{name}: {rebased}");
        assert!(rebased.contains("::facade::cache::"), "{name}");
    }
}
