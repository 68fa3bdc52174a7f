//! A sync backend whose lookups block until a gate opens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use jwm_cache::backend::{Backend, Deadline, Lookup};
use jwm_cache::memory::MemoryBackend;
use jwm_cache::time::Instant;

/// A sync backend whose lookups block their thread until the gate opens, as blocking
/// network I/O does.
pub(crate) struct GatedBackend {
    pub(crate) store: MemoryBackend<u64, u64>,
    pub(crate) gate: Arc<(Mutex<bool>, Condvar)>,
    /// The tokio runtime each `len` ran on, if any.
    pub(crate) lens_ran_on: Arc<Mutex<Vec<tokio::runtime::Id>>>,
    /// How many lookups began.
    pub(crate) lookups: Arc<AtomicUsize>,
}

impl GatedBackend {
    /// An empty store behind `gate`.
    pub(crate) fn new(gate: &Arc<(Mutex<bool>, Condvar)>) -> Self {
        GatedBackend {
            store: MemoryBackend::new(),
            gate: Arc::clone(gate),
            lens_ran_on: Arc::default(),
            lookups: Arc::default(),
        }
    }
}

impl Backend<u64, u64> for GatedBackend {
    type Error = std::convert::Infallible;
    const NAME: &'static str = "gated";

    fn set(
        &mut self,
        key: u64,
        value: u64,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), Self::Error> {
        self.store.set(key, value, deadline, now)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.store.clear()
    }
    fn len(&mut self, now: Instant) -> Result<usize, Self::Error> {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.lens_ran_on.lock().unwrap().push(runtime.id());
        }
        self.store.len(now)
    }
}

impl Lookup<u64, u64, u64> for GatedBackend {
    fn get_entry(
        &mut self,
        key: &u64,
        now: Instant,
    ) -> Result<Option<jwm_cache::backend::Entry<&u64>>, Self::Error> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let (open, opened) = &*self.gate;
        drop(
            opened
                .wait_while(open.lock().unwrap(), |open| !*open)
                .unwrap(),
        );
        self.store.get_entry(key, now)
    }

    fn remove(&mut self, key: &u64, now: Instant) -> Result<bool, Self::Error> {
        self.store.remove(key, now)
    }
}

/// Opens `gate`: the gated backend's lookups go on.
pub(crate) fn open_gate(gate: &(Mutex<bool>, Condvar)) {
    *gate
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
    gate.1.notify_all();
}

/// Opens its gate when dropped: however a test ends, a runtime's shutdown, which waits
/// for a lookup blocked on the gate, ends too.
pub(crate) struct OpenOnDrop(pub(crate) Arc<(Mutex<bool>, Condvar)>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        open_gate(&self.0);
    }
}
