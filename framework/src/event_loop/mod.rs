//! The event loop: one per [`EventLoop`], owning every Cap'n Proto object.
//!
//! # Design
//!
//! capnp-rpc objects are `!Send`. They all live in one [`LoopState`] behind
//! one mutex; code that touches them runs with that lock held, and only plain
//! `Send` values and closures cross between threads. Because capnp, capnp-rpc
//! and capnp-futures keep no thread-locals or thread ids (checked for 0.27.3;
//! re-check on upgrade), the state may be driven by whichever thread holds
//! the lock.
//!
//! Driving the loop has two parts:
//! 1. *Running the executor*: anyone who takes the lock runs the ready tasks
//!    before letting go, so a request built by a caller is on the socket
//!    before the caller starts waiting.
//! 2. *Polling*: exactly one thread at a time holds the **poller role**: it
//!    sleeps in `poll(2)` on the sockets (without the lock), then runs what
//!    became ready. The role goes to a thread that waits anyway: a caller
//!    waiting for its result, or an idle server worker waiting for work. A
//!    caller that polls receives its own response without any hand-off; a
//!    worker that polls receives its own request the same way.
//!
//! The `capnp-loop` thread is the backup poller: it takes the role when
//! nobody else holds it (checked every `idle_tick`), and gives it up as soon
//! as a waiting thread asks (through the eventfd). Waking the backup eagerly
//! on every call would cost as much as the hops it removes, hence the tick.
//! While one thread keeps the role the backup checks less often (up to 16
//! ticks); then the thread that gives the role up wakes it.
//!
//! # Application code and the lock
//!
//! Application threads take the loop lock while they may hold their own
//! locks (in a call, when they drop a proxy), so the loop lock is never held
//! while application code that might want such a lock runs:
//! - a proxy drop never waits for the lock: it runs its release at once if
//!   the lock is free, else queues it (`defer`) for the holder or the
//!   poller, whom it wakes; the next `with_state` of any thread runs queued
//!   work before its own, so a call made after a drop still goes out after
//!   the release;
//! - the `Drop` of an object a peer released runs on the `ipc-release`
//!   thread, with no lock held (see `release.rs`);
//! - methods without a Context do run on the loop; their rules are in
//!   ARCHITECTURE.md.
//!
//! # Busy peers
//!
//! A peer that keeps its socket full keeps tasks ready for ever. So one
//! `with_state` runs at most `MAX_PASSES` executor passes; what is left
//! stays flagged (`needs_run`) for the poller, who is woken. The poller
//! then works through it in chunks of that size: between chunks it looks
//! at its own mailbox, and collects socket readiness with a poll(2) that
//! does not sleep (skipping it would leave every other socket unread). A
//! thread that leaves work behind also lets the threads blocked on the loop
//! lock in before it takes the lock again (`hand_over_rest`), so a thread
//! that only sends a request or reads a flag waits for at most a chunk.
//!
//! # Lost wake-ups
//!
//! A poller announces `sleeping` before it re-checks for work; anyone who
//! adds work (posts to the poller's waiter, wakes a task from outside the
//! lock, registers an fd the poller does not watch) does so before reading
//! `sleeping`, and writes the eventfd if it is set. Both sides use SeqCst, so
//! one of them always sees the other.
//!
//! # Shutdown
//!
//! Dropping the [`EventLoop`] first waits, up to 2 seconds, for the peers
//! to answer the `destroy` calls of proxies dropped before (a C++ server
//! deadlocks if its client leaves in the middle of one). Then it sets
//! `shutdown`, wakes and joins the loop thread, then drops every task and
//! connection under the lock: pending
//! calls fail with a disconnected error, worker threads are told to exit.
//! The objects served are handed to the release thread, which is then
//! stopped and joined. Threads still waiting stop polling (there is nothing
//! to poll for) and sleep until their wait is answered. Loop code may drop
//! its own loop: then the cleanup is queued to run before the lock is let
//! go, and no thread is joined (see [`EventLoop`]'s `Drop`).

mod block_on;
mod executor;
mod reactor;
mod release;
pub(crate) mod stream;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Wake, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::future::LocalBoxFuture;
use nix::poll::PollFlags;

pub(crate) use block_on::block_on;
use executor::Executor;
pub(crate) use executor::Spawner;
pub(crate) use reactor::Reactor;
pub(crate) use release::Released;
use release::Releaser;

use crate::waiter::Waiter;
use crate::{Error, Result};

