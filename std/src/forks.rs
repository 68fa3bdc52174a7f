//! Which copy of the process this is. A child of `fork` starts with only the thread that
//! forked: threads and runtimes started before the fork are gone there, and what needs
//! them must start its own.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many forks led to this process since the count began: 0 in the first.
static FORKS: AtomicU64 = AtomicU64::new(0);
static COUNTING: Once = Once::new();

extern "C" fn count_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// This process's place in its line of forks: it differs from a value read before a
/// fork in the child (and only there). One atomic load once counting began.
pub(crate) fn generation() -> u64 {
    COUNTING.call_once(|| in_each_child(count_fork));
    FORKS.load(Ordering::Relaxed)
}

/// Runs `handler` in each later child of `fork`, before `fork` returns there. It must
/// touch only atomics: a child of a threaded process may run nothing that allocates or
/// takes a lock another thread could have held at the fork.
pub(crate) fn in_each_child(handler: extern "C" fn()) {
    #[cfg(unix)]
    atfork::in_child(handler);
    #[cfg(not(unix))]
    let _ = handler;
}

/// The crate's one use of `unsafe`: registering with `pthread_atfork`.
#[cfg(unix)]
#[allow(unsafe_code)]
mod atfork {
    use std::ffi::c_int;

    // SAFETY: the signature of POSIX's `pthread_atfork`, in every unix libc.
    unsafe extern "C" {
        fn pthread_atfork(
            prepare: Option<extern "C" fn()>,
            parent: Option<extern "C" fn()>,
            child: Option<extern "C" fn()>,
        ) -> c_int;
    }

    pub(super) fn in_child(handler: extern "C" fn()) {
        // SAFETY: `pthread_atfork` only records the handler; callers promise that it
        // touches nothing but atomics. If registering fails (no memory), forked
        // children miss it, as if it were never registered.
        let _ = unsafe { pthread_atfork(None, None, Some(handler)) };
    }
}
