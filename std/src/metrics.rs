//! Feature `metrics`: every listed cache's counters and size through the `metrics`
//! facade, and each computation's duration as it ends.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use jwm_cache_core::Counters;

use crate::report::{self, CacheReport};

/// Records every cache of [`report::reports`] through the installed `metrics` recorder,
/// labelled `identifier`:
///
/// | metric | kind | value |
/// |---|---|---|
/// | `jwm_cache_hits_total` | counter | lookups that found a value |
/// | `jwm_cache_misses_total` | counter | lookups whose caller computed the value |
/// | `jwm_cache_coalesced_total` | counter | lookups that waited for another caller's computation |
/// | `jwm_cache_evictions_total` | counter | entries dropped for capacity |
/// | `jwm_cache_expirations_total` | counter | entries dropped at their deadline |
/// | `jwm_cache_refreshes_total` | counter | background refreshes started (`refresh_after`) |
/// | `jwm_cache_refresh_failures_total` | counter | refreshes that failed, keeping the old value |
/// | `jwm_cache_stale_served_total` | counter | failed computations answered with a stale value |
/// | `jwm_cache_near_hits_total` | counter | hits a near tier answered from process memory |
/// | `jwm_cache_errors_total` | counter | failures, labelled `kind`: `backend` or `codec` |
/// | `jwm_cache_size` | gauge | live entries (not for async caches, nor over a server: that takes I/O) |
///
/// The counters are the lifetime totals, set with `absolute`: a clear never takes them
/// back, nor does a cache rebuilt under its identifier (what a cache gone counted up to
/// its last report stays in its identifier's totals). Call this where the exporter collects, before a scrape, or every few seconds:
/// it reads the caches, so nothing is recorded on a hit. Each computation's duration is
/// recorded as it ends (a background refresh's too), in `jwm_cache_computation_seconds`
/// (a histogram).
///
/// ```
/// use jwm_cache::ttl_cache;
///
/// #[ttl_cache(identifier = "metrics_doc_square")]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// square(3);
/// square(3);
/// // With a recorder installed (a Prometheus exporter, say), before each scrape:
/// jwm_cache::metrics::record();
/// ```
pub fn record() {
    // Caches of other key or value types may share an identifier: one series, summed.
    let mut by_identifier: Vec<(String, Counters, Option<usize>)> = Vec::new();
    for report in report::reports() {
        let CacheReport {
            parameters,
            lifetime,
            size,
            ..
        } = report;
        match by_identifier
            .iter_mut()
            .find(|(id, ..)| *id == parameters.identifier)
        {
            Some((_, total, total_size)) => {
                *total += lifetime;
                *total_size = total_size.zip(size).map(|(a, b)| a + b);
            }
            None => by_identifier.push((parameters.identifier, lifetime, size)),
        }
    }
    // Counters of caches gone under an identifier stay in its totals: a rebuilt cache
    // starts from 0, and an exported counter must keep counting.
    for (identifier, counted) in report::retired() {
        match by_identifier.iter_mut().find(|(id, ..)| *id == identifier) {
            Some((_, total, _)) => *total += counted,
            None => by_identifier.push((identifier, counted, None)),
        }
    }
    for (identifier, lifetime, size) in by_identifier {
        record_one(identifier, lifetime, size);
    }
}

fn record_one(identifier: String, lifetime: Counters, size: Option<usize>) {
    let counters = [
        ("jwm_cache_hits_total", lifetime.hits),
        ("jwm_cache_misses_total", lifetime.misses),
        ("jwm_cache_coalesced_total", lifetime.coalesced),
        ("jwm_cache_evictions_total", lifetime.evictions),
        ("jwm_cache_expirations_total", lifetime.expirations),
        ("jwm_cache_refreshes_total", lifetime.refreshes),
        (
            "jwm_cache_refresh_failures_total",
            lifetime.refresh_failures,
        ),
        ("jwm_cache_stale_served_total", lifetime.stale_served),
        ("jwm_cache_near_hits_total", lifetime.near_hits),
    ];
    for (name, total) in counters {
        counter!(name, "identifier" => identifier.clone()).absolute(total);
    }
    let errors = [
        (
            "backend",
            lifetime.errors.saturating_sub(lifetime.codec_errors),
        ),
        ("codec", lifetime.codec_errors),
    ];
    for (kind, total) in errors {
        counter!("jwm_cache_errors_total", "identifier" => identifier.clone(), "kind" => kind)
            .absolute(total);
    }
    if let Some(size) = size {
        gauge!("jwm_cache_size", "identifier" => identifier).set(size as f64);
    }
}

/// Records one computation's duration, for the cache named `identifier`.
pub(crate) fn computation_took(identifier: &str, elapsed: Duration) {
    histogram!("jwm_cache_computation_seconds", "identifier" => identifier.to_owned())
        .record(elapsed.as_secs_f64());
}
