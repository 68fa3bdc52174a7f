//! The near tier across real OS processes (this test binary, re-run as children),
//! all with a near tier in front of one Redis server:
//! - two processes: A writes, removes and clears while B reads the same keys; B sees
//!   each change within a bound, and never the old value again;
//! - a stress check: four processes write and read 100 keys at random for 10 s (one op
//!   in ten a write); no read
//!   returns a value older than the newest write acknowledged more than the bound
//!   before that read started.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::redis_server::RedisServer;
use jwm_cache::{AsyncCache, AsyncCacheBuilder, NearBackend, RedisBackend};

/// How long after a write returns another process may still read the old value: the
/// bound these tests hold the near tier to, generous for a shared 2-core machine (the
/// measured delays are in BENCHMARKS.md).
const BOUND: Duration = Duration::from_millis(50);
const PATIENCE: Duration = Duration::from_secs(30);
/// The two-process test's operations, and its keys.
const OPS: u64 = 300;
const PAIR_KEYS: u64 = 5;
/// The stress check's processes, tasks per process, keys and length.
const STRESSED: usize = 4;
const TASKS: usize = 2;
const STRESS_KEYS: u64 = 100;
const STRESS_FOR: Duration = Duration::from_secs(10);

type Near = AsyncCache<u64, u64, NearBackend<u64, u64>>;

/// The two parent tests take turns: each measures delays, which the other's processes
/// would stretch on a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn near(url: &str, identifier: &str) -> Near {
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(600))
        .build_with_backend(NearBackend::new(RedisBackend::open(url).unwrap(), 10_000))
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name}: run by a parent test"))
}

