//! Serializers (codecs): how a value is stored in a backend.

#[cfg(any(feature = "postcard", all(feature = "shapes", feature = "json")))]
mod depth;
mod identity;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "json")]
mod json_probe;
#[cfg(feature = "postcard")]
mod postcard;
#[cfg(all(feature = "shapes", any(feature = "postcard", feature = "json")))]
mod shape;
mod stamped;

use alloc::vec::Vec;

pub use identity::Identity;
#[cfg(feature = "json")]
pub use json::{Json, JsonError};
#[cfg(feature = "postcard")]
pub use postcard::{Postcard, PostcardError};
#[cfg(all(feature = "shapes", any(feature = "postcard", feature = "json")))]
pub use shape::shape_of;
pub use stamped::{
    HEADER_LEN, HEADER_VERSION, Stamped, StampedBytes, StampedError, value_fingerprint,
};

/// Turns a `V` into what a backend stores, and back.
///
/// Decoding must never panic: bytes that are corrupt, foreign or from an older version
/// give `Err`, which the cache counts and treats as a miss. "Corrupt" is what fails to
/// decode: a codec with no checksum (the provided ones have none) reads bytes changed
/// into another valid encoding as that value (see [`Stamped`]).
///
/// ```
/// use jwm_cache_core::Serializer;
///
/// /// Stores numbers as decimal text.
/// struct Decimal;
///
/// impl Serializer<u64> for Decimal {
///     type Encoded = String;
///     type Error = core::num::ParseIntError;
///     const NAME: &'static str = "decimal";
///     fn encode(&self, value: &u64) -> Result<String, Self::Error> {
///         Ok(value.to_string())
///     }
///     fn decode(&self, encoded: &String) -> Result<u64, Self::Error> {
///         encoded.parse()
///     }
/// }
/// assert_eq!(Decimal.decode(&Decimal.encode(&42).unwrap()), Ok(42));
/// assert!(Decimal.decode(&"4x2".to_string()).is_err());
/// ```
pub trait Serializer<V> {
    /// What the backend stores.
    type Encoded;
    /// Why encoding or decoding failed.
    type Error;
    /// A short name for [`Cache::parameters`](crate::Cache::parameters).
    const NAME: &'static str;

    /// Encodes a borrowed value.
    fn encode(&self, value: &V) -> Result<Self::Encoded, Self::Error>;

    /// Encodes an owned value; codecs that store `V` itself override this to avoid a clone.
    fn encode_owned(&self, value: V) -> Result<Self::Encoded, Self::Error> {
        self.encode(&value)
    }

    /// Decodes a stored value.
    fn decode(&self, encoded: &Self::Encoded) -> Result<V, Self::Error>;

    /// Decodes a stored value handed over by the backend; codecs that store `V` itself
    /// override this to avoid a clone.
    fn decode_owned(&self, encoded: Self::Encoded) -> Result<V, Self::Error> {
        self.decode(&encoded)
    }
}

/// A codec whose stored form is bytes, which it can write after a prefix and read from
/// a slice: what [`Stamped`] needs to put its header in front without copying.
///
/// Decoding must consume every byte or fail.
pub trait ByteCodec<V>: Serializer<V, Encoded = Vec<u8>> {
    /// Appends the encoding of `value` to `out` and returns it.
    fn encode_after(&self, value: &V, out: Vec<u8>) -> Result<Vec<u8>, Self::Error>;

    /// Decodes exactly one value from all of `bytes`.
    fn decode_slice(&self, bytes: &[u8]) -> Result<V, Self::Error>;

    /// A digest of `V`'s shape, which [`Stamped`] folds into its header beside the
    /// type's name, or 0 if unknown (the default: a type fingerprinted by name alone).
    /// With the `shapes` feature, postcard and JSON give `shape_of`'s.
    fn value_shape(&self) -> u64 {
        0
    }
}
