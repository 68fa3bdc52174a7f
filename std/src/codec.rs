//! Codecs: how a cache stores its values.
//!
//! [`Identity`] stores values as they are (the in-memory default). `Postcard` (feature
//! `postcard`, on by default) and `Json` (feature `json`) store bytes, as a store
//! outside the process needs. [`Stamped`] puts a header in front of the bytes, so that a
//! store shared with other programs never serves a value of another type;
//! `build_with_redis` stamps the codec for you. Pick one with `.serializer(..)` on a
//! builder, or `serializer = postcard | json | identity` on `#[ttl_cache]`. Implement
//! [`Serializer`] for another format.
//!
//! ```
//! use jwm_cache::SyncCacheBuilder;
//! use jwm_cache::codec::Postcard;
//!
//! let cache = SyncCacheBuilder::new().serializer(Postcard).build::<u32, String>();
//! cache.insert(1, "one".into()).unwrap();
//! assert_eq!(cache.get(&1).unwrap().as_deref(), Some("one"));
//! ```

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis::RedisCodec;
#[cfg(any(feature = "postcard", feature = "json"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postcard", feature = "json"))))]
pub use jwm_cache_core::shape_of;
pub use jwm_cache_core::{Identity, Serializer, Stamped, StampedBytes, StampedError};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use jwm_cache_core::{Json, JsonError};
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub use jwm_cache_core::{Postcard, PostcardError};
