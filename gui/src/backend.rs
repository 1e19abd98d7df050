//! The backend thread: the only thread that calls the node and the wallets.
//!
//! The `Node`, `WalletLoader` and `Wallet` objects may be IPC proxies whose
//! calls take long (mining a thousand blocks) or fail (the other process
//! died), so the UI thread never touches them. The protocol, step by step:
//!
//! 1. [`spawn_backend`] moves the `Node` onto a thread named `gui-backend`
//!    and returns a [`BackendHandle`]; the UI sends [`Command`]s through it.
//!    Every [`Update`] goes to the `UpdateSink` the caller gave.
//! 2. The thread registers the node's callbacks (init messages, progress,
//!    new tips). A callback only posts: the update itself to the sink, and
//!    a note to the thread's own inbox when the thread must read something
//!    (a new tip changes the mempool and the wallet's balances). A callback
//!    never calls the node and never blocks.
//! 3. If the gui starts the node, the thread calls `Node::init`
//!    (init messages and progress flow meanwhile), then reads the first
//!    state (chain, RPC names, wallets) and reports [`Update::Started`].
//! 4. It then waits for its inbox. Notes are coalesced: after each wake-up
//!    it drains the inbox and reads each kind of state once, however many
//!    notes asked for it. Nothing is read on a timer.
//! 5. Mining runs in batches of [`MINE_BATCH`] blocks; between batches the
//!    thread handles its inbox, so progress shows, wallets refresh and
//!    [`Command::CancelGenerate`] / [`Command::Shutdown`] take effect.
//! 6. A call that fails with a disconnection is reported once as
//!    [`Update::Disconnected`]. A lost node is never called again; a lost
//!    wallet side is asked for again (`Node::wallet_loader`) on the next
//!    wallet command.
//! 7. [`Command::Shutdown`] (also sent when the handle is dropped)
//!    unregisters every callback, drops the wallets, calls `Node::shutdown`
//!    if the gui started the node, reports [`Update::ShutdownDone`] and
//!    ends the thread. Because `Node::init` cannot be interrupted from its
//!    own thread, a second thread (`gui-interrupt`) calls
//!    `Node::start_shutdown` as soon as the shutdown is asked for, so that
//!    quitting during a long start-up works.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

use interfaces::{CreateWalletOptions, Handler, Node, SendOptions, Wallet, WalletLoader};

use crate::console;
use crate::message::{ChainState, Command, Peer, Update};

/// Where the backend sends its [`Update`]s; called from the backend thread
/// and from the node's callback threads, so it must not block.
pub type UpdateSink = Arc<dyn Fn(Update) + Send + Sync>;

/// Blocks mined per `generatetoaddress` call.
pub const MINE_BATCH: u32 = 10;

enum Msg {
    Command(Command),
    /// A new tip: the mempool and the selected wallet changed.
    Tip,
    /// A transaction of the wallet selected in `generation` changed.
    WalletTx {
        generation: u64,
    },
    /// A wallet was loaded (by us, the console or another client).
    WalletLoaded,
}

/// The UI's end of the backend thread.
pub struct BackendHandle {
    inbox: Sender<Msg>,
    interrupt: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    interrupter: Option<JoinHandle<()>>,
}

impl fmt::Debug for BackendHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendHandle").finish_non_exhaustive()
    }
}

impl BackendHandle {
    /// Queues `command`; never blocks. A [`Command::Shutdown`] also asks a
    /// node the gui started to stop (`Node::start_shutdown`), so that a
    /// start-up in progress ends early.
    pub fn send(&self, command: Command) {
        if command == Command::Shutdown {
            if let Some(interrupt) = &self.interrupt {
                let _ = interrupt.send(());
            }
        }
        let _ = self.inbox.send(Msg::Command(command));
    }

    /// Whether the backend thread has ended (after a shutdown, or a panic).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the backend thread to end (after [`Command::Shutdown`]).
    pub fn join(mut self) {
        self.finish(true);
    }

    /// Leaves the backend thread running (it ends on its own after the
    /// shutdown it was sent); for quitting without waiting on a hung call.
    pub fn detach(mut self) {
        self.finish(false);
    }

