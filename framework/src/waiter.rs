//! Per-thread mailboxes: how work reaches a thread that is blocked in a call.
//!
//! Every thread that calls through a proxy, and every server worker thread,
//! owns one [`Waiter`]. While the thread waits for a result it runs what
//! others post to its waiter: the result itself, or a callback that the
//! remote side made during the call and that must run on this very thread
//! (so nested and re-entrant calls never deadlock). While it has nothing to
//! run, the thread may drive the event loop itself (see
//! [`LoopShared::wait_until`](crate::event_loop::LoopShared::wait_until)),
//! which is what keeps a call free of thread hand-offs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::event_loop::LoopShared;

/// Work posted to a thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// What a posted job is, which decides where a waiting thread may run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// Hands over a call's result: quick, runs at any depth.
    Result,
    /// A request made to this thread while it waits in a call of its own (a
    /// callback): runs at any depth, it is what the waiting call waits for.
    Nested,
    /// A request queued on a worker thread: runs only from the worker's
    /// outermost wait, so queued requests keep their arrival order and never
    /// run inside another request that is making a call.
    Queued,
}

/// A posted job and its kind.
pub(crate) struct Posted {
    pub(crate) job: Job,
    pub(crate) kind: JobKind,
}

impl Posted {
    /// Whether it runs user code that may block for long.
    pub(crate) fn may_block(&self) -> bool {
        self.kind != JobKind::Result
    }
}

#[derive(Default)]
pub(crate) struct WaiterInner {
    pub(crate) queue: VecDeque<Posted>,
    /// The loop whose poller role this thread holds: posting must wake the
    /// thread through that loop's eventfd, not the condvar.
    pub(crate) polling: Option<Arc<LoopShared>>,
    /// Set when another thread handed this thread the poller role.
    pub(crate) granted: bool,
    /// A worker whose `Thread` capability was released exits once idle.
    pub(crate) closed: bool,
}

/// A thread's mailbox.
pub(crate) struct Waiter {
    id: u64,
    name: String,
    inner: Mutex<WaiterInner>,
    cv: Condvar,
}

static NEXT_WAITER_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CURRENT: std::cell::OnceCell<Arc<Waiter>> = const { std::cell::OnceCell::new() };
}

/// Makes `waiter` the calling thread's waiter (worker threads, at start).
pub(crate) fn install_current(waiter: Arc<Waiter>) {
    CURRENT.with(|c| {
        let _ = c.set(waiter);
    });
}

impl Waiter {
    pub(crate) fn new(name: String) -> Self {
        Self {
            id: NEXT_WAITER_ID.fetch_add(1, Ordering::Relaxed),
            name,
            inner: Mutex::new(WaiterInner::default()),
            cv: Condvar::new(),
        }
    }

    /// The calling thread's waiter.
    pub(crate) fn current() -> Arc<Waiter> {
        CURRENT.with(|c| c.get_or_init(|| Arc::new(Waiter::new(crate::logging::thread_label()))).clone())
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, WaiterInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job` to run on this waiter's thread and wakes the thread,
    /// wherever it sleeps.
    pub(crate) fn post(&self, job: Job, kind: JobKind) {
        let mut inner = self.lock();
        inner.queue.push_back(Posted { job, kind });
        self.wake_locked(&inner);
    }

    fn wake_locked(&self, inner: &WaiterInner) {
        match &inner.polling {
            Some(lp) => lp.wake_poller_if_sleeping(),
            None => self.cv.notify_one(),
        }
    }

    /// Marks a worker's waiter closed: its thread exits once its queue is
    /// empty. Wakes every thread sleeping on it (a pool has several).
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        if let Some(lp) = &inner.polling {
            lp.wake_poller_if_sleeping();
        }
        self.cv.notify_all();
    }

    /// The next job this wait may run: any job at the outermost level,
    /// else the first that is not a queued request.
    pub(crate) fn pop(&self, outermost: bool) -> Option<Posted> {
        let mut inner = self.lock();
        if outermost {
            return inner.queue.pop_front();
        }
        let pos = inner.queue.iter().position(|p| p.kind != JobKind::Queued)?;
        inner.queue.remove(pos)
    }

    fn runnable(inner: &WaiterInner, outermost: bool) -> bool {
        if outermost {
            !inner.queue.is_empty() || inner.closed
        } else {
            inner.queue.iter().any(|p| p.kind != JobKind::Queued)
        }
    }

    pub(crate) fn has_work(&self, outermost: bool) -> bool {
        Self::runnable(&self.lock(), outermost)
    }

    /// Sleeps until there is work this wait may run or the poller role is
    /// handed over. Returns whether the role was handed over.
    pub(crate) fn sleep(&self, outermost: bool) -> bool {
        let mut inner = self.lock();
        while !Self::runnable(&inner, outermost) && !inner.granted {
            inner = self.cv.wait(inner).unwrap_or_else(|p| p.into_inner());
        }
        std::mem::take(&mut inner.granted)
    }

    /// Hands this thread the poller role of `lp` (called under the loop's
    /// scheduling lock).
    pub(crate) fn grant(&self, lp: Arc<LoopShared>) {
        let mut inner = self.lock();
        inner.polling = Some(lp);
        inner.granted = true;
        self.cv.notify_one();
    }

    pub(crate) fn set_polling(&self, lp: Option<Arc<LoopShared>>) {
        let mut inner = self.lock();
        inner.polling = lp;
        if inner.polling.is_none() {
            inner.granted = false;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter").field("id", &self.id).field("name", &self.name).finish()
    }
}
