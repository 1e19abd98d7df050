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
//!
//! # Callbacks only during a call
//!
//! A thread's callback thread capability (the `Context.callbackThread` it
//! sends) stays with the peer after the call (a peer of this framework
//! keeps it per connection for the next calls). The peer may still only
//! use it while the thread waits in a call to that peer, the one time the
//! thread is there to run the callback:
//! 1. Before a call with a Context, the caller notes the connection in its
//!    waiter ([`InCall::enter`]); the note goes when the call returns.
//! 2. A request naming the callback thread is posted only if, under the
//!    waiter's lock, a call to the connection it came from is noted
//!    ([`Waiter::post_callback`]); otherwise it is answered `thread busy`.
//! 3. When the last note for a connection goes, callbacks from it that were
//!    accepted but not run (the peer sent them as our call was returning)
//!    are taken out of the queue, under the same lock, and dropped: they
//!    are answered `thread busy` too.
//!
//! So a callback either runs while the thread waits for its peer or is
//! refused at once; it never waits in an idle thread's mailbox (the peer's
//! call would hang, and what it holds would leak), and never runs inside a
//! call to another peer or after the calls to its own have returned.

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

/// A connection a thread is calling: (loop id, connection id).
pub(crate) type CallKey = (u64, u64);

/// A posted job and its kind.
pub(crate) struct Posted {
    pub(crate) job: Job,
    pub(crate) kind: JobKind,
    /// For a callback, the connection it came from.
    from: Option<CallKey>,
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
    /// The connections this thread waits in a call to, innermost last: the
    /// peers that may call back on it now.
    calls: Vec<CallKey>,
}

/// A thread's mailbox.
pub(crate) struct Waiter {
    id: u64,
    name: String,
    /// How `-debug=ipc` names the thread that serves this waiter, as libmultiprocess does:
    /// `{<exe>-<pid>/<thread>-<tid> (from <client thread name>)}`; set by a worker thread as
    /// it starts.
    tag: std::sync::OnceLock<String>,
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
            tag: std::sync::OnceLock::new(),
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

    /// Records the serving thread's tag (see the field); called on that thread.
    pub(crate) fn set_serving_thread(&self) {
        let tag = crate::logging::current_tag();
        let inside = tag.trim_start_matches('{').trim_end_matches('}');
        let _ = self.tag.set(format!("{{{inside} (from {})}}", self.name));
    }

