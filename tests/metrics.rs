//! With feature `metrics`, `jwm_cache::metrics::record()` reports every listed cache
//! through the `metrics` facade, labelled by identifier, and each computation's duration
//! is a histogram; checked with metrics-util's debugging recorder.

use std::collections::HashMap;

use jwm_cache::{AsyncMemoized, CacheControls, Memoized, ttl_cache};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[ttl_cache(identifier = "metrics_square")]
fn square(n: u64) -> u64 {
    n * n
}

/// `(name, sorted labels)` to value, for every metric recorded so far.
type Recorded = HashMap<(String, Vec<(String, String)>), DebugValue>;

fn recorded(recorder: &DebuggingRecorder) -> Recorded {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<_> = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            labels.sort();
            ((key.name().to_string(), labels), value)
        })
        .collect()
}

fn value<'a>(recorded: &'a Recorded, name: &str, labels: &[(&str, &str)]) -> &'a DebugValue {
    let mut labels: Vec<_> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    recorded
        .get(&(name.to_string(), labels.clone()))
        .unwrap_or_else(|| panic!("no {name} {labels:?} in {:?}", recorded.keys()))
}

#[test]
fn record_reports_every_listed_cache_by_identifier() {
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        square(3);
        square(3);
        square(4);
        let double = Memoized::builder(|n: u64| n * 2)
            .identifier("metrics_double")
            .build();
        double.call(1);
        jwm_cache::metrics::record();

        let recorded = recorded(&recorder);
        let square = [("identifier", "metrics_square")];
        assert_eq!(
            value(&recorded, "jwm_cache_hits_total", &square),
            &DebugValue::Counter(1)
        );
        assert_eq!(
            value(&recorded, "jwm_cache_misses_total", &square),
            &DebugValue::Counter(2)
        );
        assert_eq!(
            value(&recorded, "jwm_cache_coalesced_total", &square),
            &DebugValue::Counter(0)
        );
        assert_eq!(
            value(&recorded, "jwm_cache_evictions_total", &square),
            &DebugValue::Counter(0)
        );
        assert_eq!(
            value(&recorded, "jwm_cache_expirations_total", &square),
            &DebugValue::Counter(0)
        );
        for kind in ["backend", "codec"] {
            let labels = [("identifier", "metrics_square"), ("kind", kind)];
            assert_eq!(
                value(&recorded, "jwm_cache_errors_total", &labels),
                &DebugValue::Counter(0)
            );
        }
        assert_eq!(
            value(&recorded, "jwm_cache_size", &square),
            &DebugValue::Gauge(2.0.into())
        );
        // One duration per computation, none per hit.
        let DebugValue::Histogram(durations) =
            value(&recorded, "jwm_cache_computation_seconds", &square)
        else {
            panic!("a histogram")
        };
        assert_eq!(durations.len(), 2);
        assert!(durations.iter().all(|d| d.0 >= 0.0));

        let double = [("identifier", "metrics_double")];
        assert_eq!(
            value(&recorded, "jwm_cache_misses_total", &double),
            &DebugValue::Counter(1)
        );

        // A clear never takes a counter back: the totals are lifetime totals.
        SQUARE.cache_clear();
        jwm_cache::metrics::record();
        let recorded = self::recorded(&recorder);
        assert_eq!(
            value(&recorded, "jwm_cache_misses_total", &square),
            &DebugValue::Counter(2)
        );
        assert_eq!(
            value(&recorded, "jwm_cache_size", &square),
            &DebugValue::Gauge(0.0.into())
        );
    });
}

#[test]
fn an_async_cache_reports_its_counters_but_no_size() {
    let recorder = DebuggingRecorder::new();
    let triple = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("metrics_triple")
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            triple.call(1).await;
            triple.call(1).await;
        });
        jwm_cache::metrics::record();
    });
    let recorded = recorded(&recorder);
    let labels = [("identifier", "metrics_triple")];
    assert_eq!(
        value(&recorded, "jwm_cache_hits_total", &labels),
        &DebugValue::Counter(1)
    );
    assert!(!recorded.contains_key(&(
        "jwm_cache_size".to_string(),
        vec![("identifier".to_string(), "metrics_triple".to_string())]
    )));
    let DebugValue::Histogram(durations) =
        value(&recorded, "jwm_cache_computation_seconds", &labels)
    else {
        panic!("a histogram")
    };
    assert_eq!(durations.len(), 1);
}

