//! The compact binary codec.

use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use super::depth::{Bounded, Limit};
use super::{ByteCodec, Serializer};

/// Stores values as [postcard](https://docs.rs/postcard) bytes: compact, stable across
/// platforms, and the default for byte stores such as Redis.
///
/// Decoding is strict: the bytes must hold one value and nothing after it. (postcard's
/// own `from_bytes` ignores trailing bytes, so `b"garbage"` would read as the `u64` 103.)
///
/// Decoding is bounded in depth: a value nested more than [`Postcard::MOST_DEPTH`]
/// levels deep does not decode (`Err`, a miss), as serde_json stops at 128. postcard
/// itself sets no limit, and decodes a recursive type (a tree of `Box`es) with stack
/// frames per level, so bytes nested deep enough (planted in a shared store by someone
/// who may write it) would overflow the stack, which aborts the process. Each struct,
/// enum, tuple, sequence, map, newtype or `Option` is a level, one below the one that
/// holds it (a `Box` is none); scalars and strings are free. So a linked list of
/// `enum List { Nil, Cons(u32, Box<List>) }` decodes up to 255 `Cons` and the `Nil`. A
/// deeper value still encodes: a function whose values nest deeper is computed on every
/// call, and its decode errors ([`PostcardError::TooDeep`]) count it.
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

impl Postcard {
    /// How deep a value may nest to decode: deep enough for any data that is not a
    /// recursive structure, and shallow enough for a thread of 2 MiB (a tokio
    /// worker's): the deepest `enum List { Nil, Cons(u32, Box<List>) }` took between
    /// 256 and 512 KiB of stack in a debug build, and far less optimised (a type whose
    /// `Deserialize` keeps more on the stack per level takes more).
    pub const MOST_DEPTH: usize = 256;
}

/// The decoder's limit, which notes that it was passed: postcard drops an error's
/// message.
impl Limit for &Cell<bool> {
    const MOST_DEPTH: usize = Postcard::MOST_DEPTH;
    const TOO_DEEP: &'static str = "nested more than Postcard::MOST_DEPTH levels deep";

    fn passed(self) {
        self.set(true);
    }
}

/// Why postcard could not encode or decode a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PostcardError {
    /// postcard refused the value or the bytes.
    Format(postcard::Error),
    /// A value decoded, but this many bytes were left after it: the bytes are not one
    /// encoding of the value's type.
    TrailingBytes(usize),
    /// The bytes nest deeper than [`Postcard::MOST_DEPTH`].
    TooDeep,
}

impl fmt::Display for PostcardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostcardError::Format(e) => write!(f, "postcard codec: {e}"),
            PostcardError::TrailingBytes(n) => {
                write!(f, "postcard codec: {n} bytes left after the value")
            }
            PostcardError::TooDeep => write!(
                f,
                "postcard codec: the value nests deeper than {} levels",
                Postcard::MOST_DEPTH
            ),
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
        let mut decoder = postcard::Deserializer::from_bytes(bytes);
        let too_deep = Cell::new(false);
        let value = match V::deserialize(Bounded::new(&mut decoder, &too_deep)) {
            // Also if a `Deserialize` swallowed the error and went on.
            _ if too_deep.get() => return Err(PostcardError::TooDeep),
            Ok(value) => value,
            Err(e) => return Err(PostcardError::Format(e)),
        };
        match decoder.finalize().map_err(PostcardError::Format)? {
            [] => Ok(value),
            rest => Err(PostcardError::TrailingBytes(rest.len())),
        }
    }

    #[cfg(feature = "shapes")]
    fn value_shape(&self) -> u64 {
        super::shape_of::<V>()
    }
}
