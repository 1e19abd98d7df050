//! The `mpx` command-line executables:
//!
//! - `mpx-cli`, the JSON-RPC client (Bitcoin Core's `bitcoin-cli`):
//!   [`rpc_client::main`];
//! - `mpx`, the wrapper whose subcommands run the other executables
//!   (Bitcoin Core's `bitcoin`): [`wrapper::main`].
//!
//! **Not for:** anything of the node or the wallet. The client speaks
//! JSON-RPC over HTTP, or with `-ipcconnect` over the node's unix socket
//! through `ipc`'s `Rpc` proxy; it links no node or wallet code.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod commands;
mod conversions;
pub mod http;
mod ipc_transport;
pub mod params;
pub mod rpc_client;
pub mod wrapper;