/// Most executor passes one `with_state` runs. A peer that keeps its socket
/// full keeps tasks ready (capnp-rpc's task set yields, and wakes itself,
/// every 32 polls): past this budget the rest is left to the poller, so a
/// thread that only sends a request or releases a proxy returns. Ordinary
/// work takes a few passes.
const MAX_PASSES: usize = 8;

/// How long a thread that leaves work behind lets the threads blocked on the
/// loop lock take it before it may take it again.
const LET_IN_WAITERS: Duration = Duration::from_millis(2);

/// Work queued to run on the loop state by a thread that cannot take the lock.
pub(crate) type LoopOp = Box<dyn FnOnce(&mut LoopState) + Send>;

/// Settings of an [`EventLoop`], including the limits that apply to each
/// of its connections (see also [`LoopHandle::listen`] for the connection
/// count).
///
/// The per-connection limits bound what one peer can make this process hold
/// however it behaves; defaults are chosen so that no well-behaved peer,
/// C++ libmultiprocess ones included, comes near them.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Name used in log lines (the executable name by default).
    pub name: String,
    /// How often the backup thread checks whether anybody watches the sockets.
    pub idle_tick: Duration,
    /// Largest incoming message, in bytes (the traversal limit of every
    /// message read); a larger one closes the connection.
    ///
    /// Default 64 MiB: the default traversal limit of Cap'n Proto's
    /// `ReaderOptions` (8 Mi words), which is what C++ libmultiprocess peers
    /// read with, so any message they accept we accept too (a Bitcoin block
    /// is at most 4 MB). The declared size of a message is never allocated
    /// before its bytes arrive: the buffer grows as they do, so a peer that
    /// declares a large message and stalls costs a small constant.
    pub max_message_bytes: usize,
    /// Largest outgoing argument message, in bytes; larger ones fail the call.
    /// Default 64 MiB, matching `max_message_bytes` of a default peer.
    pub max_outgoing_bytes: usize,
    /// Most server threads (workers from `makeThread`, pool threads) a
    /// single connection may have. Default 256.
    pub max_threads_per_connection: usize,
    /// Most server threads this whole process may have, summed over every
    /// connection of every loop (the count is process-wide; a loop refuses a
    /// new thread once the count is at its own limit). Without it, a
    /// listener with no connection limit would start up to
    /// `max_threads_per_connection` threads per client, without bound.
    ///
    /// Default 1024: four peers at their full per-connection limit, far
    /// beyond what well-behaved peers use (one thread per client thread
    /// that makes calls); at most ~2 GiB of stack address space and a few
    /// tens of MiB resident, and well under common per-user thread limits.
    pub max_server_threads: usize,
    /// Most bytes of messages (replies, mostly) that may wait for one peer
    /// to read them, each message counted as its size plus 1 KiB of
    /// bookkeeping. On a connection this process serves, the peer's requests
    /// are not read while it is over the limit: a peer that sends calls and
    /// never reads the replies is made to wait, instead of costing about
    /// 1 KiB per call without bound. Connections this process made always
    /// read, so two processes of this framework never wait on each other.
    ///
    /// Default 8 MiB: several thousand small replies or a few large ones; a
    /// single larger reply is still sent whole (reading resumes once it has
    /// drained).
    pub max_queued_bytes: usize,
    /// Most calls of one peer that may be unfinished at once (received and
    /// not yet answered, or answered with capabilities the peer has not
    /// acknowledged with `Finish`). On a connection this process serves, the
    /// peer is not read while it is at the limit.
    ///
    /// Default 1024: each costs on the order of 1 KiB, and a synchronous client has
    /// at most one call per thread in flight (its server threads are capped
    /// by `max_threads_per_connection`). A peer with more unfinished calls
    /// than this that all wait for the peer's own callbacks would stall, as
    /// the callbacks' answers are not read until a call finishes.
    pub max_pending_calls: usize,
    /// How long a connection accepted by [`LoopHandle::listen`] must have
    /// sent nothing, while using nothing but its bootstrap object, before
    /// it may be closed to make room for a new client when the listener is
    /// at its connection limit.
    ///
    /// Default 10 s: far longer than a client takes between connecting and
    /// its first calls, so a client being set up is never taken for idle.
    pub evict_idle_after: Duration,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            name: crate::logging::exe_name(),
            idle_tick: Duration::from_millis(1),
            max_message_bytes: 64 << 20,
            max_outgoing_bytes: 64 << 20,
            max_threads_per_connection: 256,
            max_server_threads: 1024,
            max_queued_bytes: 8 << 20,
            max_pending_calls: 1024,
            evict_idle_after: Duration::from_secs(10),
        }
    }
}

