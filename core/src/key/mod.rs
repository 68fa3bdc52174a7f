//! Keys that persist across processes and platforms: [`PersistentHash`].

mod impls;
#[cfg(feature = "postcard")]
mod postcard;
mod unordered;

use core::fmt;

#[cfg(feature = "postcard")]
pub use self::postcard::PostcardKey;

/// The BLAKE3 key: domain separation for jwm-cache's persistent keys, version 1.
const KEY: [u8; 32] = *b"jwm-cache persistent-hash v1\0\0\0\0";

/// A value with a digest that is the same in every process and on every platform:
/// what a key needs to be stored in a cache shared across processes, such as Redis.
///
/// Implement it by writing each field in order; every provided impl is self-delimiting,
/// so fields cannot run into each other.
///
/// # The algorithm
/// A value is written to a [`KeyHasher`] in a canonical encoding, and the bytes are
/// hashed with **BLAKE3 in keyed mode**, the key being the ASCII bytes
/// `jwm-cache persistent-hash v1` zero-padded to 32 bytes. The [`Digest`] is the first
/// 16 bytes (128 bits) of the output.
///
/// BLAKE3 is a cryptographic hash: a store shared across processes cannot compare keys
/// on a hit, so the digest *is* the key's identity, and callers who control arguments
/// must not be able to forge another key's digest.
///
/// # The canonical encoding
/// - Integers: fixed-width little-endian (`u8` 1 byte … `u128` 16 bytes);
///   `usize`/`isize` as 8-byte `u64`/`i64`. `bool` is one byte 0 or 1; `char` is its
///   `u32` scalar value; floats are their IEEE-754 bits (so `0.0 != -0.0`).
/// - Strings and sequences (`str`, slices, arrays, `Vec`, `VecDeque`): the length as
///   `u64`, then the bytes or elements. Arrays hash like slices of the same elements.
/// - Tuples and `()`: their fields in order, with nothing between; every field is
///   self-delimiting, so `("ab", "c")` and `("a", "bc")` differ.
/// - `Option`: tag byte 0, or 1 then the value. `Result`: 0 then `Ok`, or 1 then `Err`.
/// - `Duration`: seconds as `u64`, then nanoseconds as `u32`.
/// - `BTreeMap`/`BTreeSet`: the length, then entries in key order (a map entry is the
///   tuple `(key, value)`).
/// - `HashMap`/`HashSet` (hashbrown's always; std's with the `std` feature): the length,
///   then the 16-byte digests of the entries, sorted, so iteration order never matters.
/// - References, `Box`, `Rc`, `Arc` and `Cow` hash as what they point to.
///
/// A digest identifies a value *within its type*: like std's `Hash`, the encoding
/// carries no type tags, so `None::<u32>` and `0u8` are both the byte `0`. Functions
/// that share an identifier should take the same argument types.
///
/// Every multi-byte number is written little-endian and `usize` is widened to 64 bits
/// before it is written, and BLAKE3 is defined over bytes, so a digest is the same on
/// 32- and 64-bit and on big- and little-endian targets by construction. The golden
/// vectors in `core/tests/persistent_hash_golden.rs` pin it: any change to the encoding or
/// the algorithm fails CI.
///
/// # Implementing it
/// ```
/// use jwm_cache_core::{KeyHasher, PersistentDigest, PersistentHash};
///
/// struct Point { x: i32, y: i32, label: String }
///
/// impl PersistentHash for Point {
///     fn persistent_hash(&self, hasher: &mut KeyHasher) {
///         self.x.persistent_hash(hasher);
///         self.y.persistent_hash(hasher);
///         self.label.persistent_hash(hasher);
///     }
/// }
///
/// let p = Point { x: 1, y: 2, label: "a".into() };
/// // Same fields, same digest: the struct hashes like the tuple of its fields.
/// assert_eq!(p.persistent_digest(), (1i32, 2i32, "a").persistent_digest());
/// ```
pub trait PersistentHash {
    /// Writes this value's canonical encoding to `hasher`.
    fn persistent_hash(&self, hasher: &mut KeyHasher);

    /// Writes a slice of values; the encoding is that of each element in turn.
    /// Types may override it to write a whole slice at once.
    fn persistent_hash_slice(items: &[Self], hasher: &mut KeyHasher)
    where
        Self: Sized,
    {
        for item in items {
            item.persistent_hash(hasher);
        }
    }
}

