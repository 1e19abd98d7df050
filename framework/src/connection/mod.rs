//! A Cap'n Proto RPC connection over a unix stream, on one event loop.
//!
//! Each connection has its own `RpcSystem` task, the peer's bootstrap
//! capability, the `ThreadMap` this process hands the peer, and the peer's
//! `ThreadMap` (received through `construct`). When the stream closes, the
//! connection is marked disconnected, every pending call on it fails with a
//! disconnected error, and its disconnect hooks run.
//!
//! # Limits
//!
//! The connection runs on a transport of its own (`transport`; the wire
//! framing is Cap'n Proto's, so any peer talks to it) that bounds what a
//! peer can make it hold, with these [`LoopConfig`](crate::LoopConfig)
//! settings (defaults in brackets; the reasons are on the fields):
//! - `max_message_bytes` [64 MiB]: the largest incoming message. `read`
//!   takes the segment table, then grows the body buffer as bytes arrive
//!   (never beyond about twice what has arrived), so a peer that declares
//!   a large message and stalls costs a small constant.
//! - `max_queued_bytes` [8 MiB]: messages (replies, mostly) waiting for
//!   the peer to read them, each counted as its size plus 1 KiB (`write`
//!   charges them until their last byte is in the socket).
//! - `max_pending_calls` [1024]: the peer's calls not yet answered, or
//!   answered with capabilities and not yet finished.
//!
//! What happens over a limit (`backlog`), step by step:
//! 1. Before reading each message, a connection this process *serves*
//!    (accepted by [`listen`](crate::LoopHandle::listen) or made by
//!    [`serve_stream`](crate::LoopHandle::serve_stream)) checks the counts.
//!    Over a limit (or holding more than `max_message_bytes` of received
//!    messages, e.g. calls queued behind a promise), it does not read: the
//!    peer's writes block once the kernel buffers fill. Nothing is lost.
//! 2. Whatever lowers a count (a reply leaves the process, a call is
//!    answered, a received message is dropped) wakes the paused reader once
//!    every count is back under its limit; a well-behaved peer that reads
//!    its replies therefore only ever waits briefly.
//! 3. A paused reader still watches for the peer hanging up, which ends the
//!    connection at once (without reading on), and a failed write ends
//!    pausing, so a peer that leaves while paused is noticed and its
//!    connection closes.
//! 4. A connection this process *made* (`connect_stream`) counts but never
//!    pauses: it trusts the server it chose, and as one side of every
//!    connection always reads, two processes of this framework can never
//!    wait on each other.
//!
//! Closing (either side) writes what the socket takes at once and drops the
//! rest, so a peer that never reads cannot keep a closing connection alive.
//! A peer's `Abort` reason is kept: calls made afterwards report it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::{twoparty, RpcSystem};
use futures::channel::oneshot;
use futures::FutureExt;

mod backlog;
mod read;
mod transport;
mod write;

pub(crate) use backlog::Backlog;

use crate::event_loop::{stream, LoopHandle, LoopLocal, LoopShared};
use crate::proxy_capnp::thread_map;
use crate::waiter::Waiter;
use crate::{Error, Result};

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct ConnectionCore {
    pub(crate) id: u64,
    disconnected: Cell<bool>,
    /// The peer's bootstrap capability, until the connection closes: it
    /// holds capnp-rpc's connection state, which holds our bootstrap object,
    /// which holds this; letting go of it on disconnect breaks that cycle.
    bootstrap: RefCell<Option<capnp::capability::Client>>,
    /// The ThreadMap this process serves to the peer.
    pub(crate) thread_map: RefCell<Option<thread_map::Client>>,
    remote_thread_map: RefCell<Option<thread_map::Client>>,
    pub(crate) pool: RefCell<Option<Arc<Waiter>>>,
    /// Server threads (workers and pool) serving this connection.
    pub(crate) thread_count: crate::thread::ThreadCount,
    disconnect_hooks: RefCell<Vec<Box<dyn FnOnce()>>>,
    disconnector: RefCell<Option<capnp_rpc::Disconnector<twoparty::VatId>>>,
    /// Callback threads the peer named in Contexts, kept for the life of the
    /// connection (hook identity -> held capability id): dropping one after
    /// every call would cost a `Release` message and a wake-up per call.
    callback_threads: RefCell<HashMap<usize, u64>>,
    /// What the peer has outstanding here (queued replies, unfinished calls).
    pub(crate) backlog: Rc<Backlog>,
    /// Objects served to the peer on this connection (the bootstrap object
    /// included) and proxies of the peer's objects, alive now.
    pub(crate) servers: Cell<usize>,
    pub(crate) proxies: Cell<usize>,
    /// A server thread of the peer's for `destroy` calls from threads that
    /// have none on this connection (held capability id), made on first use.
    destroy_thread: Cell<Option<u64>>,
    /// `destroy` calls sent and not answered yet, and who waits for none
    /// to be left (closing waits for them: see `wait_for_destroys`).
    pending_destroys: Cell<usize>,
    destroys_settled: RefCell<Vec<oneshot::Sender<()>>>,
}