/// Everything that is `!Send`. Reached only through [`LoopShared::with_state`].
pub(crate) struct LoopState {
    executor: Executor,
    pub(crate) local: Rc<LoopLocal>,
}

/// The loop's registries. Tasks and servers on the loop keep an `Rc` of it,
/// so code running inside the executor reaches them too.
pub(crate) struct LoopLocal {
    pub(crate) shared: Weak<LoopShared>,
    pub(crate) reactor: Rc<RefCell<Reactor>>,
    spawner: Spawner,
    /// Capabilities held on behalf of `Send` handles (proxies, thread maps).
    caps: RefCell<HashMap<u64, capnp::capability::Client>>,
    next_cap: Cell<u64>,
    pub(crate) connections: RefCell<HashMap<u64, Rc<crate::connection::ConnectionCore>>>,
    /// Why the last few closed connections closed, when the peer said why
    /// (a call made right after still reports it).
    gone: RefCell<VecDeque<(u64, Error)>>,
    pub(crate) threads: crate::thread::ThreadRegistry,
    /// One `CapabilityServerSet` per server adapter type, to recognise our
    /// own objects when they come back.
    pub(crate) server_sets: RefCell<HashMap<std::any::TypeId, Box<dyn std::any::Any>>>,
    /// Application objects whose adapters went, to be dropped on the
    /// release thread (see `release.rs`). Declared last: what is still here
    /// when the loop itself goes is dropped after everything that stages.
    pub(crate) released: RefCell<Vec<Released>>,
}

impl LoopLocal {
    pub(crate) fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.spawner.spawn(task);
    }

    /// Keeps `client` alive on behalf of a `Send` handle; returns its id.
    pub(crate) fn hold_cap(&self, client: capnp::capability::Client) -> u64 {
        let id = self.next_cap.get() + 1;
        self.next_cap.set(id);
        self.caps.borrow_mut().insert(id, client);
        id
    }

    pub(crate) fn cap(&self, id: u64) -> Option<capnp::capability::Client> {
        self.caps.borrow().get(&id).cloned()
    }

    pub(crate) fn release_cap(&self, id: u64) -> Option<capnp::capability::Client> {
        self.caps.borrow_mut().remove(&id)
    }

    pub(crate) fn connection(&self, id: u64) -> Option<Rc<crate::connection::ConnectionCore>> {
        self.connections.borrow().get(&id).cloned()
    }

    /// Forgets the closed connection `conn`, remembering why it closed.
    pub(crate) fn remove_connection(&self, conn: &crate::connection::ConnectionCore) {
        self.connections.borrow_mut().remove(&conn.id);
        if conn.backlog.peer_abort().is_some() {
            let mut gone = self.gone.borrow_mut();
            if gone.len() == 16 {
                gone.pop_front();
            }
            gone.push_back((conn.id, conn.gone_error()));
        }
    }

    /// The error for using connection `id`, which is not open.
    pub(crate) fn gone_error(&self, id: u64) -> Error {
        match self.connection(id) {
            Some(conn) => conn.gone_error(),
            None => self
                .gone
                .borrow()
                .iter()
                .find(|(gone, _)| *gone == id)
                .map_or_else(|| Error::disconnected("the peer has disconnected"), |(_, e)| e.clone()),
        }
    }
}

impl std::ops::Deref for LoopState {
    type Target = Rc<LoopLocal>;
    fn deref(&self) -> &Rc<LoopLocal> {
        &self.local
    }
}

/// The `!Send` state, made movable between threads by the loop lock.
struct StateCell(LoopState);

// SAFETY: the `LoopState` is only reachable through `LoopShared::state`'s
// mutex guard, so at most one thread touches its `Rc`s and `RefCell`s at a
// time and the mutex orders those accesses. Nothing in it is tied to a thread
// (no thread-locals or thread ids in capnp/capnp-rpc/capnp-futures 0.27.3),
// and the API only lets `Send` values leave the guard. What the API puts
// into the state from outside is `Send` too (`with_state` closures, served
// objects: `ServerAdapter::Object` is `Send + Sync`, `listen`'s `make_init`
// and what it makes are `Send`), so no `Rc` or guard of one thread's is
// touched by another through it.
unsafe impl Send for StateCell {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Free,
    LoopThread,
    Thread(u64),
}

