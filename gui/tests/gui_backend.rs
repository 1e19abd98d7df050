//! The backend thread against an in-memory node, wallet loader and wallets
//! (fakes written here): updates flow from notifications, disconnections
//! become banners, quitting stops only a node the gui started.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{check, render};
use gui::{spawn_backend, BackendHandle, Command, Model, Peer, Update, UpdateSink};
use interfaces::{
    Balances, BlockTip, ChangeType, CleanupHandler, CreateWalletOptions, Error, Handler, Node, Progress,
    Result, SendOptions, Utxo, Wallet, WalletLoader, WalletTx, COIN,
};

// ---------------------------------------------------------------- fakes

/// Registered callbacks; each handler empties its slot when it goes.
struct Callbacks<T: ?Sized> {
    slots: Arc<Mutex<Vec<Option<Arc<T>>>>>,
}

impl<T: ?Sized> Default for Callbacks<T> {
    fn default() -> Self {
        Self { slots: Arc::default() }
    }
}

impl<T: ?Sized + Send + Sync + 'static> Callbacks<T> {
    fn add(&self, callback: Arc<T>) -> Box<dyn Handler> {
        let mut slots = self.slots.lock().unwrap();
        slots.push(Some(callback));
        let at = slots.len() - 1;
        let shared = self.slots.clone();
        Box::new(CleanupHandler::new(move || shared.lock().unwrap()[at] = None))
    }

    fn all(&self) -> Vec<Arc<T>> {
        self.slots.lock().unwrap().iter().flatten().cloned().collect()
    }

    fn active(&self) -> usize {
        self.slots.lock().unwrap().iter().flatten().count()
    }
}

type TipFn = dyn Fn(BlockTip) -> Result<()> + Send + Sync;
type TextFn = dyn Fn(String) -> Result<()> + Send + Sync;
type ProgressFn = dyn Fn(Progress) -> Result<()> + Send + Sync;
type LoadFn = dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync;
type TxFn = dyn Fn([u8; 32], ChangeType) -> Result<()> + Send + Sync;

#[derive(Default)]
struct NodeState {
    calls: Mutex<Vec<String>>,
    height: AtomicU32,
    init_error: Mutex<Option<Error>>,
    /// `init` waits until `start_shutdown` (a start-up that takes long).
    slow_init: AtomicBool,
    stop_requested: (Mutex<bool>, Condvar),
    /// Every call fails as disconnected.
    gone: AtomicBool,
    /// `wallet_loader` refuses, as with `-disablewallet`.
    no_wallets: AtomicBool,
    /// `execute_rpc` of method `slow` waits for this.
    release: Mutex<Option<Receiver<()>>>,
    rpc_requests: Mutex<Vec<(String, String)>>,
    tips: Callbacks<TipFn>,
    init_messages: Callbacks<TextFn>,
    progress: Callbacks<ProgressFn>,
    loader: Arc<FakeLoader>,
}

impl NodeState {
    fn call(&self, name: &str) -> Result<()> {
        self.calls.lock().unwrap().push(name.to_owned());
        if self.gone.load(Ordering::SeqCst) {
            Err(Error::disconnected("node process exited"))
        } else {
            Ok(())
        }
    }

    fn called(&self, name: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|c| *c == name).count()
    }

    fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    /// Mines `n` blocks: the height moves and every tip callback is called,
    /// as the node's notification thread would.
    fn mine(&self, n: u32) {
        for _ in 0..n {
            let height = self.height.fetch_add(1, Ordering::SeqCst) + 1;
            for tip in self.tips.all() {
                tip(BlockTip { hash: [height as u8; 32], height, time: 1_700_000_000, ..Default::default() })
                    .unwrap();
            }
        }
    }
}

struct FakeNode(Arc<NodeState>);

