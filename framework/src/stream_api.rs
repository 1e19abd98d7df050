//! Serving and connecting over an already-open unix stream.

use std::os::unix::net::UnixStream;

use capnp::capability::FromClientHook;
use capnp_rpc::rpc_twoparty_capnp::Side;
use futures::FutureExt;

use crate::connection::{add_connection, Connection};
use crate::convert::context::Link;
use crate::convert::{BuildContext, FromCapability, ReadContext, ToCapability};
use crate::event_loop::LoopHandle;
use crate::proxy::Interface;
use crate::{Error, Result};

impl LoopHandle {
    /// Serves `init` as the bootstrap object of a new connection on `stream`.
    /// The returned [`Connection`] tells when the peer leaves.
    pub fn serve_stream<C, T>(&self, stream: UnixStream, init: T) -> Result<Connection>
    where
        C: FromClientHook,
        T: ToCapability<C> + Send + 'static,
    {
        let id = self.shared.with_state(move |st| -> Result<u64> {
            Ok(serve_accepted(&st.local, stream, move || init)?.id)
        })??;
        Ok(Connection { handle: self.clone(), id })
    }

    /// Starts RPC on `stream` and returns the peer's bootstrap object as
    /// `T` (e.g. `Box<dyn Init>`), after exchanging ThreadMaps through its
    /// `construct` method when the interface has one.
    pub fn connect_stream<C, T>(&self, stream: UnixStream) -> Result<(T, Connection)>
    where
        C: Interface,
        T: FromCapability<C> + Send + 'static,
    {
        let (conn_id, cap) = self.shared.with_state(move |st| -> Result<(u64, u64)> {
            let conn = add_connection(&st.local, stream, None, Side::Client)?;
            let bootstrap = conn.remote_bootstrap().ok_or_else(|| conn.gone_error())?;
            let cap = st.hold_cap(bootstrap);
            Ok((conn.id, cap))
        })??;
        let constructed = crate::proxy::construct::<C>(&self.shared, conn_id, cap);
        let object = self.shared.with_state(move |st| -> Result<T> {
            let bootstrap = st.release_cap(cap).ok_or_else(|| Error::disconnected("connection closed"))?;
            if let Err(e) = constructed {
                // Nobody gets a handle on this connection: close it.
                if let Some(conn) = st.connection(conn_id) {
                    conn.close(&st.local);
                }
                return Err(e);
            }
            let conn = st.connection(conn_id).ok_or_else(|| st.gone_error(conn_id))?;
            let link = Link { local: &st.local, conn: &conn };
            T::from_capability(C::new(bootstrap.hook), &mut ReadContext { link: Some(link) })
        })??;
        Ok((object, Connection { handle: self.clone(), id: conn_id }))
    }
}

/// A unix socket being served by [`LoopHandle::listen`]. Dropping it stops
/// accepting; connections already accepted stay up.
#[derive(Debug)]
pub struct Listener {
    handle: LoopHandle,
    stop: Option<futures::channel::oneshot::Sender<()>>,
}

impl Listener {
    /// Stops accepting new connections (at once when the loop is free, else
    /// as soon as the thread running it lets go; never waits for the loop).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            self.handle.shared.defer(Box::new(move |_| drop(stop)));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Accept<'a> {
    listener: &'a std::os::unix::net::UnixListener,
    reactor: &'a std::cell::RefCell<crate::event_loop::Reactor>,
}

impl std::future::Future for Accept<'_> {
    type Output = std::io::Result<UnixStream>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::os::fd::AsRawFd;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => return std::task::Poll::Ready(Ok(stream)),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.reactor.borrow_mut().register(self.listener.as_raw_fd(), false, cx.waker());
                    return std::task::Poll::Pending;
                }
                Err(e) => return std::task::Poll::Ready(Err(e)),
            }
        }
    }
}