struct Sched {
    role: Role,
    candidates: VecDeque<Arc<Waiter>>,
    shutdown: bool,
    /// The backup thread sleeps longer than one tick (it saw one thread
    /// keep the role): a thread giving the role up after holding it for a
    /// tick or more wakes it.
    backup_dozing: bool,
    /// When the role went to its current holder thread.
    held_since: Instant,
}

/// What every thread shares about one loop.
pub(crate) struct LoopShared {
    id: u64,
    pub(crate) config: LoopConfig,
    state: Mutex<StateCell>,
    sched: Mutex<Sched>,
    loop_cv: Condvar,
    wake_fd: OwnedFd,
    /// The poller is (about to be) asleep in poll(2).
    sleeping: AtomicBool,
    /// A task was woken: the executor must run.
    needs_run: AtomicBool,
    /// The poller must look up: hand-off wanted, shutdown.
    attention: AtomicBool,
    /// Threads blocked waiting for the loop lock.
    lock_waiters: AtomicUsize,
    /// Set once the loop is shutting down (`Sched::shutdown`, readable
    /// without the scheduling lock).
    stopped: AtomicBool,
    /// An fd registration the sleeping poller does not watch.
    stale_poll_set: Arc<AtomicBool>,
    /// Work queued by code that could not take the lock at once (it runs on
    /// a loop already, or another thread holds the lock): proxy releases
    /// mostly.
    deferred: Mutex<Vec<LoopOp>>,
    /// Where released application objects are dropped.
    releaser: Arc<Releaser>,
    waker: OnceLock<Waker>,
}

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Ids of the loops whose lock this thread holds.
    static IN_LOOP: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

struct InLoop(u64);

impl InLoop {
    fn enter(id: u64) -> Self {
        let _ = IN_LOOP.try_with(|l| l.borrow_mut().push(id));
        Self(id)
    }
}

impl Drop for InLoop {
    fn drop(&mut self) {
        let _ = IN_LOOP.try_with(|l| {
            let mut l = l.borrow_mut();
            if let Some(pos) = l.iter().rposition(|&x| x == self.0) {
                l.remove(pos);
            }
        });
    }
}

struct LoopWaker(Weak<LoopShared>);

impl Wake for LoopWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(shared) = self.0.upgrade() {
            shared.needs_run.store(true, SeqCst);
            if !shared.is_current_thread_inside() {
                shared.wake_poller_if_sleeping();
                shared.loop_cv.notify_one();
            }
        }
    }
}

