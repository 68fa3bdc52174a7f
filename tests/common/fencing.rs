//! The lease as a fence, on one server or a cluster: a removal, a store or a clear by
//! another process while a holder computes a key keeps the holder's older value out.

use std::sync::Arc;

use tokio::sync::oneshot;

use jwm_cache::Ttl;
use jwm_cache::codec::StampedBytes;
use jwm_cache::time::Instant;

use super::lookups::{RedisCache, stamped};

/// Starts computing `key` on `cache`: the computation says when it has begun (so holds
/// the key's lease, on a cache that leases), then returns `value` once the returned
/// sender fires.
pub(crate) async fn computing(
    cache: &Arc<RedisCache<u64>>,
    key: u64,
    value: u64,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<u64>) {
    let (open, gate) = oneshot::channel::<()>();
    let (began, begun) = oneshot::channel::<()>();
    let cache = Arc::clone(cache);
    let call = tokio::spawn(async move {
        let compute = || async move {
            began.send(()).unwrap();
            gate.await.unwrap();
            value
        };
        cache.get_or_insert_with(key, compute).await
    });
    begun.await.unwrap();
    (open, call)
}

/// A removal, a store (one, or a backend's `set_many`) or a clear by another process (a
/// cache `process` makes, with a backend of its own) while a holder computes a key
/// takes the holder's lease (which `leased` tells, by key), and the holder's value,
/// computed from older data, is never stored after it: its callers get it, and the
/// store keeps the write's outcome.
pub(crate) async fn writes_keep_a_holders_older_value_out(
    process: impl Fn() -> Arc<RedisCache<u64>>,
    mut leased: impl FnMut(u64) -> bool,
) {
    let writes = [(1, "remove"), (2, "insert"), (3, "set_many"), (4, "clear")];
    for (key, write) in writes {
        let (holder, writer) = (process(), process());
        let (open, call) = computing(&holder, key, 100).await;
        assert!(leased(key), "{write}: the holder holds no lease");
        match write {
            "remove" => drop(writer.remove(&key).await.unwrap()),
            "insert" => writer.insert(key, 200).await.unwrap(),
            "set_many" => {
                let entries = vec![(key, StampedBytes::from_stored(stamped(&200)))];
                let now = Instant::ZERO;
                let deadline = Ttl::from_secs(60).deadline_from(now);
                let stored = writer.backend().set_many(entries, deadline, now);
                stored.await.unwrap();
            }
            _ => writer.clear().await.unwrap(),
        }
        assert!(!leased(key), "{write} left the holder its lease");
        open.send(()).unwrap();
        let computed = call.await.unwrap();
        assert_eq!(computed, 100, "the holder's callers get its value");
        let written = matches!(write, "insert" | "set_many").then_some(200);
        for cache in [&writer, &holder] {
            assert_eq!(cache.get(&key).await.unwrap(), written, "after {write}");
        }
    }
}
