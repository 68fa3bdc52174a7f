//! The near tier's stress check across real OS processes (this test binary, re-run as
//! children): four processes write and read 100 keys at random for 10 s (one op in ten
//! a write); no read returns a value older than the newest write acknowledged more than
//! the bound before that read started. Meanwhile each process in turn is stopped for
//! twice the bound, as a busy machine may stop it: its invalidations wait unread, and
//! the bound must still hold when it runs again.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::processes::{BOUND, child, env, near, output_of, wall_ns};
use common::redis_cluster::RedisCluster;
use common::redis_server::RedisServer;

/// The processes, tasks per process, keys and length.
const STRESSED: usize = 4;
const TASKS: usize = 2;
const STRESS_KEYS: u64 = 100;
const STRESS_FOR: Duration = Duration::from_secs(10);
/// How long each stop lasts, and how long the processes run between two stops.
const STOPPED_FOR: Duration = Duration::from_millis(100);
const RUNNING_FOR: Duration = Duration::from_millis(400);

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
    let _alone = alone();
    let server = RedisServer::start();
    stress(server.url(0), "one server");
}

#[test]
fn no_read_is_older_than_a_write_acknowledged_a_bound_before_it_over_a_cluster() {
    let _alone = alone();
    let cluster = RedisCluster::start();
    stress(cluster.urls().join(","), "a cluster");
}

/// Held by each variant from before it starts its servers: the bound is measured on a
/// machine the other variant (its servers too) would share.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The check over `url` (one server's, or a cluster's seeds joined by commas).
fn stress(url: String, over: &str) {
    let dir = std::env::temp_dir().join(format!(
        "jwm-near-stress-{}-{}",
        std::process::id(),
        over.len()
    ));
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
    // Joined before any child is reaped, so that no pid it signals can be reused.
    let stops = stop_in_turn(children.iter().map(std::process::Child::id).collect())
        .join()
        .unwrap();
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
        "over {over}, {STRESSED} processes x {TASKS} tasks, {STRESS_FOR:?}, {stops} stops of \
         {STOPPED_FOR:?}: {total_writes} writes, {} reads ({near_hits} near hits); reads older \
         than a write already returned: {stale_reads}, the oldest by {:?}; violations of the \
         {BOUND:?} bound: {}",
        reads.len(),
        Duration::from_nanos(worst),
        violations.len()
    );
    assert!(
        total_writes > 1_000 && reads.len() > 1_000,
        "too little happened"
    );
    assert!(near_hits > 0, "the near tiers served nothing");
    assert!(stops >= STRESSED, "only {stops} stops");
    assert!(
        violations.is_empty(),
        "{:?}",
        &violations[..violations.len().min(10)]
    );
}

/// Stops the processes `pids` in turn (SIGSTOP, then SIGCONT after [`STOPPED_FOR`]) while
/// they run, and lets every one run at the end; returns how many stops were made.
fn stop_in_turn(pids: Vec<u32>) -> std::thread::JoinHandle<usize> {
    let started = Instant::now();
    let signal = |signal: &str, pid: u32| {
        std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .is_ok_and(|status| status.success())
    };
    std::thread::spawn(move || {
        let mut stops = 0;
        for &pid in pids.iter().cycle() {
            std::thread::sleep(RUNNING_FOR);
            // Ends before the processes do.
            if started.elapsed() + RUNNING_FOR > STRESS_FOR || !signal("-STOP", pid) {
                break;
            }
            std::thread::sleep(STOPPED_FOR);
            assert!(signal("-CONT", pid), "process {pid} left stopped");
            stops += 1;
        }
        for &pid in &pids {
            signal("-CONT", pid);
        }
        stops
    })
}
