//! Which near copies may still be served: counters that the server's invalidations
//! advance, read before each Redis read and checked on each hit.
//!
//! A copy is tagged, before the read that fetched it was sent, with the tracking
//! generation and its key's stripe epoch. It is served only while both are unchanged:
//! an invalidation that arrives at any time after the tag was taken (even while the
//! read's reply is in flight, or before the copy is stored) bumps the stripe, and the
//! copy is never served. Nothing has to be found or removed by the invalidation itself,
//! so the connection's driver applies it in a few atomic adds.
//!
//! A copy is also served only while the tracker has recently confirmed that no
//! invalidation is waiting to be read (see [`Epochs::confirm`]), so a driver that falls
//! behind, or a server that goes silent, cannot stretch the bound on staleness.

use std::sync::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire, Ordering::Release};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jwm_cache_core::Instant;

use crate::redis::namespace::DIGEST_HEX;

/// Fewest and most stripes: a key's invalidation also retires the copies of other keys
/// in its stripe, so there are a few per copy the near tier can hold.
const FEWEST_STRIPES: usize = 1 << 10;
const MOST_STRIPES: usize = 1 << 20;

/// The tracking generation and the stripes' epochs of one near tier.
pub(crate) struct Epochs {
    /// Even while tracking is on (every invalidation since it started reaches us), odd
    /// while it is not. A flush adds 2; losing the connection makes it odd; tracking
    /// back on makes it even again. Any change retires every copy.
    generation: AtomicU64,
    /// Copies are served while the cache's clock reads below this (nanoseconds on
    /// [`SystemClock`](crate::clock::SystemClock)'s timeline): the last confirmation's send
    /// time plus the bound on staleness.
    confirmed_until: AtomicU64,
    /// Which tracking connection may turn tracking on and off, and whether it was lost
    /// already: changed under this lock, so that a connection lost between its
    /// `CLIENT TRACKING` reply and `go_live` never turns tracking on, and an old one's
    /// late disconnection never turns it off.
    session: Mutex<Session>,
    stripes: Box<[AtomicU64]>,
}

/// The current tracking connection.
#[derive(Default)]
struct Session {
    id: u64,
    lost: bool,
}

/// What a copy was fetched under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    generation: u64,
    epoch: u64,
    stripe: u32,
}

