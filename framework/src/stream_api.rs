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
            // The bootstrap object needs the connection (its server threads
            // live there), and the connection needs the bootstrap: hand the
            // RPC system a promise and fulfil it once both exist.
            let (sender, receiver) = futures::channel::oneshot::channel::<capnp::capability::Client>();
            let pending = capnp_rpc::new_future_client(
                receiver.map(|r| r.map_err(|_| capnp::Error::disconnected("bootstrap not served".into()))),
            );
            let conn = add_connection(&st.local, stream, Some(pending), Side::Server)?;
            let link = Link { local: &st.local, conn: &conn };
            let client = init.to_capability(&mut BuildContext { link: Some(link) })?;
            let _ = sender.send(capnp::capability::Client::new(client.into_client_hook()));
            Ok(conn.id)
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
            let cap = st.hold_cap(conn.bootstrap.clone());
            Ok((conn.id, cap))
        })??;
        let constructed = crate::proxy::construct::<C>(&self.shared, conn_id, cap);
        let object = self.shared.with_state(move |st| -> Result<T> {
            let bootstrap = st.release_cap(cap).ok_or_else(|| Error::disconnected("connection closed"))?;
            constructed?;
            let conn = st.connection(conn_id).ok_or_else(|| Error::disconnected("the peer has disconnected"))?;
            let link = Link { local: &st.local, conn: &conn };
            T::from_capability(C::new(bootstrap.hook), &mut ReadContext { link: Some(link) })
        })??;
        Ok((object, Connection { handle: self.clone(), id: conn_id }))
    }
}
