//! The option combinations `#[ttl_cache]` refuses, each at the option that breaks it.

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, ItemFn};

use crate::duration::Ttl;
use crate::options::{Backend, Clock, Codec, Key, Options, Server};
use crate::signature::{Argument, Returns};
use crate::storage::DEFAULT_TTL_MS;

/// Refuses `cache_none = false` on a function that returns no `Option`.
pub(crate) fn refuse_misplaced_cache_none(options: &Options, returns: &Returns) -> syn::Result<()> {
    if let (false, Some(span)) = (options.cache_none, options.cache_none_span)
        && !matches!(returns, Returns::SomeOnly(_))
    {
        return Err(syn::Error::new(
            span,
            "`cache_none = false` applies to a function whose return type is written `Option<T>`",
        ));
    }
    Ok(())
}

/// Refuses `clock = scoped` where a test could not get a cache of its own: a method or a
/// generic function (one cache per instantiation), or Redis (one namespace per
/// identifier, shared by every process and test); and with `refresh_after`, whose
/// refreshes run on threads where no test installed its clock, and would store on the
/// system's timeline into the test's cache.
pub(crate) fn refuse_unscopable(
    options: &Options,
    method: bool,
    function: &ItemFn,
) -> syn::Result<()> {
    let Some(Clock::Scoped(span)) = &options.clock else {
        return Ok(());
    };
    let generic = function.sig.generics.type_params().next().is_some();
    let why = if matches!(options.backend, Backend::Redis { .. }) {
        "`clock = scoped` gives each test a cache of its own in memory; with Redis every test would share one namespace: use a `ManualClock` (`clock = manual(CLOCK)`) and an identifier per test"
    } else if method || generic {
        "`clock = scoped` gives each test a cache of its own, which only a plain function's handle can: on a method or a generic function use `clock = manual(CLOCK)`"
    } else if options.refresh_after.is_some() {
        "`clock = scoped` reads the clock a test installed on its own thread, and a refresh runs on another, where it would read the system's: with `refresh_after` use `clock = manual(CLOCK)`"
    } else {
        return Ok(());
    };
    Err(syn::Error::new(*span, why))
}

