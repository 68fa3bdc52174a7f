//! The lease's scripts, run on a server as the backend runs them: claims, releases and
//! their tombstones, renewals and revocations.

use super::*;

/// A release that reaches the server before its own claim (sent on another connection
/// to a stalled server) leaves a tombstone naming its token: the late claim is refused,
/// rather than take a lease nobody would give back, while other processes' claims take
/// the lease over it. A renewal is its holder's alone, and a write's revocation keeps
/// the tombstone. Run on the server as the backend runs them.
#[test]
fn a_claim_that_arrives_after_its_release_is_refused() {
    use jwm_cache::__private::{LEASE_CLAIM, LEASE_RELEASE, LEASE_RENEW, LEASE_REVOKE, LEASE_TAKE};
    use redis::Value;

    let server = RedisServer::start();
    let mut raw = server.client(0);
    let run = |raw: &mut redis::Connection, script: &str, keys: &[&str], args: &[&str]| {
        let mut command = redis::cmd("EVAL");
        command.arg(script).arg(keys.len()).arg(keys).arg(args);
        command.query::<Value>(raw).unwrap()
    };
    // Whether a claim (a look, or a take-over on `take`) took the lease.
    let claim = |raw: &mut redis::Connection, take: bool, lease: &str, token: &str| {
        if take {
            // 1, or the holder's token, or 0 if it has none.
            match run(raw, LEASE_TAKE, &[lease], &[token, "30000"]) {
                Value::Int(taken) => taken == 1,
                Value::BulkString(_) => false,
                other => panic!("{other:?}"),
            }
        } else {
            // {2}, or {0, holder}, or {0} if it has none.
            match run(raw, LEASE_CLAIM, &["entry", lease], &[token, "30000"]) {
                Value::Array(parts) if parts == [Value::Int(2)] => true,
                Value::Array(parts) if parts.first() == Some(&Value::Int(0)) => false,
                other => panic!("{other:?}"),
            }
        }
    };
    let release = |raw: &mut redis::Connection, lease: &str, token: &str, in_flight: bool| {
        let flag = if in_flight { "1" } else { "0" };
        run(raw, LEASE_RELEASE, &[lease], &[token, "30000", flag]);
    };
    let held =
        |raw: &mut redis::Connection, lease: &str| raw.get::<_, Option<String>>(lease).unwrap();
    for (take, lease) in [(false, "one:lease"), (true, "two:lease")] {
        // A release whose claim was answered leaves nothing.
        release(&mut raw, lease, "answered", false);
        assert_eq!(held(&mut raw, lease), None);
        // Two released before their claims arrived: both named in one tombstone, once.
        release(&mut raw, lease, "late-a", true);
        release(&mut raw, lease, "late-b", true);
        release(&mut raw, lease, "late-a", true);
        assert_eq!(held(&mut raw, lease).unwrap(), "gone: late-a late-b");
        for late in ["late-a", "late-b"] {
            assert!(
                !claim(&mut raw, take, lease, late),
                "{lease}: {late} took it"
            );
        }
        // Another token takes it over the tombstone, for the lease's length, and carries
        // the tombstone.
        assert!(claim(&mut raw, take, lease, "other"), "{lease}: kept out");
        assert_eq!(held(&mut raw, lease).unwrap(), "other gone: late-a late-b");
        let pttl: i64 = raw.pttl(lease).unwrap();
        assert!((1..=30_000).contains(&pttl), "{lease}: {pttl}");
        // Held: a third claim is refused; a third token released before its claim
        // arrived is named too, and its holder keeps it.
        assert!(!claim(&mut raw, take, lease, "third"));
        release(&mut raw, lease, "third", true);
        assert_eq!(
            held(&mut raw, lease).unwrap(),
            "other gone: late-a late-b third"
        );
        assert!(claim(&mut raw, take, lease, "other"), "its holder's own");
        // Only its holder renews it; a write revokes it, keeping the tombstone and
        // its time; the holder takes it again here, as a claim may.
        let renew = |raw: &mut redis::Connection, token: &str| {
            run(raw, LEASE_RENEW, &[lease], &[token, "60000"]) == Value::Int(1)
        };
        assert!(!renew(&mut raw, "third"), "{lease}: renewed by another");
        assert!(
            renew(&mut raw, "other"),
            "{lease}: not renewed by its holder"
        );
        let pttl: i64 = raw.pttl(lease).unwrap();
        assert!((30_001..=60_000).contains(&pttl), "{lease}: {pttl}");
        run(&mut raw, LEASE_REVOKE, &[lease], &[]);
        assert_eq!(held(&mut raw, lease).unwrap(), "gone: late-a late-b third");
        let kept: i64 = raw.pttl(lease).unwrap();
        assert!((30_001..=pttl).contains(&kept), "{lease}: {kept}");
        assert!(!renew(&mut raw, "other"), "{lease}: renewed once revoked");
        assert!(claim(&mut raw, take, lease, "other"), "{lease}: kept out");
        // Its holder's release leaves the tombstone, which still refuses the late.
        release(&mut raw, lease, "other", false);
        assert_eq!(held(&mut raw, lease).unwrap(), "gone: late-a late-b third");
        for late in ["late-a", "third"] {
            assert!(
                !claim(&mut raw, take, lease, late),
                "{lease}: {late} took it"
            );
        }
        let _: () = raw.del(lease).unwrap();
    }
    // A tombstone keeps about 2 KiB of tokens, the newest: of 300 of 10 bytes, the
    // last 204.
    for n in 0..300 {
        release(&mut raw, "many:lease", &format!("token-{n:03}"), true);
    }
    let tomb = held(&mut raw, "many:lease").unwrap();
    assert!(tomb.len() <= 2048, "{} bytes", tomb.len());
    assert!(tomb.starts_with("gone: token-096 "), "{tomb}");
    assert!(tomb.ends_with(" token-299"), "{tomb}");
    assert!(!claim(&mut raw, false, "many:lease", "token-299"));
    assert!(
        claim(&mut raw, false, "many:lease", "token-000"),
        "the oldest was dropped"
    );
}
