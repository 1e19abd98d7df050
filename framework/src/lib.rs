//! Call Rust traits across processes as if they were local.
//!
//! A `.capnp` schema is the wire contract. The code generator
//! (`framework-codegen`, run from a build script) turns each schema
//! interface annotated with `$Proxy.wrap("crate::Trait")` into a *client
//! proxy* implementing the trait by sending Cap'n Proto RPC requests, and a
//! *server adapter* that turns incoming requests into calls on a local
//! `Arc<dyn Trait>`. This crate is the runtime both sides run on.
//!
//! It is not an application crate: it knows nothing about any particular
//! interface, and application crates never name capnp types (only the crate
//! holding schemas and generated glue does).
//!
//! Main types: [`EventLoop`] (owner of the loop thread and every RPC
//! object), [`LoopHandle`] (a `Send` handle to create connections),
//! [`Connection`], and the conversion traits in [`convert`].
//!
//! Threading follows libmultiprocess: each client thread gets its own
//! server thread per connection, and callbacks made during a call run on the
//! calling thread. See `event_loop` for how a waiting caller drives the loop.
//!
//! What a peer can make this process hold is bounded whatever it sends:
//! message size, replies it has not read, unfinished calls and server
//! threads per connection are [`LoopConfig`] settings (with their defaults
//! and reasons there), and [`LoopHandle::listen`] bounds connections without
//! ever leaving a newcomer waiting. How the limits act is written out at the
//! top of `src/connection/mod.rs`.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod connection;
pub mod convert;
mod error;
mod event_loop;
mod listen;
pub mod logging;
#[doc(hidden)]
pub mod private;
mod proxy;
mod spawn;
mod stream_api;
mod thread;
mod waiter;

#[cfg(test)]
mod smoke_tests;

#[cfg(test)]
#[allow(dead_code, unreachable_pub, missing_debug_implementations, clippy::all)]
mod smoke_capnp {
    include!(concat!(env!("OUT_DIR"), "/smoke/smoke_capnp.rs"));
}

pub use connection::Connection;
pub use error::{register_error_kind, Error, ErrorKind, Result};
pub use event_loop::{EventLoop, LoopConfig, LoopHandle};
pub use listen::{
    bind_unix, connect_unix, resolve_connect_address, resolve_unix_address, try_connect_unix, ConnectMode,
    DEFAULT_SOCKET_NAME,
};
pub use spawn::{ipc_fd_from_args, spawn_process, ChildProcess, FdArg, SpawnOptions};
pub use stream_api::Listener;
pub use thread::context::is_cancelled;

/// Generated code of the framework's own schema (`schema/proxy.capnp`):
/// `ThreadMap`, `Thread`, `Context` and the code-generator annotations.
#[allow(missing_docs, missing_debug_implementations, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proxy_capnp {
    include!(concat!(env!("OUT_DIR"), "/proxy_capnp.rs"));
}

#[allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    dead_code,
    clippy::all,
    clippy::pedantic
)]
mod internal_capnp {
    include!(concat!(env!("OUT_DIR"), "/internal_capnp.rs"));
}
