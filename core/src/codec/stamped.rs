//! The header that makes bytes in a shared store self-describing.

use alloc::vec::Vec;
use core::any::type_name;
use core::fmt;

use super::{ByteCodec, Serializer};

/// The first two bytes of every stamped value.
const MAGIC: [u8; 2] = *b"jw";
/// The version of the header's layout, its third byte.
pub const HEADER_VERSION: u8 = 1;
/// The header's length: magic (2), version (1), fingerprint (8, little-endian).
pub const HEADER_LEN: usize = 11;

/// A byte codec whose values carry a header saying what wrote them: for stores that
/// other programs, or functions with other value types, can write (Redis).
///
/// The header is [`HEADER_LEN`] bytes: the magic `b"jw"`, the format version
/// [`HEADER_VERSION`], and the [`value_fingerprint`] of the value type and the inner
/// codec, little-endian. Decoding checks all three, then decodes the rest strictly (every
/// byte consumed). Anything else is a [`StampedError`]: the cache counts it as an error
/// and a miss, recomputes, and overwrites the entry. So a `u64 -> String` function and a
/// `u64 -> u64` function that share an identifier never read each other's values, and
/// bytes that another program wrote are never served.
///
/// In-process stores whose value type the compiler fixes (the memory backend) don't need
/// it and don't pay for it.
///
/// ```
/// use jwm_cache_core::{HEADER_LEN, Postcard, Serializer, Stamped, StampedError};
///
/// let codec = Stamped::new(Postcard);
/// let bytes = Serializer::<String>::encode(&codec, &"user-42".to_string()).unwrap();
/// assert_eq!(&bytes.as_bytes()[..3], b"jw\x01");
/// assert_eq!(bytes.as_bytes().len(), HEADER_LEN + 8);
/// assert_eq!(Serializer::<String>::decode(&codec, &bytes).unwrap(), "user-42");
/// // The same bytes read as another type: a typed error, never a value.
/// assert_eq!(Serializer::<u64>::decode(&codec, &bytes), Err(StampedError::OtherType));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamped<S>(S);

impl<S> Stamped<S> {
    /// Stamps the values of `inner`.
    pub const fn new(inner: S) -> Self {
        Stamped(inner)
    }

    /// The inner codec.
    pub fn get_ref(&self) -> &S {
        &self.0
    }

    /// The inner codec, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.0
    }

    /// The inner codec.
    pub fn into_inner(self) -> S {
        self.0
    }
}

/// The bytes of a stamped value, as a store keeps them: a header, then the inner
/// codec's encoding. A backend that accepts only these (as `RedisBackend` does) cannot
/// be used without the header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StampedBytes(Vec<u8>);

impl StampedBytes {
    /// Bytes read from a store, unchecked: decoding checks them.
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        StampedBytes(bytes)
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

impl fmt::Debug for StampedBytes {
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

/// The fingerprint of values of type `type_name` encoded by the codec named `codec`:
/// 64-bit FNV-1a over the codec's name, a zero byte, and the type's name.
///
/// Type names come from [`core::any::type_name`], so they are the same in every process
/// of one build; a type renamed or moved, or built by another compiler version, may get
/// another fingerprint, and its old entries then miss (never misread).
///
/// ```
/// use jwm_cache_core::value_fingerprint;
///
/// assert_eq!(value_fingerprint("postcard", "u64"), 0x23e7_0cca_7f4e_2568);
/// assert_ne!(value_fingerprint("postcard", "u64"), value_fingerprint("json", "u64"));
/// ```
pub const fn value_fingerprint(codec: &str, type_name: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let (codec, name) = (codec.as_bytes(), type_name.as_bytes());
    let mut i = 0;
    while i < codec.len() + 1 + name.len() {
        let byte = if i < codec.len() {
            codec[i]
        } else if i == codec.len() {
            0
        } else {
            name[i - codec.len() - 1]
        };
        hash = (hash ^ byte as u64).wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

impl<S> Stamped<S> {
    fn header<V>() -> [u8; HEADER_LEN]
    where
        S: Serializer<V>,
    {
        let mut header = [0; HEADER_LEN];
        header[..2].copy_from_slice(&MAGIC);
        header[2] = HEADER_VERSION;
        header[3..].copy_from_slice(&value_fingerprint(S::NAME, type_name::<V>()).to_le_bytes());
        header
    }

    fn check<V>(bytes: &[u8]) -> Result<&[u8], StampedError<S::Error>>
    where
        S: Serializer<V>,
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
        if header != Self::header::<V>() {
            return Err(StampedError::OtherType);
        }
        Ok(body)
    }
}

impl<V, S: ByteCodec<V>> Serializer<V> for Stamped<S> {
    type Encoded = StampedBytes;
    type Error = StampedError<S::Error>;
    const NAME: &'static str = S::NAME;

    fn encode(&self, value: &V) -> Result<StampedBytes, Self::Error> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&Self::header::<V>());
        self.0
            .encode_after(value, out)
            .map(StampedBytes)
            .map_err(StampedError::Codec)
    }

    fn decode(&self, encoded: &StampedBytes) -> Result<V, Self::Error> {
        let body = Self::check::<V>(&encoded.0)?;
        self.0.decode_slice(body).map_err(StampedError::Codec)
    }
}
