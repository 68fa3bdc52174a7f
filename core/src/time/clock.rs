//! The `Clock` trait.

use super::Instant;

/// A monotonic source of [`Instant`]s.
///
/// The cache reads its clock exactly once per operation and hands that reading to the
/// backend, so a clock read is the only time-dependent step of any call.
///
/// ```
/// use jwm_cache_core::{Clock, Instant};
///
/// /// A clock that counts calls: handy for simulations.
/// struct Ticks(core::cell::Cell<u64>);
///
/// impl Clock for Ticks {
///     const NAME: &'static str = "ticks";
///     fn now(&self) -> Instant {
///         self.0.set(self.0.get() + 1);
///         Instant::from_nanos(self.0.get())
///     }
/// }
/// assert_eq!(Ticks(Default::default()).now(), Instant::from_nanos(1));
/// ```
pub trait Clock {
    /// A short name for [`Cache::parameters`](crate::Cache::parameters).
    const NAME: &'static str;

    /// The current instant. Readings should never go backwards; if one does (see
    /// [`ManualClock::set`](crate::ManualClock::set)), expiry stays correct but entries
    /// already reclaimed stay reclaimed.
    fn now(&self) -> Instant;

    /// Whether every reading is the system's monotonic time at the call, on the
    /// timeline of the std crate's `SystemClock`: not a cached reading, nor one driven
    /// by hand. A backend that must bound real time (the near tier's staleness bound)
    /// trusts the cache's readings only then, and otherwise reads the system clock
    /// itself. False by default.
    const READS_SYSTEM_TIME: bool = false;
}

impl<C: Clock + ?Sized> Clock for &C {
    const NAME: &'static str = C::NAME;
    const READS_SYSTEM_TIME: bool = C::READS_SYSTEM_TIME;
    fn now(&self) -> Instant {
        (**self).now()
    }
}
