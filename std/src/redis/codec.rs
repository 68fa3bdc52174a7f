//! How a builder's codec stores values in Redis: stamped.

use jwm_cache_core::{ByteCodec, Identity, Postcard, Serializer, Stamped, StampedBytes};

/// A codec named to a builder, as it stores values in Redis for keys of type `K`:
/// wrapped in [`Stamped`], so every value carries its header. [`Identity`] (the
/// in-memory default) stores postcard bytes.
///
/// ```
/// use jwm_cache::{codec::{Identity, Json, Postcard, RedisCodec, Stamped}};
///
/// let _: Stamped<Postcard, u8> = RedisCodec::<u8, u64>::stamped(Identity);
/// let _: Stamped<Json, u8> = RedisCodec::<u8, u64>::stamped(Json);
/// ```
pub trait RedisCodec<K, V> {
    /// The stamped codec.
    type Stamped: Serializer<V, Encoded = StampedBytes<K>>;

    /// This codec, stamped.
    fn stamped(self) -> Self::Stamped;
}

impl<K, V> RedisCodec<K, V> for Identity
where
    Postcard: ByteCodec<V>,
{
    type Stamped = Stamped<Postcard, K>;

    fn stamped(self) -> Self::Stamped {
        Stamped::new(Postcard)
    }
}

impl<K, V> RedisCodec<K, V> for Postcard
where
    Postcard: ByteCodec<V>,
{
    type Stamped = Stamped<Postcard, K>;

    fn stamped(self) -> Self::Stamped {
        Stamped::new(self)
    }
}

#[cfg(feature = "json")]
impl<K, V> RedisCodec<K, V> for jwm_cache_core::Json
where
    jwm_cache_core::Json: ByteCodec<V>,
{
    type Stamped = Stamped<jwm_cache_core::Json, K>;

    fn stamped(self) -> Self::Stamped {
        Stamped::new(self)
    }
}

impl<K, V, S: ByteCodec<V>> RedisCodec<K, V> for Stamped<S, K> {
    type Stamped = Stamped<S, K>;

    fn stamped(self) -> Self::Stamped {
        self
    }
}
