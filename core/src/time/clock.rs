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
}

impl<C: Clock + ?Sized> Clock for &C {
    const NAME: &'static str = C::NAME;
    fn now(&self) -> Instant {
        (**self).now()
    }
}
