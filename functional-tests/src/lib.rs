//! The functional-test harness: real `mpx` executables on temporary data directories, driven
//! over JSON-RPC and their command lines (Bitcoin Core's `test_framework` in Rust).
//!
//! A scenario creates a [`TestFramework`] with N [`TestNode`]s, starts them, calls RPC methods and
//! checks what comes back, and may stop, kill (`SIGKILL`) and restart nodes on the same data.
//! Dropping the framework kills whatever still runs; when the test is failing (panicking), the
//! data directories are kept and their path and the end of each `debug.log` are printed.
//!
//! ```no_run
//! use functional_tests::TestFramework;
//! use serde_json::json;
//!
//! let mut test = TestFramework::new("example", 1);
//! test.start_all();
//! let node = &test.nodes[0];
//! assert_eq!(node.call("getblockcount", json!([])), json!(0));
//! ```

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod binaries;
mod framework;
mod node;
mod processes;
pub mod pty;
pub mod pycapnp;
mod rpc;

pub use binaries::{binary, multiprocess, Binary};
pub use framework::TestFramework;
pub use node::{die_with_parent, TestNode};
pub use processes::{children_of, is_alive, kill_9, wait_until, wallet_child, WalletProcess};
pub use rpc::{RpcEndpoint, RpcFailure};
