//! Server threads: the `Thread` and `ThreadMap` capabilities and the worker
//! threads behind them.
//!
//! A client thread's first Context call on a connection asks the peer's
//! `ThreadMap.makeThread` for a server thread; the returned `Thread`
//! capability goes into `Context.thread` of every later call from that
//! client thread, so the calls of one client thread run, in order, on one
//! server thread. The client also sends a `Thread` capability for itself in
//! `Context.callbackThread`: calls the server makes back during the call run
//! on the waiting client thread. The peer keeps that capability (the
//! connection reuses it across calls), but calls on it are accepted only
//! while the thread waits in a call to that peer; any other is answered
//! `thread busy` (see `waiter`).
//!
//! A worker thread lives until the peer releases its `Thread` capability
//! (or disconnects); then it finishes its queue and exits.

pub(crate) mod context;
mod map;
mod pool;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::proxy::server_set::ServerSet;

pub(crate) use map::new_thread_map;
pub(crate) use pool::start_pool;
use CountedThread as Counted;

use crate::event_loop::LoopShared;
use crate::proxy_capnp::thread;
use crate::waiter::Waiter;
use crate::{Error, Result};

/// A `Thread` capability served by this process.
pub(crate) struct ThreadServer {
    pub(crate) waiter: Arc<Waiter>,
    /// A worker started by `makeThread` (exits when this capability is
    /// released), as opposed to an application thread's callback thread.
    worker: bool,
}

impl Drop for ThreadServer {
    fn drop(&mut self) {
        if self.worker {
            self.waiter.close();
        }
    }
}

/// Live server threads (workers and pool threads) of one connection:
/// counted until the OS thread exits, not until its capability goes, so a
/// peer cannot exceed the limit by releasing threads that are still busy.
pub(crate) type ThreadCount = Arc<AtomicUsize>;

/// Live server threads of the whole process, counted like [`ThreadCount`].
static PROCESS_THREADS: AtomicUsize = AtomicUsize::new(0);

/// One server thread, counted in its connection's and the process's count
/// until it is dropped (when the OS thread exits, or was never started).
struct CountedThread(ThreadCount);

impl Drop for CountedThread {
    fn drop(&mut self) {
        unreserve_threads(&self.0, 1);
    }
}

fn reserve(count: &AtomicUsize, n: usize, limit: usize) -> std::result::Result<(), usize> {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
            c.checked_add(n).filter(|total| *total <= limit)
        })
        .map(|_| ())
}

/// Reserves `n` threads of the connection's `count` and of the process's,
/// against `config`'s limits, or says which limit refuses them.
pub(crate) fn reserve_threads(count: &ThreadCount, n: usize, config: &crate::LoopConfig) -> Result<()> {
    let (process, per_connection) = (config.max_server_threads, config.max_threads_per_connection);
    reserve(&PROCESS_THREADS, n, process).map_err(|current| {
        Error::overloaded(format!(
            "too many server threads in this process: it has {current} of at most {process}"
        ))
    })?;
    reserve(count, n, per_connection).map_err(|current| {
        PROCESS_THREADS.fetch_sub(n, Ordering::SeqCst);
        Error::overloaded(format!(
            "too many server threads: this connection has {current} of at most {per_connection}"
        ))
    })
}

/// Gives back `n` threads reserved by [`reserve_threads`].
pub(crate) fn unreserve_threads(count: &ThreadCount, n: usize) {
    count.fetch_sub(n, Ordering::SeqCst);
    PROCESS_THREADS.fetch_sub(n, Ordering::SeqCst);
}

impl thread::Server for ThreadServer {
    fn get_name(
        self: capnp::capability::Rc<Self>,
        _params: thread::GetNameParams,
        mut results: thread::GetNameResults,
    ) -> impl std::future::Future<Output = std::result::Result<(), capnp::Error>> + 'static {
        results.get().set_result(self.waiter.name());
        std::future::ready(Ok(()))
    }
}

/// The loop's `Thread` capabilities, so one that comes back in a Context is
/// recognised as ours.
#[derive(Default)]
pub(crate) struct ThreadRegistry {
    servers: RefCell<ServerSet<ThreadServer>>,
    workers: RefCell<Vec<std::sync::Weak<Waiter>>>,
}

impl ThreadRegistry {
    /// A capability for an application thread's waiter (a callback thread).
    pub(crate) fn capability_for(&self, waiter: Arc<Waiter>) -> thread::Client {
        self.servers.borrow_mut().new_client(ThreadServer { waiter, worker: false })
    }

    /// The waiter behind a `Thread` capability, if this process created it,
    /// and whether it is a worker (requests queue) or a callback thread
    /// (requests run inside the call the thread is waiting in).
    /// A promise that has resolved counts as what it resolved to.
    pub(crate) fn resolve(&self, client: &thread::Client) -> Option<(Arc<Waiter>, bool)> {
        let mut hook = client.client.hook.add_ref();
        while let Some(resolved) = hook.get_resolved() {
            hook = resolved;
        }
        let settled = thread::Client { client: capnp::capability::Client::new(hook) };
        self.servers.borrow().get_local_server_of_resolved(&settled).map(|s| (s.waiter.clone(), s.worker))
    }

    /// Starts a worker thread counted in `count` (already reserved by the
    /// caller) and returns its capability.
    pub(crate) fn start_worker(
        &self,
        shared: Weak<LoopShared>,
        name: String,
        count: ThreadCount,
    ) -> Result<thread::Client> {
        let waiter = Arc::new(Waiter::new(name));
        let worker_waiter = waiter.clone();
        let counted = CountedThread(count);
        // The thread names itself in the waiter before the first request can be posted to it,
        // so every "post request" line names the serving thread (a wait of microseconds).
        let (started, has_started) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("ipc-worker".into())
            .spawn(move || {
                let _counted = counted;
                worker_waiter.set_serving_thread();
                let _ = started.send(());
                run_worker(shared, worker_waiter);
            })
            .map_err(|e| Error::overloaded(format!("cannot start a server thread: {e}")))?;
        let _ = has_started.recv();
        let mut workers = self.workers.borrow_mut();
        workers.retain(|w| w.strong_count() > 0);
        workers.push(Arc::downgrade(&waiter));
        drop(workers);
        Ok(self.servers.borrow_mut().new_client(ThreadServer { waiter, worker: true }))
    }

    /// Tells every worker to exit (loop shutdown).
    pub(crate) fn close_all(&self) {
        for w in self.workers.borrow_mut().drain(..) {
            if let Some(w) = w.upgrade() {
                w.close();
            }
        }
    }
}

fn run_worker(shared: Weak<LoopShared>, waiter: Arc<Waiter>) {
    crate::waiter::install_current(waiter.clone());
    if let Some(shared) = shared.upgrade() {
        shared.wait_until(&waiter, true, || waiter.is_closed());
    }
    // Jobs queued after the loop went away are dropped unrun: nobody could
    // receive their results.
    while waiter.pop(true).is_some() {}
}
