//! A value as Redis keeps it: when it expires on the wall clock, then its stamped bytes.
//!
//! A cache's instants lie on its own clock's timeline (`SystemClock` counts from the
//! process's first reading, `ManualClock` from zero), which no other process can read.
//! The wall clock is the one timeline every process and host shares, up to skew, so the
//! deadline is stored on it and converted at each end: a hit then needs no `PTTL`.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwm_cache_core::{Deadline, Entry, HEADER_LEN, Instant, StampedBytes};
use redis::{Cmd, RedisWrite, ToRedisArgs};

/// The bytes in front of every value a [`RedisBackend`](crate::redis::RedisBackend) stores: the
/// entry's deadline in milliseconds since the UNIX epoch, `u64` little-endian, with
/// `u64::MAX` for an entry that never expires. The stamped bytes (header, then the
/// codec's) follow.
///
/// ```
/// use jwm_cache::backend::{DEADLINE_LEN, HEADER_LEN};
///
/// // What `GET` returns for an entry that never expires (the codec's bytes elided).
/// let stored = [&u64::MAX.to_le_bytes()[..], b"jw\x01", &[0; 8]].concat();
/// let (deadline, stamped) = stored.split_at(DEADLINE_LEN);
/// assert_eq!(deadline, u64::MAX.to_le_bytes());
/// assert_eq!((&stamped[..3], stamped.len()), (&b"jw\x01"[..], HEADER_LEN));
/// ```
pub const DEADLINE_LEN: usize = 8;

/// The stored deadline of an entry that never expires.
const NEVER: u64 = u64::MAX;

// A record too short to hold its deadline is shorter than a stamped header too, so a
// codec refuses it wherever a lookup cannot report it as an error of its own.
const _: () = assert!(DEADLINE_LEN < HEADER_LEN);

/// The wall clock, as time since the UNIX epoch (zero for a clock set before it).
pub(crate) fn wall_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The stored form of `deadline`, for a store at `now` when the wall clock read
/// `wall_now`. Rounded down to the millisecond. A store reads the wall clock when it
/// sends `SET`, after the computation, while `now` is the lookup's: the stored deadline,
/// like the server's `PX`, is later than the writer's own by the computation's time,
/// and a reader sees that later one. A finite deadline too far
/// away for the format stays finite (`u64::MAX - 1`) rather than becoming "never".
pub(crate) fn to_wall(deadline: Deadline, now: Instant, wall_now: Duration) -> u64 {
    let Some(left) = deadline.remaining(now) else {
        return NEVER;
    };
    let millis = wall_now.saturating_add(left).as_millis();
    u64::try_from(millis).unwrap_or(NEVER).min(NEVER - 1)
}

/// The deadline, on the reading cache's timeline, of an entry stored with `stored`,
/// read at `now` when the wall clock read `wall_now`, by a cache that keeps entries
/// `window` past their TTL (zero without `stale_if_error`); `None` if it has passed.
/// Only a record stored without a deadline is [`Deadline::NEVER`]: one past the end of
/// the timeline stops short of it.
///
/// The record holds the TTL's deadline, and the server may hold the entry longer, for a
/// writer's stale window: so the record, not the server, says whether an entry is
/// live. Each reader compares it with its own wall clock. Hosts whose clocks disagree by
/// a few milliseconds (NTP keeps them so) see an entry expire that much earlier or later
/// than its writer meant; a host whose clock runs far ahead of a writer's misses its
/// entries early and computes them again. A cache that might serve an expired value
/// misses instead.
pub(crate) fn from_wall(
    stored: u64,
    window: Duration,
    now: Instant,
    wall_now: Duration,
) -> Option<Deadline> {
    if stored == NEVER {
        return Some(Deadline::NEVER);
    }
    let left = Duration::from_millis(stored)
        .saturating_add(window)
        .checked_sub(wall_now)
        .filter(|left| !left.is_zero())?;
    // Short of never, which a reader takes as fresh for ever: past the timeline's end
    // the entry goes stale early, a miss.
    let until = now.saturating_add(left).as_nanos().min(u64::MAX - 1);
    Some(Deadline::at(Instant::from_nanos(until)))
}

