//! The client half: a `Send + Sync` handle on a remote object whose
//! synchronous calls block the calling thread while it serves the loop.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use capnp::capability::{FromClientHook, Request, Response};
use capnp::traits::Owned;
use futures::future::LocalBoxFuture;

use super::{CallInfo, Interface};
use crate::connection::ConnectionCore;
use crate::convert::context::Link;
use crate::convert::{BuildContext, ReadContext};
use crate::event_loop::{block_on, LoopLocal, LoopShared};
use crate::internal_capnp::{context_slot, thread_map_slot};
use crate::waiter::InCall;
use crate::{logging, thread, Error, Result};

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A remote object of interface `C`. Generated proxies wrap one and
/// implement the Rust trait with it. Dropping it calls the interface's
/// `destroy` method if it has one, then releases the capability.
pub struct ProxyClient<C: Interface> {
    shared: Arc<LoopShared>,
    conn: u64,
    cap: u64,
    /// Tells this proxy's registry entry from a later one at the same address.
    pub(super) serial: u64,
    /// Address under which the proxy is registered (0: not registered).
    pub(super) registered_at: AtomicUsize,
    /// Set once the capability was sent back to its owner as itself (see
    /// `registry`): then the owner holds the same object again, and this
    /// proxy's drop only releases the capability. A `destroy` would release
    /// the object for every holder (servers release it on `destroy`), while
    /// C++ peers, which wrap a passed proxy in a new object, never share one.
    pub(super) handed_back: Arc<AtomicBool>,
    _interface: PhantomData<fn() -> C>,
}

impl<C: Interface> Debug for ProxyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyClient").field("interface", &C::NAME).field("connection", &self.conn).finish()
    }
}

/// Building a request: generated code fills the params through this.
pub struct ClientCall<'a> {
    info: &'static CallInfo,
    link: Link<'a>,
    values: BuildContext<'a>,
    shared: &'a LoopShared,
    thread: Option<u64>,
}

/// Reading a response: generated code reads the results through this.
pub struct ClientReply<'a> {
    info: &'static CallInfo,
    values: ReadContext<'a>,
}

impl<C: Interface> ProxyClient<C> {
    /// Wraps `client`, received on `link`'s connection. Runs on the loop.
    pub(crate) fn new(link: Link<'_>, client: C) -> Result<Self> {
        let shared =
            link.local.shared.upgrade().ok_or_else(|| Error::disconnected("the event loop has stopped"))?;
        let cap = link.local.hold_cap(capnp::capability::Client::new(client.into_client_hook()));
        link.conn.proxies.set(link.conn.proxies.get() + 1);
        Ok(Self {
            shared,
            conn: link.conn.id,
            cap,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            registered_at: AtomicUsize::new(0),
            handed_back: Arc::default(),
            _interface: PhantomData,
        })
    }

    pub(super) fn identity(&self) -> super::registry::Identity {
        super::registry::Identity { loop_id: self.shared.id(), conn: self.conn, cap: self.cap }
    }

    /// The underlying capability, if this proxy belongs to `ctx`'s loop and
    /// connection: then it can be sent back as it is instead of being wrapped.
    pub fn reuse_for(&self, ctx: &BuildContext<'_>) -> Option<C> {
        let link = ctx.link?;
        let same_loop = link.local.shared.upgrade().is_some_and(|s| Arc::ptr_eq(&s, &self.shared));
        if !same_loop || link.conn.id != self.conn {
            return None;
        }
        link.local.cap(self.cap).map(|c| C::new(c.hook))
    }