impl LoopHandle {
    /// Accepts connections on `listener`, serving each the bootstrap object
    /// `make_init()` returns, and at most `max_connections` at once (0: no
    /// limit).
    ///
    /// A client that arrives at the limit is never left waiting in the
    /// socket's backlog (where a few idle clients could keep everybody else
    /// out for good). The listener accepts it and either
    /// - closes the connection that has been idle longest among those that
    ///   use nothing but their bootstrap object (no other object of ours, no
    ///   object of theirs held here, no call unfinished) and have sent
    ///   nothing for [`LoopConfig::evict_idle_after`], and serves the new
    ///   client in its place; or, if there is none,
    /// - refuses the new client at once: it receives an `Abort` saying the
    ///   server is at its connection limit (its calls fail with an
    ///   [`Overloaded`](crate::ErrorKind::Overloaded) error) and the socket
    ///   closes.
    ///
    /// Connections that are in use are never closed for a newcomer. Both
    /// events are logged as warnings, at most one line per kind every 10
    /// seconds (with a count of the ones not logged).
    ///
    /// Why this policy: libmultiprocess's own listener serves every client,
    /// so its users expect a connection to be served or, with a limit,
    /// told at once that it cannot be, never to hang; and they expect a
    /// client in the middle of something (holding objects, waiting for a
    /// call) never to be cut off. A client holding nothing but the
    /// bootstrap object and silent for a while loses nothing it could not
    /// get back by reconnecting.
    ///
    /// `make_init` is called, and the object it returns is served, on
    /// whichever thread drives the loop at that moment, so both must be
    /// `Send`. An object holding a thread-bound value cannot be served:
    ///
    /// ```compile_fail,E0277
    /// use std::os::unix::net::UnixListener;
    /// use std::rc::Rc;
    /// use framework::convert::{BuildContext, ToCapability};
    /// use framework::proxy_capnp::thread;
    ///
    /// struct Init(Rc<u32>);
    /// impl ToCapability<thread::Client> for Init {
    ///     fn to_capability(self, _: &mut BuildContext<'_>) -> framework::Result<thread::Client> {
    ///         unimplemented!()
    ///     }
    /// }
    /// fn serve(handle: &framework::LoopHandle, listener: UnixListener) -> framework::Result<framework::Listener> {
    ///     handle.listen(listener, 0, || Init(Rc::new(1)))
    /// }
    /// ```
    ///
    /// while the same object holding an `Arc` can:
    ///
    /// ```
    /// use std::os::unix::net::UnixListener;
    /// use std::sync::Arc;
    /// use framework::convert::{BuildContext, ToCapability};
    /// use framework::proxy_capnp::thread;
    ///
    /// struct Init(Arc<u32>);
    /// impl ToCapability<thread::Client> for Init {
    ///     fn to_capability(self, _: &mut BuildContext<'_>) -> framework::Result<thread::Client> {
    ///         unimplemented!()
    ///     }
    /// }
    /// fn serve(handle: &framework::LoopHandle, listener: UnixListener) -> framework::Result<framework::Listener> {
    ///     handle.listen(listener, 0, || Init(Arc::new(1)))
    /// }
    /// ```
    ///
    /// [`LoopConfig::evict_idle_after`]: crate::LoopConfig::evict_idle_after
    pub fn listen<C, T, F>(
        &self,
        listener: std::os::unix::net::UnixListener,
        max_connections: usize,
        make_init: F,
    ) -> Result<Listener>
    where
        C: FromClientHook,
        T: ToCapability<C> + Send,
        F: Fn() -> T + Send + 'static,
    {
        listener.set_nonblocking(true).map_err(|e| Error::failed(format!("listen: {e}")))?;
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        let evict_after = self.shared.config.evict_idle_after;
        self.shared.with_state(move |st| {
            let local = st.local.clone();
            let task = async move {
                let _registration = Deregister { reactor: local.reactor.clone(), fd: listener.as_raw_fd() };
                let active: Rc<RefCell<HashMap<u64, Weak<ConnectionCore>>>> = Rc::default();
                let mut evictions = RateLimited::default();
                let mut refusals = RateLimited::default();
                loop {
                    let accepted = Accept { listener: &listener, reactor: &local.reactor }.await;
                    let stream = match accepted {
                        Ok(stream) => stream,
                        Err(e) => {
                            // Out of descriptors or memory: retrying at once would
                            // spin with the loop lock held.
                            tracing::warn!(target: crate::logging::TARGET, "IPC accept failed: {e}");
                            let _ = crate::event_loop::delay(ACCEPT_RETRY).await;
                            continue;
                        }
                    };
                    if max_connections != 0 && active.borrow().len() >= max_connections {
                        let idle = longest_idle(&active.borrow(), evict_after);
                        match idle {
                            Some((conn, idle_for)) => {
                                evictions.log(|suppressed| {
                                    tracing::warn!(
                                        target: crate::logging::TARGET,
                                        "IPC server: at the limit of {max_connections} connections: closing \
                                         connection #{} (idle for {:.0?}, using nothing but its bootstrap \
                                         object) to serve a new client{suppressed}",
                                        conn.id,
                                        idle_for
                                    )
                                });
                                conn.close(&local);
                            }
                            None => {
                                refusals.log(|suppressed| {
                                    tracing::warn!(
                                        target: crate::logging::TARGET,
                                        "IPC server: refused a new client: all {max_connections} connections \
                                         are in use{suppressed}"
                                    )
                                });
                                refuse(stream, max_connections);
                                continue;
                            }
                        }
                    }
                    match serve_accepted(&local, stream, &make_init) {
                        Ok(conn) => {
                            active.borrow_mut().insert(conn.id, Rc::downgrade(&conn));
                            let (active, id) = (Rc::downgrade(&active), conn.id);
                            conn.on_disconnect(Box::new(move || {
                                if let Some(active) = active.upgrade() {
                                    active.borrow_mut().remove(&id);
                                }
                            }));
                        }
                        Err(e) => {
                            tracing::warn!(target: crate::logging::TARGET, "IPC connection setup failed: {e}")
                        }
                    }
                }
            };
            let task = futures::future::select(Box::pin(task), stop_rx).map(|_| ());
            st.spawn(task.boxed_local());
        })?;
        Ok(Listener { handle: self.clone(), stop: Some(stop_tx) })
    }
}

