//! What JSON cannot give back: a walk of a value before it is written, refusing what
//! serde_json would write but read back as another value. `Some(x)` is written as `x`,
//! so a `Some` of anything written `null` (`()`, `None`, a unit struct) reads back as
//! `None`; and a float that is not finite is written `null`.

use serde::de::DeserializeOwned;
use serde::ser::{self, Error as _, Serialize};

/// How a value is written in JSON, as far as the walk cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Written {
    Null,
    Other,
}

/// The walk: a serializer that writes nothing.
pub(super) struct Probe;

/// The walk of a compound value: each part is walked in turn.
pub(super) struct Parts;

type Walked = Result<Written, serde_json::Error>;

fn walk<T: Serialize + ?Sized>(value: &T) -> Walked {
    value.serialize(Probe)
}

/// Refuses `value` if JSON would read it back as another value, as serde_json writes
/// it; a type's own serde may read it back after all (see [`comes_back`]).
pub(super) fn check<T: Serialize + ?Sized>(value: &T) -> Result<(), serde_json::Error> {
    walk(value).map(drop)
}

/// Whether `json`, the JSON of `value`, reads back as `value`: compared by their postcard
/// encodings, which keep what JSON's `null` merges (`None`, `Some(None)`, `()`).
pub(super) fn comes_back<T: Serialize + DeserializeOwned>(value: &T, json: &[u8]) -> bool {
    let Ok(back) = serde_json::from_slice::<T>(json) else {
        return false;
    };
    match (postcard::to_allocvec(value), postcard::to_allocvec(&back)) {
        (Ok(sent), Ok(received)) => sent == received,
        _ => false,
    }
}

fn finite(finite: bool) -> Walked {
    if finite {
        Ok(Written::Other)
    } else {
        Err(serde_json::Error::custom(
            "a float that is not finite is written as null, and read back as another value",
        ))
    }
}

impl ser::Serializer for Probe {
    type Ok = Written;
    type Error = serde_json::Error;
    type SerializeSeq = Parts;
    type SerializeTuple = Parts;
    type SerializeTupleStruct = Parts;
    type SerializeTupleVariant = Parts;
    type SerializeMap = Parts;
    type SerializeStruct = Parts;
    type SerializeStructVariant = Parts;

    fn serialize_bool(self, _: bool) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_i8(self, _: i8) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_i16(self, _: i16) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_i32(self, _: i32) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_i64(self, _: i64) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_i128(self, _: i128) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_u8(self, _: u8) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_u16(self, _: u16) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_u32(self, _: u32) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_u64(self, _: u64) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_u128(self, _: u128) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_f32(self, v: f32) -> Walked {
        finite(v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Walked {
        finite(v.is_finite())
    }
    fn serialize_char(self, _: char) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_str(self, _: &str) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_bytes(self, _: &[u8]) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_none(self) -> Walked {
        Ok(Written::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Walked {
        match walk(value)? {
            Written::Null => Err(serde_json::Error::custom(
                "a Some of a value written as null is read back as None",
            )),
            Written::Other => Ok(Written::Other),
        }
    }
    fn serialize_unit(self) -> Walked {
        Ok(Written::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Walked {
        Ok(Written::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Walked {
        Ok(Written::Other)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Walked {
        walk(value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Walked {
        walk(value).map(|_| Written::Other)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_tuple(self, _: usize) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Parts, serde_json::Error> {
        Ok(Parts)
    }
    fn collect_str<T: core::fmt::Display + ?Sized>(self, _: &T) -> Walked {
        Ok(Written::Other)
    }
}

/// Each part of a compound value is walked in turn; the whole is not `null`.
macro_rules! walk_parts {
    ($($trait:ident :: $method:ident ($($name:ty)?)),* $(,)?) => {$(
        impl ser::$trait for Parts {
            type Ok = Written;
            type Error = serde_json::Error;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $(_: $name,)?
                value: &T,
            ) -> Result<(), Self::Error> {
                check(value)
            }
            fn end(self) -> Walked {
                Ok(Written::Other)
            }
        }
    )*};
}

walk_parts!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl ser::SerializeMap for Parts {
    type Ok = Written;
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        check(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        check(value)
    }
    fn end(self) -> Walked {
        Ok(Written::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::{Json, Serializer};
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use alloc::vec::Vec;
    use serde::Serialize;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Unit;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Reading {
        at: u64,
        value: Option<f64>,
        note: Option<Option<u8>>,
    }

    #[test]
    fn what_json_reads_back_as_another_value_is_refused() {
        assert!(check(&Some(())).is_err());
        assert!(check(&Some(None::<u8>)).is_err());
        assert!(check(&Some(Unit)).is_err());
        assert!(check(&Some(f64::NAN)).is_err());
        assert!(check(&f32::INFINITY).is_err());
        assert!(check(&vec![Some(Some(())), None]).is_err());
        let note = Reading {
            at: 1,
            value: Some(2.5),
            note: Some(None),
        };
        assert!(check(&note).is_err(), "deep in a struct");
        let mut map = BTreeMap::new();
        map.insert(1u8, Some(f64::NEG_INFINITY));
        assert!(check(&map).is_err(), "a map's value");
        // Refused by the codec, which then stores nothing.
        assert!(Json.encode(&Some(())).is_err());
    }

    #[test]
    fn what_json_gives_back_is_written() {
        let readings = vec![
            Reading {
                at: 1,
                value: None,
                note: None,
            },
            Reading {
                at: 2,
                value: Some(51.248_178_375_505_404),
                note: Some(Some(3)),
            },
        ];
        let bytes = Json.encode(&readings).unwrap();
        let back: Vec<Reading> = Json.decode(&bytes).unwrap();
        assert_eq!(back, readings);
        assert!(check(&None::<()>).is_ok());
        assert!(check(&Some(Some(1u8))).is_ok());
    }

    /// A double `Option` read with `deserialize_with`, as JSON Merge Patch structs are:
    /// `Some(None)` is written `null` and read back as it was.
    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Patch {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        name: Option<Option<u8>>,
    }

    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u8>>, D::Error> {
        serde::Deserialize::deserialize(d).map(Some)
    }

    #[test]
    fn a_type_that_reads_its_null_back_faithfully_is_written() {
        for patch in [
            Patch { name: None },
            Patch { name: Some(None) },
            Patch {
                name: Some(Some(1)),
            },
        ] {
            assert!(check(&patch).is_err() == (patch.name == Some(None)));
            let back: Patch = Json.decode(&Json.encode(&patch).unwrap()).unwrap();
            assert_eq!(back, patch);
        }
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        // A value serde_json's fast float parser reads back 1 ulp off.
        let x = 51.248_178_375_505_404_f64;
        let back: f64 = Json.decode(&Json.encode(&x).unwrap()).unwrap();
        assert_eq!(back.to_bits(), x.to_bits());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = f64::from_bits(seed);
            if x.is_finite() {
                let back: f64 = Json.decode(&Json.encode(&x).unwrap()).unwrap();
                assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
            }
        }
    }
}
