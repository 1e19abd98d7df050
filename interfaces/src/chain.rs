//! [`Chain`]: what a wallet (or any chain client) needs from the node, and
//! [`ChainNotifications`], what the node tells it back.
//!
//! Threading: the node calls a registered [`ChainNotifications`] from one
//! notification thread, in the order the events happened (a block's
//! mempool removals before its `block_connected`, `updated_block_tip`
//! after). A client that must see every event up to the current tip before
//! it answers (the wallet's RPCs do) calls
//! [`Chain::wait_for_notifications_if_tip_changed`] with the tip it last saw.

use std::sync::Arc;

use crate::{Handler, Result, RpcCommand};

/// A block by hash and height (schema `common.capnp`'s `BlockRef`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BlockRef {
    /// Block hash, internal byte order.
    pub hash: [u8; 32],
    /// Height in the chain (genesis is 0).
    pub height: u32,
}

/// What [`Chain::find_block`] should return beyond the cheap fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FoundBlockRequest {
    /// Fill [`FoundBlock::header`].
    pub want_header: bool,
    /// Fill [`FoundBlock::data`] (reads the block from disk).
    pub want_data: bool,
}

/// A block the node knows about (Bitcoin Core's `FoundBlock`, with every
/// cheap field always filled).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoundBlock {
    /// Block hash, internal byte order.
    pub hash: [u8; 32],
    /// Height (genesis is 0).
    pub height: u32,
    /// Header timestamp, seconds since the UNIX epoch.
    pub time: i64,
    /// Largest header timestamp of this block and its ancestors.
    pub max_time: i64,
    /// Median time past (median timestamp of the last 11 blocks).
    pub mtp_time: i64,
    /// Hash of the previous block; `None` for genesis.
    pub prev_hash: Option<[u8; 32]>,
    /// Whether the block is in the active chain (not on a stale branch).
    pub in_active_chain: bool,
    /// Hash of the next block in the active chain; `None` at the tip or
    /// when the block is not in the active chain.
    pub next_hash: Option<[u8; 32]>,
    /// The 80-byte header, if asked for.
    pub header: Option<Vec<u8>>,
    /// The block's consensus serialization (with witness), if asked for.
    pub data: Option<Vec<u8>>,
}

/// A block connected to or disconnected from the active chain, as
/// [`ChainNotifications`] receive it (Bitcoin Core's `interfaces::BlockInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockInfo {
    /// Block hash, internal byte order.
    pub hash: [u8; 32],
    /// Hash of the previous block; `None` for genesis.
    pub prev_hash: Option<[u8; 32]>,
    /// Height (genesis is 0).
    pub height: u32,
    /// Header timestamp, seconds since the UNIX epoch.
    pub time: i64,
    /// The block's consensus serialization (with witness). Always filled in
    /// notifications: a wallet needs the transactions both to add and to
    /// undo them.
    pub data: Vec<u8>,
}

/// A fee-rate estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FeeEstimate {
    /// Fee rate in satoshis per 1000 virtual bytes (Bitcoin Core's
    /// `CFeeRate` unit: 1000 is 1 sat/vB).
    pub sat_per_kvb: i64,
    /// The confirmation target, in blocks, the estimate is for (may be larger
    /// than the one asked for when there was too little data).
    pub target_blocks: u32,
}

/// Why a transaction left the mempool (Bitcoin Core's
/// `MemPoolRemovalReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MempoolRemovalReason {
    /// Too old.
    Expiry,
    /// The mempool was full and this paid too little.
    SizeLimit,
    /// A reorganization made it invalid (e.g. it spent a coinbase that is
    /// no longer mature).
    Reorg,
    /// It was included in a connected block (Bitcoin Core does not notify
    /// this reason; kept so the set matches its enum).
    Block,
    /// A transaction in a connected block spent the same inputs.
    Conflict,
    /// A replacement (RBF) displaced it.
    Replaced,
}

/// What a chain client (the wallet) may ask of the node. Implemented by the
/// node; the wallet receives it through
/// [`Init::make_wallet_loader`](crate::Init::make_wallet_loader) and learns blocks and mempool
/// transactions only through it.
///
/// Hashes are `[u8; 32]` in internal byte order; transactions and blocks
/// are consensus-serialized bytes with witness; amounts are satoshis as
/// `i64`; fee rates are satoshis per 1000 vbytes.
pub trait Chain: Send + Sync {
    /// Height of the active chain's tip; `None` before the chain is loaded.
    fn get_height(&self) -> Result<Option<u32>>;

