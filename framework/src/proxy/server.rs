//! The server half: generated adapters hand each incoming request to
//! [`ServerBase::serve`], which decodes it on the loop, runs the method on
//! the thread the request's Context names (or inline, for methods without a
//! Context), and encodes the outcome on the loop.

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use capnp::capability::{Params, Results};
use capnp::traits::Owned;
use futures::channel::oneshot;

use super::CallInfo;
use crate::connection::ConnectionCore;
use crate::convert::context::Link;
use crate::convert::{BuildContext, ReadContext};
use crate::event_loop::{LoopLocal, Released};
use crate::internal_capnp::thread_map_slot;
use crate::thread::context::{with_frame, RequestFrame};
use crate::waiter::{Job, JobKind, Waiter};
use crate::{logging, Error, Result};

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// What every generated server adapter holds: where it serves, and a
/// reference to the object served, which outlives the adapter so that the
/// object is dropped on the release thread, never by loop code (see
/// `event_loop/release.rs`).
pub struct ServerBase {
    local: Rc<LoopLocal>,
    conn: Rc<ConnectionCore>,
    /// Taken by `destroy` or, failing that, when the adapter is dropped.
    keep: RefCell<Option<Released>>,
}

/// The object a generated adapter serves, until the peer calls `destroy`
/// (then calls on the adapter fail, as on a C++ server whose object is gone).
pub struct Served<T>(RefCell<Option<T>>);

impl<T: Clone> Served<T> {
    /// Serves `object`.
    pub fn new(object: T) -> Self {
        Self(RefCell::new(Some(object)))
    }

    /// The object, for one call.
    pub fn get(&self) -> Result<T> {
        self.0.borrow().clone().ok_or_else(|| Error::failed("the object was destroyed"))
    }

    /// The object, if still served; taken by `destroy`.
    pub fn take(&self) -> Option<T> {
        self.0.borrow_mut().take()
    }
}

impl<T> Debug for Served<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served").field("destroyed", &self.0.borrow().is_none()).finish()
    }
}

impl Debug for ServerBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBase").field("connection", &self.conn.id).finish()
    }
}

enum Target {
    Inline,
    Thread(Arc<Waiter>, JobKind),
    /// A `Context.thread` that is a promise not resolved yet, e.g. the
    /// pipelined result of a `makeThread` sent just before: the call waits
    /// for it (C++ servers do too).
    Promised(crate::proxy_capnp::thread::Client),
}

/// Decoding a request: generated code reads the params through this.
pub struct ServerCall<'a> {
    info: &'static CallInfo,
    request: u64,
    link: Link<'a>,
    values: ReadContext<'a>,
    target: Option<Target>,
    callback_thread: Option<u64>,
    /// The callback thread capability is this call's alone: release it after.
    release_callback_thread: bool,
}

/// Encoding a reply: generated code fills the results through this.
pub struct ServerReply<'a> {
    info: &'static CallInfo,
    request: u64,
    values: BuildContext<'a>,
}

type Outcome = std::result::Result<(), capnp::Error>;

impl ServerBase {
    /// The base of an adapter serving `object` (a second reference to it).
    pub(crate) fn new(link: Link<'_>, object: Released) -> Self {
        link.conn.servers.set(link.conn.servers.get() + 1);
        Self { local: link.local.clone(), conn: link.conn.clone(), keep: RefCell::new(Some(object)) }
    }

