//! A deserializer that fails past a depth, around another: postcard decodes a recursive
//! type (a tree of `Box`es) with stack frames per level and no limit of its own, so
//! bytes nested deep enough (planted in a shared store) would overflow the stack, which
//! aborts the process; and serde-reflection's trace recurses without end into a
//! recursive enum whose first variant recurses. Every nested value goes through a
//! visitor, seed or access that this wraps, one level deeper.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// What a bounded deserializer allows, and what it notes on the way: carried by every
/// level, so it is a small `Copy` value (a unit, or a reference).
pub(crate) trait Limit: Copy {
    /// How deep it goes before it fails.
    const MOST_DEPTH: usize;
    /// The message of the error past [`Limit::MOST_DEPTH`].
    const TOO_DEEP: &'static str;

    /// Notes that the value went past [`Limit::MOST_DEPTH`] (a format may drop the
    /// error's message).
    #[inline]
    fn passed(self) {}

    /// Notes an enum met, with how many variants it has.
    #[inline]
    fn meet_enum(self, _name: &'static str, _variants: usize) {}
}

/// `inner`, `depth` levels down, under `limit`.
pub(crate) struct Bounded<D, L> {
    inner: D,
    depth: usize,
    limit: L,
}

impl<D, L> Bounded<D, L> {
    /// `inner`, at the top.
    pub(crate) fn new(inner: D, limit: L) -> Self {
        Bounded::at(inner, 0, limit)
    }

    #[inline]
    fn at(inner: D, depth: usize, limit: L) -> Self {
        Bounded {
            inner,
            depth,
            limit,
        }
    }
}

/// A visitor, seed or access `depth` levels down.
struct Level<T, L> {
    inner: T,
    depth: usize,
    limit: L,
}

impl<T, L> Level<T, L> {
    #[inline]
    fn at(inner: T, depth: usize, limit: L) -> Self {
        Level {
            inner,
            depth,
            limit,
        }
    }
}

impl<D, L: Limit> Bounded<D, L> {
    /// The depth of what `self` deserializes, or an error past the limit.
    #[inline]
    fn deeper<E: Error>(&self) -> Result<usize, E> {
        if self.depth >= L::MOST_DEPTH {
            self.limit.passed();
            return Err(E::custom(L::TOO_DEEP));
        }
        Ok(self.depth + 1)
    }
}

/// Methods that may nest: one level deeper, or an error past the limit.
macro_rules! deeper {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let depth = self.deeper::<D::Error>()?;
            self.inner.$method($($arg,)* Level::at(visitor, depth, self.limit))
        }
    )*};
}

/// Methods that cannot nest (their visitors are given no deserializer): as they are.
macro_rules! flat {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>, L: Limit> Deserializer<'de> for Bounded<D, L> {
    type Error = D::Error;

    deeper!(
        deserialize_any(), deserialize_option(), deserialize_newtype_struct(name: &'static str),
        deserialize_seq(), deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize), deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_ignored_any(),
    );

    flat!(
        deserialize_bool(), deserialize_i8(), deserialize_i16(), deserialize_i32(),
        deserialize_i64(), deserialize_i128(), deserialize_u8(), deserialize_u16(),
        deserialize_u32(), deserialize_u64(), deserialize_u128(), deserialize_f32(),
        deserialize_f64(), deserialize_char(), deserialize_str(), deserialize_string(),
        deserialize_bytes(), deserialize_byte_buf(), deserialize_unit(),
        deserialize_unit_struct(name: &'static str), deserialize_identifier(),
    );

    #[inline]
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.limit.meet_enum(name, variants.len());
        let depth = self.deeper::<D::Error>()?;
        self.inner
            .deserialize_enum(name, variants, Level::at(visitor, depth, self.limit))
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        #[inline]
        fn $method<E: Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.inner.$method(value)
        }
    )*};
}

impl<'de, V: Visitor<'de>, L: Limit> Visitor<'de> for Level<V, L> {
    type Value = V::Value;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    #[inline]
    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    #[inline]
    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        self.inner
            .visit_some(Bounded::at(inner, self.depth, self.limit))
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        self.inner
            .visit_newtype_struct(Bounded::at(inner, self.depth, self.limit))
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, inner: A) -> Result<Self::Value, A::Error> {
        self.inner
            .visit_seq(Level::at(inner, self.depth, self.limit))
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, inner: A) -> Result<Self::Value, A::Error> {
        self.inner
            .visit_map(Level::at(inner, self.depth, self.limit))
    }

    #[inline]
    fn visit_enum<A: EnumAccess<'de>>(self, inner: A) -> Result<Self::Value, A::Error> {
        self.inner
            .visit_enum(Level::at(inner, self.depth, self.limit))
    }
}

impl<'de, S: DeserializeSeed<'de>, L: Limit> DeserializeSeed<'de> for Level<S, L> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<S::Value, D::Error> {
        self.inner
            .deserialize(Bounded::at(inner, self.depth, self.limit))
    }
}

impl<'de, A: SeqAccess<'de>, L: Limit> SeqAccess<'de> for Level<A, L> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner
            .next_element_seed(Level::at(seed, self.depth, self.limit))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>, L: Limit> MapAccess<'de> for Level<A, L> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner
            .next_key_seed(Level::at(seed, self.depth, self.limit))
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner
            .next_value_seed(Level::at(seed, self.depth, self.limit))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>, L: Limit> EnumAccess<'de> for Level<A, L> {
    type Error = A::Error;
    type Variant = Level<A::Variant, L>;

    #[inline]
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (depth, limit) = (self.depth, self.limit);
        let (value, variant) = self.inner.variant_seed(Level::at(seed, depth, limit))?;
        Ok((value, Level::at(variant, depth, limit)))
    }
}

impl<'de, A: VariantAccess<'de>, L: Limit> VariantAccess<'de> for Level<A, L> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner
            .newtype_variant_seed(Level::at(seed, self.depth, self.limit))
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Level::at(visitor, self.depth, self.limit))
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Level::at(visitor, self.depth, self.limit))
    }
}
