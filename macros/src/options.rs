//! The attribute's options, each checked where it is written.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Meta, Token};

use crate::crate_path;
use crate::duration::{self, Ttl};

/// What `#[ttl_cache(...)]` asked for.
pub(crate) struct Options {
    pub(crate) ttl: Option<Ttl>,
    /// `time_to_idle = "5m"`, and where it was written.
    pub(crate) time_to_idle: Option<(Ttl, Span)>,
    /// `refresh_after = "4m"`, and where it was written.
    pub(crate) refresh_after: Option<(Ttl, Span)>,
    /// `stale_if_error = "1h"`, and where it was written.
    pub(crate) stale_if_error: Option<(Ttl, Span)>,
    /// `lease = "10s"`: one computation per key across processes sharing Redis.
    pub(crate) lease: Option<(Ttl, Span)>,
    /// A string, or an expression of a `&str`-like type read on the first call.
    pub(crate) identifier: Option<Expr>,
    /// Options passed to the cache builder's setter of the same name, in the order written.
    pub(crate) setters: Vec<(Ident, Expr)>,
    /// The codec, and where it was named (`None`: the backend's default).
    pub(crate) serializer: Option<(Codec, Span)>,
    /// The clock (`None`: chosen from the TTL, see `expand::clock`).
    pub(crate) clock: Option<Clock>,
    pub(crate) backend: Backend,
    /// For a sync function over Redis: the `Bridge` expression, and where it was named.
    pub(crate) bridge: Option<(Expr, Span)>,
    /// Whether callers waiting on a failing computation get its `Err` (cloned), or
    /// compute again (for an error type that is not `Clone`).
    pub(crate) shared_errors: bool,
    pub(crate) cache_none: bool,
    /// Where `cache_none` was written, if it was.
    pub(crate) cache_none_span: Option<Span>,
    /// `result = true | false`: whether the return type is a `Result` whose `Err` is not
    /// cached, stated outright (`None`: decided by the spelling `Result<T, E>`).
    pub(crate) result: Option<bool>,
    pub(crate) key: Option<Key>,
    /// `crate = ...`: the path of jwm-cache, if not `::jwm_cache`.
    pub(crate) crate_path: Option<syn::Path>,
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
    /// `ScopedClock`: the system clock, or a test's manual clock on the test's thread;
    /// with the option's span, for the refusals that name it.
    Scoped(proc_macro2::Span),
    /// A `ManualClock`, cloned from the given static (or other expression that needs no
    /// local variable): tests move it instead of sleeping.
    Manual(Box<Expr>),
}

/// Where entries live.
pub(crate) enum Backend {
    Memory,
    /// `redis(url = ..., prefix = "...", timeout = "250ms", near = 10_000)`, or
    /// `cluster = [...]` in place of `url`.
    Redis {
        server: Server,
        prefix: Option<LitStr>,
        timeout_ms: Option<u64>,
        /// The near tier's capacity, if it has one.
        near: Option<usize>,
    },
}

/// Which Redis: one server, or a cluster.
pub(crate) enum Server {
    /// `url = ...`: a `&str`-like expression.
    Url(Box<Expr>),
    /// `cluster = [...]`: seed URLs, any expression that is `AsRef<[S]>` with `S: AsRef<str>`.
    Cluster(Box<Expr>),
}

/// `key = ...`: a projection of a method's receiver, or the whole key.
pub(crate) enum Key {
    /// `|this: &Type| this.id`: what of the receiver enters a method's key.
    Receiver(Box<Expr>),
    /// Any other expression over the arguments: the key is its `PersistentHash` digest.
    Whole(Box<Expr>),
}

/// Options that are the builders' setters of the same name (see jwm-cache-core's
/// `option_setters!`): a new one is a name here.
pub(crate) const SETTERS: &[&str] = &["capacity", "shards", "single_flight"];

/// The options the attribute reads itself.
pub(crate) const OWN: &[&str] = &[
    "ttl",
    "ttl_ms",
    "time_to_idle",
    "refresh_after",
    "stale_if_error",
    "lease",
    "identifier",
    "serializer",
    "backend",
    "bridge",
    "clock",
    "shared_errors",
    "cache_none",
    "result",
    "key",
    "crate",
];

