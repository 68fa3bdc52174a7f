//! The header that makes bytes in a shared store self-describing.

use alloc::vec::Vec;
use core::any::type_name;
use core::fmt;
use core::marker::PhantomData;

use super::{ByteCodec, Serializer};

/// The first two bytes of every stamped value.
const MAGIC: [u8; 2] = *b"jw";
/// The version of the header's layout, its third byte.
pub const HEADER_VERSION: u8 = 1;
/// The header's length: magic (2), version (1), fingerprint (8, little-endian).
pub const HEADER_LEN: usize = 11;

/// A byte codec whose values carry a header saying what wrote them: for stores that
/// other programs, or functions with other key or value types, can write (Redis). `K` is
/// the key type of the cache it serves.
///
/// The header is [`HEADER_LEN`] bytes: the magic `b"jw"`, the format version
/// [`HEADER_VERSION`], and the [`value_fingerprint`] of the codec, the key type, the
/// value type and the schema version (0 unless [`schema`](Self::schema) says otherwise),
/// little-endian. Decoding checks all three, then decodes the rest strictly (every byte
/// consumed). Anything else is a [`StampedError`]: the cache counts it as an error and a
/// miss, recomputes, and overwrites the entry. So a `u64 -> String` function and a
/// `u64 -> u64` function that share an identifier never read each other's values (nor
/// do a `u64` and a `(u32, u32)` key, whose digests can be equal), and bytes that another
/// program wrote are never served.
///
/// Types are fingerprinted by name, and by the value type's shape where the codec knows
/// it ([`ByteCodec::value_shape`]: postcard and JSON, with the `shapes` feature, for types
/// serde can trace): then a type that keeps its name but changes its fields between two
/// builds sharing a store misses. Without a shape, only strict decoding catches such
/// changes, and not all. Bump [`schema`](Self::schema) when a stored type changes
/// meaning but not shape (a duration in seconds that was in milliseconds), or changes
/// shape with none known.
///
/// The body carries no checksum: bytes changed inside it into another valid encoding
/// of the type (a flipped digit, say) decode as that value. The header and strict
/// decoding catch what goes wrong between programs (another type, codec, version,
/// truncation, trailing bytes); the integrity of bytes at rest and in transit is the
/// store's and TCP's, as it is for every Redis client, and a checksum would not stop a
/// program that can write the store from writing a valid value.
///
/// In-process stores whose value type the compiler fixes (the memory backend) don't need
/// it and don't pay for it.
///
/// ```
/// # #[cfg(feature = "postcard")] {
/// use jwm_cache_core::{HEADER_LEN, Postcard, Serializer, Stamped, StampedError};
///
/// let codec = Stamped::<_, u64>::new(Postcard);
/// let bytes = Serializer::<String>::encode(&codec, &"user-42".to_string()).unwrap();
/// assert_eq!(&bytes.as_bytes()[..3], b"jw\x01");
/// assert_eq!(bytes.as_bytes().len(), HEADER_LEN + 8);
/// assert_eq!(Serializer::<String>::decode(&codec, &bytes).unwrap(), "user-42");
/// // The same bytes read as another type: a typed error, never a value.
/// assert_eq!(Serializer::<u64>::decode(&codec, &bytes), Err(StampedError::OtherType));
/// # }
/// ```
pub struct Stamped<S, K> {
    inner: S,
    schema: u32,
    keys: PhantomData<fn(&K)>,
}

impl<S: Clone, K> Clone for Stamped<S, K> {
    fn clone(&self) -> Self {
        Stamped {
            inner: self.inner.clone(),
            schema: self.schema,
            keys: PhantomData,
        }
    }
}

impl<S: Copy, K> Copy for Stamped<S, K> {}

impl<S: fmt::Debug, K> fmt::Debug for Stamped<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stamped")
            .field("inner", &self.inner)
            .field("schema", &self.schema)
            .field("key", &type_name::<K>())
            .finish()
    }
}

impl<S, K> Stamped<S, K> {
    /// Stamps the values of `inner`, for a cache keyed by `K`.
    pub const fn new(inner: S) -> Self {
        Stamped {
            inner,
            schema: 0,
            keys: PhantomData,
        }
    }

    /// The schema version, folded into the fingerprint: bump it when a stored type
    /// changes meaning but not shape, or shape where the codec knows none
    /// ([`ByteCodec::value_shape`]), so that the old entries miss.
    ///
    /// ```
    /// # #[cfg(feature = "postcard")] {
    /// use jwm_cache_core::{Postcard, Serializer, Stamped};
    ///
    /// let v1 = Stamped::<_, u8>::new(Postcard);
    /// let v2 = Stamped::<_, u8>::new(Postcard).schema(2);
    /// let bytes = Serializer::<u32>::encode(&v1, &7).unwrap();
    /// assert!(Serializer::<u32>::decode(&v2, &bytes).is_err());
    /// # }
    /// ```
    pub const fn schema(mut self, version: u32) -> Self {
        self.schema = version;
        self
    }

