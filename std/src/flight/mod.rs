//! Single-flight: one computation per missing key; the other callers wait for it.
//!
//! One registry and one flight type serve both shells: `SyncCache`'s threads wait on
//! a `Condvar`, `AsyncCache`'s tasks (and the bridge's, for sync callers) on a `Notify`.
//!
//! Waiters get the leader's result, `Ok` or `Err`: a failure is shared, not retried once
//! per waiter. The error is cloned to each waiter (`E: Clone`); the flight keeps it
//! type-erased, since one cache serves calls with different error types, and a waiter
//! whose error type differs from the leader's takes over instead. Only a leader that
//! panics or is cancelled hands over to a waiter.

mod lead;
#[cfg(feature = "async")]
mod leading;
mod solo;
mod table;

use std::any::Any;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, ThreadId};

pub(crate) use lead::{FlightTable, Lead};
#[cfg(feature = "async")]
pub(crate) use leading::computing;
pub(crate) use solo::Ticket;
pub(crate) use table::Flights;

/// Who is calling: a computation that asks for its own key must not wait for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A refresh in the background, which may sit in a queue or ask for its own key: a
    /// caller computes alone beside it, unless the task or thread it runs on is known
    /// (see [`Flight::runs_on`]).
    Refresh,
    Thread(ThreadId),
    #[cfg(feature = "async")]
    Task(tokio::task::Id),
}

impl Caller {
    pub(crate) fn thread() -> Self {
        Caller::Thread(thread::current().id())
    }

    /// The running task, or the thread outside any task (inside `block_on`, say).
    #[cfg(feature = "async")]
    pub(crate) fn task() -> Self {
        tokio::task::try_id().map_or_else(Caller::thread, Caller::Task)
    }
}

/// Who asks to join a flight, and whether it may wait for someone else's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Joiner {
    pub(crate) caller: Caller,
    /// False for a caller that would block the thread the leader may need, such as a
    /// sync call on a current-thread runtime: it computes alone instead.
    pub(crate) may_wait: bool,
    /// Whether, leading, it computes inside [`computing`]'s scope (an async call's own
    /// task does), so that a call of its task from outside the computation waits.
    pub(crate) scoped: bool,
}

impl Joiner {
    /// A caller that may wait.
    pub(crate) fn patient(caller: Caller) -> Self {
        Joiner {
            caller,
            may_wait: true,
            scoped: false,
        }
    }

    /// The running task's async call, which computes in [`computing`]'s scope.
    #[cfg(feature = "async")]
    pub(crate) fn task() -> Self {
        Joiner {
            scoped: true,
            ..Joiner::patient(Caller::task())
        }
    }
}

/// A computation in progress, shared by its leader and its waiters.
pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    settled: Condvar,
    #[cfg(feature = "async")]
    settled_async: tokio::sync::Notify,
    leader: Caller,
    /// Whether the leader computes inside [`computing`]'s scope.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    scoped: bool,
    /// The task or thread a refresh runs on, once known: callers elsewhere may wait
    /// for it.
    runner: std::sync::OnceLock<Caller>,
}

enum State<V> {
    Running,
    Done(V),
    /// The leader's computation returned this `Err` (of the leader's error type).
    Failed(Box<dyn Any + Send>),
    /// The leader panicked or was cancelled: a waiter must take over.
    Abandoned,
}

/// Why a computation gave no value: an error to share with the waiters, or nothing to
/// share (the caller computing it panicked), so that a waiter takes over.
#[cfg(feature = "async")]
#[derive(Debug)]
pub(crate) enum Failure<E> {
    Error(E),
    Abandoned,
}

/// What a waiter gets from a settled flight: the leader's result, or `None` if it must
/// take over.
pub(crate) type Outcome<V, E> = Option<Result<V, E>>;

/// Whether a computation's `Err` of type `E` is handed to its waiters.
pub(crate) trait ErrorSharing<E> {
    /// A copy of the error for another caller, or `None` if errors are not shared.
    fn copy(error: &E) -> Option<E>;
    /// The error as the flight keeps it, or `None` if waiters are to take over instead.
    fn share(error: &E) -> Option<Box<dyn Any + Send>>;
    /// A waiter's copy of a shared error, if it is of this caller's type.
    fn receive(shared: &(dyn Any + Send)) -> Option<E>;
}

/// Errors are shared: each waiter gets a clone.
pub(crate) struct Shared;

