//! With feature `tracing`, a Redis backend reports its failure, its pause and its
//! recovery as events, once each, and nothing on a hit.

mod common;

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use jwm_cache::{AsyncMemoized, RedisBackend, RedisOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Collects the library's events as `LEVEL message field=value ...` lines.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Events {
    fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn count(&self, message: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(message)).count()
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => write!(self.0, " {value:?}"),
            name => write!(self.0, " {name}={value:?}"),
        }
        .unwrap();
    }
}

impl Subscriber for Events {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("jwm_cache")
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(event.metadata().level().to_string());
        event.record(&mut line);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn a_failure_a_pause_and_a_recovery_are_reported_once_each() {
    let events = Events::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The runtime has one thread, this one: every event is emitted where this
    // subscriber is the default.
    tracing::subscriber::with_default(events.clone(), || {
        runtime.block_on(async {
            let mut server = RedisServer::start();
            let options = RedisOptions::default()
                .timeout(Duration::from_millis(200))
                .pause_after_failure(Duration::from_millis(300));
            let double = AsyncMemoized::builder(|n: u64| async move { n * 2 })
                .identifier("tracing-events")
                .build_with_redis(RedisBackend::open_with(&server.url(0), options).unwrap());

            assert_eq!(double.call(1).await, 2);
            assert_eq!(double.call(1).await, 2);
            assert_eq!(
                events.lines(),
                Vec::<String>::new(),
                "nothing on a miss or a hit"
            );

            server.kill();
            assert_eq!(double.call(2).await, 4);
            assert_eq!(
                events.count("redis backend failed"),
                1,
                "{:?}",
                events.lines()
            );
            assert_eq!(
                events.count("redis backend paused"),
                1,
                "{:?}",
                events.lines()
            );
            // Paused: the next call skips the server, and reports nothing new.
            assert_eq!(double.call(3).await, 6);
            assert_eq!(
                events.count("redis backend failed"),
                1,
                "{:?}",
                events.lines()
            );

            server.restart();
            // Bounded polling against the real server: the pause ends 300 ms after the
            // failure, and the first call that reaches the server then succeeds.
            let started = Instant::now();
            while events.count("recovered") == 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "{:?}",
                    events.lines()
                );
                assert_eq!(double.call(5).await, 10);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(double.call(5).await, 10);
            assert_eq!(
                events.count("redis backend recovered"),
                1,
                "{:?}",
                events.lines()
            );
            let lines = events.lines();
            let failed = lines.iter().find(|l| l.contains("failed")).unwrap();
            assert!(
                failed.starts_with("WARN") && failed.contains("error="),
                "{failed}"
            );
            let paused = lines.iter().find(|l| l.contains("paused")).unwrap();
            assert!(paused.contains("pause=300ms"), "{paused}");
        });
    });
}
