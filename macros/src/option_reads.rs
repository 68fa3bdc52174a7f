//! Options read once, on the first call: an option expression that reads `self` or an
//! argument would give every later call what the first call's gave, so it is refused.

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::Expr;

use crate::options::{Backend, Clock, Options, Server};
use crate::signature::Argument;

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