    fn finish(&mut self, wait: bool) {
        if self.thread.is_none() {
            return;
        }
        self.send(Command::Shutdown);
        // Closing the channel ends the interrupter if it has not fired.
        self.interrupt = None;
        let threads = [self.thread.take(), self.interrupter.take()];
        if wait {
            for thread in threads.into_iter().flatten() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for BackendHandle {
    /// Asks for the shutdown and waits, so a node the gui started is
    /// stopped however the UI ended.
    fn drop(&mut self) {
        self.finish(true);
    }
}

/// Starts the backend thread for `node`. `start_node`: call `Node::init`
/// now and `Node::shutdown` at the end; otherwise the node was only joined.
pub fn spawn_backend(
    node: Box<dyn Node>,
    start_node: bool,
    sink: UpdateSink,
) -> std::io::Result<BackendHandle> {
    let node: Arc<dyn Node> = Arc::from(node);
    let (inbox_tx, inbox) = mpsc::channel();
    let (interrupt, interrupter) = if start_node {
        let (tx, rx) = mpsc::channel::<()>();
        let node = node.clone();
        let thread = std::thread::Builder::new().name("gui-interrupt".into()).spawn(move || {
            if rx.recv().is_ok() {
                let _ = node.start_shutdown();
            }
        })?;
        (Some(tx), Some(thread))
    } else {
        (None, None)
    };
    let backend = Backend {
        node,
        start_node,
        sink,
        inbox_tx: inbox_tx.clone(),
        node_handlers: Vec::new(),
        loader: None,
        loader_handler: None,
        wallets_disabled: false,
        selected: None,
        generation: 0,
        node_lost: false,
        wallet_lost: false,
        mining: None,
        dirty: Dirty::default(),
    };
    let panic_sink = backend.sink.clone();
    let thread = std::thread::Builder::new().name("gui-backend".into()).spawn(move || {
        // A bug here must not take the UI down: report it like a lost node (the banner),
        // so the user sees it and can still quit.
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| backend.run(inbox))) {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            panic_sink(Update::Disconnected {
                peer: Peer::Node,
                message: format!("the gui's backend failed: {what}"),
            });
        }
    })?;
    Ok(BackendHandle { inbox: inbox_tx, interrupt, thread: Some(thread), interrupter })
}

struct Selected {
    name: String,
    wallet: Box<dyn Wallet>,
    _handler: Option<Box<dyn Handler>>,
}

struct MiningJob {
    address: String,
    done: u32,
    total: u32,
}

#[derive(Default)]
struct Dirty {
    mempool: bool,
    wallet: bool,
    wallets: bool,
}

struct Backend {
    node: Arc<dyn Node>,
    start_node: bool,
    sink: UpdateSink,
    inbox_tx: Sender<Msg>,
    node_handlers: Vec<Box<dyn Handler>>,
    loader: Option<Box<dyn WalletLoader>>,
    loader_handler: Option<Box<dyn Handler>>,
    wallets_disabled: bool,
    selected: Option<Selected>,
    /// Counts wallet selections, so a late callback of a wallet no longer
    /// selected is ignored.
    generation: u64,
    node_lost: bool,
    wallet_lost: bool,
    mining: Option<MiningJob>,
    dirty: Dirty,
}

const NO_WALLET: &str = "No wallet selected: create or load one on the Wallets screen (5).";
const NODE_GONE: &str = "The node is disconnected.";

impl Backend {
    fn send(&self, update: Update) {
        (self.sink)(update);
    }