impl<E: Clone + Send + 'static> ErrorSharing<E> for Shared {
    fn copy(error: &E) -> Option<E> {
        Some(error.clone())
    }

    fn share(error: &E) -> Option<Box<dyn Any + Send>> {
        Self::copy(error).map(|copy| Box::new(copy) as Box<dyn Any + Send>)
    }

    fn receive(shared: &(dyn Any + Send)) -> Option<E> {
        shared.downcast_ref::<E>().cloned()
    }
}

/// Errors stay with their callers (they need not be `Clone`): a waiter takes over.
pub(crate) struct Unshared;

impl<E> ErrorSharing<E> for Unshared {
    fn copy(_: &E) -> Option<E> {
        None
    }

    fn share(_: &E) -> Option<Box<dyn Any + Send>> {
        None
    }

    fn receive(_: &(dyn Any + Send)) -> Option<E> {
        None
    }
}

impl<V: Clone> Flight<V> {
    fn new(leader: Joiner) -> Arc<Self> {
        Arc::new(Flight {
            state: Mutex::new(State::Running),
            settled: Condvar::new(),
            #[cfg(feature = "async")]
            settled_async: tokio::sync::Notify::new(),
            leader: leader.caller,
            scoped: leader.scoped,
            runner: std::sync::OnceLock::new(),
        })
    }

    /// The flight's identity for [`computing`]: its address, which stays its own while
    /// its leader holds it, as it does while computing.
    #[cfg(feature = "async")]
    pub(crate) fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self).cast::<()>() as usize
    }

    /// Whether `joiner` asks from inside this flight's computation, and so must not
    /// wait for it: on the thread or in the task that computes, and for a scoped leader
    /// and joiner, from inside the computation's own future (a call joined beside it in
    /// its task waits).
    fn asked_from_within(self: &Arc<Self>, joiner: &Joiner) -> bool {
        if self.computing() != joiner.caller {
            return false;
        }
        #[cfg(feature = "async")]
        if self.scoped && joiner.scoped {
            return leading::within(self.id());
        }
        true
    }

    /// A refresh's flight: the task it was spawned as, or the refresh thread that took
    /// it from the queue.
    pub(crate) fn runs_on(&self, runner: Caller) {
        let _ = self.runner.set(runner);
    }

    /// Who computes: the leader, or for a refresh what it runs on, if known.
    fn computing(&self) -> Caller {
        if let Some(&runner) = self.runner.get() {
            return runner;
        }
        self.leader
    }

    /// Blocks until the leader settles: its result, or `None` if it gave up.
    pub(crate) fn wait<E, X: ErrorSharing<E>>(&self) -> Outcome<V, E> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = self
            .settled
            .wait_while(state, |s| matches!(s, State::Running))
            .unwrap_or_else(PoisonError::into_inner);
        state.outcome::<E, X>()
    }

    /// Waits, without blocking the thread, until the leader settles.
    #[cfg(feature = "async")]
    pub(crate) async fn settled<E, X: ErrorSharing<E>>(&self) -> Outcome<V, E> {
        loop {
            let notified = self.settled_async.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the state is checked, so a settle in between still wakes us.
            notified.as_mut().enable();
            {
                let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if !matches!(*state, State::Running) {
                    return state.outcome::<E, X>();
                }
            }
            notified.await;
        }
    }

    /// Settles the flight and wakes every waiter, threads and tasks alike.
    fn settle(&self, outcome: State<V>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = outcome;
        drop(state);
        self.settled.notify_all();
        #[cfg(feature = "async")]
        self.settled_async.notify_waiters();
    }
}

impl<V: Clone> State<V> {
    fn outcome<E, X: ErrorSharing<E>>(&self) -> Outcome<V, E> {
        match self {
            State::Done(value) => Some(Ok(value.clone())),
            State::Failed(error) => X::receive(&**error).map(Err),
            State::Running | State::Abandoned => None,
        }
    }
}

/// What a caller that missed does next.
pub(crate) enum Role<K, V> {
    /// Compute and store the value, then settle the flight for the waiters.
    Lead(Arc<Flight<V>>, K),
    /// Wait for another caller's computation.
    Wait(Arc<Flight<V>>),
    /// Compute alone: single-flight is off, this caller leads the key's flight already
    /// (a computation asking for its own key would wait for itself), it may not wait,
    /// or the key's refresh is one nobody may wait for.
    Solo,
}

