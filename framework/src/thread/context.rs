//! Per-thread IPC state: which server thread this thread maps to on each
//! connection, the `Thread` capability that names this thread to peers, and
//! the requests this thread is serving right now (innermost last).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use crate::event_loop::{block_on, LoopShared};
use crate::waiter::Waiter;
use crate::{Error, Result};

/// A request being served on this thread.
pub(crate) struct RequestFrame {
    pub(crate) loop_id: u64,
    pub(crate) conn_id: u64,
    /// Held capability id of the caller's `Context.callbackThread`.
    pub(crate) callback_thread: Option<u64>,
    pub(crate) cancelled: Arc<AtomicBool>,
}

#[derive(Default)]
struct ThreadState {
    /// (loop, connection) -> held capability id of our server thread there.
    remote_threads: HashMap<(u64, u64), (Weak<LoopShared>, u64)>,
    /// loop -> held capability id of this thread's own `Thread`.
    own_thread: HashMap<u64, (Weak<LoopShared>, u64)>,
    frames: Vec<RequestFrame>,
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        let held = self.remote_threads.drain().map(|(_, v)| v).chain(self.own_thread.drain().map(|(_, v)| v));
        for (shared, cap) in held {
            if let Some(shared) = shared.upgrade() {
                shared.defer_later(Box::new(move |st| {
                    st.release_cap(cap);
                }));
            }
        }
    }
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState::default());
}

/// Runs `f` with `frame` as the innermost request of this thread.
pub(crate) fn with_frame<R>(frame: RequestFrame, f: impl FnOnce() -> R) -> R {
    STATE.with(|s| s.borrow_mut().frames.push(frame));
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            let _ = STATE.try_with(|s| s.borrow_mut().frames.pop());
        }
    }
    let _pop = Pop;
    f()
}

/// Whether the request this thread is serving was cancelled by its caller
/// (the caller went away or gave up). Long-running implementations may poll
/// this and return early; their result would be discarded anyway.
pub fn is_cancelled() -> bool {
    STATE.with(|s| s.borrow().frames.last().is_some_and(|f| f.cancelled.load(Ordering::SeqCst)))
}

/// The `Context.thread` to use for a call from this thread on `conn`: the
/// caller's callback thread while serving a request from that same
/// connection (so callbacks run on the waiting caller), else this thread's
/// own server thread on the peer, created on first use.
pub(crate) fn target_thread(shared: &Arc<LoopShared>, conn: u64) -> Result<u64> {
    let key = (shared.id(), conn);
    let found = STATE.with(|s| {
        let s = s.borrow();
        let from_frame = s
            .frames
            .last()
            .filter(|f| f.loop_id == key.0 && f.conn_id == conn)
            .and_then(|f| f.callback_thread);
        from_frame.or_else(|| s.remote_threads.get(&key).map(|(_, cap)| *cap))
    });
    if let Some(cap) = found {
        return Ok(cap);
    }
    let name = crate::logging::thread_tag(&shared.config.name);
    let cap = block_on(shared, move |st| {
        let connection =
            st.connection(conn).ok_or_else(|| Error::disconnected("the connection is closed"))?;
        let thread_map = connection.remote_thread_map().ok_or_else(|| {
            Error::failed("the peer sent no ThreadMap (construct was not called or returned none)")
        })?;
        let mut request = thread_map.make_thread_request();
        request.get().set_name(name.as_str());
        let promise = request.send().promise;
        let local = st.local.clone();
        Ok(Box::pin(async move {
            let response = promise.await?;
            let thread = response.get()?.get_result()?;
            Ok(local.hold_cap(thread.client))
        }) as futures::future::LocalBoxFuture<'static, Result<u64>>)
    })?;
    STATE.with(|s| s.borrow_mut().remote_threads.insert(key, (Arc::downgrade(shared), cap)));
    Ok(cap)
}

/// This thread's own `Thread` capability on the loop (the callback thread
/// it sends); created on first use. Runs under the loop lock.
pub(crate) fn own_thread(local: &crate::event_loop::LoopLocal) -> u64 {
    let Some(shared) = local.shared.upgrade() else { return 0 };
    let id = shared.id();
    if let Some(cap) = STATE.with(|s| s.borrow().own_thread.get(&id).map(|(_, c)| *c)) {
        return cap;
    }
    let client = local.threads.capability_for(Waiter::current());
    let cap = local.hold_cap(client.client);
    STATE.with(|s| s.borrow_mut().own_thread.insert(id, (Arc::downgrade(&shared), cap)));
    cap
}

/// The server thread this thread made for itself on `conn`, if any.
pub(crate) fn cached_own_mapping(loop_id: u64, conn: u64) -> Option<u64> {
    STATE.try_with(|s| s.borrow().remote_threads.get(&(loop_id, conn)).map(|(_, cap)| *cap)).ok().flatten()
}

/// This thread's own `Thread` capability on the loop, if it made one.
pub(crate) fn cached_own_thread(loop_id: u64) -> Option<u64> {
    STATE.try_with(|s| s.borrow().own_thread.get(&loop_id).map(|(_, c)| *c)).ok().flatten()
}
