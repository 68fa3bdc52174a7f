//! The connection to the server: bounded operations, and a pause after a failure.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use std::sync::OnceLock;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, Pipeline};

use super::RedisBackendError;

/// One connection manager, shared by every handle on a backend (and its batcher).
pub(crate) struct Link {
    client: Client,
    config: ConnectionManagerConfig,
    /// Made on first use, inside the runtime that drives its reconnections: making
    /// one needs a runtime, and opening a backend should not.
    connection: OnceLock<redis::RedisResult<ConnectionManager>>,
    timeout: Duration,
    pause_after_failure: Duration,
    pause: Pause,
}

impl Link {
    pub(crate) fn new(client: Client, timeout: Duration, pause: Duration) -> Self {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Reconnection is retried on every failed call; a short schedule keeps a
            // returning server from waiting behind a long backoff.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        Link {
            client,
            config,
            connection: OnceLock::new(),
            timeout,
            pause_after_failure: pause,
            pause: Pause::new(),
        }
    }

    /// The connection manager, made on first use (this runs inside a runtime).
    fn connection(&self) -> Result<ConnectionManager, RedisBackendError> {
        let made = self.connection.get_or_init(|| {
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
        });
        made.clone().map_err(RedisBackendError::Redis)
    }

    /// Runs `command`, bounded by the timeout.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        command: &Cmd,
    ) -> Result<T, RedisBackendError> {
        let mut connection = self.connection()?;
        self.bounded(async move { command.query_async(&mut connection).await })
            .await
    }

    /// Runs `pipeline` in one round trip, bounded by the timeout.
    pub(crate) async fn query_pipeline<T: FromRedisValue>(
        &self,
        pipeline: &Pipeline,
    ) -> Result<T, RedisBackendError> {
        let mut connection = self.connection()?;
        self.bounded(async move { pipeline.query_async(&mut connection).await })
            .await
    }

    async fn bounded<T>(
        &self,
        operation: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RedisBackendError> {
        if self.pause.active() {
            return Err(RedisBackendError::Unavailable);
        }
        let failure = match tokio::time::timeout(self.timeout, operation).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) if !is_connection_failure(&e) => return Err(e.into()),
            Ok(Err(e)) => e.into(),
            Err(_) => RedisBackendError::Timeout(self.timeout),
        };
        if !self.pause_after_failure.is_zero() {
            self.pause.start(self.pause_after_failure);
        }
        Err(failure)
    }
}

/// A failure of the server or the connection, rather than of one command.
fn is_connection_failure(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// When operations may try the server again, after a connection failure.
struct Pause {
    origin: std::time::Instant,
    /// Nanoseconds after `origin`; 0 while the server is not paused.
    until: AtomicU64,
}

impl Pause {
    fn new() -> Self {
        Pause {
            origin: std::time::Instant::now(),
            until: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn active(&self) -> bool {
        // Cheap while healthy: one relaxed load, and the clock only when paused.
        let until = self.until.load(Relaxed);
        until != 0 && self.now() < until
    }

    fn start(&self, pause: Duration) {
        let pause = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
        self.until
            .store(self.now().saturating_add(pause).max(1), Relaxed);
    }
}
