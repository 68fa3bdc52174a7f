//! Keys for stores shared across processes: a digest that is the same everywhere.
//!
//! A cache in Redis cannot compare keys on a hit, so it stores each entry under the
//! [`Digest`] of its key's [`PersistentHash`]: keyed BLAKE3 over a documented canonical
//! encoding, the same in every process, on every platform and with every compiler.
//! Integers, strings, slices, `Vec`s, tuples, options, maps and sets have it already.
//! For a key type of your own, write each field to the [`KeyHasher`], or hash any
//! `T: Serialize` by its postcard encoding with `PostcardKey` (feature `postcard`).
//! [`PersistentDigest`] gives any such value's digest (for a method's key projection,
//! say); [`UnhashableKey`] is the error of a value whose encoding failed.

#[doc(no_inline)]
pub use jwm_cache_core::PersistentHash;
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub use jwm_cache_core::PostcardKey;
pub use jwm_cache_core::{Digest, KeyHasher, PersistentDigest, UnhashableKey};
