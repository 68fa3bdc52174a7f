//! The near tier across two real OS processes (this test binary, re-run as children),
//! each with a near tier in front of one Redis server: A writes, removes and clears
//! while B reads the same keys; B sees each change within the bound, and never the old
//! value again.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::processes::{BOUND, PATIENCE, child, env, near, output_of, raw, wall_ns};
use common::redis_cluster::RedisCluster;
use common::redis_server::RedisServer;

/// The operations, and the keys.
const OPS: u64 = 300;
const PAIR_KEYS: u64 = 5;

/// `(op, wall ns)` from lines `"{tag} {op} {ns}"`.
fn stamps(output: &str, tag: &str) -> HashMap<u64, u64> {
    output
        .lines()
        .filter_map(|line| {
            // The first line follows the harness's `test … ... `.
            let mut fields = line.split_once(tag)?.1.split_whitespace();
            Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
        })
        .collect()
}

/// Op `i` (from 1): a clear every 20th, a removal of its key every 7th, else a write of
/// `i` to key `i % PAIR_KEYS`.
enum Op {
    Write(u64, u64),
    Remove(u64),
    Clear,
}

fn op(i: u64) -> Op {
    match (i % 20, i % 7) {
        (19, _) => Op::Clear,
        (_, 3) => Op::Remove(i % PAIR_KEYS),
        _ => Op::Write(i % PAIR_KEYS, i),
    }
}

/// Every key's value after op `i`.
fn state_after(i: u64) -> Vec<Option<u64>> {
    let mut state = vec![None; PAIR_KEYS as usize];
    for j in 1..=i {
        match op(j) {
            Op::Write(key, value) => state[key as usize] = Some(value),
            Op::Remove(key) => state[key as usize] = None,
            Op::Clear => state.fill(None),
        }
    }
    state
}

/// Process A: each op, then `ack {i} {ns}`, then a wait until B has seen it.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "a child process of near_tiers_in_two_processes"]
async fn process_a_writes() {
    let url = env("JWM_NEAR_URL");
    let cache = near(&url, "near-pair");
    let mut raw = raw(&url);
    for i in 1..=OPS {
        match op(i) {
            Op::Write(key, value) => cache.insert(key, value).await.unwrap(),
            Op::Remove(key) => drop(cache.remove(&key).await.unwrap()),
            Op::Clear => cache.clear().await.unwrap(),
        }
        println!("ack {i} {}", wall_ns());
        let began = Instant::now();
        loop {
            let seen: Option<u64> = redis::cmd("GET")
                .arg("near-pair-progress")
                .query(&mut *raw)
                .unwrap();
            if seen >= Some(i) {
                break;
            }
            assert!(began.elapsed() < PATIENCE, "B never saw op {i}");
            // Bounded polling of the server; slow enough to leave B the CPU it measures on.
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Process B: reads every key in a loop. Waiting for op `i`, each read must find the
/// state after op `i - 1` or after op `i`; once it found the latter, it moves on
/// (`seen {i} {ns}`, and the progress key for A).
#[tokio::test(flavor = "current_thread")]
#[ignore = "a child process of near_tiers_in_two_processes"]
async fn process_b_reads() {
    let url = env("JWM_NEAR_URL");
    let cache = near(&url, "near-pair");
    let mut raw = raw(&url);
    let mut before = state_after(0);
    for i in 1..=OPS {
        let after = state_after(i);
        let changed: Vec<usize> = (0..PAIR_KEYS as usize)
            .filter(|&k| before[k] != after[k])
            .collect();
        let began = Instant::now();
        let mut round = 0usize;
        loop {
            // The changed keys every round, and one other key in turn.
            let other = round % PAIR_KEYS as usize;
            round += 1;
            let mut all_new = true;
            for &key in changed.iter().chain([&other]) {
                let found = cache.get(&(key as u64)).await.unwrap();
                assert!(
                    found == before[key] || found == after[key],
                    "op {i}: key {key} read {found:?}, neither {:?} nor {:?}",
                    before[key],
                    after[key]
                );
                all_new &= found == after[key];
            }
            if all_new {
                break;
            }
            assert!(began.elapsed() < PATIENCE, "op {i} never seen");
        }
        println!("seen {i} {}", wall_ns());
        // Once seen, the old values never come back (A waits for the progress key).
        for _ in 0..3 {
            for (key, value) in after.iter().enumerate() {
                assert_eq!(
                    &cache.get(&(key as u64)).await.unwrap(),
                    value,
                    "op {i}: key {key} went back"
                );
            }
        }
        let _: () = redis::cmd("SET")
            .arg("near-pair-progress")
            .arg(i)
            .query(&mut *raw)
            .unwrap();
        before = after;
    }
    let counters = cache.counters();
    println!("near_hits {} hits {}", counters.near_hits, counters.hits);
}

#[test]
fn near_tiers_in_two_processes() {
    let _alone = alone();
    let server = RedisServer::start();
    two_processes(server.url(0), "one server");
}

#[test]
fn near_tiers_in_two_processes_over_a_cluster() {
    let _alone = alone();
    let cluster = RedisCluster::start();
    two_processes(cluster.urls().join(","), "a cluster");
}

/// Held by each variant from before it starts its servers: the bound is measured on a
/// machine the other variant (its servers too) would share.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A and B over `url` (one server's, or a cluster's seeds joined by commas).
fn two_processes(url: String, over: &str) {
    let vars = [("JWM_NEAR_URL", url)];
    let b = child("process_b_reads", &vars);
    let a = child("process_a_writes", &vars);
    let (a, b) = (output_of(a), output_of(b));
    let (acks, seen) = (stamps(&a, "ack "), stamps(&b, "seen "));
    let mut delays: Vec<u64> = (1..=OPS)
        .map(|i| seen[&i].saturating_sub(acks[&i]))
        .collect();
    delays.sort_unstable();
    let (p50, p99, max) = (
        delays[delays.len() / 2],
        delays[delays.len() * 99 / 100],
        delays[delays.len() - 1],
    );
    eprintln!(
        "over {over}, another process saw each of {OPS} writes, removals and clears after: p50 {:?}, p99 {:?}, max {:?}; {}",
        Duration::from_nanos(p50),
        Duration::from_nanos(p99),
        Duration::from_nanos(max),
        b.lines().find(|l| l.starts_with("near_hits")).unwrap_or("")
    );
    assert!(
        Duration::from_nanos(p99) < BOUND,
        "p99 {:?}",
        Duration::from_nanos(p99)
    );
}