fn new_eventfd() -> Result<OwnedFd> {
    // SAFETY: eventfd has no memory-safety preconditions; the result is checked below.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::failed(format!("eventfd: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: `fd` was just returned by eventfd and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl LoopShared {
    fn new(config: LoopConfig) -> Result<Arc<Self>> {
        let stale = Arc::new(AtomicBool::new(false));
        let reactor = Reactor::new(stale.clone());
        let wake_fd = new_eventfd()?;
        let shared = Arc::new_cyclic(|weak: &Weak<LoopShared>| {
            let executor = Executor::default();
            let local = Rc::new(LoopLocal {
                shared: weak.clone(),
                reactor: Rc::new(RefCell::new(reactor)),
                spawner: executor.spawner(),
                caps: RefCell::new(HashMap::new()),
                next_cap: Cell::new(0),
                connections: RefCell::new(HashMap::new()),
                gone: RefCell::new(VecDeque::new()),
                threads: crate::thread::ThreadRegistry::default(),
                server_sets: RefCell::new(HashMap::new()),
                released: RefCell::new(Vec::new()),
            });
            LoopShared {
                id: NEXT_LOOP_ID.fetch_add(1, SeqCst),
                config,
                state: Mutex::new(StateCell(LoopState { executor, local })),
                sched: Mutex::new(Sched {
                    role: Role::Free,
                    candidates: VecDeque::new(),
                    shutdown: false,
                    backup_dozing: false,
                    held_since: Instant::now(),
                }),
                loop_cv: Condvar::new(),
                wake_fd,
                sleeping: AtomicBool::new(false),
                needs_run: AtomicBool::new(false),
                attention: AtomicBool::new(false),
                lock_waiters: AtomicUsize::new(0),
                stopped: AtomicBool::new(false),
                stale_poll_set: stale,
                deferred: Mutex::new(Vec::new()),
                releaser: Arc::default(),
                waker: OnceLock::new(),
            }
        });
        let _ = shared.waker.set(Waker::from(Arc::new(LoopWaker(Arc::downgrade(&shared)))));
        Ok(shared)
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether the calling thread holds this loop's lock (runs loop code).
    pub(crate) fn is_current_thread_inside(&self) -> bool {
        IN_LOOP.try_with(|l| l.borrow().contains(&self.id)).unwrap_or(false)
    }

    fn lock_sched(&self) -> MutexGuard<'_, Sched> {
        self.sched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The loop lock, if nobody holds it.
    fn try_lock_state(&self) -> Option<MutexGuard<'_, StateCell>> {
        match self.state.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Takes the loop lock, counted in `lock_waiters` while it waits.
    fn lock_state(&self) -> MutexGuard<'_, StateCell> {
        if let Some(guard) = self.try_lock_state() {
            return guard;
        }
        self.lock_waiters.fetch_add(1, SeqCst);
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.lock_waiters.fetch_sub(1, SeqCst);
        guard
    }

    /// Runs `f` on the loop state, then runs every ready task. Fails if the
    /// calling thread already runs loop code (the lock is not re-entrant).
    /// `f` and its result must be `Send`: that is what keeps `Rc`s and
    /// capnp objects from leaving the lock.
    pub(crate) fn with_state<R: Send>(&self, f: impl FnOnce(&mut LoopState) -> R + Send) -> Result<R> {
        if self.is_current_thread_inside() {
            return Err(Error::usage(
                "blocking IPC call made from code running on the event loop; \
                 methods without a Context parameter must not call out synchronously",
            ));
        }
        let guard = self.lock_state();
        Ok(self.run_locked(guard, f))
    }

    /// Runs, on the locked state: the work queued by [`defer`](Self::defer)
    /// (so `f` comes after it: a call made after a proxy was dropped reaches
    /// the peer after that proxy's release), then `f`, then the ready tasks.
    /// Once the lock is released, hands the application objects released
    /// meanwhile to the release thread.
    fn run_locked<R>(&self, mut guard: MutexGuard<'_, StateCell>, f: impl FnOnce(&mut LoopState) -> R) -> R {
        let inside = InLoop::enter(self.id);
        let state = &mut guard.0;
        self.run_deferred(state);
        let result = f(state);
        let finished = self.run_ready(state);
        if self.stopped.load(SeqCst) {
            // An `EventLoop` dropped by loop code queued its cleanup: it runs
            // before the lock is let go, whatever the budget left.
            self.run_deferred(state);
        }
        let released = std::mem::take(&mut *state.released.borrow_mut());
        drop(inside);
        drop(guard);
        self.releaser.send(released);
        if !finished {
            self.hand_over_rest();
        } else if self.stale_poll_set.load(SeqCst) {
            self.wake_poller_if_sleeping();
        }
        result
    }

    fn run_deferred(&self, state: &mut LoopState) {
        let ops = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        for op in ops {
            op(state);
        }
    }

    /// Queues `op` to run on the loop state without ever waiting for the
    /// loop lock: runs it at once if the lock is free, else leaves it to
    /// the thread holding the lock (or to the poller) and wakes that one.
    /// Proxy drops use it: application code drops proxies while holding its
    /// own locks, and the loop lock may be held by a thread that waits for
    /// one of them.
    pub(crate) fn defer(&self, op: LoopOp) {
        if self.is_current_thread_inside() {
            // The running executor pass picks it up.
            self.deferred.lock().unwrap_or_else(|p| p.into_inner()).push(op);
            self.needs_run.store(true, SeqCst);
            return;
        }
        // Inside another loop's lock, queue rather than run this loop's work
        // nested inside that loop's.
        let inside_any = IN_LOOP.try_with(|l| !l.borrow().is_empty()).unwrap_or(true);
        let guard = if inside_any { None } else { self.try_lock_state() };
        match guard {
            Some(guard) => self.run_locked(guard, op),
            None => self.defer_later(op),
        }
    }

    /// Queues `op` for the next executor pass and wakes whoever drives the
    /// loop, without touching the lock or any thread-local (safe from
    /// thread-local destructors).
    pub(crate) fn defer_later(&self, op: LoopOp) {
        self.deferred.lock().unwrap_or_else(|p| p.into_inner()).push(op);
        self.needs_run.store(true, SeqCst);
        self.wake_poller_if_sleeping();
        self.loop_cv.notify_one();
    }

    /// Runs ready tasks, at most [`MAX_PASSES`] executor passes; returns
    /// whether it ran out of work (else the rest is left flagged for the
    /// poller).
    fn run_ready(&self, state: &mut LoopState) -> bool {
        let Some(waker) = self.waker.get() else { return true };
        for _ in 0..MAX_PASSES {
            self.needs_run.store(false, SeqCst);
            self.run_deferred(state);
            state.executor.poll_ready(waker);
            if !self.needs_run.load(SeqCst) && !state.executor.has_incoming() {
                return true;
            }
        }
        self.needs_run.store(true, SeqCst);
        false
    }

    /// After a `with_state` left work behind: makes sure the poller sees it,
    /// and lets the threads waiting for the lock in before this one takes it
    /// again (a poller that drives a flood would otherwise retake the lock
    /// before a woken waiter is scheduled, every time).
    fn hand_over_rest(&self) {
        self.wake_poller_if_sleeping();
        self.loop_cv.notify_one();
        let deadline = Instant::now() + LET_IN_WAITERS;
        while self.lock_waiters.load(SeqCst) > 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    /// Writes the eventfd if the poller sleeps (or is about to).
    pub(crate) fn wake_poller_if_sleeping(&self) {
        if self.sleeping.load(SeqCst) {
            self.wake_poller();
        }
    }

    fn wake_poller(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
        let _ = unsafe { libc::write(self.wake_fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    fn drain_wake_fd(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64 from our own non-blocking eventfd.
        let _ = unsafe { libc::read(self.wake_fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
    }

    /// One round of polling: run ready tasks, sleep in poll(2) until a socket
    /// is ready or somebody wakes us, then run what became ready.
    fn poll_once(&self, me: Option<&Waiter>, outermost: bool) {
        let Ok(poll_set) = self.with_state(|st| st.reactor.borrow_mut().begin_poll()) else {
            return;
        };
        let mut fds: Vec<libc::pollfd> =
            poll_set.iter().map(|(fd, ev)| libc::pollfd { fd: *fd, events: ev.bits(), revents: 0 }).collect();
        fds.push(libc::pollfd { fd: self.wake_fd.as_raw_fd(), events: libc::POLLIN, revents: 0 });

        self.sleeping.store(true, SeqCst);
        let must_look = self.attention.load(SeqCst)
            || self.stale_poll_set.load(SeqCst)
            || me.is_some_and(|w| w.has_work(outermost));
        if !must_look {
            // With tasks still ready (a busy peer), only collect what the
            // sockets have without sleeping: skipping the poll would leave
            // every other socket unread for as long as the busy one keeps
            // the executor busy.
            let timeout = if self.needs_run.load(SeqCst) { 0 } else { -1 };
            // SAFETY: `fds` is a live, correctly sized array of pollfd. A listed fd
            // closed meanwhile yields POLLNVAL or a spurious wake, which the
            // reactor tolerates (futures re-check and re-register).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            let _ = n; // EINTR and errors: just look again.
        }
        self.sleeping.store(false, SeqCst);
        self.drain_wake_fd();

        let ready: Vec<(RawFd, PollFlags)> = fds[..fds.len() - 1]
            .iter()
            .filter(|p| p.revents != 0)
            .map(|p| (p.fd, PollFlags::from_bits_retain(p.revents)))
            .collect();
        let _ = self.with_state(|st| st.reactor.borrow_mut().end_poll(&ready));
    }

    /// Takes the poller role for `me`, or queues `me` as a candidate.
    fn try_take_role(self: &Arc<Self>, me: &Arc<Waiter>) -> bool {
        let mut sched = self.lock_sched();
        match sched.role {
            Role::Free => {
                sched.role = Role::Thread(me.id());
                sched.held_since = Instant::now();
                me.set_polling(Some(self.clone()));
                true
            }
            Role::Thread(id) if id == me.id() => true,
            Role::LoopThread => {
                sched.candidates.push_back(me.clone());
                self.attention.store(true, SeqCst);
                drop(sched);
                self.wake_poller();
                false
            }
            Role::Thread(_) => {
                sched.candidates.push_back(me.clone());
                false
            }
        }
    }

    fn leave_candidates(&self, me: &Waiter) -> bool {
        let mut sched = self.lock_sched();
        sched.candidates.retain(|c| c.id() != me.id());
        sched.role == Role::Thread(me.id())
    }

    /// Gives up the poller role, handing it to the first candidate if any.
    fn release_role(self: &Arc<Self>, me: Option<&Waiter>) {
        let mut sched = self.lock_sched();
        let who = me.map_or(Role::LoopThread, |w| Role::Thread(w.id()));
        if sched.role != who {
            return;
        }
        if let Some(w) = me {
            w.set_polling(None);
        }
        self.attention.store(false, SeqCst);
        match sched.candidates.pop_front() {
            Some(next) => {
                sched.role = Role::Thread(next.id());
                sched.held_since = Instant::now();
                next.grant(self.clone());
            }
            None => {
                sched.role = Role::Free;
                // Nobody watches the sockets now. A backup that saw this
                // thread hold the role for long checks only every few ticks
                // and would leave them so for up to 16 ticks: wake it. Not
                // after a short hold (a call): the backup would take the role
                // each time, and the next call would wait for it to hand the
                // role back, which costs as much as the hops saved.
                let long_hold =
                    who != Role::LoopThread && sched.held_since.elapsed() >= self.config.idle_tick;
                if long_hold && std::mem::take(&mut sched.backup_dozing) {
                    self.loop_cv.notify_one();
                }
            }
        }
        if sched.shutdown {
            self.attention.store(true, SeqCst);
        }
    }

    /// Blocks the calling thread until `done()` holds, running the work
    /// posted to it meanwhile and driving the loop when nobody else does.
    /// `outermost` is true only for a worker's top-level wait, the one place
    /// queued requests run (see [`JobKind`]).
    pub(crate) fn wait_until(
        self: &Arc<Self>,
        me: &Arc<Waiter>,
        outermost: bool,
        mut done: impl FnMut() -> bool,
    ) {
        // Gives the poller role back however this wait ends, a panic in loop
        // code included: a role left held would starve every other waiter.
        struct Role<'a> {
            shared: &'a Arc<LoopShared>,
            me: &'a Arc<Waiter>,
            held: bool,
        }
        impl Drop for Role<'_> {
            fn drop(&mut self) {
                if self.held {
                    self.shared.release_role(Some(self.me));
                }
            }
        }
        let mut role = Role { shared: self, me, held: false };
        loop {
            if let Some(posted) = me.pop(outermost) {
                if posted.may_block() && role.held {
                    self.release_role(Some(me));
                    role.held = false;
                }
                (posted.job)();
                continue;
            }
            if done() {
                break;
            }
            if self.stopped.load(SeqCst) {
                // A stopped loop has nothing to poll for: what a wait waits
                // for is posted when the shutdown drops the loop's tasks
                // (results fail, workers are closed). Polling would spin on
                // `attention`.
                if role.held {
                    self.release_role(Some(me));
                    role.held = false;
                }
                me.sleep(outermost);
                continue;
            }
            if !role.held {
                role.held = self.try_take_role(me);
                if !role.held {
                    let granted = me.sleep(outermost);
                    role.held = self.leave_candidates(me) || granted;
                    if role.held {
                        me.set_polling(Some(self.clone()));
                    }
                    continue;
                }
            }
            self.poll_once(Some(me), outermost);
        }
    }

    fn run_backup_poller(self: Arc<Self>) {
        loop {
            {
                let mut sched = self.lock_sched();
                // While one thread keeps the role, check less and less often
                // (up to 16 ticks): an idle child's main thread holds it for
                // good, and need not cost a wake-up every millisecond. Past
                // one tick, giving the role up wakes this thread
                // (`backup_dozing`).
                let mut tick = self.config.idle_tick.max(Duration::from_micros(100));
                let mut last_holder = sched.role;
                loop {
                    if sched.shutdown {
                        return;
                    }
                    if sched.role == Role::Free {
                        sched.role = Role::LoopThread;
                        sched.backup_dozing = false;
                        break;
                    }
                    if sched.role == last_holder {
                        tick = (tick * 2).min(self.config.idle_tick * 16);
                    } else {
                        tick = self.config.idle_tick;
                        last_holder = sched.role;
                    }
                    sched.backup_dozing = tick > self.config.idle_tick;
                    sched = self.loop_cv.wait_timeout(sched, tick).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
            loop {
                self.poll_once(None, true);
                let sched = self.lock_sched();
                if sched.shutdown || !sched.candidates.is_empty() {
                    drop(sched);
                    self.release_role(None);
                    break;
                }
                self.attention.store(false, SeqCst);
            }
        }
    }

    fn shut_down(&self) {
        let mut sched = self.lock_sched();
        sched.shutdown = true;
        self.stopped.store(true, SeqCst);
        self.attention.store(true, SeqCst);
        drop(sched);
        self.wake_poller();
        self.loop_cv.notify_all();
    }
}

/// Owner of an event loop, its `capnp-loop` thread and its `ipc-release`
/// thread. Dropping it disconnects every connection, fails every pending
/// call and drops the objects served on it.
#[derive(Debug)]
pub struct EventLoop {
    handle: LoopHandle,
    thread: Option<JoinHandle<()>>,
    release_thread: Option<JoinHandle<()>>,
}

/// A cheap, `Send + Sync` handle to an [`EventLoop`].
#[derive(Clone)]
pub struct LoopHandle {
    pub(crate) shared: Arc<LoopShared>,
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopHandle")
            .field("id", &self.shared.id)
            .field("name", &self.shared.config.name)
            .finish()
    }
}

impl EventLoop {
    /// Starts a loop with default settings.
    pub fn new() -> Result<Self> {
        Self::with_config(LoopConfig::default())
    }

    /// Starts a loop with `config`.
    pub fn with_config(config: LoopConfig) -> Result<Self> {
        let shared = LoopShared::new(config)?;
        let releaser = shared.releaser.clone();
        let release_thread = std::thread::Builder::new()
            .name("ipc-release".into())
            .spawn(move || releaser.run())
            .map_err(|e| Error::failed(format!("cannot start the ipc-release thread: {e}")))?;
        let backup = shared.clone();
        let thread =
            std::thread::Builder::new().name("capnp-loop".into()).spawn(move || backup.run_backup_poller());
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                shared.releaser.stop();
                return Err(Error::failed(format!("cannot start the capnp-loop thread: {e}")));
            }
        };
        Ok(Self { handle: LoopHandle { shared }, thread: Some(thread), release_thread: Some(release_thread) })
    }

    /// A handle for creating connections and proxies on this loop.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }
}

impl Drop for EventLoop {
    /// Stops the loop: see "Shutdown" in the module docs. Loop code may drop
    /// its own loop (an object owning it, dropped by a method without a
    /// Context): then the thread that drops it holds the loop lock further
    /// up its stack, so the cleanup is queued to run before that lock is let
    /// go, and neither thread is joined (the loop thread may be waiting for
    /// that lock, or be this very thread); both exit on their own.
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        // Lets the peers answer the `destroy` calls of proxies dropped just
        // before (bounded; see `DESTROY_REPLY_WAIT`).
        crate::connection::wait_for_destroys(shared, None);
        shared.shut_down();
        let inside = shared.is_current_thread_inside();
        let joinable = |t: &JoinHandle<()>| !inside && t.thread().id() != std::thread::current().id();
        if let Some(t) = self.thread.take() {
            if joinable(&t) {
                let _ = t.join();
            }
        }
        let releaser = shared.releaser.clone();
        let cleanup = move |st: &mut LoopState| {
            let connections = std::mem::take(&mut *st.connections.borrow_mut());
            for conn in connections.into_values() {
                conn.mark_disconnected();
            }
            st.threads.close_all();
            let caps = std::mem::take(&mut *st.caps.borrow_mut());
            drop(caps);
            st.executor.clear();
            // Every adapter dropped above has finished dropping: its object
            // may go to the release thread now, which then stops.
            releaser.send(std::mem::take(&mut *st.released.borrow_mut()));
            releaser.stop();
        };
        if inside {
            shared.defer(Box::new(cleanup));
        } else {
            let _ = shared.with_state(cleanup);
        }
        if let Some(t) = self.release_thread.take() {
            // Objects may own their event loop: the release thread may be
            // the one dropping it.
            if joinable(&t) {
                let _ = t.join();
            }
        }
    }
}

/// A future that completes after `duration` (timed by a short-lived
/// thread: the loop has no timers, and only rare paths need one).
pub(crate) fn delay(duration: Duration) -> futures::channel::oneshot::Receiver<()> {
    let (sender, receiver) = futures::channel::oneshot::channel();
    // If no thread can be started, the sender is dropped and the future
    // completes at once: a shorter pause, never a hang.
    let _ = std::thread::Builder::new().name("ipc-timer".into()).spawn(move || {
        std::thread::sleep(duration);
        let _ = sender.send(());
    });
    receiver
}