/// How long closing a connection (or dropping its loop) waits for the
/// answers to the `destroy` calls it sent. A C++ libmultiprocess server
/// whose client disconnects while it runs a `destroy` deadlocks, so a
/// client lets them finish; bounded, because a peer that does not answer
/// must not keep this process from closing.
const DESTROY_REPLY_WAIT: Duration = Duration::from_secs(2);

/// Most callback threads remembered per connection; beyond it (a peer with
/// that many threads) each call's capability is released after the call.
const MAX_CACHED_CALLBACK_THREADS: usize = 1024;

impl ConnectionCore {
    /// Closes the socket and marks the connection disconnected.
    pub(crate) fn close(&self, local: &LoopLocal) {
        if let Some(disconnector) = self.disconnector.borrow_mut().take() {
            local.spawn(disconnector.map(|_| ()).boxed_local());
        }
        self.mark_disconnected();
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.disconnected.get()
    }

    /// The error for using this connection once the peer is gone: with the
    /// reason the peer gave, if any (an `Overloaded` one, e.g. a server at
    /// its connection limit, keeps its kind).
    pub(crate) fn gone_error(&self) -> Error {
        match self.backlog.peer_abort() {
            Some(abort) => {
                let abort = Error::from(abort);
                Error::new(abort.kind(), format!("the peer closed the connection: {}", abort.message()))
            }
            None => Error::disconnected("the peer has disconnected"),
        }
    }

    /// Whether the peer uses nothing here but its bootstrap object: no other
    /// object of ours, no proxy of ours on its objects, no call unfinished.
    pub(crate) fn is_unused(&self) -> bool {
        self.servers.get() <= 1 && self.proxies.get() == 0 && !self.backlog.has_pending_calls()
    }

    /// The peer's bootstrap capability, while connected.
    pub(crate) fn remote_bootstrap(&self) -> Option<capnp::capability::Client> {
        self.bootstrap.borrow().clone()
    }

    pub(crate) fn remote_thread_map(&self) -> Option<thread_map::Client> {
        self.remote_thread_map.borrow().clone()
    }

    pub(crate) fn set_remote_thread_map(&self, map: Option<thread_map::Client>) {
        *self.remote_thread_map.borrow_mut() = map;
    }

    pub(crate) fn local_thread_map(&self) -> Option<thread_map::Client> {
        self.thread_map.borrow().clone()
    }

    /// The held capability id for a `Context.callbackThread` the peer sent,
    /// and whether it is kept by the connection (else the caller releases it).
    pub(crate) fn hold_callback_thread(
        &self,
        local: &LoopLocal,
        client: capnp::capability::Client,
    ) -> (u64, bool) {
        let key = client.hook.get_ptr();
        if let Some(cap) = self.callback_threads.borrow().get(&key) {
            return (*cap, true);
        }
        let cap = local.hold_cap(client);
        let mut cache = self.callback_threads.borrow_mut();
        if cache.len() < MAX_CACHED_CALLBACK_THREADS && !self.disconnected.get() {
            cache.insert(key, cap);
            return (cap, true);
        }
        (cap, false)
    }

    /// The `Context.thread` for a `destroy` sent by a thread that has no
    /// server thread on this connection: C++ servers run `destroy` on a
    /// thread like any method with a Context, and refuse one without a
    /// thread (`no thread specified and no pool configured`). A `destroy`
    /// may not wait for a `makeThread` answer (a proxy drop never blocks),
    /// so the first one asks for a thread and names the answer's promised
    /// capability (pipelined; servers wait for it to resolve).
    pub(crate) fn destroy_thread(&self, local: &LoopLocal) -> Option<u64> {
        if let Some(cap) = self.destroy_thread.get().filter(|cap| local.cap(*cap).is_some()) {
            return Some(cap);
        }
        let map = self.remote_thread_map()?;
        let name = local.shared.upgrade().map_or_else(String::new, |s| s.config.name.clone());
        let mut request = map.make_thread_request();
        request.get().set_name(format!("{name}/ipc-destroy").as_str());
        let response = request.send();
        let cap = local.hold_cap(response.pipeline.get_result().client);
        // Kept until answered: the pipelined capability needs the question.
        local.spawn(Box::pin(async move {
            if let Err(e) = response.promise.await {
                crate::logging::ipc_debug!("IPC makeThread for destroy calls failed: {e}");
            }
        }));
        self.destroy_thread.set(Some(cap));
        Some(cap)
    }

