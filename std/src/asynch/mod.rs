//! Async caching on tokio: the async backend trait, its adapters for sync backends, the
//! async cache, and the bridge that lets sync code use async backends.

mod backend;
mod blocking;
mod blocking_cache;
mod bridge;
mod builder;
mod cache;
mod counts;
mod miss;
mod sharded;

pub use backend::AsyncBackend;
pub use blocking::{Blocking, BlockingError};
pub use blocking_cache::{BlockingCache, BridgeError};
pub use bridge::{Bridge, BridgeStopped};
pub use builder::AsyncCacheBuilder;
pub use cache::{AsyncCache, AsyncCacheError};
pub use sharded::Sharded;