/// Runs the child test `name` with `vars`.
fn child(name: &str, vars: &[(&str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (var, value) in vars {
        command.env(var, value);
    }
    command.spawn().unwrap()
}

/// What a child printed, after it succeeded.
fn output_of(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "a child process failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

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

// ---- Two processes -------------------------------------------------------------

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
    let mut raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
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
                .query(&mut raw)
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
    let mut raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
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
            .query(&mut raw)
            .unwrap();
        before = after;
    }
    let counters = cache.counters();
    println!("near_hits {} hits {}", counters.near_hits, counters.hits);
}

#[test]
fn near_tiers_in_two_processes() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let server = RedisServer::start();
    let url = server.url(0);
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
        "another process saw each of {OPS} writes, removals and clears after: p50 {:?}, p99 {:?}, max {:?}; {}",
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

// ---- The stress check -------------------------------------------------------------

/// One stressed process: `TASKS` tasks write (a tenth of their ops) and read 100 keys at
/// random until the time is up, logging `w key id start ack` and `r key start id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "a child process of the near tier's stress check"]
async fn one_stressed_process() {
    let url = env("JWM_NEAR_URL");
    let process: u64 = env("JWM_NEAR_PROCESS").parse().unwrap();
    let log = Arc::new(Mutex::new(BufWriter::new(
        File::create(env("JWM_NEAR_LOG")).unwrap(),
    )));
    let cache = Arc::new(near(&url, "near-stress"));
    let until = Instant::now() + STRESS_FOR;
    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|task| {
            let (cache, log) = (Arc::clone(&cache), Arc::clone(&log));
            tokio::spawn(async move {
                // xorshift, seeded per task
                let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (process << 32 | task);
                let mut next = move || {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state
                };
                let mut lines = Vec::new();
                let mut written = 0u64;
                while Instant::now() < until {
                    let roll = next();
                    let key = roll % STRESS_KEYS;
                    if (roll >> 32) % 10 == 0 {
                        written += 1;
                        let id = process << 40 | task << 32 | written;
                        let start = wall_ns();
                        cache.insert(key, id).await.unwrap();
                        lines.push(format!("w {key} {id} {start} {}", wall_ns()));
                    } else {
                        let start = wall_ns();
                        let found = cache.get(&key).await.unwrap().unwrap_or(0);
                        lines.push(format!("r {key} {start} {found}"));
                    }
                    if lines.len() >= 4096 {
                        let mut log = log.lock().unwrap();
                        lines
                            .drain(..)
                            .for_each(|line| writeln!(log, "{line}").unwrap());
                    }
                }
                let mut log = log.lock().unwrap();
                lines
                    .drain(..)
                    .for_each(|line| writeln!(log, "{line}").unwrap());
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    log.lock().unwrap().flush().unwrap();
    println!(
        "near_hits {} tracking {}",
        cache.counters().near_hits,
        cache.backend().is_tracking()
    );
}

struct Acked {
    id: u64,
    start: u64,
    ack: u64,
}

#[test]
fn no_read_is_older_than_a_write_acknowledged_a_bound_before_it() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let server = RedisServer::start();
    let url = server.url(0);
    let dir = std::env::temp_dir().join(format!("jwm-near-stress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logs: Vec<_> = (0..STRESSED)
        .map(|p| dir.join(format!("{p}.log")))
        .collect();
    let children: Vec<_> = logs
        .iter()
        .enumerate()
        .map(|(p, log)| {
            child(
                "one_stressed_process",
                &[
                    ("JWM_NEAR_URL", url.clone()),
                    ("JWM_NEAR_PROCESS", (p + 1).to_string()),
                    ("JWM_NEAR_LOG", log.display().to_string()),
                ],
            )
        })
        .collect();
    let near_hits: u64 = children
        .into_iter()
        .map(|c| {
            let out = output_of(c);
            assert!(out.contains("tracking true"), "{out}");
            out.lines()
                .find_map(|l| {
                    l.split_once("near_hits ")?
                        .1
                        .split(' ')
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        })
        .sum();
    // Every write by key, in acknowledgement order, and every read.
    let mut writes: HashMap<u64, Vec<Acked>> = HashMap::new();
    let mut reads = Vec::new();
    for log in &logs {
        for line in BufReader::new(File::open(log).unwrap()).lines() {
            let line = line.unwrap();
            let f: Vec<u64> = line[2..].split(' ').map(|v| v.parse().unwrap()).collect();
            match &line[..1] {
                "w" => writes.entry(f[0]).or_default().push(Acked {
                    id: f[1],
                    start: f[2],
                    ack: f[3],
                }),
                _ => reads.push((f[0], f[1], f[2])),
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for per_key in writes.values_mut() {
        per_key.sort_by_key(|w| w.ack);
    }
    let by_id: HashMap<u64, &Acked> = writes.values().flatten().map(|w| (w.id, w)).collect();
    let bound = BOUND.as_nanos() as u64;
    let (mut violations, mut stale_reads, mut worst) = (Vec::new(), 0u64, 0u64);
    for &(key, start, found) in &reads {
        let Some(per_key) = writes.get(&key) else {
            continue;
        };
        // The newest write acknowledged before this read started, and before by more
        // than the bound.
        let acked = per_key.partition_point(|w| w.ack < start);
        let long_acked = per_key.partition_point(|w| w.ack + bound < start);
        let older_than = |newest: &Acked| match by_id.get(&found) {
            // The value read was certainly overwritten by `newest`: its write was
            // acknowledged before `newest` began.
            Some(read) => read.ack < newest.start,
            None => true,
        };
        if acked > 0 && older_than(&per_key[acked - 1]) {
            stale_reads += 1;
            // How long before the read the newest write it missed had returned.
            let missed = per_key[..acked]
                .iter()
                .rev()
                .take_while(|w| older_than(w))
                .last();
            if let Some(missed) = missed {
                worst = worst.max(start - missed.ack);
            }
        }
        if long_acked > 0 && older_than(&per_key[long_acked - 1]) {
            violations.push((key, start, found));
        }
    }
    let total_writes: usize = writes.values().map(Vec::len).sum();
    eprintln!(
        "{STRESSED} processes x {TASKS} tasks, {STRESS_FOR:?}: {total_writes} writes, {} reads \
         ({near_hits} near hits); reads older than a write already returned: {stale_reads}, \
         the oldest by {:?}; violations of the {BOUND:?} bound: {}",
        reads.len(),
        Duration::from_nanos(worst),
        violations.len()
    );
    assert!(
        total_writes > 1_000 && reads.len() > 1_000,
        "too little happened"
    );
    assert!(near_hits > 0, "the near tiers served nothing");
    assert!(
        violations.is_empty(),
        "{:?}",
        &violations[..violations.len().min(10)]
    );
}
