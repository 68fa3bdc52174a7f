//! The readable, interoperable codec.

use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use super::Serializer;

/// Stores values as JSON bytes, readable by other languages sharing a byte store.
///
/// ```
/// use jwm_cache_core::{Json, Serializer};
///
/// let bytes = Json.encode(&vec![1, 2]).unwrap();
/// assert_eq!(bytes, b"[1,2]");
/// assert!(Serializer::<Vec<u32>>::decode(&Json, &b"[1,".to_vec()).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json;

/// Why serde_json could not encode or decode a value.
#[derive(Debug)]
pub struct JsonError(pub serde_json::Error);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "json codec: {}", self.0)
    }
}

impl core::error::Error for JsonError {}

impl<V: Serialize + DeserializeOwned> Serializer<V> for Json {
    type Encoded = Vec<u8>;
    type Error = JsonError;
    const NAME: &'static str = "json";

    fn encode(&self, value: &V) -> Result<Vec<u8>, JsonError> {
        serde_json::to_vec(value).map_err(JsonError)
    }

    fn decode(&self, encoded: &Vec<u8>) -> Result<V, JsonError> {
        serde_json::from_slice(encoded).map_err(JsonError)
    }
}