impl Node for FakeNode {
    fn init(&self) -> Result<()> {
        self.0.call("init")?;
        for message in self.0.init_messages.all() {
            message("Loading block index...".into())?;
        }
        for progress in self.0.progress.all() {
            progress(Progress { title: "Verifying blocks".into(), percent: 50, resume_possible: false })?;
        }
        if self.0.slow_init.load(Ordering::SeqCst) {
            let (lock, cvar) = &self.0.stop_requested;
            let _stopped = cvar.wait_while(lock.lock().unwrap(), |stopped| !*stopped).unwrap();
            return Err(Error::failed("Shutdown requested during start-up"));
        }
        match self.0.init_error.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn start_shutdown(&self) -> Result<()> {
        self.0.call("start_shutdown")?;
        let (lock, cvar) = &self.0.stop_requested;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
        Ok(())
    }

    fn shutdown_requested(&self) -> Result<bool> {
        self.0.call("shutdown_requested")?;
        Ok(*self.0.stop_requested.0.lock().unwrap())
    }

    fn shutdown(&self) -> Result<()> {
        self.0.call("shutdown")
    }

    fn get_block_count(&self) -> Result<u32> {
        self.0.call("get_block_count")?;
        Ok(self.0.height.load(Ordering::SeqCst))
    }

    fn get_best_block_hash(&self) -> Result<[u8; 32]> {
        self.0.call("get_best_block_hash")?;
        Ok([self.0.height.load(Ordering::SeqCst) as u8; 32])
    }

    fn get_last_block_time(&self) -> Result<i64> {
        self.0.call("get_last_block_time")?;
        Ok(1_700_000_000)
    }

    fn get_mempool_size(&self) -> Result<u64> {
        self.0.call("get_mempool_size")?;
        Ok(3)
    }

    fn get_verification_progress(&self) -> Result<f64> {
        self.0.call("get_verification_progress")?;
        Ok(1.0)
    }

    fn is_initial_block_download(&self) -> Result<bool> {
        self.0.call("is_initial_block_download")?;
        Ok(false)
    }

    fn execute_rpc(&self, request: String, uri: String) -> Result<String> {
        self.0.call("execute_rpc")?;
        self.0.rpc_requests.lock().unwrap().push((request.clone(), uri.clone()));
        if request.contains("\"method\":\"slow\"") {
            if let Some(release) = self.0.release.lock().unwrap().take() {
                let _ = release.recv();
            }
        }
        if request.contains("generatetoaddress") {
            let n: u32 = request
                .split("\"params\":[")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .and_then(|n| n.parse().ok())
                .expect("a block count");
            self.0.mine(n);
            return Ok(r#"{"result":["00"],"error":null,"id":"gui-mining"}"#.into());
        }
        Ok(format!(r#"{{"result":"ran at {uri}","error":null,"id":1}}"#))
    }

    fn list_rpc_commands(&self) -> Result<Vec<String>> {
        self.0.call("list_rpc_commands")?;
        Ok(vec!["getblockcount".into(), "stop".into()])
    }

    fn wallet_loader(&self) -> Result<Box<dyn WalletLoader>> {
        self.0.call("wallet_loader")?;
        if self.0.no_wallets.load(Ordering::SeqCst) {
            return Err(Error::unavailable("Wallets are disabled (-disablewallet)"));
        }
        Ok(Box::new(self.0.loader.clone()))
    }

    fn handle_notify_block_tip(&self, callback: Box<TipFn>) -> Result<Box<dyn Handler>> {
        self.0.call("handle_notify_block_tip")?;
        Ok(self.0.tips.add(Arc::from(callback)))
    }

    fn handle_init_message(&self, callback: Box<TextFn>) -> Result<Box<dyn Handler>> {
        self.0.call("handle_init_message")?;
        Ok(self.0.init_messages.add(Arc::from(callback)))
    }

    fn handle_show_progress(&self, callback: Box<ProgressFn>) -> Result<Box<dyn Handler>> {
        self.0.call("handle_show_progress")?;
        Ok(self.0.progress.add(Arc::from(callback)))
    }
}

#[derive(Default)]
struct FakeLoader {
    loaded: Mutex<Vec<Arc<WalletState>>>,
    on_disk: Mutex<Vec<String>>,
    gone: AtomicBool,
    calls: AtomicU64,
    loads: Callbacks<LoadFn>,
}

impl FakeLoader {
    fn check(&self) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.gone.load(Ordering::SeqCst) {
            Err(Error::disconnected("wallet process exited"))
        } else {
            Ok(())
        }
    }

    fn wallet(&self, name: &str) -> Option<Arc<WalletState>> {
        self.loaded.lock().unwrap().iter().find(|w| w.name == name).cloned()
    }

    fn add(&self, name: &str) -> Arc<WalletState> {
        let wallet = Arc::new(WalletState::new(name));
        self.loaded.lock().unwrap().push(wallet.clone());
        let mut on_disk = self.on_disk.lock().unwrap();
        if !on_disk.iter().any(|n| n == name) {
            on_disk.push(name.to_owned());
            on_disk.sort();
        }
        wallet
    }

    fn loaded_box(&self, wallet: Arc<WalletState>) -> Result<Box<dyn Wallet>> {
        for load in self.loads.all() {
            load(Box::new(FakeWallet(wallet.clone())))?;
        }
        Ok(Box::new(FakeWallet(wallet)))
    }
}

impl WalletLoader for FakeLoader {
    fn register_rpcs(&self) -> Result<()> {
        self.check()
    }

    fn load(&self) -> Result<()> {
        self.check()
    }

    fn flush(&self) -> Result<()> {
        self.check()
    }

    fn stop(&self) -> Result<()> {
        self.check()
    }

    fn create_wallet(&self, name: String, _options: CreateWalletOptions) -> Result<Box<dyn Wallet>> {
        self.check()?;
        if self.on_disk.lock().unwrap().contains(&name) {
            return Err(Error::already_exists(format!("Wallet {name} already exists.")));
        }
        let wallet = self.add(&name);
        self.loaded_box(wallet)
    }

    fn load_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        self.check()?;
        if self.wallet(&name).is_some() {
            return Err(Error::already_exists("already loaded"));
        }
        if !self.on_disk.lock().unwrap().contains(&name) {
            return Err(Error::not_found("no such wallet"));
        }
        let wallet = self.add(&name);
        self.loaded_box(wallet)
    }

    fn unload_wallet(&self, name: String) -> Result<()> {
        self.check()?;
        self.loaded.lock().unwrap().retain(|w| w.name != name);
        Ok(())
    }

    fn list_wallets(&self) -> Result<Vec<String>> {
        self.check()?;
        Ok(self.loaded.lock().unwrap().iter().map(|w| w.name.clone()).collect())
    }

    fn list_wallet_dir(&self) -> Result<Vec<String>> {
        self.check()?;
        Ok(self.on_disk.lock().unwrap().clone())
    }

    fn get_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        self.check()?;
        let wallet = self.wallet(&name).ok_or_else(|| Error::not_found("not loaded"))?;
        Ok(Box::new(FakeWallet(wallet)))
    }

    fn get_wallets(&self) -> Result<Vec<Box<dyn Wallet>>> {
        Err(Error::unimplemented("not used by the gui"))
    }

    fn handle_load_wallet(&self, callback: Box<LoadFn>) -> Result<Box<dyn Handler>> {
        self.check()?;
        Ok(self.loads.add(Arc::from(callback)))
    }
}

struct WalletState {
    name: String,
    balances: Mutex<Balances>,
    transactions: Mutex<Vec<WalletTx>>,
    gone: AtomicBool,
    send_error: Mutex<Option<Error>>,
    sent: Mutex<Vec<(String, i64, SendOptions)>>,
    changes: Callbacks<TxFn>,
}

impl WalletState {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            balances: Mutex::new(Balances { trusted: 50 * COIN, ..Balances::default() }),
            transactions: Mutex::new(vec![WalletTx {
                txid: [0xa1; 32],
                received: 50 * COIN,
                ..Default::default()
            }]),
            gone: AtomicBool::new(false),
            send_error: Mutex::new(None),
            sent: Mutex::new(Vec::new()),
            changes: Callbacks::default(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.gone.load(Ordering::SeqCst) {
            Err(Error::disconnected("wallet process exited"))
        } else {
            Ok(())
        }
    }
}

struct FakeWallet(Arc<WalletState>);

impl Wallet for FakeWallet {
    fn get_wallet_name(&self) -> Result<String> {
        self.0.check()?;
        Ok(self.0.name.clone())
    }

