//! The application's processes: what each executable is made of and how they meet.
//!
//! **What it owns.** The `main` of the node daemon in both of its shapes
//! ([`node_daemon`]: `mpx-node`, wallets in process, Bitcoin Core's `bitcoind`;
//! `mpx-multiprocess-node`, wallets in an `mpx-wallet` child, Bitcoin Core's
//! `bitcoin-node`), of the wallet process ([`wallet_daemon`]: spawned by a node,
//! joining one with `-ipcconnect`), of the gui ([`gui_main`]: `mpx-gui` with the node in
//! process, `mpx-multiprocess-gui` spawning it, either joining one), the node's side of a wallet process
//! ([`wallet_process`]: spawning, supervising and restarting it), and the
//! `-ipcbind` sockets.
//!
//! **What it must not do.** It holds no chain, wallet or RPC logic: those are
//! the `node` and `wallet` crates', which meet only at `interfaces` traits. It
//! names no capnp type: `ipc` hands it `interfaces::Init` objects and proxies
//! of them. The same node code runs in every shape; only where the wallet
//! loader comes from differs.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod child;
mod echo_process;
pub mod gui_main;
pub mod node_daemon;
mod notify;
mod shutdown;
pub mod wallet_daemon;
pub mod wallet_process;
mod wallet_tool;

/// File name of the wallet process's executable, looked up next to the node's.
pub const WALLET_EXECUTABLE: &str = "mpx-wallet";
