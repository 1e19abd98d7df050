//! The contracts between the node, the wallet and the gui: plain traits and
//! plain data, the Rust counterpart of Bitcoin Core's `src/interfaces/`.
//!
//! **What it is for.** The node, the wallet and the gui reach each other
//! only through these traits. Whether an `Arc<dyn Chain>` is the node's own
//! object or a proxy of a node in another process is decided by the
//! executables' entry points, never by the code that calls it; so the
//! wallet and the gui move to other processes without changing their logic.
//!
//! - [`Init`] makes the others: [`Node`], [`Chain`], [`WalletLoader`],
//!   [`Echo`], [`Rpc`], [`Mining`] (which makes [`BlockTemplate`]s).
//! - [`Chain`] is what a wallet needs from the node; the node calls back
//!   through [`ChainNotifications`]. The wallet offers its RPC methods to
//!   the node's dispatcher as [`RpcCommand`]s run by an [`RpcActor`].
//! - [`Node`] is what a gui needs from the node; [`WalletLoader`] and
//!   [`Wallet`] are what the node and the gui need from the wallet.
//! - [`Handler`] is what every callback registration returns: the
//!   registration lasts while it lives. [`CleanupHandler`] implements it.
//! - [`Error`] / [`Result`] is the error of every method.
//!
//! **What it is not for.** It knows nothing of IPC: no framework, no capnp,
//! no sockets (the `ipc` crate maps these traits to schemas). It holds no
//! node or wallet logic and depends on no Bitcoin library: it has no
//! dependencies at all, so every crate can use it cheaply.
//!
//! # Conventions
//!
//! These make every trait mappable by the framework's code generator, and
//! they hold for anything added here:
//!
//! - Traits are object-safe and `Send + Sync`; methods take `&self` and
//!   return [`Result`]. No generics, no `impl Trait`, no associated types,
//!   no supertraits, no overloading, no references in return types.
//! - Parameters and results are plain data (integers, `bool`, `f64`,
//!   `String`, `Vec<u8>`, `[u8; 32]`, `Vec`, `Option`, maps, and structs of
//!   those with public fields), other interfaces as `Box<dyn Trait>` (the
//!   receiver owns it) or `Arc<dyn Trait>` (the receiver may share it), or
//!   callbacks as `Box<dyn Fn(..) -> Result<..> + Send + Sync>` that come
//!   with a [`Handler`]. Enums are fieldless.
//! - Bitcoin types cross as their consensus encoding: a hash is `[u8; 32]`
//!   in internal byte order ([`hash_to_hex`] shows it the way Bitcoin does,
//!   reversed); blocks, headers and transactions are `Vec<u8>` with
//!   witness; scripts are `Vec<u8>`; addresses are `String`.
//! - Amounts are satoshis as `i64` (Bitcoin Core's `CAmount`); fee rates
//!   are satoshis per 1000 virtual bytes as `i64` (Core's `CFeeRate`);
//!   times are seconds since the UNIX epoch as `i64`; heights, indexes and
//!   counts are `u32`/`u64` (never `usize`), and absence is an `Option`,
//!   never `-1`.
//! - An error kind does not survive a process boundary (only
//!   [`ErrorKind::Disconnected`] and [`ErrorKind::Unimplemented`] do; see
//!   [`Error`]), so outcomes a caller must tell apart are in return values.
//!
//! # Example
//!
//! An implementation and a caller meet only at the trait object:
//!
//! ```
//! use interfaces::{Echo, Error, Init, Result};
//!
//! struct EchoImpl;
//! impl Echo for EchoImpl {
//!     fn echo(&self, echo: String) -> Result<String> {
//!         Ok(echo)
//!     }
//! }
//!
//! struct NodeInit;
//! impl Init for NodeInit {
//!     fn make_echo(&self) -> Result<Box<dyn Echo>> {
//!         Ok(Box::new(EchoImpl))
//!     }
//! }
//!
//! let init: Box<dyn Init> = Box::new(NodeInit);
//! let echo = init.make_echo()?;
//! assert_eq!(echo.echo("hello".into())?, "hello");
//! // What this process does not provide:
//! assert_eq!(init.make_node().err().unwrap().kind(), interfaces::ErrorKind::Unavailable);
//! # Ok::<(), Error>(())
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod amount;
mod chain;
mod echo;
mod error;
mod handler;
mod hash;
mod init;
mod mining;
mod node;
mod rpc;
mod wallet;

pub use amount::{format_btc, parse_btc, AmountError, COIN, MAX_MONEY};
pub use chain::{
    BlockInfo, BlockRef, Chain, ChainNotifications, FeeEstimate, FoundBlock, FoundBlockRequest,
    MempoolRemovalReason,
};
pub use echo::Echo;
pub use error::{Error, ErrorKind, Result};
pub use handler::{CleanupHandler, Handler};
pub use hash::{hash_from_hex, hash_to_hex};
pub use init::{Init, OLD_MINING_MESSAGE};
pub use mining::{
    call_cancelled, set_call_cancelled_probe, BlockCheckOptions, BlockCreateOptions, BlockTemplate,
    BlockWaitOptions, CoinbaseTx, Mining, DEFAULT_BLOCK_RESERVED_WEIGHT,
    DEFAULT_COINBASE_OUTPUT_MAX_ADDITIONAL_SIGOPS, MAX_MONEY_SAT, OLD_SUBMIT_SOLUTION_MESSAGE,
};
pub use node::{BlockTip, Node, Progress};
pub use rpc::{Rpc, RpcActor, RpcCommand, RpcError, RpcReply, RpcRequest};
pub use wallet::{
    Balances, ChangeType, CreateWalletOptions, SendOptions, Utxo, Wallet, WalletLoader, WalletTx,
};