/// A refresh's computation is recorded too, sync (on the refresh threads) and async (on
/// a task): through the global recorder, as they run on threads of their own. Each
/// refresh is waited for by its value (each computation returns one more than the last),
/// which it stores after recording its duration; the histogram is read only then, as
/// metrics-util's snapshot, which drains it, can lose a value recorded during the drain.
#[test]
fn refreshes_record_their_computations() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use jwm_cache::ManualClock;

    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();
    let durations = |identifier: &str| {
        let mut count = 0;
        for (key, .., value) in snapshots.snapshot().into_vec() {
            if let DebugValue::Histogram(durations) = value
                && key.key().name() == "jwm_cache_computation_seconds"
                && let [(_, id)] = label_pairs(key.key()).as_slice()
                && id == identifier
            {
                count += durations.len();
            }
        }
        count
    };
    // Polled: each refresh runs on a thread or task of its own.
    let until_refreshed = |mut call: Box<dyn FnMut() -> u64 + '_>, refreshed: u64| {
        let began = Instant::now();
        while call() != refreshed {
            assert!(began.elapsed() < Duration::from_secs(30), "never refreshed");
            std::thread::yield_now();
        }
    };
    let (clock, second) = (ManualClock::new(), Duration::from_secs(1));
    let runs = Arc::new(AtomicU64::new(0));

    let counted = Arc::clone(&runs);
    let sync = Memoized::builder(move |n: u64| n + counted.fetch_add(1, SeqCst))
        .identifier("metrics_sync_refresh")
        .clock(clock.clone())
        .ttl(60 * second)
        .refresh_after(5 * second)
        .build();
    assert_eq!(sync.call(1), 1);
    clock.advance(6 * second);
    until_refreshed(Box::new(|| sync.call(1)), 2);
    assert_eq!(durations("metrics_sync_refresh"), 2);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let counted = Arc::clone(&runs);
    let async_ = AsyncMemoized::builder(move |n: u64| {
        let run = counted.fetch_add(1, SeqCst);
        async move { n + run }
    })
    .identifier("metrics_async_refresh")
    .clock(clock.clone())
    .ttl(60 * second)
    .refresh_after(5 * second)
    .build();
    assert_eq!(runtime.block_on(async_.call(1)), 3);
    clock.advance(6 * second);
    until_refreshed(Box::new(|| runtime.block_on(async_.call(1))), 4);
    assert_eq!(durations("metrics_async_refresh"), 2);
}

fn label_pairs(key: &metrics::Key) -> Vec<(String, String)> {
    key.labels()
        .map(|l| (l.key().to_string(), l.value().to_string()))
        .collect()
}

/// A cache rebuilt under its identifier starts its counts from 0; the exported counters
/// keep counting from where they were, as a Prometheus counter must.
#[test]
fn counters_keep_counting_when_a_cache_is_rebuilt() {
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        let misses = || {
            let recorded = recorded(&recorder);
            let labels = [("identifier", "metrics_rebuilt")];
            match value(&recorded, "jwm_cache_misses_total", &labels) {
                DebugValue::Counter(n) => *n,
                other => panic!("{other:?}"),
            }
        };
        let build = || {
            Memoized::builder(|n: u64| n + 1)
                .identifier("metrics_rebuilt")
                .build()
        };
        let first = build();
        (0..3).for_each(|n| _ = first.call(n));
        jwm_cache::metrics::record();
        assert_eq!(misses(), 3);
        drop(first);
        let second = build();
        second.call(10);
        jwm_cache::metrics::record();
        assert_eq!(misses(), 4, "3 before the rebuild, 1 after");
    });
}
