//! The compact binary codec.

use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use super::Serializer;

/// Stores values as [postcard](https://docs.rs/postcard) bytes: compact, stable across
/// platforms, and the default for byte stores such as Redis.
///
/// ```
/// use jwm_cache_core::{Postcard, Serializer};
///
/// let bytes = Postcard.encode(&("city".to_string(), 42u32)).unwrap();
/// let back: (String, u32) = Postcard.decode(&bytes).unwrap();
/// assert_eq!(back, ("city".to_string(), 42));
/// assert!(Serializer::<(String, u32)>::decode(&Postcard, &vec![0xff; 3]).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Postcard;

/// Why postcard could not encode or decode a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostcardError(pub postcard::Error);

impl fmt::Display for PostcardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postcard codec: {}", self.0)
    }
}

impl core::error::Error for PostcardError {}

impl<V: Serialize + DeserializeOwned> Serializer<V> for Postcard {
    type Encoded = Vec<u8>;
    type Error = PostcardError;
    const NAME: &'static str = "postcard";

    fn encode(&self, value: &V) -> Result<Vec<u8>, PostcardError> {
        postcard::to_allocvec(value).map_err(PostcardError)
    }

    fn decode(&self, encoded: &Vec<u8>) -> Result<V, PostcardError> {
        postcard::from_bytes(encoded).map_err(PostcardError)
    }
}