    fn get_new_address(&self, _label: String) -> Result<String> {
        self.0.check()?;
        Ok("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".into())
    }

    fn get_balances(&self) -> Result<Balances> {
        self.0.check()?;
        Ok(*self.0.balances.lock().unwrap())
    }

    fn send_to_address(&self, address: String, amount: i64, options: SendOptions) -> Result<[u8; 32]> {
        self.0.check()?;
        if let Some(e) = self.0.send_error.lock().unwrap().take() {
            return Err(e);
        }
        self.0.sent.lock().unwrap().push((address, amount, options));
        Ok([0x5e; 32])
    }

    fn list_transactions(&self) -> Result<Vec<WalletTx>> {
        self.0.check()?;
        Ok(self.0.transactions.lock().unwrap().clone())
    }

    fn get_transaction(&self, txid: [u8; 32]) -> Result<Option<WalletTx>> {
        self.0.check()?;
        Ok(self.0.transactions.lock().unwrap().iter().find(|t| t.txid == txid).cloned())
    }

    fn list_unspent(&self) -> Result<Vec<Utxo>> {
        self.0.check()?;
        Ok(Vec::new())
    }

    fn handle_transaction_changed(&self, callback: Box<TxFn>) -> Result<Box<dyn Handler>> {
        self.0.check()?;
        Ok(self.0.changes.add(Arc::from(callback)))
    }
}

// ---------------------------------------------------------------- harness

struct Harness {
    node: Arc<NodeState>,
    handle: Option<BackendHandle>,
    updates: Receiver<Update>,
    /// Every update received, applied in order.
    model: Model,
    seen: Vec<Update>,
}

/// A node at height 100 with wallet `w1` loaded and `old` on disk.
fn node_state() -> Arc<NodeState> {
    let node = Arc::new(NodeState::default());
    node.height.store(100, Ordering::SeqCst);
    node.loader.add("w1");
    node.loader.on_disk.lock().unwrap().push("old".into());
    node.loader.on_disk.lock().unwrap().sort();
    node
}

impl Harness {
    fn start(node: Arc<NodeState>, start_node: bool) -> Self {
        let (tx, updates) = mpsc::channel();
        let sink: UpdateSink = Arc::new(move |update| {
            let _ = tx.send(update);
        });
        let handle = spawn_backend(Box::new(FakeNode(node.clone())), start_node, sink).expect("spawn");
        Self {
            node,
            handle: Some(handle),
            updates,
            model: Model::new(start_node, "in process"),
            seen: Vec::new(),
        }
    }

