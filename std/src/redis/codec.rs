//! How a builder's codec stores values in Redis: stamped.

use jwm_cache_core::{ByteCodec, Identity, Postcard, Serializer, Stamped, StampedBytes};

/// A codec named to a builder, as it stores values in Redis: wrapped in [`Stamped`], so
/// every value carries its header. [`Identity`] (the in-memory default) stores postcard
/// bytes.
///
/// ```
/// use jwm_cache::{Identity, Json, Postcard, RedisCodec, Stamped};
///
/// let _: Stamped<Postcard> = RedisCodec::<u64>::stamped(Identity);
/// let _: Stamped<Json> = RedisCodec::<u64>::stamped(Json);
/// ```
pub trait RedisCodec<V> {
    /// The stamped codec.
    type Stamped: Serializer<V, Encoded = StampedBytes>;

    /// This codec, stamped.
    fn stamped(self) -> Self::Stamped;
}

impl<V> RedisCodec<V> for Identity
where
    Postcard: ByteCodec<V>,
{
    type Stamped = Stamped<Postcard>;

    fn stamped(self) -> Stamped<Postcard> {
        Stamped::new(Postcard)
    }
}

impl<V> RedisCodec<V> for Postcard
where
    Postcard: ByteCodec<V>,
{
    type Stamped = Stamped<Postcard>;

    fn stamped(self) -> Stamped<Postcard> {
        Stamped::new(self)
    }
}

#[cfg(feature = "json")]
impl<V> RedisCodec<V> for jwm_cache_core::Json
where
    jwm_cache_core::Json: ByteCodec<V>,
{
    type Stamped = Stamped<jwm_cache_core::Json>;

    fn stamped(self) -> Self::Stamped {
        Stamped::new(self)
    }
}

impl<V, S: ByteCodec<V>> RedisCodec<V> for Stamped<S> {
    type Stamped = Stamped<S>;

    fn stamped(self) -> Stamped<S> {
        self
    }
}
