//! The readable, interoperable codec.

use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use super::{ByteCodec, Serializer};

/// Stores values as JSON bytes: readable by people and other languages. In Redis, the
/// JSON sits behind the binary [`Stamped`](super::Stamped) header, whose fingerprint
/// names Rust types: other programs can read the JSON after the first 11 bytes, but
/// cannot write values the cache accepts.
///
/// Decoding is strict: one JSON value, with nothing but whitespace around it. Floats
/// come back bit for bit. What JSON would read back as another value is refused when
/// encoded (so not stored): a float that is not finite, and a `Some` of anything JSON
/// writes as `null` (`Some(())`, `Some(None)`), which would come back as `None`,
/// unless the type's own serde reads it back as it was. One ambiguity is the type's to
/// avoid: an untagged enum reads back as the first variant that fits, so with `F(f64)`
/// before `I(i64)`, `I(3)`, written `3`, comes back as `F(3.0)`. Tag such enums, or use
/// postcard. serde_json also refuses to read values nested deeper
/// than 128 levels: those are stored, and each read is a miss and a codec error.
///
/// ```
/// use jwm_cache_core::{Json, Serializer};
///
/// let bytes = Json.encode(&vec![1, 2]).unwrap();
/// assert_eq!(bytes, b"[1,2]");
/// assert!(Serializer::<Vec<u32>>::decode(&Json, &b"[1,".to_vec()).is_err());
/// assert!(Serializer::<Vec<u32>>::decode(&Json, &b"[1,2]XYZ".to_vec()).is_err());
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
        self.encode_after(value, Vec::new())
    }

    fn decode(&self, encoded: &Vec<u8>) -> Result<V, JsonError> {
        self.decode_slice(encoded)
    }
}

impl<V: Serialize + DeserializeOwned> ByteCodec<V> for Json {
    fn encode_after(&self, value: &V, mut out: Vec<u8>) -> Result<Vec<u8>, JsonError> {
        // `to_writer` needs serde_json's std feature; one copy is cheap beside JSON.
        let body = serde_json::to_vec(value).map_err(JsonError)?;
        // Nothing JSON would read back as another value: a miss, never a wrong hit.
        if let Err(lossy) = super::json_probe::check(value) {
            // The walk objects to what serde_json's plain encoding loses; a type's own
            // serde may still give it back (a double `Option` read with
            // `deserialize_with`): kept if the round trip gives back the same value.
            if !super::json_probe::comes_back(value, &body) {
                return Err(JsonError(lossy));
            }
        }
        if out.is_empty() {
            return Ok(body);
        }
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn decode_slice(&self, bytes: &[u8]) -> Result<V, JsonError> {
        // `from_slice` fails on anything but whitespace after the value.
        serde_json::from_slice(bytes).map_err(JsonError)
    }

    #[cfg(feature = "shapes")]
    fn value_shape(&self) -> u64 {
        super::shape_of::<V>()
    }
}