    fn send(&self, command: Command) {
        self.handle.as_ref().expect("running").send(command);
    }

    /// Applies updates until one matches `want`; panics after 5 s.
    #[track_caller]
    fn wait_for(&mut self, what: &str, want: impl Fn(&Update) -> bool) -> Update {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.updates.recv_timeout(left) {
                Ok(update) => {
                    self.model.apply(update.clone());
                    self.seen.push(update.clone());
                    if want(&update) {
                        return update;
                    }
                }
                Err(_) => panic!("no {what} within 5 s; received {:#?}", self.seen),
            }
        }
    }

    /// Applies what has arrived so far without waiting.
    fn drain(&mut self) {
        while let Ok(update) = self.updates.try_recv() {
            self.model.apply(update.clone());
            self.seen.push(update);
        }
    }

    fn started(&mut self) {
        self.wait_for("Started", |u| *u == Update::Started);
        // The first state, wallet data included, is read before the start is reported.
        assert!(self.seen.iter().any(|u| matches!(u, Update::WalletData { .. })), "{:#?}", self.seen);
    }

    fn quit(&mut self) -> Update {
        self.send(Command::Shutdown);
        let done = self.wait_for("ShutdownDone", |u| matches!(u, Update::ShutdownDone { .. }));
        self.handle.take().expect("running").join();
        done
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn start_up_shows_init_messages_and_progress_then_the_state() {
    let mut h = Harness::start(node_state(), true);
    h.wait_for("init message", |u| *u == Update::InitMessage("Loading block index...".into()));
    h.wait_for("progress", |u| matches!(u, Update::Progress(p) if p.percent == 50));
    h.started();
    assert_eq!(h.node.called("init"), 1);
    let wallets = h.seen.iter().find(|u| matches!(u, Update::Wallets { .. })).expect("wallets");
    assert_eq!(
        wallets,
        &Update::Wallets {
            loaded: vec!["w1".into()],
            on_disk: vec!["old".into(), "w1".into()],
            selected: Some("w1".into()),
        }
    );
    h.drain();
    check(&h.model, &["height 100", "50.00000000 BTC", "3 transactions", "wallet w1"]);
    assert_eq!(h.model.console.commands, vec!["getblockcount".to_owned(), "stop".to_owned()]);
    h.quit();
}

#[test]
fn a_tip_notification_updates_the_overview_and_nothing_is_polled() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.drain();
    check(&h.model, &["height 100"]);
    // Idle: the backend makes no call at all, however long it waits.
    let node_calls = h.node.call_count();
    let wallet_calls = h.node.loader.calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(h.node.call_count(), node_calls, "the node was polled");
    assert_eq!(h.node.loader.calls.load(Ordering::SeqCst), wallet_calls, "the loader was polled");
    // The node's notification thread reports a new tip.
    h.node.loader.wallet("w1").expect("w1").balances.lock().unwrap().trusted = 75 * COIN;
    h.node.mine(1);
    h.wait_for("the new tip", |u| matches!(u, Update::Tip(tip) if tip.height == 101));
    check(&h.model, &["height 101"]);
    // The tip makes the backend read the mempool and the wallet once.
    h.wait_for(
        "wallet data",
        |u| matches!(u, Update::WalletData { balances, .. } if balances.trusted == 75 * COIN),
    );
    check(&h.model, &["75.00000000 BTC"]);
    h.quit();
}

#[test]
fn a_wallet_transaction_notification_refreshes_balances_and_history() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    let w1 = h.node.loader.wallet("w1").expect("w1");
    assert_eq!(w1.changes.active(), 1);
    *w1.balances.lock().unwrap() = Balances { trusted: 49 * COIN, untrusted_pending: 7, immature: 0 };
    w1.transactions.lock().unwrap().push(WalletTx { txid: [0xee; 32], sent: COIN, ..Default::default() });
    for change in w1.changes.all() {
        change([0xee; 32], ChangeType::New).unwrap();
    }
    h.wait_for(
        "wallet data",
        |u| matches!(u, Update::WalletData { transactions, .. } if transactions.len() == 2),
    );
    h.model.show(gui::Screen::Transactions);
    check(&h.model, &["2 transactions", "eeeeeeee", "-1.00000000"]);
    h.model.show(gui::Screen::Overview);
    check(&h.model, &["49.00000000 BTC", "0.00000007 BTC"]);
    h.quit();
}

