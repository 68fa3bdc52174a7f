//! Time, owned by the core: instants, TTLs, deadlines and clocks.

mod clock;
#[cfg(feature = "embassy-time")]
mod embassy;
mod instant;
mod manual;
mod ttl;

pub use clock::Clock;
#[cfg(feature = "embassy-time")]
pub use embassy::EmbassyClock;
pub use instant::Instant;
pub use manual::ManualClock;
pub use ttl::{Deadline, Ttl};
