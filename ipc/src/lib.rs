//! The application's IPC layer: the Cap'n Proto schemas of the `interfaces`
//! traits, the glue `framework-codegen` generates from them, and thin
//! helpers to serve or connect an [`interfaces::Init`] over a socket.
//!
//! **What it owns.** `schema/*.capnp` (the wire contract; file IDs, names
//! and ordinals of `init`, `echo`, `rpc`, `common` and `mining` are Bitcoin
//! Core's, see WIRE.md section 2), the generated `<stem>_capnp` and
//! `<stem>_proxy` modules, and the hand-written conversions the generator
//! leaves to users (the enums, in `enums.rs`).
//!
//! **What it must not do.** It holds no node, wallet or gui logic and
//! defines no traits: the traits are `interfaces`', and their
//! implementations belong to the crates that provide them. It is the only
//! application crate that depends on `framework` and `capnp`; no other
//! application crate names a capnp type (checked by
//! `tests/manifest_invariants.rs`). Executables decide between in-process
//! and IPC by calling [`serve_init`] / [`connect_init`] or not.
//!
//! # Example
//!
//! Two event loops, one per "process", over a socketpair:
//!
//! ```
//! use interfaces::{Echo, Init, Result};
//!
//! struct EchoImpl;
//! impl Echo for EchoImpl {
//!     fn echo(&self, echo: String) -> Result<String> {
//!         Ok(echo)
//!     }
//! }
//! struct InitImpl;
//! impl Init for InitImpl {
//!     fn make_echo(&self) -> Result<Box<dyn Echo>> {
//!         Ok(Box::new(EchoImpl))
//!     }
//! }
//!
//! let (a, b) = std::os::unix::net::UnixStream::pair()?;
//! let server_loop = framework::EventLoop::new()?;
//! let client_loop = framework::EventLoop::new()?;
//! let _served = ipc::serve_init(&server_loop.handle(), a, Box::new(InitImpl))?;
//! let (init, _connection) = ipc::connect_init(&client_loop.handle(), b)?;
//! assert_eq!(init.make_echo()?.echo("hello".into())?, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod enums;
mod process;

pub use process::{
    resolve_connect_address, resolve_unix_address, sibling_executable, take_ipc_fd, BoundSocket,
    ChildProcess, ConnectMode, Connection, Error, ErrorKind, Ipc, Result, SocketListener, SpawnedProcess,
    MAX_SOCKET_CLIENTS,
};

use std::os::unix::net::UnixStream;

use framework::LoopHandle;

/// Teaches the framework the kind of an `interfaces::Error` an implementation returns, so that
/// it crosses to framework peers (C++ and pycapnp peers still see only the message). Kinds the
/// framework does not carry (insufficient funds, ...) arrive as failures, message intact.
fn register_error_kinds() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        framework::register_error_kind::<interfaces::Error>(|e| match e.kind() {
            interfaces::ErrorKind::NotFound => framework::ErrorKind::NotFound,
            interfaces::ErrorKind::AlreadyExists => framework::ErrorKind::AlreadyExists,
            interfaces::ErrorKind::InvalidParameter => framework::ErrorKind::InvalidArgument,
            interfaces::ErrorKind::Unavailable => framework::ErrorKind::Unavailable,
            interfaces::ErrorKind::Rejected => framework::ErrorKind::Refused,
            _ => framework::ErrorKind::Failed,
        });
    });
}

/// Serves `init` as the bootstrap object of a new connection on `stream`
/// (the child side of a spawn, or an accepted socket). The returned
/// [`Connection`] tells when the peer leaves.
pub fn serve_init(
    handle: &LoopHandle,
    stream: UnixStream,
    init: Box<dyn interfaces::Init>,
) -> framework::Result<Connection> {
    register_error_kinds();
    install_cancel_probe();
    handle.serve_stream::<init_capnp::init::Client, _>(stream, init)
}

/// Starts RPC on `stream` and returns the peer's [`interfaces::Init`] (a
/// proxy: every call goes to the peer) with the [`Connection`].
pub fn connect_init(
    handle: &LoopHandle,
    stream: UnixStream,
) -> framework::Result<(Box<dyn interfaces::Init>, Connection)> {
    register_error_kinds();
    handle.connect_stream::<init_capnp::init::Client, Box<dyn interfaces::Init>>(stream)
}

macro_rules! generated {
    ($($capnp:ident, $proxy:ident, $stem:literal;)*) => {$(
        #[doc = concat!("capnpc-rust's types of `schema/", $stem, ".capnp`.")]
        #[allow(clippy::all, clippy::pedantic, missing_docs, missing_debug_implementations, unreachable_pub)]
        pub mod $capnp {
            include!(concat!(env!("OUT_DIR"), "/", $stem, "_capnp.rs"));
        }
        #[doc = concat!("Generated proxies, servers and conversions of `schema/", $stem, ".capnp`.")]
        #[allow(clippy::all, clippy::pedantic, missing_docs, missing_debug_implementations, unreachable_pub)]
        pub mod $proxy {
            include!(concat!(env!("OUT_DIR"), "/", $stem, "_proxy.rs"));
        }
    )*};
}

generated! {
    common_capnp, common_proxy, "common";
    handler_capnp, handler_proxy, "handler";
    echo_capnp, echo_proxy, "echo";
    rpc_capnp, rpc_proxy, "rpc";
    mining_capnp, mining_proxy, "mining";
    chain_capnp, chain_proxy, "chain";
    wallet_capnp, wallet_proxy, "wallet";
    node_capnp, node_proxy, "node";
    init_capnp, init_proxy, "init";
}

/// Lets implementations that know nothing of IPC ask whether the caller of
/// the request their thread serves has gone away
/// ([`interfaces::call_cancelled`]), so a long wait (`waitNext`,
/// `waitTipChanged`) ends when its client disconnects.
pub(crate) fn install_cancel_probe() {
    interfaces::set_call_cancelled_probe(framework::is_cancelled);
}