/// The digest of a [`PersistentHash`] value: the one way to get it, for every type.
///
/// It is a separate trait, implemented once for every `PersistentHash` type, so that
/// nothing can override it: a digest always follows
/// [`persistent_hash`](PersistentHash::persistent_hash), whether the value is reached
/// directly, through `&T`, `Box`, `Rc`, `Arc` or `Cow`, or inside a tuple. Had a type
/// its own digest, those paths would disagree, and one key would have two names in a
/// shared store.
///
/// ```
/// use jwm_cache_core::{PersistentDigest, PersistentHash};
///
/// assert_eq!(7u32.persistent_digest(), (&7u32).persistent_digest());
/// assert_eq!(7u32.persistent_digest(), Box::new(7u32).persistent_digest());
/// ```
pub trait PersistentDigest: sealed::Sealed {
    /// The digest of this value, or [`UnhashableKey`] if its encoding failed (only an
    /// adapter such as `PostcardKey` can fail; the provided impls never do).
    fn persistent_digest(&self) -> Result<Digest, UnhashableKey>;
}

mod sealed {
    /// Only `PersistentHash` types get a digest, and only the one blanket impl gives it.
    pub trait Sealed {}

    impl<T: super::PersistentHash + ?Sized> Sealed for T {}
}

impl<T: PersistentHash + ?Sized> PersistentDigest for T {
    fn persistent_digest(&self) -> Result<Digest, UnhashableKey> {
        let mut hasher = KeyHasher::new();
        self.persistent_hash(&mut hasher);
        hasher.finish()
    }
}

/// Receives a value's canonical encoding and hashes it; see [`PersistentHash`].
///
/// ```
/// use jwm_cache_core::{KeyHasher, PersistentDigest, PersistentHash};
///
/// let mut hasher = KeyHasher::new();
/// hasher.write_str("ab");
/// hasher.write_u32(7);
/// assert_eq!(hasher.finish(), ("ab", 7u32).persistent_digest());
/// ```
#[derive(Clone)]
pub struct KeyHasher {
    inner: blake3::Hasher,
    unhashable: bool,
}

impl KeyHasher {
    /// A hasher with nothing written.
    pub fn new() -> Self {
        KeyHasher {
            inner: blake3::Hasher::new_keyed(&KEY),
            unhashable: false,
        }
    }

    /// Writes raw bytes with no length prefix: only for fixed-size fields.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// Writes a length or count as `u64`.
    pub fn write_len(&mut self, len: usize) {
        self.write_u64(len as u64);
    }

    /// Writes a string: its length, then its UTF-8 bytes.
    pub fn write_str(&mut self, s: &str) {
        self.write_len(s.len());
        self.write_bytes(s.as_bytes());
    }

    /// Writes one byte.
    pub fn write_u8(&mut self, n: u8) {
        self.write_bytes(&[n]);
    }

    /// Writes a `u16`, little-endian.
    pub fn write_u16(&mut self, n: u16) {
        self.write_bytes(&n.to_le_bytes());
    }

    /// Writes a `u32`, little-endian.
    pub fn write_u32(&mut self, n: u32) {
        self.write_bytes(&n.to_le_bytes());
    }

    /// Writes a `u64`, little-endian.
    pub fn write_u64(&mut self, n: u64) {
        self.write_bytes(&n.to_le_bytes());
    }

    /// Writes a `u128`, little-endian.
    pub fn write_u128(&mut self, n: u128) {
        self.write_bytes(&n.to_le_bytes());
    }

    /// Marks the value being hashed as having no canonical encoding (for example, an
    /// adapter's serializer failed). [`finish`](Self::finish) then reports
    /// [`UnhashableKey`], so such a key is never stored rather than colliding.
    pub fn mark_unhashable(&mut self) {
        self.unhashable = true;
    }

    /// The digest of everything written, or [`UnhashableKey`].
    pub fn finish(&self) -> Result<Digest, UnhashableKey> {
        if self.unhashable {
            return Err(UnhashableKey);
        }
        let mut digest = [0; 16];
        digest.copy_from_slice(&self.inner.finalize().as_bytes()[..16]);
        Ok(Digest(digest))
    }
}

impl Default for KeyHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyHasher")
            .field("unhashable", &self.unhashable)
            .finish_non_exhaustive()
    }
}

/// A 128-bit persistent digest; [`Display`](fmt::Display) gives 32 lowercase hex digits.
///
/// ```
/// use jwm_cache_core::PersistentDigest;
///
/// let hex = 42u64.persistent_digest().unwrap().to_string();
/// assert_eq!(hex.len(), 32);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub [u8; 16]);

impl Digest {
    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The digest in lowercase hex, as ASCII: what [`Display`](fmt::Display) prints,
    /// without the formatter's per-byte cost (key names are built on every lookup).
    pub fn hex(&self) -> [u8; 32] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        f.write_str(core::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// A key with no canonical encoding, so it cannot be stored in a shared store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnhashableKey;

impl fmt::Display for UnhashableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("key has no canonical encoding")
    }
}

impl core::error::Error for UnhashableKey {}
