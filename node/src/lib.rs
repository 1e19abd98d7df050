//! The regtest node's chain: chain state, block validation and crash-safe block storage.
//!
//! This crate is for the node side of the application: it owns the chain state
//! ([`ChainState`]), the consensus rules it enforces ([`BlockError`] names each rule), the set of
//! unspent outputs ([`UtxoSet`]), and the block file ([`BlockStore`]). It has no executable
//! (those are `mpx-daemon`'s). It is not for wallets or user interfaces: those reach the
//! node only through the `interfaces` traits, and this crate knows nothing of IPC or capnp.
//! The mempool ([`Mempool`]), the shared state with notifications ([`NodeState`]), the
//! `interfaces::Chain` implementation ([`NodeChain`]) and the JSON-RPC server ([`rpc`]) are here too.
//!
//! All Bitcoin data, hashing, encoding and signature checking comes from rust-bitcoin.
//!
//! # Example
//!
//! ```
//! use node::{ChainParams, ChainState};
//! use bitcoin::ScriptBuf;
//!
//! let mut chain = ChainState::new(ChainParams::regtest());
//! assert_eq!(chain.height(), 0);
//! let hash = chain.mine_block(&ScriptBuf::new_op_return([]), vec![]).unwrap();
//! assert_eq!((chain.height(), chain.tip()), (1, hash));
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod address;
pub mod app;
mod chain;
mod chain_client;
mod descriptor;
pub mod interface;
pub mod logging;
pub mod memory;
pub mod mempool;
pub mod mining;
pub mod net;
pub mod policy;
pub mod process;
mod registry;
pub mod rpc;
mod state;
mod storage;
pub mod ui;

pub use chain::{BlockError, ChainParams, ChainState, ChainTip, Coin, OpenMode, TipChange, UtxoSet};
pub use chain_client::NodeChain;
pub use mempool::{
    LimitRemoval, Mempool, MempoolEntry, MempoolError, MempoolLimits, MIN_RELAY_FEE_SAT_PER_KVB,
};
pub use state::{Inner, MempoolImport, MempoolImported, NodeState, WaitEnd, WaitPoll, Watch};
pub use storage::{
    BlockStore, Damage, Reindexed, StorageError, StoredBlock, BLOCK_FILE_NAME, CORRUPT_FILE_PREFIX,
    LOCK_FILE_NAME,
};
