//! Proxies: the client and server halves that generated glue is built on.

mod client;
mod registry;
mod server;
pub(crate) mod server_set;

use std::any::{Any, TypeId};
use std::fmt;

use capnp::capability::{FromClientHook, FromServer};
use server_set::ServerSet;

pub(crate) use client::construct;
pub use client::{ClientCall, ClientReply, ProxyClient};
pub use registry::{register_proxy, register_proxy_arc, reuse_proxy, Held};
pub use server::{Served, ServerBase, ServerCall, ServerReply};

use crate::convert::context::Link;
use crate::convert::{BuildContext, ReadContext};
use crate::{Error, Result};

/// Facts about a schema interface, implemented by generated code for the
/// interface's capnp `Client` type.
pub trait Interface: FromClientHook + Clone + 'static {
    /// The schema name, for log lines (`Echo`).
    const NAME: &'static str;
    /// The interface's 64-bit schema id.
    const INTERFACE_ID: u64;
    /// Ordinal of its `destroy` method, if it declares one.
    const DESTROY: Option<u16>;
    /// Ordinal of its `construct` method, if it declares one.
    const CONSTRUCT: Option<u16>;
}

/// Names of a method, for log lines and error messages.
#[derive(Debug)]
pub struct CallInfo {
    /// Schema interface name.
    pub interface: &'static str,
    /// Schema method name.
    pub method: &'static str,
    /// Whether the method takes a Context (runs on a mapped thread).
    pub context: bool,
}

impl fmt::Display for CallInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.interface, self.method)
    }
}

/// Generated proxies are built from a [`ProxyClient`].
pub trait FromProxyClient<C: Interface> {
    /// Wraps `base`.
    fn from_proxy_client(base: ProxyClient<C>) -> Self;
    /// The wrapped client.
    fn proxy_client(&self) -> &ProxyClient<C>;
}

/// A generated server adapter: serves `Object` (an `Arc<dyn Trait>`) as
/// interface `Client`.
pub trait ServerAdapter: Sized + 'static {
    /// The interface's capnp client type.
    type Client: Interface + FromServer<Self>;
    /// The Rust object served. `Send + Sync`: the adapter lives on the loop,
    /// which any waiting thread may drive, and hands clones of the object to
    /// the threads running its calls (and to callers it comes back to).
    type Object: Clone + Send + Sync + 'static;
    /// The adapter for `object`.
    fn new_server(base: ServerBase, object: Self::Object) -> Self;
    /// The object this adapter serves, unless the peer destroyed it.
    fn object(&self) -> Option<Self::Object>;
}

/// What a received capability turned out to be.
#[derive(Debug)]
pub enum Imported<O, P> {
    /// An object of this process that went out and came back.
    Local(O),
    /// A remote object, reached through a proxy.
    Remote(P),
}

fn with_server_set<S: ServerAdapter, R>(link: Link<'_>, f: impl FnOnce(&mut ServerSet<S>) -> R) -> R {
    let mut sets = link.local.server_sets.borrow_mut();
    let set =
        sets.entry(TypeId::of::<S>()).or_insert_with(|| Box::new(ServerSet::<S>::default()) as Box<dyn Any>);
    match set.downcast_mut::<ServerSet<S>>() {
        Some(set) => f(set),
        // The map is keyed by the set's own type id, so this cannot happen;
        // a fresh set keeps us correct regardless.
        None => f(&mut ServerSet::default()),
    }
}

/// Serves `object` to the peer of `ctx`'s connection. When the peer
/// releases it, `object` is dropped on the loop's release thread.
pub fn export_object<S>(ctx: &mut BuildContext<'_>, object: S::Object) -> Result<S::Client>
where
    S: ServerAdapter,
    S::Object: Send,
{
    let link =
        ctx.link.ok_or_else(|| Error::usage("an interface object can only be sent over a connection"))?;
    let server = S::new_server(ServerBase::new(link, Box::new(object.clone())), object);
    Ok(with_server_set::<S, _>(link, |set| set.new_client(server)))
}

/// Turns a received capability into the local object it points back to, or
/// a proxy for the remote one.
pub fn import_object<S, P>(ctx: &mut ReadContext<'_>, client: S::Client) -> Result<Imported<S::Object, P>>
where
    S: ServerAdapter,
    P: FromProxyClient<S::Client>,
{
    let link =
        ctx.link.ok_or_else(|| Error::usage("an interface object can only arrive over a connection"))?;
    if let Some(server) = with_server_set::<S, _>(link, |set| set.get_local_server_of_resolved(&client)) {
        let object = server.object().ok_or_else(|| Error::failed("the object was destroyed"))?;
        return Ok(Imported::Local(object));
    }
    Ok(Imported::Remote(P::from_proxy_client(ProxyClient::new(link, client)?)))
}

/// Converts a framework error into an application trait's error type,
/// through `std::io::Error` (see [`Error`]'s `From` impls).
pub fn to_app_error<E: From<std::io::Error>>(e: Error) -> E {
    E::from(std::io::Error::from(e))
}
