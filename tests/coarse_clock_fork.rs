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
    // SAFETY: the child calls only the clock (an atomic load, or `clock_gettime`),
    // `nanosleep` and `_exit`, all safe in a child of a threaded process.
    let child = unsafe { fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let before = CoarseClock.now();
        std::thread::sleep(Duration::from_millis(50));
        let after = CoarseClock.now();
        let moved = after.saturating_duration_since(before) >= Duration::from_millis(20);
        // SAFETY: ends the child at once, running none of the parent's exit handlers.
        unsafe { _exit(if moved { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked, into a local.
    let waited = unsafe { waitpid(child, &mut status, 0) };
    assert_eq!(waited, child);
    assert_eq!(status, 0, "the child's coarse clock stood still");
}