    fn run(mut self, inbox: Receiver<Msg>) {
        self.register_node_callbacks();
        let mut ready = true;
        if self.start_node {
            if let Err(e) = self.node.init() {
                ready = false;
                if e.is_disconnected() {
                    self.lose(Peer::Node, e.message());
                }
                self.send(Update::StartupFailed(e.message().to_owned()));
            }
        }
        if ready {
            self.read_initial_state();
            self.send(Update::Started);
        }
        'outer: loop {
            let first = if self.mining.is_some() {
                match inbox.try_recv() {
                    Ok(msg) => Some(msg),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => break,
                }
            } else {
                match inbox.recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => break,
                }
            };
            if let Some(msg) = first {
                if self.handle(msg) {
                    break;
                }
                while let Ok(msg) = inbox.try_recv() {
                    if self.handle(msg) {
                        break 'outer;
                    }
                }
            }
            self.flush();
            if self.mining.is_some() {
                self.mine_batch();
            }
        }
    }

    fn register_node_callbacks(&mut self) {
        let sink = self.sink.clone();
        let init = self.node.handle_init_message(Box::new(move |message| {
            sink(Update::InitMessage(message));
            Ok(())
        }));
        let sink = self.sink.clone();
        let progress = self.node.handle_show_progress(Box::new(move |progress| {
            sink(Update::Progress(progress));
            Ok(())
        }));
        let sink = self.sink.clone();
        let inbox = self.inbox_tx.clone();
        let tip = self.node.handle_notify_block_tip(Box::new(move |tip| {
            sink(Update::Tip(tip));
            let _ = inbox.send(Msg::Tip);
            Ok(())
        }));
        for registration in [init, progress, tip] {
            if let Ok(handler) = self.node_result(registration) {
                self.node_handlers.push(handler);
            }
        }
    }

    /// Chain, mempool, RPC names and wallets, read once after start-up.
    fn read_initial_state(&mut self) {
        let chain = (|| -> interfaces::Result<ChainState> {
            Ok(ChainState {
                height: self.node.get_block_count()?,
                hash: self.node.get_best_block_hash()?,
                time: self.node.get_last_block_time()?,
                initial_download: self.node.is_initial_block_download()?,
            })
        })();
        match self.node_result(chain) {
            Ok(chain) => self.send(Update::Chain(chain)),
            Err(e) => self.send(Update::Error(format!("Reading the chain: {e}"))),
        }
        if let Ok(commands) = self.node_result(self.node.list_rpc_commands()) {
            self.send(Update::RpcCommands(commands));
        }
        self.dirty.mempool = true;
        self.dirty.wallets = true;
        self.flush();
    }

    /// Handles one inbox message; `true` when the thread must end.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Tip => {
                self.dirty.mempool = true;
                self.dirty.wallet = true;
            }
            Msg::WalletTx { generation } => {
                if generation == self.generation {
                    self.dirty.wallet = true;
                    self.dirty.mempool = true;
                }
            }
            Msg::WalletLoaded => self.dirty.wallets = true,
            Msg::Command(Command::Shutdown) => {
                self.shutdown();
                return true;
            }
            Msg::Command(command) => self.command(command),
        }
        false
    }

    fn command(&mut self, command: Command) {
        if self.node_lost {
            let message = NODE_GONE.to_owned();
            match command {
                Command::Send { .. } => self.send(Update::SendFailed(message)),
                Command::ExecuteRpc { .. } => self.send(Update::RpcResult(Err(message))),
                Command::Generate { blocks } => {
                    self.send(Update::MiningDone { done: 0, total: blocks, error: Some(message) })
                }
                _ => self.send(Update::Error(message)),
            }
            return;
        }
        match command {
            Command::SelectWallet(name) => {
                let Some(loader) = self.loader() else { return };
                let wallet = loader.get_wallet(name.clone());
                if let Ok(wallet) = self.wallet_result(wallet, "Selecting the wallet") {
                    self.select(name, wallet);
                    self.dirty.wallets = true;
                }
            }
            Command::CreateWallet(name) => {
                let Some(loader) = self.loader() else { return };
                let wallet = loader.create_wallet(name.clone(), CreateWalletOptions::default());
                if let Ok(wallet) = self.wallet_result(wallet, "Creating the wallet") {
                    self.select(name.clone(), wallet);
                    self.dirty.wallets = true;
                    self.send(Update::Info(format!("Created wallet {}.", crate::keys::display_name(&name))));
                }
            }
            Command::LoadWallet(name) => {
                let Some(loader) = self.loader() else { return };
                let wallet = loader.load_wallet(name.clone());
                if let Ok(wallet) = self.wallet_result(wallet, "Loading the wallet") {
                    self.select(name.clone(), wallet);
                    self.dirty.wallets = true;
                    self.send(Update::Info(format!("Loaded wallet {}.", crate::keys::display_name(&name))));
                }
            }
            Command::UnloadWallet(name) => {
                if self.selected.as_ref().is_some_and(|s| s.name == name) {
                    self.selected = None;
                }
                let Some(loader) = self.loader() else { return };
                let unloaded = loader.unload_wallet(name.clone());
                if self.wallet_result(unloaded, "Unloading the wallet").is_ok() {
                    self.send(Update::Info(format!("Unloaded wallet {}.", crate::keys::display_name(&name))));
                }
                self.dirty.wallets = true;
            }
            Command::RefreshWallets => {
                if self.loader().is_some() {
                    self.dirty.wallets = true;
                }
            }
            Command::NewAddress { label } => {
                let Some(selected) = &self.selected else {
                    return self.send(Update::Error(NO_WALLET.into()));
                };
                let name = selected.name.clone();
                let address = selected.wallet.get_new_address(label);
                if let Ok(address) = self.wallet_result(address, "New address") {
                    self.send(Update::NewAddress { wallet: name, address });
                    self.send(Update::Info("New address ready.".into()));
                }
            }
            Command::Send { address, amount, fee_rate_sat_per_kvb, subtract_fee } => {
                let Some(selected) = &self.selected else {
                    return self.send(Update::SendFailed(NO_WALLET.into()));
                };
                let options = SendOptions {
                    subtract_fee_from_amount: subtract_fee,
                    fee_rate_sat_per_kvb,
                    ..SendOptions::default()
                };
                let sent = selected.wallet.send_to_address(address, amount, options);
                match sent {
                    Ok(txid) => self.send(Update::Sent { txid }),
                    Err(e) => {
                        if e.is_disconnected() {
                            self.lose(Peer::Wallet, e.message());
                        }
                        self.send(Update::SendFailed(e.message().to_owned()));
                    }
                }
                self.dirty.wallet = true;
                self.dirty.mempool = true;
            }
            Command::ExecuteRpc { request, uri } => {
                let response = self.node.execute_rpc(request, uri);
                match self.node_result(response) {
                    Ok(text) => self.send(Update::RpcResult(console::response_text(&text))),
                    Err(e) => self.send(Update::RpcResult(Err(e))),
                }
                // The command may have changed anything the screens show.
                self.dirty.mempool = true;
                self.dirty.wallet = true;
                self.dirty.wallets = true;
                if !self.node_lost && matches!(self.node.shutdown_requested(), Ok(true)) {
                    self.send(Update::Error("The node is stopping: press q to quit.".into()));
                }
            }
            Command::Generate { blocks } => {
                if self.mining.is_some() {
                    return self.send(Update::Error("Already mining.".into()));
                }
                let Some(selected) = &self.selected else {
                    return self.send(Update::MiningDone {
                        done: 0,
                        total: blocks,
                        error: Some(NO_WALLET.into()),
                    });
                };
                let address = selected.wallet.get_new_address(String::new());
                match self.wallet_result(address, "New address for mining") {
                    Ok(address) => {
                        self.mining = Some(MiningJob { address, done: 0, total: blocks });
                        self.send(Update::Mining { done: 0, total: blocks });
                    }
                    Err(e) => self.send(Update::MiningDone { done: 0, total: blocks, error: Some(e) }),
                }
            }
            Command::CancelGenerate => self.end_mining(Some("cancelled".into())),
            Command::Shutdown => {}
        }
    }

    fn mine_batch(&mut self) {
        let Some(job) = &self.mining else { return };
        let batch = (job.total - job.done).min(MINE_BATCH);
        let request = serde_json::json!({
            "jsonrpc": "1.0",
            "id": "gui-mining",
            "method": "generatetoaddress",
            "params": [batch, job.address],
        })
        .to_string();
        let response = self.node.execute_rpc(request, "/".into());
        let outcome = self.node_result(response).and_then(|text| console::response_text(&text));
        match outcome {
            Ok(_) => {
                let Some(job) = &mut self.mining else { return };
                job.done += batch;
                let (done, total) = (job.done, job.total);
                if done >= total {
                    self.end_mining(None);
                } else {
                    self.send(Update::Mining { done, total });
                }
            }
            Err(e) => self.end_mining(Some(e)),
        }
    }

    fn end_mining(&mut self, error: Option<String>) {
        if let Some(job) = self.mining.take() {
            self.send(Update::MiningDone { done: job.done, total: job.total, error });
        }
    }

    /// Reads whatever the notes since the last flush asked for, once each.
    fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        if self.node_lost {
            return;
        }
        if dirty.mempool {
            if let Ok(size) = self.node_result(self.node.get_mempool_size()) {
                self.send(Update::Mempool(size));
            }
        }
        // A disabled or lost wallet side is asked again only by a wallet command, so that
        // notifications do not repeat the same error.
        if dirty.wallets && !self.wallets_disabled && !self.wallet_lost {
            self.read_wallets();
        }
        if dirty.wallet || dirty.wallets {
            self.read_wallet_data();
        }
    }

    /// The wallet loader, asked for again after the wallet side was lost.
    /// `None` (reported) when wallets are disabled or unreachable.
    fn loader(&mut self) -> Option<&dyn WalletLoader> {
        if self.loader.is_none() {
            if self.node_lost || self.wallets_disabled {
                let why = if self.node_lost { NODE_GONE } else { "Wallets are disabled on this node." };
                self.send(Update::Error(why.into()));
                return None;
            }
            let loader = self.node.wallet_loader();
            let loader = match loader {
                Ok(loader) => loader,
                Err(e) if e.is_disconnected() => {
                    self.lose(Peer::Node, e.message());
                    return None;
                }
                Err(e) => {
                    // Across a process boundary the Unavailable kind arrives as Failed:
                    // any refusal means there are no wallets to show.
                    self.wallets_disabled = true;
                    self.send(Update::WalletsDisabled(e.message().to_owned()));
                    return None;
                }
            };
            let inbox = self.inbox_tx.clone();
            let registration = loader.handle_load_wallet(Box::new(move |_wallet| {
                let _ = inbox.send(Msg::WalletLoaded);
                Ok(())
            }));
            self.loader_handler = self.wallet_result(registration, "Watching wallet loads").ok();
            if self.loader_handler.is_none() && self.wallet_lost {
                return None;
            }
            self.loader = Some(loader);
            if self.wallet_lost {
                self.wallet_lost = false;
                self.send(Update::Reconnected);
            }
        }
        self.loader.as_deref()
    }

    fn select(&mut self, name: String, wallet: Box<dyn Wallet>) {
        self.selected = None;
        self.generation += 1;
        let generation = self.generation;
        let inbox = self.inbox_tx.clone();
        let registration = wallet.handle_transaction_changed(Box::new(move |_txid, _change| {
            let _ = inbox.send(Msg::WalletTx { generation });
            Ok(())
        }));
        let handler = self.wallet_result(registration, "Watching the wallet").ok();
        if self.wallet_lost {
            return;
        }
        self.selected = Some(Selected { name, wallet, _handler: handler });
        self.dirty.wallet = true;
    }

    fn read_wallets(&mut self) {
        let Some(loader) = self.loader() else { return };
        let lists = (|| -> interfaces::Result<(Vec<String>, Vec<String>)> {
            Ok((loader.list_wallets()?, loader.list_wallet_dir()?))
        })();
        let Ok((loaded, on_disk)) = self.wallet_result(lists, "Listing wallets") else { return };
        let still_loaded = self.selected.as_ref().is_some_and(|s| loaded.contains(&s.name));
        if !still_loaded {
            self.selected = None;
            // The first loaded wallet, as bitcoin-qt selects one.
            if let Some(first) = loaded.first() {
                let wallet = self.loader.as_deref().map(|l| l.get_wallet(first.clone()));
                if let Some(wallet) = wallet {
                    if let Ok(wallet) = self.wallet_result(wallet, "Selecting the wallet") {
                        self.select(first.clone(), wallet);
                    }
                }
            }
        }
        let selected = self.selected.as_ref().map(|s| s.name.clone());
        self.send(Update::Wallets { loaded, on_disk, selected });
    }

    fn read_wallet_data(&mut self) {
        let Some(selected) = &self.selected else { return };
        let name = selected.name.clone();
        let data = (|| -> interfaces::Result<_> {
            Ok((selected.wallet.get_balances()?, selected.wallet.list_transactions()?))
        })();
        if let Ok((balances, transactions)) = self.wallet_result(data, "Reading the wallet") {
            self.send(Update::WalletData { name, balances, transactions });
        }
    }

    fn shutdown(&mut self) {
        self.end_mining(Some("the gui is quitting".into()));
        // Unregister first, then drop the objects, then stop the node.
        self.selected = None;
        self.loader_handler = None;
        self.loader = None;
        self.node_handlers.clear();
        let error = if self.start_node && !self.node_lost {
            self.node.shutdown().err().map(|e| e.message().to_owned())
        } else {
            None
        };
        self.send(Update::ShutdownDone { error });
    }

    /// A node call's result: a disconnection is reported (once) and ends
    /// all later node calls.
    fn node_result<T>(&mut self, result: interfaces::Result<T>) -> Result<T, String> {
        result.map_err(|e| {
            if e.is_disconnected() {
                self.lose(Peer::Node, e.message());
            }
            e.message().to_owned()
        })
    }

    /// A wallet-side call's result: a disconnection is reported (once) and
    /// drops the wallet objects; any other error goes to the status line.
    fn wallet_result<T>(&mut self, result: interfaces::Result<T>, what: &str) -> Result<T, String> {
        result.map_err(|e| {
            if e.is_disconnected() {
                self.lose(Peer::Wallet, e.message());
            } else {
                self.send(Update::Error(format!("{what}: {e}")));
            }
            e.message().to_owned()
        })
    }

    fn lose(&mut self, peer: Peer, message: &str) {
        match peer {
            Peer::Node if !self.node_lost => {
                self.node_lost = true;
                self.end_mining(Some(NODE_GONE.into()));
                self.send(Update::Disconnected { peer, message: message.to_owned() });
            }
            Peer::Wallet if !self.wallet_lost => {
                self.wallet_lost = true;
                self.selected = None;
                self.loader_handler = None;
                self.loader = None;
                self.send(Update::Disconnected { peer, message: message.to_owned() });
            }
            _ => {}
        }
    }
}