#[test]
fn a_start_up_error_is_shown_and_the_node_is_still_shut_down() {
    let node = node_state();
    *node.init_error.lock().unwrap() = Some(Error::failed("Cannot obtain a lock on data directory /d"));
    let mut h = Harness::start(node, true);
    h.wait_for("StartupFailed", |u| matches!(u, Update::StartupFailed(_)));
    check(&h.model, &["The node failed to start", "Cannot obtain a lock on data directory /d"]);
    assert_eq!(h.quit(), Update::ShutdownDone { error: None });
    assert_eq!(h.node.called("shutdown"), 1);
    assert!(!h.seen.contains(&Update::Started));
}

#[test]
fn quitting_during_a_long_start_up_interrupts_it() {
    let node = node_state();
    node.slow_init.store(true, Ordering::SeqCst);
    let mut h = Harness::start(node, true);
    h.wait_for("init message", |u| matches!(u, Update::InitMessage(_)));
    h.quit();
    assert_eq!(h.node.called("start_shutdown"), 1);
    assert_eq!(h.node.called("shutdown"), 1);
}

#[test]
fn a_lost_wallet_shows_a_banner_keeps_the_state_and_comes_back() {
    let mut h = Harness::start(node_state(), true);
    h.started();
    h.drain();
    let w1 = h.node.loader.wallet("w1").expect("w1");
    w1.gone.store(true, Ordering::SeqCst);
    h.node.loader.gone.store(true, Ordering::SeqCst);
    h.send(Command::NewAddress { label: String::new() });
    let lost = h.wait_for("Disconnected", |u| matches!(u, Update::Disconnected { .. }));
    assert_eq!(lost, Update::Disconnected { peer: Peer::Wallet, message: "wallet process exited".into() });
    check(&h.model, &["Wallet disconnected: wallet process exited", "50.00000000 BTC", "height 100"]);
    // Reported once: a second failing command adds no second banner update.
    h.send(Command::NewAddress { label: String::new() });
    h.wait_for("an error", |u| matches!(u, Update::Error(_)));
    // The wallet process is back (restarted by the node): r on Wallets reconnects.
    h.node.loader.gone.store(false, Ordering::SeqCst);
    w1.gone.store(false, Ordering::SeqCst);
    h.send(Command::RefreshWallets);
    h.wait_for("Reconnected", |u| *u == Update::Reconnected);
    h.wait_for("Wallets", |u| matches!(u, Update::Wallets { selected: Some(_), .. }));
    h.drain();
    common::check_absent(&h.model, "Wallet disconnected");
    let lost_count = h.seen.iter().filter(|u| matches!(u, Update::Disconnected { .. })).count();
    assert_eq!(lost_count, 1);
    assert_eq!(h.quit(), Update::ShutdownDone { error: None });
}

