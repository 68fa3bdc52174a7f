//! `RedisBackend`: entries in a Redis server, shared by every process that uses it.

mod backend;
mod batch;
mod codec;
mod endpoint;
mod error;
mod in_transit;
mod lease;
mod link;
mod lookup;
mod many;
mod namespace;
mod near;
mod open;
mod options;
mod pause;
mod record;
mod sync_backend;
mod topology;
mod walk;
mod writes;

pub use backend::{LARGE_VALUE_BYTES, RedisBackend};
pub use codec::RedisCodec;
pub use error::RedisBackendError;
pub use lease::{CLAIM, RELEASE, RENEW, REVOKE, SET_HELD, SET_REVOKING, TAKE, UNLINK_REVOKING};
pub use near::{NearBackend, NearError};
pub use options::RedisOptions;
pub use record::DEADLINE_LEN;
pub use sync_backend::SyncRedisBackend;
