//! A value type's shape as serde sees it, which [`Stamped`](super::Stamped)'s header
//! fingerprints beside the type's name.

use core::any::TypeId;
use core::marker::PhantomData;
use std::collections::HashMap;
use std::string::String;
use std::sync::{PoisonError, RwLock};
use std::vec::Vec;

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer};
use serde_reflection::{ContainerFormat, Error, Format, Registry, Samples, Tracer, TracerConfig};

use crate::key::PersistentDigest;

mod trace_limit;

/// Rounds of tracing: each learns the names of enums nested in the type that the last
/// left incomplete, and explores them further.
const ROUNDS: usize = 8;
/// Passes over the type within a round: each explores one more variant of an enum, by
/// name, then by index, so an enum of more than half as many variants stays incomplete.
const PASSES: usize = 256;
/// The stack the trace runs on, in a thread of its own where there are threads: deep
/// enough for the trace's depth limit ([`trace_limit::Trace`]) on any type, whatever stack
/// the caller has left.
const TRACE_STACK: usize = 16 << 20;

/// A digest of `V`'s shape: its structs' and enums' names, their fields' and variants'
/// names and order, and the types of each, as `V`'s `Deserialize` asks for them
/// (through `serde_reflection`). The postcard and JSON codecs report it
/// ([`ByteCodec::value_shape`](super::ByteCodec::value_shape)), and [`Stamped`](super::Stamped) folds it
/// into the header of each value, so that a build whose value type keeps its name but
/// reorders, adds, removes or retypes a field reads the entries of another build as
/// misses, not as wrong values. Traced once per type in a process.
///
/// 0 if the type cannot be traced: a `Deserialize` that asks for whatever the data
/// holds (`deserialize_any`: untagged or internally tagged enums, flattened fields,
/// `serde_json::Value`), one that checks what it reads (a `NonZeroU64`, a date parsed
/// from a string), a recursive enum whose first variant recurses (the trace takes an
/// enum's first variant when it meets the enum again, so it would never end: it stops
/// 64 levels down), one that panics on the trace's made-up input (where there are no
/// threads and panics abort, the process aborts), an enum of more than 128 variants, or
/// an enum whose variants the trace cannot all reach: one met only inside an `Option`,
/// a sequence or a map, which the trace leaves empty once it knows their format. Such
/// types are fingerprinted by name alone: bump
/// [`Stamped::schema`](super::Stamped::schema), or give a new identifier, when they
/// change. The shape is serde's compact form of the type (`is_human_readable` is
/// false), for JSON too.
///
/// ```
/// use jwm_cache_core::shape_of;
///
/// #[derive(serde::Deserialize)]
/// struct Quote { bid: u32, ask: u32 }
/// mod next {
///     #[derive(serde::Deserialize)]
///     pub struct Quote { pub ask: u32, pub bid: u32 }
/// }
/// assert_ne!(shape_of::<Quote>(), shape_of::<next::Quote>());
/// assert_eq!(shape_of::<Quote>(), shape_of::<Quote>());
/// ```
pub fn shape_of<V: DeserializeOwned>() -> u64 {
    static SHAPES: RwLock<Option<HashMap<TypeId, u64>>> = RwLock::new(None);
    let id = typeid::of::<V>();
    let known = SHAPES.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(&shape) = known.as_ref().and_then(|shapes| shapes.get(&id)) {
        return shape;
    }
    drop(known);
    // The trace runs the type's `Deserialize` on made-up input: one that panics there
    // is fingerprinted by name alone, and the caller's operation goes on.
    let shape = traced_apart::<V>()
        .unwrap_or_else(|| std::panic::catch_unwind(trace_shape::<V>).unwrap_or(0));
    SHAPES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(id, shape);
    shape
}