#[test]
fn a_lost_node_shows_a_banner_is_not_called_again_and_quitting_works() {
    let mut h = Harness::start(node_state(), true);
    h.started();
    h.node.gone.store(true, Ordering::SeqCst);
    h.send(Command::ExecuteRpc { request: "{}".into(), uri: "/".into() });
    h.wait_for("Disconnected", |u| matches!(u, Update::Disconnected { peer: Peer::Node, .. }));
    h.wait_for("the console's error", |u| matches!(u, Update::RpcResult(Err(_))));
    check(&h.model, &["Node disconnected: node process exited", "height 100", "50.00000000 BTC"]);
    let calls = h.node.call_count();
    h.send(Command::Generate { blocks: 5 });
    h.wait_for("MiningDone", |u| matches!(u, Update::MiningDone { error: Some(_), .. }));
    h.send(Command::NewAddress { label: String::new() });
    h.wait_for("an error", |u| matches!(u, Update::Error(e) if e.contains("disconnected")));
    assert_eq!(h.node.call_count(), calls, "a lost node is not called again");
    // Quitting works and does not try to stop a node that is gone.
    assert_eq!(h.quit(), Update::ShutdownDone { error: None });
    assert_eq!(h.node.called("shutdown"), 0);
}

#[test]
fn mining_runs_in_batches_with_progress_and_tip_updates() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.send(Command::Generate { blocks: 25 });
    let done = h.wait_for("MiningDone", |u| matches!(u, Update::MiningDone { .. }));
    assert_eq!(done, Update::MiningDone { done: 25, total: 25, error: None });
    let batches: Vec<String> = h
        .node
        .rpc_requests
        .lock()
        .unwrap()
        .iter()
        .map(|(request, uri)| {
            assert_eq!(uri, "/");
            let head = r#"{"jsonrpc":"1.0","id":"gui-mining","method":"generatetoaddress","params":["#;
            request.strip_prefix(head).unwrap_or_else(|| panic!("{request}")).to_owned()
        })
        .collect();
    let address = "\"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080\"]}";
    assert_eq!(batches, [format!("10,{address}"), format!("10,{address}"), format!("5,{address}")]);
    assert!(h.seen.contains(&Update::Mining { done: 10, total: 25 }));
    assert!(h.seen.contains(&Update::Mining { done: 20, total: 25 }));
    h.drain();
    h.model.show(gui::Screen::Mining);
    check(&h.model, &["Mined 25 blocks.", "125"]);
    h.quit();
}