    /// The serving thread's tag once known, else the client's name for the thread.
    pub(crate) fn log_name(&self) -> &str {
        self.tag.get().map_or(&self.name, String::as_str)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, WaiterInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job` to run on this waiter's thread and wakes the thread,
    /// wherever it sleeps.
    pub(crate) fn post(&self, job: Job, kind: JobKind) {
        let mut inner = self.lock();
        inner.queue.push_back(Posted { job, kind, from: None });
        self.wake_locked(&inner);
    }

    /// Queues a callback that came from connection `from` if this thread
    /// waits in a call to it; else gives the job back (the caller refuses
    /// the request).
    pub(crate) fn post_callback(&self, job: Job, from: CallKey) -> Result<(), Job> {
        let mut inner = self.lock();
        if !inner.calls.contains(&from) {
            return Err(job);
        }
        inner.queue.push_back(Posted { job, kind: JobKind::Nested, from: Some(from) });
        self.wake_locked(&inner);
        Ok(())
    }

    /// Notes that this thread waits in a call to `to` (peers' callbacks
    /// from it are accepted until the matching [`Waiter::leave_call`]).
    fn enter_call(&self, to: CallKey) {
        self.lock().calls.push(to);
    }

    /// Ends the innermost call to `to`. If no outer call to it remains,
    /// takes out the callbacks from it that were accepted but not run: the
    /// caller drops them (outside the lock: dropping a job drops what it
    /// captured, proxies included), which answers them as refused.
    fn leave_call(&self, to: CallKey) -> Vec<Posted> {
        let mut inner = self.lock();
        if let Some(pos) = inner.calls.iter().rposition(|c| *c == to) {
            inner.calls.remove(pos);
        }
        if inner.calls.contains(&to) || !inner.queue.iter().any(|p| p.from == Some(to)) {
            return Vec::new();
        }
        let mut stale = Vec::new();
        for posted in std::mem::take(&mut inner.queue) {
            if posted.from == Some(to) {
                stale.push(posted);
            } else {
                inner.queue.push_back(posted);
            }
        }
        stale
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

/// The calling thread waiting in a call to a connection, for as long as it
/// lives: the peer may call back on the thread meanwhile (see the module
/// doc). Made before a call with a Context is sent, dropped after it
/// returned, however it ends.
pub(crate) struct InCall {
    waiter: Arc<Waiter>,
    to: CallKey,
}

impl InCall {
    /// Notes that the calling thread is about to wait in a call to `to`.
    pub(crate) fn enter(to: CallKey) -> Self {
        let waiter = Waiter::current();
        waiter.enter_call(to);
        Self { waiter, to }
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        let stale = self.waiter.leave_call(self.to);
        drop(stale);
    }
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter").field("id", &self.id).field("name", &self.name).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use super::*;

    const PEER: CallKey = (1, 7);
    const OTHER_PEER: CallKey = (1, 8);

    /// A callback job that counts its runs and its drops.
    fn callback(runs: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> Job {
        struct Dropped(Arc<AtomicUsize>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let (runs, dropped) = (runs.clone(), Dropped(drops.clone()));
        Box::new(move || {
            let _dropped = dropped;
            runs.fetch_add(1, SeqCst);
        })
    }

    fn run_all(waiter: &Waiter) {
        while let Some(posted) = waiter.pop(false) {
            (posted.job)();
        }
    }

    #[test]
    fn a_callback_is_refused_unless_the_thread_waits_in_a_call_to_its_peer() {
        let waiter = Waiter::new("app".into());
        let (runs, drops) = (Arc::default(), Arc::default());
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_err(), "idle");
        waiter.enter_call(OTHER_PEER);
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_err(), "in a call to another peer");
        waiter.enter_call(PEER);
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_ok());
        run_all(&waiter);
        assert!(waiter.leave_call(PEER).is_empty());
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_err(), "after the call");
        assert!(waiter.leave_call(OTHER_PEER).is_empty());
        assert_eq!(runs.load(SeqCst), 1);
    }

    #[test]
    fn callbacks_not_run_when_the_call_ends_are_taken_out_of_the_queue() {
        let waiter = Waiter::new("app".into());
        let (runs, drops) = (Arc::default(), Arc::default());
        let (other_runs, other_drops) = (Arc::default(), Arc::default());
        waiter.enter_call(OTHER_PEER);
        waiter.enter_call(PEER);
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_ok());
        assert!(waiter.post_callback(callback(&other_runs, &other_drops), OTHER_PEER).is_ok());
        waiter.post(Box::new(|| ()), JobKind::Result);
        let stale = waiter.leave_call(PEER);
        assert_eq!(stale.len(), 1);
        drop(stale);
        assert_eq!((runs.load(SeqCst), drops.load(SeqCst)), (0, 1), "dropped unrun");
        // The outer call's callback and the result stay, in order.
        assert_eq!(waiter.pop(false).map(|p| p.kind), Some(JobKind::Nested));
        assert_eq!(waiter.pop(false).map(|p| p.kind), Some(JobKind::Result));
        assert!(waiter.pop(false).is_none());
        assert_eq!(other_drops.load(SeqCst), 1);
    }

    #[test]
    fn a_nested_call_to_the_same_peer_keeps_the_outer_calls_callbacks() {
        let waiter = Waiter::new("app".into());
        let (runs, drops) = (Arc::default(), Arc::default());
        waiter.enter_call(PEER);
        waiter.enter_call(PEER);
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_ok());
        assert!(waiter.leave_call(PEER).is_empty(), "the outer call still waits");
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_ok());
        run_all(&waiter);
        assert_eq!(runs.load(SeqCst), 2);
        assert!(waiter.leave_call(PEER).is_empty());
        assert!(waiter.post_callback(callback(&runs, &drops), PEER).is_err());
    }
}
