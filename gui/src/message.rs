//! What the UI thread and the backend thread tell each other: [`Command`]s
//! go to the backend, [`Update`]s come back. Both are plain data, so the
//! UI never holds an interface object.

use interfaces::{Balances, BlockTip, Progress, WalletTx};

/// A request from the UI to the backend thread, which owns the node and
/// the wallets. Produced by [`handle_key`](crate::handle_key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Make the loaded wallet `name` the selected one.
    SelectWallet(String),
    /// Create the wallet `name` (it is loaded and selected).
    CreateWallet(String),
    /// Load the wallet `name` from disk (it is selected).
    LoadWallet(String),
    /// Unload the wallet `name`.
    UnloadWallet(String),
    /// Ask the loader again which wallets exist (also retries a wallet
    /// process that went away).
    RefreshWallets,
    /// A new receiving address of the selected wallet.
    NewAddress {
        /// Label stored with the address.
        label: String,
    },
    /// Pay from the selected wallet.
    Send {
        /// Destination address.
        address: String,
        /// Satoshis.
        amount: i64,
        /// Fee rate in satoshis per 1000 vbytes; `None`: the wallet's default.
        fee_rate_sat_per_kvb: Option<i64>,
        /// Take the fee out of the amount.
        subtract_fee: bool,
    },
    /// Run a JSON-RPC request through `Node::execute_rpc`.
    ExecuteRpc {
        /// The request text.
        request: String,
        /// `/` or `/wallet/<name>`.
        uri: String,
    },
    /// Mine `blocks` regtest blocks to a new address of the selected wallet.
    Generate {
        /// How many blocks.
        blocks: u32,
    },
    /// Stop a running [`Command::Generate`] after the current batch.
    CancelGenerate,
    /// Quit: unregister, stop the node if the gui started it, then report
    /// [`Update::ShutdownDone`].
    Shutdown,
}

/// Which side a disconnection came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The node (every later call fails).
    Node,
    /// The wallet side (the loader or a wallet); the node may still answer.
    Wallet,
}

/// The chain as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainState {
    /// Tip height.
    pub height: u32,
    /// Tip hash, internal byte order.
    pub hash: [u8; 32],
    /// Tip header time, UNIX seconds.
    pub time: i64,
    /// Whether the node is in initial block download.
    pub initial_download: bool,
}

/// What the backend reports to the UI. Applied by [`Model::apply`](crate::Model::apply).
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A start-up message of the node (`Node::handle_init_message`).
    InitMessage(String),
    /// Progress of a long task (`Node::handle_show_progress`).
    Progress(Progress),
    /// The node is ready and the first state was read.
    Started,
    /// `Node::init` failed; the message says why.
    StartupFailed(String),
    /// The chain state, read from the node.
    Chain(ChainState),
    /// A new tip, from `Node::handle_notify_block_tip`.
    Tip(BlockTip),
    /// Transactions in the mempool.
    Mempool(u64),
    /// Every RPC method name, for the console's completion.
    RpcCommands(Vec<String>),
    /// The wallets the node reports.
    Wallets {
        /// Loaded, in load order.
        loaded: Vec<String>,
        /// On disk, sorted.
        on_disk: Vec<String>,
        /// The wallet the backend now uses, if any.
        selected: Option<String>,
    },
    /// Wallets are disabled on this node (`Node::wallet_loader` said why).
    WalletsDisabled(String),
    /// Balances and transactions of the wallet `name`.
    WalletData {
        /// Which wallet.
        name: String,
        /// Its balances.
        balances: Balances,
        /// Every transaction, oldest first.
        transactions: Vec<WalletTx>,
    },
    /// A new receiving address of wallet `wallet`.
    NewAddress {
        /// Which wallet.
        wallet: String,
        /// The address.
        address: String,
    },
    /// A payment was broadcast.
    Sent {
        /// Its txid, internal byte order.
        txid: [u8; 32],
    },
    /// A payment failed; the wallet's message.
    SendFailed(String),
    /// The console's answer: the text to show, or the error.
    RpcResult(Result<String, String>),
    /// Mining progress: `done` of `total` blocks.
    Mining {
        /// Blocks mined so far.
        done: u32,
        /// Blocks asked for.
        total: u32,
    },
    /// Mining ended: how many blocks, and the error that stopped it early.
    MiningDone {
        /// Blocks mined.
        done: u32,
        /// Blocks asked for.
        total: u32,
        /// Why it stopped early (cancelled, failed), if it did.
        error: Option<String>,
    },
    /// A command failed; shown in the status line.
    Error(String),
    /// An informational message for the status line.
    Info(String),
    /// A side went away (`Error::is_disconnected`); the message says how.
    Disconnected {
        /// Which side.
        peer: Peer,
        /// The error message.
        message: String,
    },
    /// The wallet side answers again after a disconnection.
    Reconnected,
    /// The backend finished [`Command::Shutdown`]; `error` is a failed
    /// `Node::shutdown`.
    ShutdownDone {
        /// What `Node::shutdown` said, if it failed.
        error: Option<String>,
    },
}