impl Epochs {
    /// Epochs for a near tier of `capacity` copies, with tracking off.
    pub(crate) fn new(capacity: usize) -> Self {
        let stripes = capacity
            .saturating_mul(2)
            .checked_next_power_of_two()
            .unwrap_or(MOST_STRIPES)
            .clamp(FEWEST_STRIPES, MOST_STRIPES);
        Epochs {
            generation: AtomicU64::new(1),
            confirmed_until: AtomicU64::new(0),
            session: Mutex::default(),
            stripes: (0..stripes).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The stripe of the key named `name`: from its digest's last hex digits, which are
    /// uniform. A name that is not one of this tier's key names (a lease's, say) has
    /// none; no copy is ever stored under it.
    pub(crate) fn stripe_of(&self, name: &[u8], head: &str) -> Option<u32> {
        let digest = name.strip_prefix(head.as_bytes())?;
        if digest.len() != DIGEST_HEX {
            return None;
        }
        let low = std::str::from_utf8(&digest[DIGEST_HEX - 16..]).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        // The mask keeps it below the stripe count, at most 2^20.
        Some((low & (self.stripes.len() as u64 - 1)) as u32)
    }

    /// The tag for a copy of a key in `stripe`, taken before its read is sent; `None`
    /// while tracking is off, when no copy may be stored.
    pub(crate) fn tag(&self, stripe: u32) -> Option<Tag> {
        let generation = self.generation.load(Acquire);
        if !generation.is_multiple_of(2) {
            return None;
        }
        let epoch = self.stripes[stripe as usize].load(Acquire);
        Some(Tag {
            generation,
            epoch,
            stripe,
        })
    }

    /// Whether a copy tagged `tag` may be served: nothing invalidated its stripe, and
    /// tracking stayed on, since the tag was taken.
    #[inline]
    pub(crate) fn is_current(&self, tag: Tag) -> bool {
        self.stripes[tag.stripe as usize].load(Acquire) == tag.epoch
            && self.generation.load(Acquire) == tag.generation
    }

    /// Every invalidation that the server sent before it read a `PING` sent at `sent`
    /// has been applied (the driver hands pushes over in the order they arrive, so the
    /// `PONG`'s arrival proves it). A write that returned before `sent` has therefore
    /// retired its copies, and copies may be served until `sent + bound`.
    pub(crate) fn confirm(&self, sent: Instant, bound: Duration) {
        let bound = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        let until = sent.as_nanos().saturating_add(bound);
        self.confirmed_until.store(until, Release);
    }

    /// Whether copies may be served at `now`: a confirmation came within the bound.
    #[inline]
    pub(crate) fn is_confirmed(&self, now: Instant) -> bool {
        now.as_nanos() < self.confirmed_until.load(Acquire)
    }

    /// A key in `stripe` changed (or may have): its copies are retired.
    pub(crate) fn invalidate(&self, stripe: u32) {
        self.stripes[stripe as usize].fetch_add(1, AcqRel);
    }

    /// Every key may have changed (a flush, a clear): every copy is retired.
    pub(crate) fn invalidate_all(&self) {
        self.generation.fetch_add(2, AcqRel);
    }

    /// A new tracking connection is about to start: the ones before it may no longer
    /// turn tracking on or off. Returns its session.
    pub(crate) fn next_session(&self) -> u64 {
        let mut current = self.session();
        *current = Session {
            id: current.id + 1,
            lost: false,
        };
        current.id
    }

    /// Tracking is on for `session`: copies may be stored again, unless `session` is
    /// no longer current or its connection was lost meanwhile.
    pub(crate) fn go_live(&self, session: u64) {
        let current = self.session();
        if current.id == session && !current.lost {
            let _ = self.generation.fetch_update(AcqRel, Acquire, |generation| {
                (!generation.is_multiple_of(2)).then_some(generation + 1)
            });
        }
    }

    /// Session `session`'s connection is gone, or failed: invalidations may be missed
    /// from now on, so every copy is retired and none is stored, until a new session
    /// has tracking on. A later session is not affected: returns whether `session` is
    /// current.
    pub(crate) fn go_dark(&self, session: u64) -> bool {
        let mut current = self.session();
        if current.id != session {
            return false;
        }
        current.lost = true;
        self.generation.fetch_or(1, AcqRel);
        true
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        // Two plain stores under the lock: nothing can leave it half-changed.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether tracking is on.
    pub(crate) fn is_live(&self) -> bool {
        self.generation.load(Acquire).is_multiple_of(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "p:id:";

    fn name(low: u64) -> String {
        format!("{HEAD}{:016x}{low:016x}", 0xabcdu64)
    }

    #[test]
    fn nothing_is_tagged_while_dark() {
        let epochs = Epochs::new(10);
        assert_eq!(epochs.tag(0), None);
        let session = epochs.next_session();
        epochs.go_live(session);
        let tag = epochs.tag(0).unwrap();
        assert!(epochs.is_current(tag));
        epochs.go_dark(session);
        assert!(!epochs.is_current(tag));
        assert_eq!(epochs.tag(0), None);
    }

    #[test]
    fn an_invalidation_retires_its_stripe_only() {
        let epochs = Epochs::new(10);
        let session = epochs.next_session();
        epochs.go_live(session);
        let (a, b) = (
            epochs.stripe_of(name(1).as_bytes(), HEAD).unwrap(),
            epochs.stripe_of(name(2).as_bytes(), HEAD).unwrap(),
        );
        assert_ne!(a, b);
        let (tag_a, tag_b) = (epochs.tag(a).unwrap(), epochs.tag(b).unwrap());
        epochs.invalidate(a);
        assert!(!epochs.is_current(tag_a));
        assert!(epochs.is_current(tag_b));
        epochs.invalidate_all();
        assert!(!epochs.is_current(tag_b));
        assert!(epochs.is_live(), "a flush keeps tracking on");
    }

    #[test]
    fn an_old_session_cannot_turn_tracking_off() {
        let epochs = Epochs::new(10);
        let old = epochs.next_session();
        epochs.go_live(old);
        epochs.go_dark(old);
        let new = epochs.next_session();
        epochs.go_live(new);
        assert!(!epochs.go_dark(old));
        assert!(epochs.is_live());
    }

    #[test]
    fn a_session_lost_before_going_live_never_does() {
        let epochs = Epochs::new(10);
        let session = epochs.next_session();
        // The connection closed after its CLIENT TRACKING reply, before go_live.
        assert!(epochs.go_dark(session));
        epochs.go_live(session);
        assert!(!epochs.is_live());
        assert_eq!(epochs.tag(0), None);
    }

    #[test]
    fn copies_are_served_only_within_the_bound_of_a_confirmation() {
        let epochs = Epochs::new(10);
        let at = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        assert!(!epochs.is_confirmed(at(0)), "nothing confirmed yet");
        epochs.confirm(at(1_000), Duration::from_millis(50));
        assert!(epochs.is_confirmed(at(1_049)));
        assert!(!epochs.is_confirmed(at(1_050)));
        epochs.confirm(at(1_040), Duration::from_millis(50));
        assert!(epochs.is_confirmed(at(1_089)));
        // An absurd bound saturates: served, never a panic.
        epochs.confirm(at(2_000), Duration::MAX);
        assert!(epochs.is_confirmed(Instant::from_nanos(u64::MAX - 1)));
    }

    #[test]
    fn a_huge_capacity_has_the_most_stripes() {
        assert_eq!(Epochs::new(usize::MAX).stripes.len(), MOST_STRIPES);
        assert_eq!(Epochs::new(0).stripes.len(), FEWEST_STRIPES);
    }

    #[test]
    fn only_key_names_of_the_namespace_have_stripes() {
        let epochs = Epochs::new(10);
        assert!(epochs.stripe_of(name(7).as_bytes(), HEAD).is_some());
        assert_eq!(
            epochs.stripe_of(format!("{}:lease", name(7)).as_bytes(), HEAD),
            None
        );
        assert_eq!(epochs.stripe_of(b"other:id:00", HEAD), None);
        let not_hex = format!("{HEAD}{}", "z".repeat(32));
        assert_eq!(epochs.stripe_of(not_hex.as_bytes(), HEAD), None);
    }
}