    /// Serves one request. `decode` reads the params and returns the method
    /// call as a `Send` closure; `encode` writes its value into the results.
    pub fn serve<P, Q, Run, T, E>(
        &self,
        info: &'static CallInfo,
        params: Params<P>,
        mut results: Results<Q>,
        decode: impl FnOnce(P::Reader<'_>, &mut ServerCall<'_>) -> Result<Run>,
        encode: impl FnOnce(T, Q::Builder<'_>, &mut ServerReply<'_>) -> Result<()> + 'static,
    ) -> impl Future<Output = Outcome> + 'static
    where
        P: Owned + 'static,
        Q: Owned + 'static,
        Run: FnOnce() -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let request = NEXT_REQUEST.fetch_add(1, SeqCst);
        let link = Link { local: &self.local, conn: &self.conn };
        // Releases the call's own callback-thread capability however the
        // call ends, decoding errors included.
        let mut release = ReleaseOnDrop { local: self.local.clone(), cap: None };
        let decoded = (|| -> Result<(Run, Target, Option<u64>)> {
            let reader = params.get()?;
            let mut call = ServerCall {
                info,
                request,
                link,
                values: ReadContext { link: Some(link) },
                target: None,
                callback_thread: None,
                release_callback_thread: false,
            };
            let run = decode(reader, &mut call);
            release.cap = call.callback_thread.filter(|_| call.release_callback_thread);
            let target = call.target.take().unwrap_or(Target::Inline);
            Ok((run?, target, call.callback_thread))
        })();
        let local = self.local.clone();
        let conn = self.conn.clone();
        let loop_id = local.shared.upgrade().map_or(0, |s| s.id());
        async move {
            let _release = release;
            let (run, target, callback_thread) =
                decoded.map_err(|e| capnp::Error::from(in_method(e, info)))?;
            let target = match target {
                Target::Promised(thread) => {
                    let settled = capnp::capability::get_resolved_cap(thread).await;
                    match local.threads.resolve(&settled) {
                        Some((waiter, is_worker)) => Target::Thread(waiter, thread_kind(is_worker)),
                        None => return Err(Error::failed("invalid thread handle").into()),
                    }
                }
                target => target,
            };
            let value = match target {
                Target::Inline | Target::Promised(_) => run_method(info, run),
                Target::Thread(waiter, kind) => {
                    let (sender, receiver) = oneshot::channel();
                    let cancelled = Arc::new(AtomicBool::new(false));
                    let mut guard = CancelOnDrop { cancelled: cancelled.clone(), request, armed: true };
                    crate::logging::ipc_debug!("IPC server post request  #{request} {}", waiter.log_name());
                    let shared = local.shared.clone();
                    let conn_id = conn.id;
                    let job: Job = Box::new(move || {
                        if cancelled.load(SeqCst) {
                            return;
                        }
                        let frame = RequestFrame { loop_id, conn_id, callback_thread, cancelled };
                        let value = with_frame(frame, || run_method(info, run));
                        // Deliver under the loop lock: the reply is encoded
                        // and written by this thread, no hand-off.
                        match shared.upgrade() {
                            Some(shared) => {
                                let _ = shared.with_state(move |_| sender.send(value));
                            }
                            None => drop(sender),
                        }
                    });
                    if kind == JobKind::Nested {
                        // A callback thread takes calls only from the peer
                        // it is waiting on (see `waiter`'s module doc).
                        if let Err(job) = waiter.post_callback(job, (loop_id, conn_id)) {
                            guard.armed = false;
                            drop(job);
                            return Err(thread_busy(request, &waiter).into());
                        }
                    } else {
                        waiter.post(job, kind);
                    }
                    let value = receiver.await;
                    guard.armed = false;
                    value.map_err(|_| match kind {
                        // Accepted as our call was returning, dropped unrun.
                        JobKind::Nested => thread_busy(request, &waiter),
                        _ => Error::disconnected("the server thread exited before running the call"),
                    })?
                }
            };
            let value = value.map_err(capnp::Error::from)?;
            let link = Link { local: &local, conn: &conn };
            let mut reply = ServerReply { info, request, values: BuildContext { link: Some(link) } };
            encode(value, results.get(), &mut reply).map_err(|e| capnp::Error::from(in_method(e, info)))?;
            Ok(())
        }
    }

    /// Serves `construct(threadMap) -> (threadMap)`: keeps the peer's
    /// ThreadMap (it may send none) and answers with ours. Traced as a
    /// request of its own, as libmultiprocess does (a new client's
    /// `construct` is its first request).
    pub fn construct<P: Owned + 'static, Q: Owned + 'static>(
        &self,
        interface: &'static str,
        params: Params<P>,
        mut results: Results<Q>,
    ) -> impl Future<Output = Outcome> + 'static {
        let request = NEXT_REQUEST.fetch_add(1, SeqCst);
        crate::logging::ipc_debug!("IPC server recv request  #{request} {interface}.construct$Params");
        let outcome = (|| -> Outcome {
            let reader = params.hook.get()?.get_as::<thread_map_slot::Reader<'_>>()?;
            let map = if reader.has_thread_map() { Some(reader.get_thread_map()?) } else { None };
            self.conn.set_remote_thread_map(map);
            let mut out = results.hook.get()?.init_as::<thread_map_slot::Builder<'_>>();
            if let Some(ours) = self.conn.local_thread_map() {
                out.set_thread_map(ours);
            }
            Ok(())
        })();
        crate::logging::ipc_debug!("IPC server send response #{request} {interface}.construct$Results");
        std::future::ready(outcome)
    }

    /// Serves `destroy` as C++ servers do: the object served (`object`, the
    /// adapter's reference, and the base's own) is released now, not when
    /// the peer lets go of the capability, so that what its `Drop` releases
    /// goes too (proxies it holds send their own `destroy`: chained
    /// destroys). It is dropped on the release thread like any released
    /// object, and the reply waits for that drop, as a C++ destroy returns
    /// after the object's destructor ran. Later calls fail.
    pub fn destroy<P: Owned + 'static, Q: Owned + 'static, O: Send + 'static>(
        &self,
        interface: &'static str,
        _params: Params<P>,
        _results: Results<Q>,
        object: Option<O>,
    ) -> impl Future<Output = Outcome> + 'static {
        crate::logging::ipc_debug!("IPC server destroy {interface}");
        let (dropped, done) = oneshot::channel::<()>();
        let keep = self.keep.borrow_mut().take();
        // Fields drop in order: the objects, then the sender, whose drop
        // tells the reply to go.
        self.local.released.borrow_mut().push(Box::new((object, keep, dropped)));
        async move {
            let _ = done.await;
            Ok(())
        }
    }
}

