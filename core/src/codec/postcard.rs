//! The compact binary codec.

use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use super::{ByteCodec, Serializer};

/// Stores values as [postcard](https://docs.rs/postcard) bytes: compact, stable across
/// platforms, and the default for byte stores such as Redis.
///
/// Decoding is strict: the bytes must hold one value and nothing after it. (postcard's
/// own `from_bytes` ignores trailing bytes, so `b"garbage"` would read as the `u64` 103.)
///
/// postcard sets no depth limit: a recursive type (a tree of `Box`es) decodes with one
/// stack frame per level, so a value nested deeper than the reading thread's stack
/// allows (one written on a larger stack, or bytes planted in a shared store by someone
/// who may write it) overflows the stack, which aborts the process. Bound the depth of
/// recursive values you cache.
///
/// ```
/// use jwm_cache_core::{Postcard, PostcardError, Serializer};
///
/// let bytes = Postcard.encode(&("city".to_string(), 42u32)).unwrap();
/// let back: (String, u32) = Postcard.decode(&bytes).unwrap();
/// assert_eq!(back, ("city".to_string(), 42));
/// assert!(Serializer::<(String, u32)>::decode(&Postcard, &vec![0xff; 3]).is_err());
/// let trailing = Serializer::<u64>::decode(&Postcard, &b"garbage".to_vec());
/// assert_eq!(trailing, Err(PostcardError::TrailingBytes(6)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Postcard;

/// Why postcard could not encode or decode a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostcardError {
    /// postcard refused the value or the bytes.
    Format(postcard::Error),
    /// A value decoded, but this many bytes were left after it: the bytes are not one
    /// encoding of the value's type.
    TrailingBytes(usize),
}

impl fmt::Display for PostcardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostcardError::Format(e) => write!(f, "postcard codec: {e}"),
            PostcardError::TrailingBytes(n) => {
                write!(f, "postcard codec: {n} bytes left after the value")
            }
        }
    }
}

impl core::error::Error for PostcardError {}

impl<V: Serialize + DeserializeOwned> Serializer<V> for Postcard {
    type Encoded = Vec<u8>;
    type Error = PostcardError;
    const NAME: &'static str = "postcard";

    fn encode(&self, value: &V) -> Result<Vec<u8>, PostcardError> {
        self.encode_after(value, Vec::new())
    }

    fn decode(&self, encoded: &Vec<u8>) -> Result<V, PostcardError> {
        self.decode_slice(encoded)
    }
}

/// postcard's `AllocVec` flavor, over a vector that already holds a prefix (a header);
/// `to_extend`'s generic flavor pushes byte by byte through `Extend`, several times
/// slower for large byte sequences.
struct Append(Vec<u8>);

impl postcard::ser_flavors::Flavor for Append {
    type Output = Vec<u8>;

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

impl<V: Serialize + DeserializeOwned> ByteCodec<V> for Postcard {
    fn encode_after(&self, value: &V, out: Vec<u8>) -> Result<Vec<u8>, PostcardError> {
        postcard::serialize_with_flavor(value, Append(out)).map_err(PostcardError::Format)
    }

    fn decode_slice(&self, bytes: &[u8]) -> Result<V, PostcardError> {
        match postcard::take_from_bytes(bytes) {
            Ok((value, [])) => Ok(value),
            Ok((_, rest)) => Err(PostcardError::TrailingBytes(rest.len())),
            Err(e) => Err(PostcardError::Format(e)),
        }
    }

    #[cfg(feature = "shapes")]
    fn value_shape(&self) -> u64 {
        super::shape_of::<V>()
    }
}