/// Refuses options that contradict each other or the function, at the option.
pub(crate) fn refuse_conflicts(options: &Options, is_async: bool, method: bool) -> syn::Result<()> {
    let redis = matches!(options.backend, Backend::Redis { .. });
    if let Some((_, span)) = &options.bridge {
        if is_async {
            return Err(syn::Error::new(
                *span,
                "`bridge` is for a sync function: an async function reaches Redis on its caller's runtime",
            ));
        }
        if !redis {
            return Err(syn::Error::new(
                *span,
                "`bridge` is the runtime a sync function reaches Redis through: it needs `backend = redis(...)`",
            ));
        }
    }
    if let (true, Some((Codec::Identity, span))) = (redis, &options.serializer) {
        return Err(syn::Error::new(
            *span,
            "Redis stores bytes: serializer = postcard (the default with Redis) or json",
        ));
    }
    if let (true, Some(capacity)) = (redis, options.setter("capacity")) {
        return Err(syn::Error::new_spanned(
            capacity,
            "`capacity` bounds the in-memory backend; a Redis server bounds itself (maxmemory)",
        ));
    }
    if let (true, Some((_, span))) = (redis, &options.time_to_idle) {
        return Err(syn::Error::new(
            *span,
            "`time_to_idle` expires entries of the in-memory backend; Redis keys expire by their TTL",
        ));
    }
    if let (false, Some((_, span))) = (redis, &options.lease) {
        return Err(syn::Error::new(
            *span,
            "`lease` keeps one computation per key across the processes sharing a Redis server: it needs `backend = redis(...)`",
        ));
    }
    if let Some((Ttl::Never, span)) = &options.lease {
        return Err(syn::Error::new(
            *span,
            "a lease must end, so that a process that dies holding it frees the key: give it a duration longer than the computation",
        ));
    }
    if let Some((Ttl::Never, span)) = &options.stale_if_error {
        return Err(syn::Error::new(
            *span,
            "`stale_if_error` keeps an entry past its TTL for a while: give it a duration (at most ten years)",
        ));
    }
    for (option, name) in [
        (&options.refresh_after, "refresh_after"),
        (&options.lease, "lease"),
    ] {
        if let Some((Ttl::Millis(0), span)) = option {
            return Err(syn::Error::new(
                *span,
                format!("`{name}` must be a positive duration"),
            ));
        }
    }
    if let (Some((_, span)), true) = (
        &options.time_to_idle,
        options.refresh_after.is_some() || options.stale_if_error.is_some(),
    ) {
        return Err(syn::Error::new(
            *span,
            "`time_to_idle` cannot be combined with `refresh_after` or `stale_if_error`, which go by an entry's age since it was written",
        ));
    }
    if let Some((refresh_after, span)) = &options.refresh_after {
        let ttl = options.ttl.unwrap_or(Ttl::Millis(DEFAULT_TTL_MS));
        let refused = match (*refresh_after, ttl) {
            (Ttl::Never, _) => Some("`refresh_after` must be a duration below the TTL".to_string()),
            (_, Ttl::Never) => Some(
                "`refresh_after` needs a finite TTL: an entry that never expires has no age to refresh by".to_string(),
            ),
            (Ttl::Millis(after), Ttl::Millis(ttl)) if after >= ttl => Some(format!(
                "`refresh_after` ({after} ms) must be below the TTL ({ttl} ms): entries would expire before a hit could refresh them"
            )),
            _ => None,
        };
        if let Some(why) = refused {
            return Err(syn::Error::new(*span, why));
        }
    }
    if let (true, Some(shards)) = (redis, options.setter("shards")) {
        return Err(syn::Error::new_spanned(
            shards,
            "`shards` divides the in-memory backend; a Redis server has none",
        ));
    }
    if let (false, Some(Key::Receiver(projection))) = (method, &options.key) {
        return Err(syn::Error::new_spanned(
            projection,
            "a closure projects a method's receiver; on a function, write the key as an expression over the arguments, such as `key = city.to_lowercase()`",
        ));
    }
    Ok(())
}

/// Refuses an option expression that reads `self` or an argument: options are read
/// once, on the first call (of each instantiation), so every later call would get
/// what the first call's receiver or arguments gave. On a plain function they are read
/// in a static, where neither is in scope; on a method or a generic function they
/// would compile, and be wrong.
pub(crate) fn refuse_call_reads(options: &Options, arguments: &[Argument]) -> syn::Result<()> {
    let mut read_once: Vec<&Expr> = options.setters.iter().map(|(_, e)| e).collect();
    read_once.extend(&options.identifier);
    read_once.extend(options.bridge.as_ref().map(|(e, _)| e));
    if let Some(Clock::Manual(clock)) = &options.clock {
        read_once.push(clock);
    }
    if let Backend::Redis { server, .. } = &options.backend {
        read_once.push(match server {
            Server::Url(url) => url,
            Server::Cluster(seeds) => seeds,
        });
    }
    let locals: Vec<String> = arguments.iter().map(|a| a.name.to_string()).collect();
    for expression in read_once {
        if let Some(read) = local_read(expression.to_token_stream(), &locals) {
            return Err(syn::Error::new(
                read,
                "an option is read once, on the first call, so it cannot use `self` or an argument (nor a name of one's, in a closure or a format string): every later call would get the first call's; read it from a static, or make it part of the key",
            ));
        }
    }
    Ok(())
}

/// Where `tokens` first read `self` or a name in `locals` as a variable: not as a field
/// or method (after `.`), a path's segment (after `::`), a field's or a typed
/// parameter's name (before `:`), a macro's (before `!`) or a label (after `'`); inside
/// a macro's format string too (`{name}`, `{:name$}`). A closure's parameter or a
/// binding of an argument's name counts as a read of it.
fn local_read(tokens: TokenStream, locals: &[String]) -> Option<Span> {
    local_read_in(tokens, locals, false)
}

