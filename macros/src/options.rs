//! The attribute's options, each checked where it is written.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Meta, Token};

use crate::duration::{self, Ttl};

/// What `#[ttl_cache(...)]` asked for.
pub(crate) struct Options {
    pub(crate) ttl: Option<Ttl>,
    pub(crate) identifier: Option<LitStr>,
    pub(crate) capacity: Option<Expr>,
    pub(crate) serializer: Codec,
    pub(crate) clock: Clock,
    pub(crate) single_flight: bool,
    pub(crate) cache_none: bool,
    /// For a method: what of the receiver enters the key (else the whole receiver).
    pub(crate) key: Option<Expr>,
}

/// How values are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Identity,
    Postcard,
    Json,
}

/// Which clock reads time.
#[derive(Clone)]
pub(crate) enum Clock {
    System,
    Coarse,
    /// A `ManualClock`, cloned from the given static (or other expression that needs no
    /// local variable): tests move it instead of sleeping.
    Manual(Box<Expr>),
}

const KNOWN: &str =
    "ttl, ttl_ms, identifier, capacity, serializer, clock, single_flight, cache_none, key";

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options {
            ttl: None,
            identifier: None,
            capacity: None,
            serializer: Codec::Identity,
            clock: Clock::System,
            single_flight: true,
            cache_none: true,
            key: None,
        };
        for meta in Punctuated::<Meta, Token![,]>::parse_terminated(input)? {
            let Meta::NameValue(pair) = &meta else {
                return Err(syn::Error::new_spanned(
                    &meta,
                    format!("expected `name = value`; options: {KNOWN}"),
                ));
            };
            let name = pair
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            let value = &pair.value;
            match name.as_str() {
                "ttl" => {
                    let text = string(value)?;
                    let ttl = duration::parse(&text.value())
                        .map_err(|e| syn::Error::new_spanned(value, e))?;
                    options.ttl = Some(ttl);
                }
                "ttl_ms" => options.ttl = Some(Ttl::Millis(integer(value)?)),
                "identifier" => options.identifier = Some(string(value)?),
                "capacity" => options.capacity = Some(value.clone()),
                "serializer" => {
                    options.serializer = match word(value)?.as_str() {
                        "identity" => Codec::Identity,
                        "postcard" => Codec::Postcard,
                        "json" => Codec::Json,
                        _ => {
                            return Err(syn::Error::new_spanned(
                                value,
                                "serializer: identity, postcard or json",
                            ));
                        }
                    }
                }
                "clock" => options.clock = clock(value)?,
                "single_flight" => options.single_flight = boolean(value)?,
                "cache_none" => options.cache_none = boolean(value)?,
                "key" => options.key = Some(value.clone()),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &pair.path,
                        format!(
                            "unknown option `{}`; options: {KNOWN}",
                            quote::ToTokens::to_token_stream(&pair.path)
                        ),
                    ));
                }
            }
        }
        Ok(options)
    }
}

fn string(value: &Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a string, such as \"30s\"",
        )),
    }
}

fn integer(value: &Expr) -> syn::Result<u64> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse(),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a whole number of milliseconds",
        )),
    }
}

fn boolean(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(syn::Error::new_spanned(value, "expected true or false")),
    }
}

fn word(value: &Expr) -> syn::Result<String> {
    match value {
        Expr::Path(path) if path.path.get_ident().is_some() => Ok(path
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default()),
        _ => Err(syn::Error::new_spanned(value, "expected a name")),
    }
}

/// `system`, `coarse`, or `manual(CLOCK)`.
fn clock(value: &Expr) -> syn::Result<Clock> {
    if let Expr::Call(call) = value {
        if let (Expr::Path(f), [clock]) =
            (&*call.func, call.args.iter().collect::<Vec<_>>().as_slice())
        {
            if f.path.is_ident("manual") {
                return Ok(Clock::Manual(Box::new((*clock).clone())));
            }
        }
    }
    match word(value)?.as_str() {
        "system" => Ok(Clock::System),
        "coarse" => Ok(Clock::Coarse),
        _ => Err(syn::Error::new_spanned(
            value,
            "clock: system, coarse or manual(CLOCK)",
        )),
    }
}