#[test]
fn mining_can_be_cancelled_between_batches() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.send(Command::Generate { blocks: 100_000 });
    h.wait_for("progress", |u| matches!(u, Update::Mining { done, .. } if *done >= 20));
    h.send(Command::CancelGenerate);
    let done = h.wait_for("MiningDone", |u| matches!(u, Update::MiningDone { .. }));
    let Update::MiningDone { done, total, error } = done else { unreachable!() };
    assert!(done < total, "{done}");
    assert_eq!(error.as_deref(), Some("cancelled"));
    h.quit();
}

#[test]
fn sending_reports_the_txid_or_the_wallets_error() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    let w1 = h.node.loader.wallet("w1").expect("w1");
    *w1.send_error.lock().unwrap() = Some(Error::insufficient_funds("Insufficient funds"));
    let send = Command::Send {
        address: "bcrt1qabc".into(),
        amount: 12_345,
        fee_rate_sat_per_kvb: Some(2500),
        subtract_fee: true,
    };
    h.send(send.clone());
    h.wait_for("SendFailed", |u| *u == Update::SendFailed("Insufficient funds".into()));
    check(&h.model, &["Send failed", "Insufficient funds"]);
    h.send(send);
    h.wait_for("Sent", |u| *u == Update::Sent { txid: [0x5e; 32] });
    let sent = w1.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let (address, amount, options) = &sent[0];
    assert_eq!((address.as_str(), *amount), ("bcrt1qabc", 12_345));
    assert_eq!(options.fee_rate_sat_per_kvb, Some(2500));
    assert!(options.subtract_fee_from_amount);
    h.quit();
}

#[test]
fn wallets_are_created_loaded_unloaded_and_selected() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.send(Command::CreateWallet("savings".into()));
    h.wait_for(
        "savings selected",
        |u| matches!(u, Update::Wallets { selected: Some(s), .. } if s == "savings"),
    );
    h.send(Command::CreateWallet("savings".into()));
    h.wait_for("already exists", |u| matches!(u, Update::Error(e) if e.contains("already exists")));
    h.send(Command::LoadWallet("old".into()));
    h.wait_for("old selected", |u| matches!(u, Update::Wallets { selected: Some(s), .. } if s == "old"));
    h.send(Command::UnloadWallet("old".into()));
    // The first loaded wallet is selected when the selected one goes.
    let wallets = h.wait_for(
        "after unload",
        |u| matches!(u, Update::Wallets { loaded, .. } if !loaded.contains(&"old".to_owned())),
    );
    assert!(matches!(wallets, Update::Wallets { selected: Some(s), .. } if s == "w1"));
    h.send(Command::SelectWallet("savings".into()));
    h.wait_for("savings again", |u| matches!(u, Update::Wallets { selected: Some(s), .. } if s == "savings"));
    h.quit();
}