/// The connection idle longest among the unused ones idle for at least
/// `min_idle`, and for how long.
fn longest_idle(
    active: &HashMap<u64, Weak<ConnectionCore>>,
    min_idle: Duration,
) -> Option<(Rc<ConnectionCore>, Duration)> {
    let now = Instant::now();
    active
        .values()
        .filter_map(Weak::upgrade)
        .filter(|conn| !conn.is_disconnected() && conn.is_unused())
        .map(|conn| {
            let idle = now.saturating_duration_since(conn.backlog.last_received());
            (conn, idle)
        })
        .filter(|(_, idle)| *idle >= min_idle)
        .max_by_key(|(_, idle)| *idle)
}

/// Tells a client the server is full (a Cap'n Proto `Abort`, which its RPC
/// system reports as the reason its calls fail) and closes the socket.
fn refuse(stream: UnixStream, max_connections: usize) {
    let mut message = capnp::message::Builder::new_default();
    {
        let root: capnp_rpc::rpc_capnp::message::Builder<'_> = message.init_root();
        let mut abort = root.init_abort();
        abort.set_reason(format!(
            "the server is at its connection limit ({max_connections}) and every connection is in use; try again later"
        ));
        abort.set_type(capnp_rpc::rpc_capnp::exception::Type::Overloaded);
    }
    // A fresh socket's buffer takes the few bytes at once; if not, the
    // client only misses the reason.
    let _ = stream.set_nonblocking(true);
    let _ = capnp::serialize::write_message(&stream, &message);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Read what the client already sent (bounded), so that closing with
    // unread data does not reset the connection before it reads the reason.
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match (&stream).read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
}

/// At most one log line every [`LOG_INTERVAL`]; the next one says how many
/// were not logged.
#[derive(Default)]
struct RateLimited {
    last: Option<Instant>,
    suppressed: usize,
}

const LOG_INTERVAL: Duration = Duration::from_secs(10);

impl RateLimited {
    fn log(&mut self, emit: impl FnOnce(&str)) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < LOG_INTERVAL) {
            self.suppressed += 1;
            return;
        }
        let note = match self.suppressed {
            0 => String::new(),
            n => format!(" ({n} more since the last such line)"),
        };
        emit(&note);
        self.last = Some(now);
        self.suppressed = 0;
    }
}

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use crate::connection::ConnectionCore;

/// Pause after a failed accept.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// Forgets the listener in the reactor before its fd closes, so a poller
/// never watches a reused fd number for the wrong file.
struct Deregister {
    reactor: Rc<std::cell::RefCell<crate::event_loop::Reactor>>,
    fd: RawFd,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        self.reactor.borrow_mut().deregister(self.fd);
    }
}

fn serve_accepted<C, T>(
    local: &Rc<crate::event_loop::LoopLocal>,
    stream: UnixStream,
    make_init: impl FnOnce() -> T,
) -> Result<Rc<crate::connection::ConnectionCore>>
where
    C: FromClientHook,
    T: ToCapability<C>,
{
    let (sender, receiver) = futures::channel::oneshot::channel::<capnp::capability::Client>();
    let pending = capnp_rpc::new_future_client(
        receiver.map(|r| r.map_err(|_| capnp::Error::disconnected("bootstrap not served".into()))),
    );
    let conn = add_connection(local, stream, Some(pending), Side::Server)?;
    let link = Link { local, conn: &conn };
    match make_init().to_capability(&mut BuildContext { link: Some(link) }) {
        Ok(client) => {
            let _ = sender.send(capnp::capability::Client::new(client.into_client_hook()));
            Ok(conn)
        }
        Err(e) => {
            conn.close(local);
            Err(e)
        }
    }
}
