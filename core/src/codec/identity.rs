//! The codec that stores values as they are.

use core::convert::Infallible;

use super::Serializer;

/// Stores `V` itself and clones it on a hit; the default for in-memory caches.
///
/// For large values, cache an `Arc<T>` so a hit costs a reference-count increment.
///
/// ```
/// use jwm_cache_core::{Identity, Serializer};
///
/// let stored = Identity.encode_owned(vec![1, 2, 3]).unwrap();
/// assert_eq!(Identity.decode(&stored).unwrap(), vec![1, 2, 3]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl<V: Clone> Serializer<V> for Identity {
    type Encoded = V;
    type Error = Infallible;
    const NAME: &'static str = "identity";

    #[inline]
    fn encode(&self, value: &V) -> Result<V, Infallible> {
        Ok(value.clone())
    }

    #[inline]
    fn encode_owned(&self, value: V) -> Result<V, Infallible> {
        Ok(value)
    }

    #[inline]
    fn decode(&self, encoded: &V) -> Result<V, Infallible> {
        Ok(encoded.clone())
    }

    #[inline]
    fn decode_owned(&self, encoded: V) -> Result<V, Infallible> {
        Ok(encoded)
    }
}
