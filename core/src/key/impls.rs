//! `PersistentHash` for primitives, strings, sequences, tuples and smart pointers.

use alloc::borrow::{Cow, ToOwned};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::rc::Rc;
use alloc::string::String;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::{Digest, KeyHasher, PersistentHash};

macro_rules! little_endian {
    ($($t:ty),*) => {$(
        impl PersistentHash for $t {
            fn persistent_hash(&self, hasher: &mut KeyHasher) {
                hasher.write_bytes(&self.to_le_bytes());
            }
        }
    )*};
}

little_endian!(u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl PersistentHash for u8 {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u8(*self);
    }

    // One byte per element either way; writing the slice at once is just faster.
    fn persistent_hash_slice(items: &[u8], hasher: &mut KeyHasher) {
        hasher.write_bytes(items);
    }
}

impl PersistentHash for usize {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u64(*self as u64);
    }
}

impl PersistentHash for isize {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        (*self as i64).persistent_hash(hasher);
    }
}

impl PersistentHash for bool {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u8(u8::from(*self));
    }
}

impl PersistentHash for char {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u32(u32::from(*self));
    }
}

impl PersistentHash for f32 {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u32(self.to_bits());
    }
}

impl PersistentHash for f64 {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u64(self.to_bits());
    }
}

impl PersistentHash for str {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_str(self);
    }
}

impl PersistentHash for String {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_str(self);
    }
}

impl<T: PersistentHash> PersistentHash for [T] {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_len(self.len());
        T::persistent_hash_slice(self, hasher);
    }
}

impl<T: PersistentHash, const N: usize> PersistentHash for [T; N] {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        self.as_slice().persistent_hash(hasher);
    }
}

impl<T: PersistentHash> PersistentHash for Vec<T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        self.as_slice().persistent_hash(hasher);
    }
}

impl<T: PersistentHash> PersistentHash for VecDeque<T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_len(self.len());
        let (front, back) = self.as_slices();
        T::persistent_hash_slice(front, hasher);
        T::persistent_hash_slice(back, hasher);
    }
}

impl<T: PersistentHash> PersistentHash for Option<T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        match self {
            None => hasher.write_u8(0),
            Some(value) => {
                hasher.write_u8(1);
                value.persistent_hash(hasher);
            }
        }
    }
}

impl<T: PersistentHash, E: PersistentHash> PersistentHash for Result<T, E> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        match self {
            Ok(value) => {
                hasher.write_u8(0);
                value.persistent_hash(hasher);
            }
            Err(error) => {
                hasher.write_u8(1);
                error.persistent_hash(hasher);
            }
        }
    }
}

impl PersistentHash for Duration {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_u64(self.as_secs());
        hasher.write_u32(self.subsec_nanos());
    }
}

impl PersistentHash for Digest {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_bytes(&self.0);
    }
}

impl<K: PersistentHash, V: PersistentHash> PersistentHash for BTreeMap<K, V> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_len(self.len());
        for entry in self {
            entry.persistent_hash(hasher);
        }
    }
}

impl<T: PersistentHash> PersistentHash for BTreeSet<T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hasher.write_len(self.len());
        for item in self {
            item.persistent_hash(hasher);
        }
    }
}

macro_rules! pointer {
    ($($ptr:ty),*) => {$(
        impl<T: PersistentHash + ?Sized> PersistentHash for $ptr {
            fn persistent_hash(&self, hasher: &mut KeyHasher) {
                (**self).persistent_hash(hasher);
            }
        }
    )*};
}

pointer!(&T, &mut T, Box<T>, Rc<T>);
// `alloc::sync` exists only where pointers have atomics.
#[cfg(target_has_atomic = "ptr")]
pointer!(Arc<T>);

impl<T: PersistentHash + ToOwned + ?Sized> PersistentHash for Cow<'_, T> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        (**self).persistent_hash(hasher);
    }
}

macro_rules! tuple {
    ($($name:ident)*) => {
        impl<$($name: PersistentHash),*> PersistentHash for ($($name,)*) {
            #[allow(non_snake_case, unused_variables)]
            fn persistent_hash(&self, hasher: &mut KeyHasher) {
                let ($($name,)*) = self;
                $($name.persistent_hash(hasher);)*
            }
        }
    };
}

tuple!();
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
tuple!(A B C D E F G H I);
tuple!(A B C D E F G H I J);
tuple!(A B C D E F G H I J K);
tuple!(A B C D E F G H I J K L);