    /// Hash and height of the tip, read together; `None` before the chain
    /// is loaded.
    fn get_tip(&self) -> Result<Option<BlockRef>>;

    /// Hash of the active chain's block at `height`; `None` above the tip.
    fn get_block_hash(&self, height: u32) -> Result<Option<[u8; 32]>>;

    /// The block with `hash` (active chain or not), with the cheap fields
    /// and what `request` asks for; `None` if the node does not know it.
    fn find_block(&self, hash: [u8; 32], request: FoundBlockRequest) -> Result<Option<FoundBlock>>;

    /// Whether the transaction `txid` is in the mempool.
    fn is_in_mempool(&self, txid: [u8; 32]) -> Result<bool>;

    /// Validates `tx` (consensus bytes) and adds it to the mempool;
    /// returns its txid. A transaction already in the mempool is accepted
    /// again (same txid). `max_tx_fee` is the largest absolute fee in
    /// satoshis it may pay (0: no limit). A refused transaction is an
    /// [`ErrorKind::Rejected`](crate::ErrorKind::Rejected) error whose
    /// message gives the reason.
    fn broadcast_transaction(&self, tx: Vec<u8>, max_tx_fee: i64) -> Result<[u8; 32]>;

    /// A fee rate for confirmation within `target_blocks`; `None` when the
    /// node has too little data to estimate.
    fn estimate_fee(&self, target_blocks: u32) -> Result<Option<FeeEstimate>>;

    /// The minimum relay fee rate, satoshis per 1000 vbytes.
    fn relay_min_fee(&self) -> Result<i64>;

    /// Registers `notifications` for chain and mempool events until the
    /// returned handler is disconnected or dropped.
    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Result<Box<dyn Handler>>;

    /// Returns once every notification for the current tip has been
    /// delivered, if the tip is no longer `old_tip` (immediately otherwise).
    fn wait_for_notifications_if_tip_changed(&self, old_tip: [u8; 32]) -> Result<()>;

    /// Registers an RPC method with the node's dispatcher until the returned
    /// handler is disconnected or dropped (see the `rpc` module docs).
    fn handle_rpc(&self, command: RpcCommand) -> Result<Box<dyn Handler>>;

    /// Calls `transaction_added_to_mempool` on `notifications` for every
    /// transaction now in the mempool, before returning.
    fn request_mempool_transactions(&self, notifications: Arc<dyn ChainNotifications>) -> Result<()>;

    /// Shows a startup message (log and gui splash screen).
    fn init_message(&self, message: String) -> Result<()>;

    /// Reports progress of a long task (e.g. a wallet rescan) to
    /// [`Node::handle_show_progress`](crate::Node::handle_show_progress)
    /// subscribers: `percent` 0..=100, 100 meaning done.
    fn show_progress(&self, title: String, percent: u32, resume_possible: bool) -> Result<()>;

    /// Whether the node is shutting down (long tasks should stop).
    fn shutdown_requested(&self) -> Result<bool>;
}

/// Chain and mempool events, called by the node on the object a client
/// registered with [`Chain::handle_notifications`].
///
/// No method has a default: an implementation (and the generated IPC proxy)
/// must handle every event, so none is lost silently. An `Err` is logged by
/// the node and does not unregister.
pub trait ChainNotifications: Send + Sync {
    /// `tx` (consensus bytes) entered the mempool.
    fn transaction_added_to_mempool(&self, tx: Vec<u8>) -> Result<()>;

    /// The transaction `txid` left the mempool for `reason`. Never called
    /// with [`MempoolRemovalReason::Block`]: transactions mined in a block
    /// arrive through `block_connected` instead (as in Bitcoin Core).
    fn transaction_removed_from_mempool(&self, txid: [u8; 32], reason: MempoolRemovalReason) -> Result<()>;

    /// `block` was connected to the active chain.
    fn block_connected(&self, block: BlockInfo) -> Result<()>;

    /// `block` was disconnected from the active chain (a reorganization),
    /// tip first.
    fn block_disconnected(&self, block: BlockInfo) -> Result<()>;

    /// The tip changed; called after the connects and disconnects that
    /// changed it.
    fn updated_block_tip(&self) -> Result<()>;
}
