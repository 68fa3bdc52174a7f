//! Async caching on tokio: the async backend trait, its adapters for sync backends, the
//! async cache, and the bridge that lets sync code use async backends.

mod backend;
mod blocking_cache;
mod blocking_refresh;
mod blocking_writes;
mod bridge;
mod builder;
mod cache;
mod claim;
mod counts;
mod offloaded;
mod sharded;

pub use backend::{AsyncBackend, AsyncLookup};
pub use blocking_cache::BlockingCache;
pub use bridge::{Bridge, BridgeError};
pub use builder::AsyncCacheBuilder;
pub(crate) use cache::refresh_in_background;
pub use cache::{AsyncCache, AsyncCacheError};
pub use claim::{Claim, Lease, NoLease, RefreshClaim};
pub use offloaded::{OffloadError, Offloaded};
pub use sharded::Sharded;