/// [`trace_shape`] on a thread of its own with a [`TRACE_STACK`], or `None` where no
/// thread can be started (wasm).
fn traced_apart<V: DeserializeOwned>() -> Option<u64> {
    std::thread::scope(|scope| {
        let tracer = std::thread::Builder::new()
            .name(String::from("jwm-cache-shape"))
            .stack_size(TRACE_STACK)
            .spawn_scoped(scope, trace_shape::<V>)
            .ok()?;
        Some(tracer.join().unwrap_or(0))
    })
}

/// [`shape_of`], traced: 0 if any enum the trace met has a variant it did not reach.
fn trace_shape<V: DeserializeOwned>() -> u64 {
    trace_limit::forget_enums();
    let samples = Samples::new();
    let mut nested: Vec<String> = Vec::new();
    for _ in 0..ROUNDS {
        let mut tracer = Tracer::new(TracerConfig::default());
        let Some(format) = trace::<V>(&mut tracer, &samples, &nested) else {
            return 0;
        };
        match tracer.registry() {
            Ok(registry) => {
                if !trace_limit::met_enums()
                    .iter()
                    .all(|enum_| complete(&registry, enum_))
                {
                    return 0;
                }
                // The trace as data (postcard), not as text: a `Debug` format may change.
                let Ok(bytes) = postcard::to_allocvec(&(&format, &registry)) else {
                    return 0;
                };
                let Ok(digest) = bytes.persistent_digest() else {
                    return 0;
                };
                let first: [u8; 8] = digest.0[..8].try_into().unwrap_or_default();
                // 0 means "unknown": a digest of 0 would fingerprint by name alone.
                return u64::from_le_bytes(first).max(1);
            }
            Err(Error::MissingVariants(missing)) => {
                let new: Vec<String> = missing
                    .into_iter()
                    .filter(|name| !nested.contains(name))
                    .collect();
                if new.is_empty() {
                    return 0;
                }
                nested.extend(new);
            }
            Err(_) => return 0,
        }
    }
    0
}

/// Traces `V`, within [`trace_limit::Trace`]'s depth, until neither it nor any enum
/// named in `nested` has variants left to explore, in at most [`PASSES`] passes (a
/// `Deserialize` written by hand may never let them all be reached).
fn trace<V: DeserializeOwned>(
    tracer: &mut Tracer,
    samples: &Samples,
    nested: &[String],
) -> Option<Format> {
    for _ in 0..PASSES {
        let (format, _) = tracer
            .trace_type_once_with_seed(samples, Top::<V>(PhantomData))
            .ok()?;
        let mut incomplete = match &format {
            Format::TypeName(name) => tracer.check_incomplete_enum(name).is_some(),
            _ => false,
        };
        for name in nested {
            incomplete |= tracer.check_incomplete_enum(name).is_some();
        }
        if !incomplete {
            return Some(format);
        }
    }
    None
}