impl Drop for ServerBase {
    fn drop(&mut self) {
        self.conn.servers.set(self.conn.servers.get().saturating_sub(1));
        if let Some(object) = self.keep.get_mut().take() {
            self.local.released.borrow_mut().push(object);
        }
    }
}

/// Names the method in conversion errors; other errors (the Context ones
/// WIRE.md spells out, the implementation's own) keep their exact text.
fn in_method(e: Error, info: &CallInfo) -> Error {
    if e.kind() == crate::ErrorKind::Conversion {
        e.context(info)
    } else {
        e
    }
}

fn run_method<T, E: std::fmt::Display + 'static>(
    info: &CallInfo,
    run: impl FnOnce() -> std::result::Result<T, E>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Error::new(crate::error::kind_of_app_error(&e), e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(target: logging::TARGET, "{info} panicked: {message}");
            Err(Error::failed(format!("{info} panicked: {message}")))
        }
    }
}

/// The refusal of a request on one of our callback threads that is not
/// waiting in a call to the requesting peer: libmultiprocess's words for a
/// request its thread cannot take.
fn thread_busy(request: u64, waiter: &Waiter) -> Error {
    crate::logging::ipc_debug!(
        "IPC server error request #{request} {{{}}}, thread busy (it is not waiting in a call to this peer)",
        waiter.name()
    );
    Error::failed("thread busy")
}

/// How requests are posted to a thread: queued on a worker, nested on a
/// callback thread (which takes them only while it waits in a call).
fn thread_kind(is_worker: bool) -> JobKind {
    if is_worker {
        JobKind::Queued
    } else {
        JobKind::Nested
    }
}

/// Releases a call's own callback-thread capability however the call ends.
struct ReleaseOnDrop {
    local: Rc<LoopLocal>,
    cap: Option<u64>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Some(cap) = self.cap.take() {
            self.local.release_cap(cap);
        }
    }
}

/// Marks a request cancelled when the RPC layer drops it before the worker
/// answered (the caller cancelled or disconnected).
struct CancelOnDrop {
    cancelled: Arc<AtomicBool>,
    request: u64,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.cancelled.store(true, SeqCst);
            crate::logging::ipc_debug!("IPC server request #{} canceled while executing.", self.request);
        }
    }
}

impl<'a> ServerCall<'a> {
    /// Logs the params.
    pub fn log_params(&mut self, params: &dyn Debug) {
        crate::logging::ipc_debug!(
            "IPC server recv request  #{} {}.{}$Params ({})",
            self.request,
            self.info.interface,
            self.info.method,
            logging::message_text(params)
        );
    }

    /// Reads the Context: the call will run on the thread it names, or on
    /// the connection's pool if it names none.
    pub fn read_context(&mut self, context: crate::proxy_capnp::context::Reader<'_>) -> Result<()> {
        if context.has_callback_thread() {
            let callback = context.get_callback_thread()?;
            let (cap, kept) = self.link.conn.hold_callback_thread(self.link.local, callback.client);
            self.callback_thread = Some(cap);
            self.release_callback_thread = !kept;
        }
        if !context.has_thread() {
            let pool = self.link.conn.pool.borrow().clone();
            return match pool {
                Some(pool) => {
                    self.target = Some(Target::Thread(pool, JobKind::Queued));
                    Ok(())
                }
                None => Err(Error::failed("no thread specified and no pool configured")),
            };
        }
        let thread = context.get_thread()?;
        match self.link.local.threads.resolve(&thread) {
            Some((waiter, is_worker)) => {
                self.target = Some(Target::Thread(waiter, thread_kind(is_worker)));
                Ok(())
            }
            None if thread.client.hook.when_more_resolved().is_some() => {
                self.target = Some(Target::Promised(thread));
                Ok(())
            }
            None => Err(Error::failed("invalid thread handle")),
        }
    }

    /// The context for converting argument values.
    pub fn values(&mut self) -> &mut ReadContext<'a> {
        &mut self.values
    }
}

impl<'a> ServerReply<'a> {
    /// Logs the results.
    pub fn log_results(&mut self, results: &dyn Debug) {
        crate::logging::ipc_debug!(
            "IPC server send response #{} {}.{}$Results ({})",
            self.request,
            self.info.interface,
            self.info.method,
            logging::message_text(results)
        );
    }

    /// The context for converting result values.
    pub fn values(&mut self) -> &mut BuildContext<'a> {
        &mut self.values
    }
}

impl Debug for ServerCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCall").field("call", &self.info).field("request", &self.request).finish()
    }
}

impl Debug for ServerReply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerReply").field("call", &self.info).field("request", &self.request).finish()
    }
}