/// The `SET` of `name` to `stored`.
pub(crate) fn set(name: &str, stored: Stored<'_>) -> Cmd {
    let mut command = redis::cmd("SET");
    command.arg(name).arg(stored.record);
    if let Some(ms) = stored.px {
        command.arg("PX").arg(ms);
    }
    command
}

/// What a store of `value` until `deadline`, at `now` when the wall clock read
/// `wall_now`, writes: the record, which holds `deadline`
/// less the cache's stale `window` (the TTL's end, which decides what is live), and the
/// server's expiry (`PX`, in whole milliseconds), `deadline`, when it frees the memory;
/// none for a deadline of never.
pub(crate) struct Stored<'a> {
    pub(crate) record: Record<'a>,
    pub(crate) px: Option<u64>,
}

impl<'a> Stored<'a> {
    pub(crate) fn new(
        value: &'a [u8],
        deadline: Deadline,
        window: Duration,
        now: Instant,
        wall_now: Duration,
    ) -> Self {
        let expires = if deadline.is_never() {
            deadline
        } else {
            let window = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
            Deadline::at(Instant::from_nanos(
                deadline.as_nanos().saturating_sub(window),
            ))
        };
        // Whole milliseconds, rounded up: a live entry never gets PX 0.
        let px = deadline.remaining(now).map(|left| {
            let ms = left.as_nanos().div_ceil(1_000_000).max(1);
            u64::try_from(ms).unwrap_or(u64::MAX)
        });
        Stored {
            record: Record::new(value, expires, now, wall_now),
            px,
        }
    }
}

/// A value and its stored deadline, written as the single value argument of a `SET`
/// straight into the command's buffer (no copy of the value on the way).
pub(crate) struct Record<'a> {
    deadline: u64,
    value: &'a [u8],
}

impl<'a> Record<'a> {
    fn new(value: &'a [u8], deadline: Deadline, now: Instant, wall_now: Duration) -> Self {
        Record {
            deadline: to_wall(deadline, now, wall_now),
            value,
        }
    }
}

impl ToRedisArgs for Record<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        out.reserve_space_for_args([DEADLINE_LEN + self.value.len()]);
        let mut arg = out.writer_for_next_arg();
        // The writer appends to the command's buffer in memory, which cannot fail.
        let _ = arg.write_all(&self.deadline.to_le_bytes());
        let _ = arg.write_all(self.value);
    }
}

/// The entry in `bytes`, as a lookup at `now` read them when the wall clock read
/// `wall_now`, for a cache that keeps entries `window` past their TTL: `Ok(None)` if it
/// has expired, `Err` with the length of bytes too short to hold a deadline.
pub(crate) fn read<K>(
    bytes: Vec<u8>,
    window: Duration,
    now: Instant,
    wall_now: Duration,
) -> Result<Option<Entry<StampedBytes<K>>>, usize> {
    let Some((deadline, _)) = bytes.split_first_chunk::<DEADLINE_LEN>() else {
        return Err(bytes.len());
    };
    let Some(deadline) = from_wall(u64::from_le_bytes(*deadline), window, now, wall_now) else {
        return Ok(None);
    };
    let len = bytes.len();
    let value = stamped(bytes).ok_or(len)?;
    Ok(Some(Entry { value, deadline }))
}

/// Whether the record `bytes` is still live for a cache that keeps entries `window`
/// past their TTL, when the wall clock reads `wall_now` (see [`from_wall`]). Bytes too
/// short to hold a deadline are "live": the codec then refuses them, as an error.
pub(crate) fn is_live(bytes: &[u8], window: Duration, wall_now: Duration) -> bool {
    match bytes.split_first_chunk::<DEADLINE_LEN>() {
        Some((deadline, _)) => from_wall(
            u64::from_le_bytes(*deadline),
            window,
            Instant::ZERO,
            wall_now,
        )
        .is_some(),
        None => true,
    }
}