    /// Makes a synchronous call: `build` fills the request on the loop,
    /// `read` turns the response into a plain value on the loop, and the
    /// calling thread serves callbacks and the loop until the value arrives.
    pub fn call<P, Q, R>(
        &self,
        info: &'static CallInfo,
        build: impl FnOnce(&C, &mut ClientCall<'_>) -> Result<Request<P, Q>> + Send,
        read: impl FnOnce(Response<Q>, &mut ClientReply<'_>) -> Result<R> + Send + 'static,
    ) -> Result<R>
    where
        P: Owned + 'static,
        Q: Owned + capnp::traits::Pipelined + Unpin + 'static,
        <Q as capnp::traits::Pipelined>::Pipeline: capnp::capability::FromTypelessPipeline,
        R: Send + 'static,
    {
        let thread =
            if info.context { Some(thread::context::target_thread(&self.shared, self.conn)?) } else { None };
        // The call names this thread as its callback thread: the peer may
        // call back on it until the call returns, and only then.
        let _in_call = info.context.then(|| InCall::enter((self.shared.id(), self.conn)));
        let (conn_id, cap) = (self.conn, self.cap);
        let shared = &self.shared;
        block_on(shared, move |st| {
            let conn = live_connection(st, conn_id)?;
            let client = st
                .cap(cap)
                .map(|c| C::new(c.hook))
                .ok_or_else(|| Error::disconnected("capability released"))?;
            let link = Link { local: &st.local, conn: &conn };
            let mut call =
                ClientCall { info, link, values: BuildContext { link: Some(link) }, shared, thread };
            let request = build(&client, &mut call)?;
            let promise = request.send().promise;
            let local = st.local.clone();
            Ok(Box::pin(async move {
                // A remote error keeps its message as the implementation wrote it.
                let response = promise.await.map_err(Error::from)?;
                let link = Link { local: &local, conn: &conn };
                let mut reply = ClientReply { info, values: ReadContext { link: Some(link) } };
                read(response, &mut reply)
            }) as LocalBoxFuture<'static, Result<R>>)
        })
    }
}

/// Sends `construct(threadMap)` to the held capability `cap` of interface
/// `C`: our ThreadMap goes out, the peer's is kept (Context calls need it).
pub(crate) fn construct<C: Interface>(shared: &Arc<LoopShared>, conn_id: u64, cap: u64) -> Result<()> {
    {
        let Some(method) = C::CONSTRUCT else { return Ok(()) };
        block_on(shared, move |st| {
            let conn = live_connection(st, conn_id)?;
            let client = st.cap(cap).ok_or_else(|| Error::disconnected("capability released"))?;
            let mut request = client.new_call::<thread_map_slot::Owned, thread_map_slot::Owned>(
                C::INTERFACE_ID,
                method,
                None,
            );
            if let Some(map) = conn.local_thread_map() {
                request.get().set_thread_map(map);
            }
            log_send(C::NAME, "construct", &request.get().into_reader());
            let promise = request.send().promise;
            Ok(Box::pin(async move {
                let response =
                    promise.await.map_err(|e| Error::from(e).context(format!("{}.construct", C::NAME)))?;
                let results = response.get()?;
                log_recv(C::NAME, "construct", &results);
                let map = if results.has_thread_map() { Some(results.get_thread_map()?) } else { None };
                conn.set_remote_thread_map(map);
                Ok(())
            }) as LocalBoxFuture<'static, Result<()>>)
        })
    }
}

fn live_connection(st: &LoopLocal, id: u64) -> Result<Rc<ConnectionCore>> {
    match st.connection(id) {
        Some(conn) if !conn.is_disconnected() => Ok(conn),
        _ => Err(st.gone_error(id)),
    }
}

fn log_send(interface: &str, method: &str, params: &dyn Debug) {
    crate::logging::ipc_debug!(
        "IPC client send {interface}.{method}$Params ({})",
        logging::message_text(params)
    );
}

fn log_recv(interface: &str, method: &str, results: &dyn Debug) {
    crate::logging::ipc_debug!(
        "IPC client recv {interface}.{method}$Results ({})",
        logging::message_text(results)
    );
}

impl<C: Interface> Drop for ProxyClient<C> {
    /// Sends `destroy` (when the interface has it) and releases the
    /// capability, without waiting for the answer: a drop never blocks, and
    /// later calls on the same connection still arrive after it. A failed
    /// destroy (the peer is gone) is only logged. Closing the connection
    /// or dropping the loop waits (bounded) for the answer, and the call's
    /// Context always names a server thread (see `ConnectionCore::destroy_thread`).
    fn drop(&mut self) {
        super::registry::unregister(self.registered_at.load(Ordering::SeqCst), self.serial);
        let (cap, conn_id) = (self.cap, self.conn);
        // The Context of the destroy call: C++ servers run destroy on a
        // thread like any method. This thread's own server thread if it has
        // one, else the connection's (not a callback thread of a call being
        // served: the destroy goes out after a drop, not inside the call).
        let thread = thread::context::cached_own_mapping(self.shared.id(), conn_id);
        let own = thread::context::cached_own_thread(self.shared.id());
        let destroy = C::DESTROY.filter(|_| !self.handed_back.load(Ordering::SeqCst));
        self.shared.defer(Box::new(move |st| {
            if let Some(conn) = st.connection(conn_id) {
                conn.proxies.set(conn.proxies.get().saturating_sub(1));
            }
            if let Some(method) = destroy {
                let live = live_connection(&st.local, conn_id);
                if let (Ok(conn), Some(client)) = (live, st.cap(cap)) {
                    let thread = thread.filter(|t| st.cap(*t).is_some()).or_else(|| conn.destroy_thread(st));
                    let mut request = client.new_call::<context_slot::Owned, capnp::any_pointer::Owned>(
                        C::INTERFACE_ID,
                        method,
                        None,
                    );
                    {
                        let mut context = request.get().init_context();
                        if let Some(t) = thread.and_then(|t| st.cap(t)) {
                            context.set_thread(crate::proxy_capnp::thread::Client::new(t.hook));
                        }
                        if let Some(t) = own.and_then(|t| st.cap(t)) {
                            context.set_callback_thread(crate::proxy_capnp::thread::Client::new(t.hook));
                        }
                    }
                    log_send(C::NAME, "destroy", &request.get().into_reader());
                    let promise = request.send().promise;
                    conn.destroy_sent();
                    st.spawn(Box::pin(async move {
                        if let Err(e) = promise.await {
                            crate::logging::ipc_debug!("IPC {}.destroy failed: {e}", C::NAME);
                        }
                        conn.destroy_answered();
                    }));
                }
            }
            st.release_cap(cap);
        }));
    }
}

impl<'a> ClientCall<'a> {
    /// Fills the Context parameter: the server thread to run on and this
    /// thread as the callback thread.
    pub fn build_context(&mut self, mut context: crate::proxy_capnp::context::Builder<'_>) -> Result<()> {
        if let Some(thread) = self.thread.and_then(|cap| self.link.local.cap(cap)) {
            context.set_thread(crate::proxy_capnp::thread::Client::new(thread.hook));
        }
        let own = thread::context::own_thread(self.link.local);
        if let Some(me) = self.link.local.cap(own) {
            context.set_callback_thread(crate::proxy_capnp::thread::Client::new(me.hook));
        }
        Ok(())
    }

    /// The context for converting argument values.
    pub fn values(&mut self) -> &mut BuildContext<'a> {
        &mut self.values
    }

    /// Checks the finished params against the size limit and logs them.
    pub fn finish_params(&mut self, params: &dyn Debug, size: capnp::MessageSize) -> Result<()> {
        let bytes = size.word_count as usize * 8;
        let limit = self.shared.config.max_outgoing_bytes;
        if bytes > limit {
            return Err(Error::overloaded(format!(
                "{}: arguments of {bytes} bytes exceed the {limit}-byte message limit",
                self.info
            )));
        }
        crate::logging::ipc_debug!(
            "IPC client send {}.{}$Params ({})",
            self.info.interface,
            self.info.method,
            logging::message_text(params)
        );
        Ok(())
    }
}

impl<'a> ClientReply<'a> {
    /// Logs the results.
    pub fn log_results(&mut self, results: &dyn Debug) {
        crate::logging::ipc_debug!(
            "IPC client recv {}.{}$Results ({})",
            self.info.interface,
            self.info.method,
            logging::message_text(results)
        );
    }

    /// The context for converting result values.
    pub fn values(&mut self) -> &mut ReadContext<'a> {
        &mut self.values
    }
}

impl Debug for ClientCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCall").field("call", &self.info).finish()
    }
}

impl Debug for ClientReply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientReply").field("call", &self.info).finish()
    }
}
