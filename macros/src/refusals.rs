//! The option combinations `#[ttl_cache]` refuses, each at the option that breaks it.

use syn::ItemFn;

use crate::duration::Ttl;
use crate::options::{Backend, Clock, Codec, Key, Options};
use crate::signature::Returns;
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

/// Refuses an option given twice (`ttl` and `ttl_ms` are one): the last would win
/// silently.
pub(crate) fn refuse_repeated(
    given: &mut Vec<&'static str>,
    name: &str,
    path: &syn::Path,
) -> syn::Result<()> {
    let Some(&option) = crate::options::OWN
        .iter()
        .chain(crate::options::SETTERS)
        .find(|known| **known == name)
    else {
        return Ok(()); // Unknown: refused as such below.
    };
    let option = if option == "ttl_ms" { "ttl" } else { option };
    if given.contains(&option) {
        return Err(syn::Error::new_spanned(
            path,
            match option {
                "ttl" => "the TTL is given twice (`ttl` and `ttl_ms` set it)".to_owned(),
                _ => format!("`{option}` is given twice"),
            },
        ));
    }
    given.push(option);
    Ok(())
}