/// The stamped bytes behind the deadline in `bytes`; `None` if they are too short to
/// hold one.
pub(crate) fn stamped<K>(mut bytes: Vec<u8>) -> Option<StampedBytes<K>> {
    strip_deadline(&mut bytes).then(|| StampedBytes::from_stored(bytes))
}

/// Drops the deadline in front of `bytes`; false, leaving them whole, if they are too
/// short to hold one.
fn strip_deadline(bytes: &mut Vec<u8>) -> bool {
    let long_enough = bytes.len() >= DEADLINE_LEN;
    if long_enough {
        bytes.drain(..DEADLINE_LEN);
    }
    long_enough
}

/// The stamped bytes in `bytes`, for a lookup that wants no deadline (`get_many`).
/// Bytes too short to hold a deadline are handed on whole: shorter than a stamped
/// header, they are refused by the codec, which makes that key alone a miss and an
/// error instead of failing every key of the batch.
pub(crate) fn value<K>(mut bytes: Vec<u8>) -> StampedBytes<K> {
    strip_deadline(&mut bytes);
    StampedBytes::from_stored(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn at(nanos: u64) -> Instant {
        Instant::from_nanos(nanos)
    }

    #[test]
    fn a_deadline_survives_the_trip_through_the_wall_clock_rounded_down() {
        let wall = Duration::from_millis(1_764_000_000_123) + Duration::from_nanos(456_789);
        let now = at(5_000_000_000);
        for left in [
            MS,
            3 * MS / 2,
            Duration::from_secs(60),
            Duration::from_secs(86_400 * 365),
        ] {
            let deadline = Deadline::at(now.saturating_add(left));
            let stored = to_wall(deadline, now, wall);
            assert_eq!(u128::from(stored), (wall + left).as_millis());
            // Read back by another clock's timeline at the same moment.
            let elsewhere = at(42);
            let back = from_wall(stored, Duration::ZERO, elsewhere, wall).unwrap();
            let expected = elsewhere.saturating_add(left);
            assert!(back.as_nanos() <= expected.as_nanos(), "{left:?}: later");
            assert!(
                back.as_nanos() + 1_000_000 > expected.as_nanos(),
                "{left:?}"
            );
        }
    }

    #[test]
    fn never_is_reserved_both_ways() {
        assert_eq!(to_wall(Deadline::NEVER, at(7), Duration::ZERO), u64::MAX);
        assert_eq!(
            from_wall(u64::MAX, Duration::ZERO, at(7), Duration::MAX),
            Some(Deadline::NEVER)
        );
        // A finite deadline, however far, is stored finite.
        let far = Deadline::at(at(u64::MAX - 1));
        assert_eq!(to_wall(far, Instant::ZERO, Duration::MAX), u64::MAX - 1);
        assert_eq!(
            to_wall(far, Instant::ZERO, Duration::ZERO),
            (u64::MAX - 1) / 1_000_000
        );
    }

    #[test]
    fn a_stored_deadline_already_past_is_expired_whatever_the_server_holds() {
        let now = at(1_000);
        let wall = Duration::from_secs(1_764_000_000);
        let expired = |stored| from_wall(stored, Duration::ZERO, now, wall).is_none();
        assert!(expired(0), "the epoch");
        assert!(
            expired(u64::try_from((wall - MS).as_millis()).unwrap()),
            "skew"
        );
        assert!(expired(u64::try_from(wall.as_millis()).unwrap()), "due now");
        let next_ms = u64::try_from((wall + MS).as_millis()).unwrap();
        assert_eq!(
            from_wall(next_ms, Duration::ZERO, now, wall),
            Some(Deadline::at(at(1_001_000)))
        );
        assert!(from_wall(u64::MAX - 1, Duration::ZERO, now, Duration::MAX).is_none());
    }

    #[test]
    fn far_deadlines_stop_short_of_never_on_the_readers_timeline() {
        let late = at(u64::MAX - 10);
        let last = Some(Deadline::at(Instant::from_nanos(u64::MAX - 1)));
        assert_eq!(
            from_wall(u64::MAX - 1, Duration::ZERO, late, Duration::ZERO),
            last
        );
        assert_eq!(
            from_wall(u64::MAX - 1, Duration::ZERO, Instant::ZERO, Duration::ZERO),
            last
        );
        // Only the window carries it past the end: never would serve it for ever.
        let soon = u64::try_from(Duration::from_secs(1).as_millis()).unwrap();
        let window = Duration::from_secs(3_600);
        let written = Instant::from_nanos(u64::MAX - 2_000_000_000);
        assert_eq!(from_wall(soon, window, written, Duration::ZERO), last);
        // A wall clock before the epoch reads as the epoch.
        assert_eq!(
            from_wall(5, Duration::ZERO, at(10), Duration::ZERO),
            Some(Deadline::at(at(5_000_010)))
        );
    }

    #[test]
    fn a_deadline_already_past_when_stored_is_stored_as_now() {
        let wall = Duration::from_millis(1_000) + Duration::from_nanos(1);
        assert_eq!(to_wall(Deadline::at(at(5)), at(9), wall), 1_000);
        assert_eq!(
            to_wall(Deadline::at(at(5)), Instant::MAX, Duration::MAX),
            u64::MAX - 1
        );
    }

    #[test]
    fn records_split_into_deadline_and_stamped_bytes() {
        let wall = Duration::from_secs(100);
        let mut bytes = 101_000u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"jw\x01rest");
        let entry = read::<u64>(bytes.clone(), Duration::ZERO, at(0), wall);
        let entry = entry.unwrap().unwrap();
        assert_eq!(entry.value.as_bytes(), b"jw\x01rest");
        assert_eq!(entry.deadline, Deadline::at(at(1_000_000_000)));
        assert_eq!(value::<u64>(bytes).as_bytes(), b"jw\x01rest");
        let empty = read::<u64>(u64::MAX.to_le_bytes().to_vec(), Duration::ZERO, at(0), wall);
        let empty = empty.unwrap().unwrap();
        assert_eq!(
            (empty.value.as_bytes(), empty.deadline),
            (&[][..], Deadline::NEVER)
        );
        for short in [&b""[..], b"\x01", b"garbage"] {
            let read = read::<u64>(short.to_vec(), Duration::ZERO, at(0), wall);
            assert_eq!(read.map(|_| ()), Err(short.len()));
            assert_eq!(value::<u64>(short.to_vec()).as_bytes(), short);
        }
    }

    #[test]
    fn a_record_is_one_argument_deadline_first() {
        let record = Record::new(b"jw\x01v", Deadline::NEVER, at(0), Duration::ZERO);
        let args = record.to_redis_args();
        assert_eq!(
            args,
            vec![[&u64::MAX.to_le_bytes()[..], b"jw\x01v"].concat()]
        );
    }

    #[test]
    fn a_stale_window_keeps_the_ttls_deadline_in_the_record_and_the_servers_past_it() {
        let window = Duration::from_secs(10);
        let wall = Duration::from_secs(1_000);
        // Written at 0 with a 5 s TTL and a 10 s window: the backend's deadline is 15 s.
        let kept = Deadline::at(at(15_000_000_000));
        let command = set("k", Stored::new(b"v", kept, window, at(0), wall));
        let packed = command.get_packed_command();
        let record = 1_005_000u64.to_le_bytes();
        assert!(
            packed.windows(8).any(|w| w == record),
            "the record holds the TTL's deadline"
        );
        assert!(
            packed.ends_with(b"$2\r\nPX\r\n$5\r\n15000\r\n"),
            "the server keeps it 15 s"
        );
        // Read back 7 s later by a cache with the same window: the backend's deadline.
        let later = wall + Duration::from_secs(7);
        assert_eq!(
            from_wall(1_005_000, window, at(7), later),
            Some(Deadline::at(at(8_000_000_007)))
        );
        // By one without a window: expired, never a live entry past its TTL.
        assert_eq!(from_wall(1_005_000, Duration::ZERO, at(7), later), None);
        let record = [&1_005_000u64.to_le_bytes()[..], b"jw"].concat();
        assert!(is_live(&record, window, later));
        assert!(!is_live(&record, Duration::ZERO, later));
    }
}