/// [`local_read`], whose string literals are a macro's arguments if `in_macro`.
fn local_read_in(tokens: TokenStream, locals: &[String], in_macro: bool) -> Option<Span> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        let found = match token {
            TokenTree::Group(group) => {
                let macro_arguments = matches!(&tokens[..i],
                    [.., TokenTree::Ident(_), TokenTree::Punct(bang)] if bang.as_char() == '!');
                local_read_in(group.stream(), locals, macro_arguments)
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let local = name == "self" || locals.contains(&name);
                let read = !names_a_member(&tokens[..i]) && !is_named_here(&tokens[i + 1..]);
                (local && read).then(|| ident.span())
            }
            // Only a macro's: a plain string such as a hash tag, `"{tenant}"`, reads nothing.
            TokenTree::Literal(literal) if in_macro => {
                let text = syn::parse2::<syn::LitStr>(literal.to_token_stream()).ok();
                let placeholders = text
                    .map(|text| placeholders(&text.value()))
                    .unwrap_or_default();
                let read = placeholders.iter().any(|name| locals.contains(name));
                read.then(|| literal.span())
            }
            TokenTree::Literal(_) | TokenTree::Punct(_) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Whether a name after `before` is a field, a method, a path's segment or a label:
/// after a `.` (not a `..`, which reads what follows), a `::` or a `'`.
fn names_a_member(before: &[TokenTree]) -> bool {
    match before {
        [.., TokenTree::Punct(tick)] if tick.as_char() == '\'' => true,
        [.., TokenTree::Punct(first), TokenTree::Punct(second)]
            if first.spacing() == Spacing::Joint && second.as_char() == first.as_char() =>
        {
            first.as_char() == ':'
        }
        [.., TokenTree::Punct(dot)] => dot.as_char() == '.',
        _ => false,
    }
}

/// Whether a name before `after` is being named, not read: a field or a parameter
/// (`name: ...`), a macro (`name!`) or a path's first segment (`name::`).
fn is_named_here(after: &[TokenTree]) -> bool {
    match after {
        [TokenTree::Punct(next), ..] => match next.as_char() {
            ':' => true,
            '!' => next.spacing() == Spacing::Alone,
            _ => false,
        },
        _ => false,
    }
}

/// The names a format string reads: `{name}`, `{name:?}`, and a width or precision
/// `{:name$}`, `{:.name$}` (not `{{`).
fn placeholders(text: &str) -> Vec<String> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let spec = &rest[..rest.find('}').unwrap_or(rest.len())];
        let name: String = spec.chars().take_while(|c| is_name(*c)).collect();
        names.extend((!name.is_empty()).then_some(name));
        // Each `name$` in the spec: a width or precision read from a variable.
        for (at, _) in spec.match_indices('$') {
            let before = &spec[..at];
            let start = before.rfind(|c: char| !is_name(c)).map_or(0, |i| i + 1);
            names.extend((start < at).then(|| before[start..].to_string()));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(expression: &str) -> bool {
        let tokens: TokenStream = expression.parse().unwrap();
        let locals = ["limit".to_string(), "tenant".to_string()];
        local_read(tokens, &locals).is_some()
    }

    #[test]
    fn reads_of_self_and_arguments_are_found() {
        for read in [
            "self.url.as_str()",
            "limit as usize",
            "Cfg { n: limit }",
            "(0..limit).count()",
            "Opts { ..self.base }",
            "format!(\"t-{tenant}\")",
            "format!(\"{limit:?}\")",
            "format!(\"{:>limit$}\", 1)",
            "format!(\"{:.limit$}\", 1.0)",
            "limit != 0",
            "SIZES.iter().map(|limit| limit * 2).sum()",
        ] {
            assert!(reads(read), "{read}");
        }
    }

    #[test]
    fn fields_paths_names_and_strings_are_not_reads() {
        for not_read in [
            "CONFIG.limit",
            "config::limit()",
            "Cfg { limit: 4 }",
            "limit!()",
            "\"limit\"",
            "format!(\"{{tenant}}\")",
            "limit::DEFAULT",
            "\"{tenant}\"",
            "loop { break 'limit; }",
        ] {
            assert!(!reads(not_read), "{not_read}");
        }
    }
}
