//! Server threads: the `Thread` and `ThreadMap` capabilities and the worker
//! threads behind them.
//!
//! A client thread's first Context call on a connection asks the peer's
//! `ThreadMap.makeThread` for a server thread; the returned `Thread`
//! capability goes into `Context.thread` of every later call from that
//! client thread, so the calls of one client thread run, in order, on one
//! server thread. The client also sends a `Thread` capability for itself in
//! `Context.callbackThread`: calls the server makes back during the call run
//! on the waiting client thread.
//!
//! A worker thread lives until the peer releases its `Thread` capability
//! (or disconnects); then it finishes its queue and exits.

pub(crate) mod context;
mod map;
mod pool;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use capnp_rpc::CapabilityServerSet;

pub(crate) use map::new_thread_map;
pub(crate) use pool::start_pool;

use crate::event_loop::LoopShared;
use crate::proxy_capnp::thread;
use crate::waiter::Waiter;
use crate::{Error, Result};

/// A `Thread` capability served by this process.
pub(crate) struct ThreadServer {
    pub(crate) waiter: Arc<Waiter>,
    /// Present for worker threads started by `makeThread`: released with the capability.
    worker: Option<WorkerGuard>,
}

struct WorkerGuard {
    count: Rc<std::cell::Cell<usize>>,
}

impl Drop for ThreadServer {
    fn drop(&mut self) {
        if let Some(guard) = &self.worker {
            guard.count.set(guard.count.get().saturating_sub(1));
            self.waiter.close();
        }
    }
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
    servers: RefCell<CapabilityServerSet<ThreadServer, thread::Client>>,
    workers: RefCell<Vec<std::sync::Weak<Waiter>>>,
}

impl ThreadRegistry {
    /// A capability for an application thread's waiter (a callback thread).
    pub(crate) fn capability_for(&self, waiter: Arc<Waiter>) -> thread::Client {
        self.servers.borrow_mut().new_client(ThreadServer { waiter, worker: None })
    }

    /// The waiter behind a `Thread` capability, if this process created it.
    pub(crate) fn resolve(&self, client: &thread::Client) -> Option<Arc<Waiter>> {
        self.servers.borrow().get_local_server_of_resolved(client).map(|s| s.waiter.clone())
    }

    /// Starts a worker thread and returns its capability.
    pub(crate) fn start_worker(
        &self,
        shared: Weak<LoopShared>,
        name: String,
        count: Rc<std::cell::Cell<usize>>,
    ) -> Result<thread::Client> {
        let waiter = Arc::new(Waiter::new(name));
        let worker_waiter = waiter.clone();
        std::thread::Builder::new()
            .name("ipc-worker".into())
            .spawn(move || run_worker(shared, worker_waiter))
            .map_err(|e| Error::overloaded(format!("cannot start a server thread: {e}")))?;
        count.set(count.get() + 1);
        self.workers.borrow_mut().push(Arc::downgrade(&waiter));
        self.workers.borrow_mut().retain(|w| w.strong_count() > 0);
        let server = ThreadServer { waiter, worker: Some(WorkerGuard { count }) };
        Ok(self.servers.borrow_mut().new_client(server))
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
        shared.wait_until(&waiter, || waiter.is_closed());
    }
    // Run what was queued after the loop went away: each job fails its call.
    while let Some(posted) = waiter.pop() {
        (posted.job)();
    }
}