    /// The inner codec.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner codec, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner codec.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The bytes of a stamped value for a cache keyed by `K`, as a store keeps them: a
/// header, then the inner codec's encoding. A backend that accepts only these (as
/// `RedisBackend<K>` does) cannot be used without the header, nor with a codec stamped
/// for another key type.
pub struct StampedBytes<K>(Vec<u8>, PhantomData<fn(&K)>);

impl<K> StampedBytes<K> {
    /// Bytes read from a store, unchecked: decoding checks them.
    ///
    /// ```
    /// use jwm_cache_core::StampedBytes;
    ///
    /// let read = StampedBytes::<u64>::from_stored(b"garbage".to_vec());
    /// assert_eq!(read.as_bytes(), b"garbage");
    /// ```
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        StampedBytes(bytes, PhantomData)
    }

    /// The bytes, header included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, header included.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl<K> Clone for StampedBytes<K> {
    fn clone(&self) -> Self {
        StampedBytes::from_stored(self.0.clone())
    }
}

impl<K> PartialEq for StampedBytes<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for StampedBytes<K> {}

impl<K> fmt::Debug for StampedBytes<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StampedBytes({} bytes)", self.0.len())
    }
}

/// Why stamped bytes did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StampedError<E> {
    /// Shorter than a header, or not starting with the magic: bytes that jwm-cache did
    /// not write.
    Foreign,
    /// A header of another format version.
    Version(u8),
    /// Written for another value type or by another codec.
    OtherType,
    /// The header matched, but the inner codec failed.
    Codec(E),
}

impl<E: fmt::Display> fmt::Display for StampedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StampedError::Foreign => f.write_str("stored bytes have no jwm-cache header"),
            StampedError::Version(v) => write!(f, "stored bytes have header version {v}"),
            StampedError::OtherType => {
                f.write_str("stored bytes were written for another value type or codec")
            }
            StampedError::Codec(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for StampedError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            StampedError::Codec(e) => Some(e),
            _ => None,
        }
    }
}

/// The fingerprint of values of type `value` under keys of type `key`, encoded by the
/// codec named `codec`, at schema version `schema`: 64-bit FNV-1a over the codec's name,
/// a zero byte, the key type's name, a zero byte, the value type's name, a zero byte,
/// and the schema version as 4 little-endian bytes.
///
/// Type names come from [`core::any::type_name`], so they are the same in every process
/// of one build; a type renamed or moved, or built by another compiler version, may get
/// another fingerprint, and its old entries then miss (never misread).
///
/// ```
/// use jwm_cache_core::value_fingerprint;
///
/// assert_eq!(value_fingerprint("postcard", "u64", "u64", 0), 0x5644_65e6_da19_846f);
/// assert_ne!(
///     value_fingerprint("postcard", "u64", "u64", 0),
///     value_fingerprint("postcard", "(u32, u32)", "u64", 0)
/// );
/// ```
pub fn value_fingerprint(codec: &str, key: &str, value: &str, schema: u32) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    let (fields, schema) = (
        [codec.as_bytes(), key.as_bytes(), value.as_bytes()],
        schema.to_le_bytes(),
    );
    let bytes = fields
        .iter()
        .flat_map(|field| field.iter().chain(&[0]))
        .chain(&schema);
    fnv1a(OFFSET, bytes)
}

/// 64-bit FNV-1a over `bytes`, from `hash`.
fn fnv1a<'b>(hash: u64, bytes: impl IntoIterator<Item = &'b u8>) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.into_iter().fold(hash, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

impl<S, K> Stamped<S, K> {
    fn header<V>(&self) -> [u8; HEADER_LEN]
    where
        S: ByteCodec<V>,
    {
        let mut fingerprint =
            value_fingerprint(S::NAME, type_name::<K>(), type_name::<V>(), self.schema);
        // Only when known: fingerprints by name alone stay as they were.
        let shape = self.inner.value_shape();
        if shape != 0 {
            fingerprint = fnv1a(fingerprint, &shape.to_le_bytes());
        }
        let mut header = [0; HEADER_LEN];
        header[..2].copy_from_slice(&MAGIC);
        header[2] = HEADER_VERSION;
        header[3..].copy_from_slice(&fingerprint.to_le_bytes());
        header
    }

    fn check<'b, V>(&self, bytes: &'b [u8]) -> Result<&'b [u8], StampedError<S::Error>>
    where
        S: ByteCodec<V>,
    {
        let Some((header, body)) = bytes.split_at_checked(HEADER_LEN) else {
            return Err(StampedError::Foreign);
        };
        if header[..2] != MAGIC {
            return Err(StampedError::Foreign);
        }
        if header[2] != HEADER_VERSION {
            return Err(StampedError::Version(header[2]));
        }
        if header != self.header::<V>() {
            return Err(StampedError::OtherType);
        }
        Ok(body)
    }
}

impl<V, S: ByteCodec<V>, K> Serializer<V> for Stamped<S, K> {
    type Encoded = StampedBytes<K>;
    type Error = StampedError<S::Error>;
    const NAME: &'static str = S::NAME;

    fn encode(&self, value: &V) -> Result<StampedBytes<K>, Self::Error> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.header::<V>());
        self.inner
            .encode_after(value, out)
            .map(StampedBytes::from_stored)
            .map_err(StampedError::Codec)
    }

    fn decode(&self, encoded: &StampedBytes<K>) -> Result<V, Self::Error> {
        let body = self.check::<V>(&encoded.0)?;
        self.inner.decode_slice(body).map_err(StampedError::Codec)
    }
}