    /// Counts a `destroy` call sent on this connection.
    pub(crate) fn destroy_sent(&self) {
        self.pending_destroys.set(self.pending_destroys.get() + 1);
    }

    /// Counts a `destroy` call answered (or failed).
    pub(crate) fn destroy_answered(&self) {
        let left = self.pending_destroys.get().saturating_sub(1);
        self.pending_destroys.set(left);
        if left == 0 {
            for settled in self.destroys_settled.borrow_mut().drain(..) {
                let _ = settled.send(());
            }
        }
    }

    /// Completes once no `destroy` call of this connection waits for its
    /// answer; `None` if none does now.
    fn destroys_settled(&self) -> Option<oneshot::Receiver<()>> {
        if self.pending_destroys.get() == 0 || self.disconnected.get() {
            return None;
        }
        let (sender, receiver) = oneshot::channel();
        self.destroys_settled.borrow_mut().push(sender);
        Some(receiver)
    }

    pub(crate) fn on_disconnect(&self, hook: Box<dyn FnOnce()>) {
        if self.disconnected.get() {
            hook();
        } else {
            self.disconnect_hooks.borrow_mut().push(hook);
        }
    }

    pub(crate) fn mark_disconnected(&self) {
        if self.disconnected.replace(true) {
            return;
        }
        self.bootstrap.borrow_mut().take();
        self.remote_thread_map.borrow_mut().take();
        self.thread_map.borrow_mut().take();
        if let Some(pool) = self.pool.borrow_mut().take() {
            pool.close();
        }
        let hooks = std::mem::take(&mut *self.disconnect_hooks.borrow_mut());
        for hook in hooks {
            hook();
        }
    }
}

/// Starts RPC on `stream` inside the loop. `bootstrap` is what the peer
/// gets when it asks for our bootstrap capability.
pub(crate) fn add_connection(
    local: &Rc<LoopLocal>,
    stream: UnixStream,
    bootstrap: Option<capnp::capability::Client>,
    side: Side,
) -> Result<Rc<ConnectionCore>> {
    let Some(shared) = local.shared.upgrade() else {
        return Err(Error::disconnected("the event loop has stopped"));
    };
    let (reader, writer) = stream::split(stream, local.reactor.clone())
        .map_err(|e| Error::failed(format!("cannot use the socket: {e}")))?;
    let config = &shared.config;
    let mut options = capnp::message::ReaderOptions::new();
    options.traversal_limit_in_words(Some(config.max_message_bytes / 8));
    let backlog = Rc::new(Backlog::new(backlog::Limits {
        max_queued_bytes: config.max_queued_bytes,
        max_held_bytes: config.max_message_bytes,
        max_pending_calls: config.max_pending_calls.max(1),
        pause: side == Side::Server,
    }));
    let network =
        transport::Network::new(reader, writer, side, options, config.max_message_bytes, backlog.clone());
    let mut rpc = RpcSystem::new(Box::new(network), bootstrap);
    let peer_side = if side == Side::Client { Side::Server } else { Side::Client };
    let remote_bootstrap: capnp::capability::Client = rpc.bootstrap(peer_side);
    let conn = Rc::new(ConnectionCore {
        id: NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed),
        disconnected: Cell::new(false),
        bootstrap: RefCell::new(Some(remote_bootstrap)),
        thread_map: RefCell::new(None),
        remote_thread_map: RefCell::new(None),
        pool: RefCell::new(None),
        thread_count: Default::default(),
        disconnect_hooks: RefCell::new(Vec::new()),
        disconnector: RefCell::new(Some(rpc.get_disconnector())),
        callback_threads: RefCell::new(HashMap::new()),
        backlog,
        servers: Cell::new(0),
        proxies: Cell::new(0),
        destroy_thread: Cell::new(None),
        pending_destroys: Cell::new(0),
        destroys_settled: RefCell::new(Vec::new()),
    });
    conn.backlog.conn_id.set(conn.id);
    let release_local = Rc::downgrade(local);
    let release_conn = Rc::downgrade(&conn);
    conn.on_disconnect(Box::new(move || {
        if let (Some(local), Some(conn)) = (release_local.upgrade(), release_conn.upgrade()) {
            for cap in std::mem::take(&mut *conn.callback_threads.borrow_mut()).into_values() {
                local.release_cap(cap);
            }
            if let Some(cap) = conn.destroy_thread.take() {
                local.release_cap(cap);
            }
        }
    }));
    *conn.thread_map.borrow_mut() = Some(crate::thread::new_thread_map(local, &conn));
    local.connections.borrow_mut().insert(conn.id, conn.clone());
    crate::logging::ipc_debug!("IPC server: socket connected.");

    let weak_local = Rc::downgrade(local);
    let weak_conn = Rc::downgrade(&conn);
    local.spawn(
        rpc.map(move |outcome| {
            if let Err(e) = outcome {
                crate::logging::ipc_debug!("IPC connection error: {e}");
            }
            crate::logging::ipc_debug!("IPC server: socket disconnected.");
            if let Some(conn) = weak_conn.upgrade() {
                conn.mark_disconnected();
                if let Some(local) = weak_local.upgrade() {
                    local.remove_connection(&conn);
                }
            }
        })
        .boxed_local(),
    );
    Ok(conn)
}