/// Every option, for error messages.
fn known() -> String {
    OWN.iter()
        .chain(SETTERS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

impl Options {
    /// The value given to the builder setter `name`, if any.
    pub(crate) fn setter(&self, name: &str) -> Option<&Expr> {
        self.setters
            .iter()
            .find(|(setter, _)| setter == name)
            .map(|(_, value)| value)
    }
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options {
            ttl: None,
            time_to_idle: None,
            refresh_after: None,
            stale_if_error: None,
            lease: None,
            identifier: None,
            setters: Vec::new(),
            serializer: None,
            clock: None,
            backend: Backend::Memory,
            bridge: None,
            shared_errors: true,
            cache_none: true,
            cache_none_span: None,
            result: None,
            key: None,
            crate_path: None,
        };
        let mut given: Vec<&'static str> = Vec::new();
        for meta in Punctuated::<Meta, Token![,]>::parse_terminated(input)? {
            let Meta::NameValue(pair) = &meta else {
                return Err(syn::Error::new_spanned(
                    &meta,
                    format!("expected `name = value`; options: {}", known()),
                ));
            };
            let name = pair
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            crate::refusals::refuse_repeated(&mut given, &name, &pair.path)?;
            let value = &pair.value;
            match name.as_str() {
                "ttl" => options.ttl = Some(duration(value)?),
                "ttl_ms" => options.ttl = Some(Ttl::Millis(integer(value)?)),
                "time_to_idle" => options.time_to_idle = Some((duration(value)?, value.span())),
                "refresh_after" => options.refresh_after = Some((duration(value)?, value.span())),
                "stale_if_error" => {
                    options.stale_if_error = Some((duration(value)?, value.span()));
                }
                "lease" => options.lease = Some((duration(value)?, value.span())),
                "identifier" => options.identifier = Some(value.clone()),
                "serializer" => options.serializer = Some((codec(value)?, value.span())),
                "clock" => options.clock = Some(clock(value)?),
                "backend" => options.backend = backend(value)?,
                "bridge" => options.bridge = Some((value.clone(), pair.path.span())),
                setter if SETTERS.contains(&setter) => {
                    let ident = pair.path.get_ident().cloned();
                    options
                        .setters
                        .extend(ident.map(|ident| (ident, value.clone())));
                }
                "shared_errors" => options.shared_errors = boolean(value)?,
                "result" => options.result = Some(boolean(value)?),
                "cache_none" => {
                    options.cache_none = boolean(value)?;
                    options.cache_none_span = Some(pair.path.span());
                }
                "crate" => options.crate_path = Some(crate_path::parse(value)?),
                "key" => {
                    options.key = Some(match value {
                        Expr::Closure(_) => Key::Receiver(Box::new(value.clone())),
                        _ => Key::Whole(Box::new(value.clone())),
                    })
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &pair.path,
                        format!(
                            "unknown option `{}`; options: {}",
                            quote::ToTokens::to_token_stream(&pair.path),
                            known()
                        ),
                    ));
                }
            }
        }
        Ok(options)
    }
}

fn duration(value: &Expr) -> syn::Result<Ttl> {
    let text = string(value)?;
    duration::parse(&text.value()).map_err(|e| syn::Error::new_spanned(value, e))
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
        }) if n.base10_digits().starts_with('-') => {
            Err(syn::Error::new_spanned(value, duration::NEGATIVE))
        }
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) => Err(syn::Error::new_spanned(value, duration::NEGATIVE)),
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse(),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a whole number of milliseconds",
        )),
    }
}

