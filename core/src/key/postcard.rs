//! `PersistentHash` for any `Serialize`, through postcard's stable wire format.

use postcard::ser_flavors::Flavor;
use serde::Serialize;

use super::{KeyHasher, PersistentHash};

/// Hashes any `T: Serialize` by its postcard encoding, streamed into the hasher with no
/// allocation.
///
/// Postcard's format is stable and self-delimiting for a given type (varint lengths and
/// variant tags), so it is a canonical encoding as long as `T`'s `Serialize` impl is
/// deterministic: serialize maps in a fixed order (a `BTreeMap`, not a `HashMap`). If
/// serialization fails, the key is [unhashable](super::UnhashableKey), never a shared
/// digest.
///
/// ```
/// use jwm_cache_core::{PersistentDigest, PostcardKey};
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Query { city: String, limit: u32 }
///
/// let a = PostcardKey(Query { city: "Oslo".into(), limit: 3 });
/// let b = PostcardKey(Query { city: "Oslo".into(), limit: 4 });
/// assert_ne!(a.persistent_digest().unwrap(), b.persistent_digest().unwrap());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PostcardKey<T>(pub T);

/// Feeds postcard's output straight into a [`KeyHasher`].
struct HashFlavor<'a>(&'a mut KeyHasher);

impl Flavor for HashFlavor<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.write_bytes(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.write_u8(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

impl<T: Serialize> PersistentHash for PostcardKey<T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        if postcard::serialize_with_flavor(&self.0, HashFlavor(hasher)).is_err() {
            hasher.mark_unhashable();
        }
    }
}