/// A connection to a peer process. Cheap to clone, `Send + Sync`.
/// Proxies keep working until the peer goes away; [`Connection::disconnect`]
/// or dropping the [`EventLoop`](crate::EventLoop) closes it early.
#[derive(Debug, Clone)]
pub struct Connection {
    pub(crate) handle: LoopHandle,
    pub(crate) id: u64,
}

impl Connection {
    /// Whether the peer is gone.
    pub fn is_disconnected(&self) -> bool {
        self.handle
            .shared
            .with_state(|st| st.connection(self.id).is_none_or(|c| c.is_disconnected()))
            .unwrap_or(true)
    }

    /// Blocks until the peer disconnects, serving the loop meanwhile (a
    /// child process's main thread calls this after it starts serving).
    pub fn wait_disconnected(&self) {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        let me = Waiter::current();
        let waiter = me.clone();
        let registered = self.handle.shared.with_state(|st| match st.connection(self.id) {
            Some(conn) => conn.on_disconnect(Box::new(move || {
                flag.store(true, Ordering::SeqCst);
                waiter.post(Box::new(|| {}), crate::waiter::JobKind::Result);
            })),
            None => flag.store(true, Ordering::SeqCst),
        });
        if registered.is_err() {
            return;
        }
        self.handle.shared.wait_until(&me, false, || done.load(Ordering::SeqCst));
    }

    /// Closes the connection: pending calls fail with a disconnected error.
    /// First waits, up to 2 seconds, for the answers to the `destroy` calls
    /// that dropped proxies sent on it (a C++ server must not see its client
    /// leave in the middle of one).
    pub fn disconnect(&self) {
        wait_for_destroys(&self.handle.shared, Some(self.id));
        let _ = self.handle.shared.with_state(|st| {
            let conn = st.connections.borrow_mut().remove(&self.id);
            if let Some(conn) = conn {
                conn.close(st);
            }
        });
    }
}

/// Blocks, serving the loop, until the `destroy` calls sent on connection
/// `only` (or on every connection of the loop) are answered, at most
/// [`DESTROY_REPLY_WAIT`]. Does nothing on loop code, which must not block.
pub(crate) fn wait_for_destroys(shared: &Arc<LoopShared>, only: Option<u64>) {
    if shared.is_current_thread_inside() {
        return;
    }
    let me = Waiter::current();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, waiter) = (done.clone(), me.clone());
    let waiting = shared.with_state(move |st| {
        let settled: Vec<oneshot::Receiver<()>> = st
            .connections
            .borrow()
            .values()
            .filter(|c| only.is_none_or(|id| c.id == id))
            .filter_map(|c| c.destroys_settled())
            .collect();
        if settled.is_empty() {
            return false;
        }
        let all = futures::future::join_all(settled);
        let timeout = crate::event_loop::delay(DESTROY_REPLY_WAIT);
        st.spawn(Box::pin(async move {
            let _ = futures::future::select(all, timeout).await;
            flag.store(true, Ordering::SeqCst);
            waiter.post(Box::new(|| {}), crate::waiter::JobKind::Result);
        }));
        true
    });
    if waiting == Ok(true) {
        shared.wait_until(&me, false, || done.load(Ordering::SeqCst));
    }
}
