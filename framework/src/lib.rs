//! Call Rust traits across processes as if they were local.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod convert;
mod error;

pub use error::{Error, ErrorKind, Result};

/// Generated code of the framework's own schema (`schema/proxy.capnp`):
/// `ThreadMap`, `Thread`, `Context` and the code-generator annotations.
#[allow(missing_docs, missing_debug_implementations, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proxy_capnp {
    include!(concat!(env!("OUT_DIR"), "/proxy_capnp.rs"));
}
