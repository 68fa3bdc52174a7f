//! `CoarseClock` in a child of `fork`, which has no refreshing thread: its reading still
//! moves. Alone in its binary, so that no other test's threads are copied into the child.
#![cfg(unix)]
// The test forks, which only `unsafe` can.
#![allow(unsafe_code)]

use std::time::Duration;

use jwm_cache::time::{Clock, CoarseClock};

unsafe extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
}

#[test]
fn the_coarse_clock_moves_in_a_forked_child() {
    // Started here: the refreshing thread runs in this process, not in the child.
    let _ = CoarseClock.now();
    std::thread::sleep(Duration::from_millis(5));
    // SAFETY: the child reads the clock (which starts a thread of its own there, as a
    // forked server's child would), sleeps and `_exit`s: nothing that waits on a lock
    // another thread of this process could have held at the fork.
    let child = unsafe { fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let before = CoarseClock.now();
        std::thread::sleep(Duration::from_millis(50));
        let after = CoarseClock.now();
        // Later reads take the fast path again: a refreshing thread of the child's own.
        std::thread::sleep(Duration::from_millis(50));
        let last = CoarseClock.now();
        let moved = after.saturating_duration_since(before) >= Duration::from_millis(20)
            && last.saturating_duration_since(after) >= Duration::from_millis(20)
            && refreshes_here();
        // SAFETY: ends the child at once, running none of the parent's exit handlers.
        unsafe { _exit(if moved { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked, into a local.
    let waited = unsafe { waitpid(child, &mut status, 0) };
    assert_eq!(waited, child);
    assert_eq!(status, 0, "the child's coarse clock stood still");
}

/// Whether this process runs a coarse clock thread (Linux lists its threads' names; on
/// other systems, assumed).
fn refreshes_here() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return !cfg!(target_os = "linux");
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("comm"))
            // Cut to 15 bytes: "jwm-cache-coarse-clock".
            .is_ok_and(|name| name.trim_end() == "jwm-cache-coars")
    })
}