/// `near = 10_000`: how many values the near tier keeps, at least one.
fn near_capacity(value: &Expr) -> syn::Result<usize> {
    const EXPECTED: &str = "`near` is how many values the near tier keeps in memory: a number of at least 1, such as 10_000";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => match n.base10_parse::<usize>() {
            Ok(0) | Err(_) => Err(syn::Error::new_spanned(value, EXPECTED)),
            Ok(capacity) => Ok(capacity),
        },
        _ => Err(syn::Error::new_spanned(value, EXPECTED)),
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

fn codec(value: &Expr) -> syn::Result<Codec> {
    match word(value)?.as_str() {
        "identity" => Ok(Codec::Identity),
        "postcard" => Ok(Codec::Postcard),
        "json" => Ok(Codec::Json),
        _ => Err(syn::Error::new_spanned(
            value,
            "serializer: identity, postcard or json",
        )),
    }
}

/// `name(arg, ...)`: the name and the arguments, if `value` has that shape.
fn call(value: &Expr) -> Option<(String, Vec<&Expr>)> {
    let Expr::Call(call) = value else { return None };
    let Expr::Path(f) = &*call.func else {
        return None;
    };
    let name = f.path.get_ident()?.to_string();
    Some((name, call.args.iter().collect()))
}

/// `system`, `coarse`, `scoped`, or `manual(CLOCK)`.
fn clock(value: &Expr) -> syn::Result<Clock> {
    if let Some((name, args)) = call(value)
        && let ("manual", [clock]) = (name.as_str(), args.as_slice())
    {
        return Ok(Clock::Manual(Box::new((*clock).clone())));
    }
    match word(value)?.as_str() {
        "system" => Ok(Clock::System),
        "coarse" => Ok(Clock::Coarse),
        "scoped" => Ok(Clock::Scoped(value.span())),
        _ => Err(syn::Error::new_spanned(
            value,
            "clock: system, coarse, scoped or manual(CLOCK)",
        )),
    }
}

/// `memory`, or `redis(url = ..., prefix = "...", timeout = "250ms", near = 10_000)`.
fn backend(value: &Expr) -> syn::Result<Backend> {
    const EXPECTED: &str = "backend: memory, or redis(url = \"redis://127.0.0.1/\") or redis(cluster = [\"redis://10.0.0.1:7000\", ...]), with optional prefix = \"...\", timeout = \"250ms\" and near = 10_000";
    if let Some((name, args)) = call(value)
        && name == "redis"
    {
        return redis(value, &args);
    }
    match word(value).as_deref() {
        Ok("memory") => Ok(Backend::Memory),
        _ => Err(syn::Error::new_spanned(value, EXPECTED)),
    }
}

fn redis(value: &Expr, args: &[&Expr]) -> syn::Result<Backend> {
    let (mut server, mut prefix, mut timeout_ms, mut near) = (None, None, None, None);
    for arg in args {
        let Expr::Assign(assign) = arg else {
            return Err(syn::Error::new_spanned(
                arg,
                "expected `url = ...`, `cluster = [...]`, `prefix = \"...\"`, `timeout = \"250ms\"` or `near = 10_000`",
            ));
        };
        match word(&assign.left).as_deref() {
            Ok(which @ ("url" | "cluster")) => {
                if server.is_some() {
                    return Err(syn::Error::new_spanned(
                        &assign.left,
                        "redis takes one server: one `url = ...` or one `cluster = [...]`",
                    ));
                }
                let right = assign.right.clone();
                server = Some(match which {
                    "url" => Server::Url(right),
                    _ => Server::Cluster(right),
                });
            }
            Ok("prefix") => prefix = Some(string(&assign.right)?),
            Ok("timeout") => match duration(&assign.right)? {
                Ttl::Millis(0) | Ttl::Never => {
                    return Err(syn::Error::new_spanned(
                        &assign.right,
                        "a Redis timeout must be a positive duration",
                    ));
                }
                Ttl::Millis(ms) => timeout_ms = Some(ms),
            },
            Ok("near") => near = Some(near_capacity(&assign.right)?),
            _ => {
                return Err(syn::Error::new_spanned(
                    &assign.left,
                    "redis options: url, cluster, prefix, timeout, near",
                ));
            }
        }
    }
    let Some(server) = server else {
        return Err(syn::Error::new_spanned(
            value,
            "redis needs a server: redis(url = \"redis://127.0.0.1/\") or redis(cluster = [\"redis://10.0.0.1:7000\"])",
        ));
    };
    Ok(Backend::Redis {
        server,
        prefix,
        timeout_ms,
        near,
    })
}