#[test]
fn disabled_wallets_are_reported_once() {
    let node = node_state();
    node.no_wallets.store(true, Ordering::SeqCst);
    let mut h = Harness::start(node, false);
    h.wait_for("Started", |u| *u == Update::Started);
    assert!(h.seen.contains(&Update::WalletsDisabled("Wallets are disabled (-disablewallet)".into())));
    h.node.mine(1);
    h.send(Command::ExecuteRpc { request: "{}".into(), uri: "/".into() });
    h.wait_for("RpcResult", |u| matches!(u, Update::RpcResult(_)));
    h.send(Command::NewAddress { label: String::new() });
    h.wait_for("no wallet", |u| matches!(u, Update::Error(e) if e.contains("No wallet selected")));
    assert!(!h.seen.iter().any(|u| matches!(u, Update::Error(e) if e.contains("disabled"))), "{:#?}", h.seen);
    assert_eq!(h.node.called("wallet_loader"), 1);
    check(&h.model, &["Wallets are disabled: Wallets are disabled (-disablewallet)"]);
    h.quit();
}

#[test]
fn the_console_runs_on_the_wallets_uri() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.send(Command::ExecuteRpc { request: r#"{"method":"getbalance"}"#.into(), uri: "/wallet/w1".into() });
    let result = h.wait_for("RpcResult", |u| matches!(u, Update::RpcResult(_)));
    assert_eq!(result, Update::RpcResult(Ok("ran at /wallet/w1".into())));
    h.quit();
}

#[test]
fn commands_queue_without_blocking_while_the_backend_is_busy() {
    let node = node_state();
    let (release, wait) = mpsc::channel();
    *node.release.lock().unwrap() = Some(wait);
    let mut h = Harness::start(node, false);
    h.started();
    h.send(Command::ExecuteRpc { request: r#"{"method":"slow"}"#.into(), uri: "/".into() });
    // The backend is stuck in the call; the UI side keeps working at full speed.
    let started = Instant::now();
    for _ in 0..100 {
        h.send(Command::RefreshWallets);
        let commands =
            gui::handle_key(&mut h.model, common::key(ratatui::crossterm::event::KeyCode::Char('4')));
        assert!(commands.is_empty());
        render(&h.model, 80, 24);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    release.send(()).unwrap();
    h.wait_for("RpcResult", |u| matches!(u, Update::RpcResult(_)));
    h.quit();
}

#[test]
fn quitting_stops_a_started_node_and_unregisters_every_callback() {
    let mut h = Harness::start(node_state(), true);
    h.started();
    let w1 = h.node.loader.wallet("w1").expect("w1");
    assert_eq!(h.node.tips.active() + h.node.init_messages.active() + h.node.progress.active(), 3);
    assert_eq!(h.node.loader.loads.active(), 1);
    assert_eq!(h.quit(), Update::ShutdownDone { error: None });
    assert_eq!(h.node.called("start_shutdown"), 1);
    assert_eq!(h.node.called("shutdown"), 1);
    assert_eq!(h.node.tips.active() + h.node.init_messages.active() + h.node.progress.active(), 0);
    assert_eq!(h.node.loader.loads.active(), 0);
    assert_eq!(w1.changes.active(), 0);
}

#[test]
fn quitting_leaves_a_joined_node_running() {
    let mut h = Harness::start(node_state(), false);
    h.started();
    h.quit();
    assert_eq!(h.node.called("init"), 0);
    assert_eq!(h.node.called("start_shutdown"), 0);
    assert_eq!(h.node.called("shutdown"), 0);
}

#[test]
fn dropping_the_handle_shuts_down_too() {
    let node = node_state();
    let mut h = Harness::start(node.clone(), true);
    h.started();
    drop(h.handle.take());
    assert_eq!(node.called("shutdown"), 1);
}