/// Whether the registry holds every variant of the enum `name` of `count` variants, each
/// at its own index (an index the trace could not resolve is provisional, past them).
fn complete(registry: &Registry, &(name, count): &(&'static str, usize)) -> bool {
    match registry.get(name) {
        Some(ContainerFormat::Enum(variants)) => {
            variants.len() == count && variants.keys().all(|&index| (index as usize) < count)
        }
        _ => false,
    }
}

/// `V`'s `Deserialize`, on a deserializer bounded in depth.
struct Top<V>(PhantomData<fn() -> V>);

impl<'de, V: DeserializeOwned> DeserializeSeed<'de> for Top<V> {
    type Value = V;

    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<V, D::Error> {
        V::deserialize(trace_limit::traced(inner))
    }
}

// The types below are only ever built by the tracer.
#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use super::shape_of;
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde::Deserialize;

    mod before {
        #[derive(serde::Deserialize)]
        pub(super) enum Side {
            Buy,
            Sell(u8),
        }
        #[derive(serde::Deserialize)]
        pub(super) struct Order {
            pub side: Side,
            pub size: Option<u32>,
        }
    }

    mod after {
        #[derive(serde::Deserialize)]
        pub(super) enum Side {
            Buy,
            Sell(u16),
        }
        #[derive(serde::Deserialize)]
        pub(super) struct Order {
            pub side: Side,
            pub size: Option<u32>,
        }
    }

    #[test]
    fn a_change_in_a_nested_enum_s_later_variant_changes_the_shape() {
        assert_ne!(shape_of::<before::Order>(), shape_of::<after::Order>());
        assert_eq!(shape_of::<before::Order>(), shape_of::<before::Order>());
    }

    #[test]
    fn renaming_a_field_or_changing_its_type_changes_the_shape() {
        #[derive(Deserialize)]
        struct A {
            x: u32,
        }
        #[derive(Deserialize)]
        struct B {
            y: u32,
        }
        #[derive(Deserialize)]
        struct C {
            x: i32,
        }
        let shapes = [shape_of::<A>(), shape_of::<B>(), shape_of::<C>()];
        assert!(shapes.iter().all(|&shape| shape != 0));
        assert!(shapes[0] != shapes[1] && shapes[0] != shapes[2] && shapes[1] != shapes[2]);
    }

    mod maybe_before {
        #[derive(serde::Deserialize)]
        pub(super) struct Order {
            pub side: Option<super::before::Side>,
        }
    }

    mod maybe_after {
        #[derive(serde::Deserialize)]
        pub(super) struct Order {
            pub side: Option<super::after::Side>,
        }
    }

    #[test]
    fn an_enum_the_trace_cannot_reach_whole_leaves_the_type_to_its_name() {
        // Met only inside an `Option`, `Side` is reached once: its second variant never
        // is, so no shape is given rather than one blind to that variant.
        assert_eq!(shape_of::<maybe_before::Order>(), 0);
        assert_eq!(shape_of::<maybe_after::Order>(), 0);
    }

    #[test]
    fn an_enum_of_forty_variants_is_traced_whole() {
        #[derive(Deserialize)]
        enum Forty {
            V0,
            V1,
            V2,
            V3,
            V4,
            V5,
            V6,
            V7,
            V8,
            V9,
            V10,
            V11,
            V12,
            V13,
            V14,
            V15,
            V16,
            V17,
            V18,
            V19,
            V20,
            V21,
            V22,
            V23,
            V24,
            V25,
            V26,
            V27,
            V28,
            V29,
            V30,
            V31,
            V32,
            V33,
            V34,
            V35,
            V36,
            V37,
            V38,
            V39,
        }
        assert_ne!(shape_of::<Forty>(), 0);
    }

    #[test]
    fn a_recursive_enum_whose_first_variant_recurses_has_none_and_no_overflow() {
        #[derive(Deserialize)]
        enum Expr {
            Add(Box<Expr>, Box<Expr>),
            Lit(i64),
        }
        assert_eq!(shape_of::<Expr>(), 0);
    }

    #[test]
    fn a_deep_but_finite_type_has_a_shape() {
        type Nested = Option<Option<Option<Vec<Vec<(u8, Option<Box<u8>>)>>>>>;
        assert_ne!(shape_of::<Nested>(), 0);
    }

    #[test]
    fn a_recursive_type_has_a_shape() {
        #[derive(Deserialize)]
        enum Tree {
            Leaf(u8),
            Node(Box<Tree>, Box<Tree>),
        }
        assert_ne!(shape_of::<Tree>(), 0);
    }

    #[test]
    fn types_that_cannot_be_traced_have_none() {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(u64),
            Text(String),
        }
        assert_eq!(shape_of::<Either>(), 0);
        assert_eq!(shape_of::<core::num::NonZeroU64>(), 0);
    }

    #[test]
    #[cfg(panic = "unwind")]
    fn a_type_whose_deserialize_panics_on_the_trace_has_none() {
        struct Panics;
        impl<'de> Deserialize<'de> for Panics {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("a Deserialize that panics on the trace's input")
            }
        }
        assert_eq!(shape_of::<Panics>(), 0);
    }
}
