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
            let bootstrap =
                conn.remote_bootstrap().ok_or_else(|| Error::disconnected("the peer has disconnected"))?;
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
            let conn =
                st.connection(conn_id).ok_or_else(|| Error::disconnected("the peer has disconnected"))?;
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
    /// Stops accepting new connections.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = self.handle.shared.with_state(move |_| drop(stop));
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
    /// `make_init()` returns. At most `max_connections` are served at once
    /// (0: no limit); further clients wait in the socket's backlog until one
    /// leaves.
    pub fn listen<C, T, F>(
        &self,
        listener: std::os::unix::net::UnixListener,
        max_connections: usize,
        make_init: F,
    ) -> Result<Listener>
    where
        C: FromClientHook,
        T: ToCapability<C>,
        F: Fn() -> T + Send + 'static,
    {
        use futures::StreamExt;
        listener.set_nonblocking(true).map_err(|e| Error::failed(format!("listen: {e}")))?;
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        self.shared.with_state(move |st| {
            let local = st.local.clone();
            let task = async move {
                let _registration = Deregister { reactor: local.reactor.clone(), fd: listener.as_raw_fd() };
                let active = Rc::new(std::cell::Cell::new(0usize));
                let (freed_tx, mut freed_rx) = futures::channel::mpsc::unbounded::<()>();
                loop {
                    while max_connections != 0 && active.get() >= max_connections {
                        if freed_rx.next().await.is_none() {
                            return;
                        }
                    }
                    let accepted = Accept { listener: &listener, reactor: &local.reactor }.await;
                    let stream = match accepted {
                        Ok(stream) => stream,
                        Err(e) => {
                            // Out of descriptors or memory: retrying at once would
                            // spin with the loop lock held. Wait for a connection
                            // to close, or a moment.
                            tracing::warn!(target: crate::logging::TARGET, "IPC accept failed: {e}");
                            let retry = crate::event_loop::delay(ACCEPT_RETRY);
                            let _ = futures::future::select(retry, freed_rx.next()).await;
                            continue;
                        }
                    };
                    let served = serve_accepted(&local, stream, &make_init);
                    match served {
                        Ok(conn) => {
                            active.set(active.get() + 1);
                            let (active, freed) = (active.clone(), freed_tx.clone());
                            conn.on_disconnect(Box::new(move || {
                                active.set(active.get().saturating_sub(1));
                                let _ = freed.unbounded_send(());
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

use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;

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
