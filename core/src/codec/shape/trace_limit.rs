//! The trace's limit: serde-reflection's trace recurses without end into a recursive
//! enum whose first variant recurses, and would overflow the stack (which no
//! `catch_unwind` stops); and the enums it met, to tell whether it reached them whole.

use std::vec::Vec;

use crate::codec::depth::{Bounded, Limit};

std::thread_local! {
    /// The enums this thread's trace met, with how many variants each has.
    static ENUMS: core::cell::RefCell<Vec<(&'static str, usize)>> =
        const { core::cell::RefCell::new(Vec::new()) };
}

/// Starts a trace on this thread.
pub(crate) fn forget_enums() {
    ENUMS.with_borrow_mut(Vec::clear);
}

/// The enums the trace on this thread met, each once.
pub(crate) fn met_enums() -> Vec<(&'static str, usize)> {
    ENUMS.with_borrow(Clone::clone)
}

/// A trace's deserializer, bounded in depth, noting the enums it meets.
#[derive(Clone, Copy)]
pub(crate) struct Trace;

impl Limit for Trace {
    const MOST_DEPTH: usize = 64;
    const TOO_DEEP: &'static str = "nested too deep to trace";

    fn meet_enum(self, name: &'static str, variants: usize) {
        ENUMS.with_borrow_mut(|met| {
            if !met.iter().any(|&(known, _)| known == name) {
                met.push((name, variants));
            }
        });
    }
}

/// `inner`, bounded for a trace.
pub(crate) fn traced<D>(inner: D) -> Bounded<D, Trace> {
    Bounded::new(inner, Trace)
}
