//! [`Node`]: what a gui (or any front end) needs from the node.

use crate::{Handler, Result, WalletLoader};

/// The active chain's tip, as [`Node::handle_notify_block_tip`] reports it
/// (Bitcoin Core's `interfaces::BlockTip` plus the progress it passes along).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockTip {
    /// Block hash, internal byte order.
    pub hash: [u8; 32],
    /// Height (genesis is 0).
    pub height: u32,
    /// Header timestamp, seconds since the UNIX epoch.
    pub time: i64,
    /// Estimated fraction of the chain verified, 0.0..=1.0.
    pub verification_progress: f64,
    /// Whether the node is still in initial block download.
    pub initial_download: bool,
}

/// Progress of a long task, as [`Node::handle_show_progress`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    /// What is in progress, e.g. `Rescanning...`.
    pub title: String,
    /// 0..=100; 100 means the task finished.
    pub percent: u32,
    /// Whether the task can be interrupted and resumed later.
    pub resume_possible: bool,
}

/// The node as a front end sees it. Implemented by the node; a gui gets it
/// from [`Init::make_node`](crate::Init::make_node).
///
/// Lifecycle: [`init`](Node::init) once, then any other calls, then
/// [`start_shutdown`](Node::start_shutdown) (from anywhere, e.g. a signal
/// or a menu) and finally [`shutdown`](Node::shutdown).
pub trait Node: Send + Sync {
    /// Loads the chain, starts the RPC server and the wallets; returns when
    /// the node is ready. Errors are fatal start-up errors, e.g. a datadir
    /// already in use.
    fn init(&self) -> Result<()>;

    /// Asks the node to shut down; returns at once.
    fn start_shutdown(&self) -> Result<()>;

    /// Whether shutdown was requested (by [`start_shutdown`](Node::start_shutdown),
    /// the `stop` RPC or a signal).
    fn shutdown_requested(&self) -> Result<bool>;

    /// Stops everything and flushes state to disk; returns when done.
    fn shutdown(&self) -> Result<()>;

    /// Height of the active chain's tip.
    fn get_block_count(&self) -> Result<u32>;

    /// Hash of the tip, internal byte order.
    fn get_best_block_hash(&self) -> Result<[u8; 32]>;

    /// Header timestamp of the tip, seconds since the UNIX epoch.
    fn get_last_block_time(&self) -> Result<i64>;

    /// Number of transactions in the mempool.
    fn get_mempool_size(&self) -> Result<u64>;

    /// Estimated fraction of the chain verified, 0.0..=1.0.
    fn get_verification_progress(&self) -> Result<f64>;

    /// Whether the node is still in initial block download.
    fn is_initial_block_download(&self) -> Result<bool>;

    /// Executes a JSON-RPC request text for the HTTP path `uri` (`/` or
    /// `/wallet/<name>`), as the gui's console does; returns the JSON-RPC
    /// response text (RPC errors are inside it, as for
    /// [`Rpc::execute_rpc`](crate::Rpc::execute_rpc)).
    fn execute_rpc(&self, request: String, uri: String) -> Result<String>;

    /// Names of every RPC method the dispatcher knows, sorted.
    fn list_rpc_commands(&self) -> Result<Vec<String>>;

    /// The wallet loader the node runs (in process or in a wallet process).
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when
    /// wallets are disabled.
    fn wallet_loader(&self) -> Result<Box<dyn WalletLoader>>;

    /// Calls `callback` on every new tip until the handler goes.
    fn handle_notify_block_tip(
        &self,
        callback: Box<dyn Fn(BlockTip) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>>;

    /// Calls `callback` with each start-up message until the handler goes.
    fn handle_init_message(
        &self,
        callback: Box<dyn Fn(String) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>>;

    /// Calls `callback` with progress of long tasks until the handler goes.
    fn handle_show_progress(
        &self,
        callback: Box<dyn Fn(Progress) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>>;
}