/// A missed call's next move. The decisions are made here, pure: the shells carry them
/// out, blocking or awaiting as they must, and feed back what they saw.
pub(crate) enum Next<K, V, E> {
    /// Return this: a leader's result, or a value another caller stored.
    Serve(Result<V, E>),
    /// Compute the value: leading the key's flight, or alone (`None`).
    Compute(Option<(Arc<Flight<V>>, K)>),
    /// Wait for this flight to settle, then take [`Next::settled`].
    Wait(Arc<Flight<V>>),
    /// The leader gave up, maybe long after this call began: read the clock again,
    /// look the key up at that time (another caller may have stored a value), then
    /// take [`Next::looked`].
    LookAgain,
}

impl<K, V, E> Next<K, V, E> {
    /// After joining the key's flight, or starting one.
    pub(crate) fn joined(role: Role<K, V>) -> Self {
        match role {
            Role::Solo => Next::Compute(None),
            Role::Lead(flight, key) => Next::Compute(Some((flight, key))),
            Role::Wait(flight) => Next::Wait(flight),
        }
    }

    /// After the flight waited on settled: its result, or a second look if it has none.
    pub(crate) fn settled(outcome: Outcome<V, E>) -> Self {
        outcome.map_or(Next::LookAgain, Next::Serve)
    }

    /// After looking again: the value `found`, or else the role `rejoin` gives (joining
    /// the key's flight again, and leading it if nobody else does). `rejoin` runs only
    /// on a miss, since it may register a flight.
    pub(crate) fn looked(found: Option<V>, rejoin: impl FnOnce() -> Role<K, V>) -> Self {
        match found {
            Some(value) => Next::Serve(Ok(value)),
            None => Next::joined(rejoin()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};
    use std::thread;

    use super::{Caller, Flight, FlightTable, Flights, Joiner, Lead, Next, Role, Shared};

    type Step = Next<&'static str, u32, String>;

    impl FlightTable<&'static str, u32> for Mutex<Flights<&'static str, u32>> {
        fn withdraw(&self, key: &&'static str, flight: &Arc<Flight<u32>>) {
            let mut flights = self.lock().unwrap_or_else(PoisonError::into_inner);
            flights.withdraw(key, flight);
        }
    }

    /// A caller other than this thread.
    fn elsewhere() -> Caller {
        thread::spawn(Caller::thread).join().unwrap()
    }

    #[test]
    fn a_joiner_computes_when_it_leads_or_is_alone_and_waits_otherwise() {
        let flight = Flight::<u32>::new(Joiner::patient(Caller::thread()));
        assert!(matches!(Step::joined(Role::Solo), Next::Compute(None)));
        let led = Step::joined(Role::Lead(Arc::clone(&flight), "k"));
        assert!(matches!(led, Next::Compute(Some((f, "k"))) if Arc::ptr_eq(&f, &flight)));
        let waiting = Step::joined(Role::Wait(Arc::clone(&flight)));
        assert!(matches!(waiting, Next::Wait(f) if Arc::ptr_eq(&f, &flight)));
    }

    #[test]
    fn a_settled_flight_serves_its_result_and_an_abandoned_one_looks_again() {
        assert!(matches!(Step::settled(Some(Ok(7))), Next::Serve(Ok(7))));
        let failed = Step::settled(Some(Err("down".to_string())));
        assert!(matches!(failed, Next::Serve(Err(e)) if e == "down"));
        assert!(matches!(Step::settled(None), Next::LookAgain));
    }

    #[test]
    fn a_value_found_on_looking_again_is_served_without_joining() {
        let looked = Step::looked(Some(7), || panic!("joined although a value was found"));
        assert!(matches!(looked, Next::Serve(Ok(7))));
    }

    #[test]
    fn after_an_abandoned_flight_a_waiter_that_finds_nothing_leads_anew() {
        let table = Mutex::new(Flights::default());
        let lock = || table.lock().unwrap_or_else(PoisonError::into_inner);
        let leader = Joiner::patient(elsewhere());
        let Role::Lead(flight, key) = lock().join_or_lead(&"k", leader) else {
            panic!("the first joiner leads");
        };
        let waiter = Joiner::patient(Caller::thread());
        let Next::Wait(waited) = Step::joined(lock().join_or_lead(&"k", waiter)) else {
            panic!("the second joiner waits");
        };
        // The leader gives up: dropped unsettled, it withdraws its flight.
        drop(Lead::new(&table, flight, key));
        let next = Step::settled(waited.wait::<String, Shared>());
        assert!(matches!(next, Next::LookAgain));
        let next = Step::looked(None, || lock().join_or_lead(&"k", waiter));
        let Next::Compute(Some((flight, "k"))) = next else {
            panic!("the waiter leads the key's new flight");
        };
        assert!(lock().is_current(&"k", &flight));
        assert!(!Arc::ptr_eq(&flight, &waited));
    }
}
