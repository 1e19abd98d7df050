//! The wallet as `interfaces` users see it: `WalletLoader` / `Wallet` methods, load and
//! transaction-changed callbacks, a broadcast the node refuses, and a reorganization (the node
//! keeps no side branches, so a `Chain` that switches between two real nodes sharing a prefix
//! stands in for one).

mod common;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use bitcoin::Address;
use common::*;
use interfaces::{
    BlockRef, Chain, ChainNotifications, ChangeType, CreateWalletOptions, Error, ErrorKind, FeeEstimate,
    FoundBlock, FoundBlockRequest, Handler, RpcCommand, SendOptions, WalletLoader,
};
use node::rpc::Dispatcher;
use node::{ChainParams, ChainState, NodeChain, NodeState};
use wallet::{Loader, WalletSettings};

/// A `Chain` over node `a` or, once switched, node `b`; notifications come from both. It can
/// also refuse every broadcast, as a node would refuse a transaction.
struct Switch {
    a: NodeChain,
    b: NodeChain,
    use_b: AtomicBool,
    refuse: AtomicBool,
    /// Broadcasts fail as if the node were gone (the transaction may or may not have arrived).
    lose: AtomicBool,
    /// `get_tip` waits while this gate is closed.
    tip_gate: Gate,
    /// The next broadcast sleeps this long before it reaches the node (a slow link).
    delay_next_broadcast: Mutex<Option<std::time::Duration>>,
}

/// A gate threads wait at while it is closed; the test can wait until one is waiting.
#[derive(Default)]
struct Gate {
    /// (closed, threads waiting)
    state: Mutex<(bool, u32)>,
    cv: Condvar,
}

impl Gate {
    fn pass(&self) {
        let mut g = self.state.lock().unwrap();
        if g.0 {
            g.1 += 1;
            self.cv.notify_all();
            while g.0 {
                g = self.cv.wait(g).unwrap();
            }
            g.1 -= 1;
        }
    }

    fn close(&self) {
        self.state.lock().unwrap().0 = true;
    }

    fn open(&self) {
        self.state.lock().unwrap().0 = false;
        self.cv.notify_all();
    }

    /// Closes the gate until the returned guard is dropped (also when an assertion fails, so a
    /// failing test does not hang).
    fn closed(&self) -> impl Drop + '_ {
        struct Reopen<'a>(&'a Gate);
        impl Drop for Reopen<'_> {
            fn drop(&mut self) {
                self.0.open();
            }
        }
        self.close();
        Reopen(self)
    }

    fn wait_for_a_waiter(&self) {
        let mut g = self.state.lock().unwrap();
        while g.1 == 0 {
            g = self.cv.wait(g).unwrap();
        }
    }
}

struct Both(Box<dyn Handler>, Box<dyn Handler>);

impl Handler for Both {
    fn disconnect(&self) -> interfaces::Result<()> {
        self.0.disconnect()?;
        self.1.disconnect()
    }
}

impl Switch {
    fn active(&self) -> &NodeChain {
        if self.use_b.load(Ordering::SeqCst) {
            &self.b
        } else {
            &self.a
        }
    }
}

impl Chain for Switch {
    fn get_height(&self) -> interfaces::Result<Option<u32>> {
        self.active().get_height()
    }
    fn get_tip(&self) -> interfaces::Result<Option<BlockRef>> {
        self.tip_gate.pass();
        self.active().get_tip()
    }
    fn get_block_hash(&self, height: u32) -> interfaces::Result<Option<[u8; 32]>> {
        self.active().get_block_hash(height)
    }
    fn find_block(
        &self,
        hash: [u8; 32],
        request: FoundBlockRequest,
    ) -> interfaces::Result<Option<FoundBlock>> {
        self.active().find_block(hash, request)
    }
    fn is_in_mempool(&self, txid: [u8; 32]) -> interfaces::Result<bool> {
        self.active().is_in_mempool(txid)
    }
    fn broadcast_transaction(&self, tx: Vec<u8>, max_tx_fee: i64) -> interfaces::Result<[u8; 32]> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(Error::rejected("min relay fee not met"));
        }
        if self.lose.load(Ordering::SeqCst) {
            return Err(Error::disconnected("peer gone"));
        }
        let delay = self.delay_next_broadcast.lock().unwrap().take();
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        self.active().broadcast_transaction(tx, max_tx_fee)
    }
    fn estimate_fee(&self, target_blocks: u32) -> interfaces::Result<Option<FeeEstimate>> {
        self.active().estimate_fee(target_blocks)
    }
    fn relay_min_fee(&self) -> interfaces::Result<i64> {
        self.active().relay_min_fee()
    }
    fn handle_notifications(&self, n: Arc<dyn ChainNotifications>) -> interfaces::Result<Box<dyn Handler>> {
        Ok(Box::new(Both(self.a.handle_notifications(n.clone())?, self.b.handle_notifications(n)?)))
    }
    fn wait_for_notifications_if_tip_changed(&self, old_tip: [u8; 32]) -> interfaces::Result<()> {
        self.active().wait_for_notifications_if_tip_changed(old_tip)
    }
    fn handle_rpc(&self, command: RpcCommand) -> interfaces::Result<Box<dyn Handler>> {
        self.a.handle_rpc(command)
    }
    fn request_mempool_transactions(&self, n: Arc<dyn ChainNotifications>) -> interfaces::Result<()> {
        self.active().request_mempool_transactions(n)
    }
    fn init_message(&self, message: String) -> interfaces::Result<()> {
        self.active().init_message(message)
    }
    fn show_progress(&self, title: String, percent: u32, resume: bool) -> interfaces::Result<()> {
        self.active().show_progress(title, percent, resume)
    }
    fn shutdown_requested(&self) -> interfaces::Result<bool> {
        self.active().shutdown_requested()
    }
}

fn node() -> (Arc<NodeState>, NodeChain, Arc<Dispatcher>) {
    let node = Arc::new(NodeState::new(ChainState::new(ChainParams::regtest())));
    let dispatcher = Arc::new(Dispatcher::new(node.clone()));
    let chain = NodeChain::new(dispatcher.clone());
    (node, chain, dispatcher)
}

fn script(address: &str) -> bitcoin::ScriptBuf {
    Address::from_str(address).unwrap().assume_checked().script_pubkey()
}

struct Fixture {
    dir: tempfile::TempDir,
    a: Arc<NodeState>,
    b: Arc<NodeState>,
    /// Node a's RPC dispatcher (the loader registers its RPCs with a).
    a_rpc: Arc<Dispatcher>,
    switch: Arc<Switch>,
    loader: Loader,
}

impl Fixture {
    /// `method(params)` through node a's dispatcher: the result, or the error's code and message.
    fn rpc(&self, method: &str, params: serde_json::Value) -> Result<serde_json::Value, (i64, String)> {
        use interfaces::Rpc;
        let body = serde_json::json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let reply = self.a_rpc.execute_rpc(body.to_string(), "/".into(), "test".into()).unwrap();
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        match reply["error"].as_object() {
            None => Ok(reply["result"].clone()),
            Some(e) => Err((e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())),
        }
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ((a, a_chain, a_rpc), (b, b_chain, _)) = (node(), node());
    let switch = Arc::new(Switch {
        a: a_chain,
        b: b_chain,
        use_b: AtomicBool::new(false),
        refuse: AtomicBool::new(false),
        lose: AtomicBool::new(false),
        tip_gate: Gate::default(),
        delay_next_broadcast: Mutex::new(None),
    });
    let loader = Loader::new(switch.clone(), WalletSettings::regtest(dir.path().join("wallets")));
    loader.load().unwrap();
    Fixture { dir, a, b, a_rpc, switch, loader }
}

#[test]
fn interface_methods_and_callbacks() {
    let f = fixture();
    let loaded = Arc::new(Mutex::new(Vec::new()));
    let seen = loaded.clone();
    let load_handler = f
        .loader
        .handle_load_wallet(Box::new(move |w| {
            seen.lock().unwrap().push(w.get_wallet_name()?);
            Ok(())
        }))
        .unwrap();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    let w2 = f.loader.create_wallet("w2".into(), CreateWalletOptions::default()).unwrap();
    let e = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(f.loader.load_wallet("w1".into()).err().unwrap().kind(), ErrorKind::AlreadyExists);
    assert_eq!(f.loader.load_wallet("nope".into()).err().unwrap().kind(), ErrorKind::NotFound);
    assert_eq!(
        f.loader.create_wallet("a/b".into(), CreateWalletOptions::default()).err().unwrap().kind(),
        ErrorKind::InvalidParameter
    );
    assert_eq!(*loaded.lock().unwrap(), ["w1", "w2"]);
    assert_eq!(f.loader.list_wallets().unwrap(), ["w1", "w2"]);
    assert_eq!(f.loader.list_wallet_dir().unwrap(), ["w1", "w2"]);
    assert_eq!(f.loader.get_wallet("w2".into()).unwrap().get_wallet_name().unwrap(), "w2");

    let changes = Arc::new(Mutex::new(Vec::new()));
    let sink = changes.clone();
    // Callbacks run with no wallet lock held: they may call back into the wallet.
    let reentrant = f.loader.get_wallet("w2".into()).unwrap();
    let tx_handler = w2
        .handle_transaction_changed(Box::new(move |txid, kind| {
            assert!(reentrant.get_transaction(txid)?.is_some());
            reentrant.get_balances()?;
            sink.lock().unwrap().push((txid, kind));
            Ok(())
        }))
        .unwrap();

    let to_w1 = w1.get_new_address("".into()).unwrap();
    f.a.generate(&script(&to_w1), 101).unwrap();
    assert_eq!(w1.get_balances().unwrap().trusted, 50 * COIN);
    assert_eq!(w1.get_balances().unwrap().immature, 100 * 50 * COIN);
    assert_eq!(w1.list_transactions().unwrap().len(), 101);
    assert_eq!(w1.list_unspent().unwrap().len(), 1, "immature outputs are not listed");

    let to_w2 = w2.get_new_address("".into()).unwrap();
    let e = w1.send_to_address(to_w2.clone(), 0, SendOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let e = w1.send_to_address("bogus".into(), COIN, SendOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let e = w1.send_to_address(to_w2.clone(), 60 * COIN, SendOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientFunds);
    // Fee rates no transaction could pay are refused before any fee arithmetic.
    let max_rate = 10_000_000 * 1000; // sat/kvB: one vbyte paying the 0.10 BTC maximum fee
    for rate in [i64::MAX, max_rate + 1, -1] {
        let options = SendOptions { fee_rate_sat_per_kvb: Some(rate), ..Default::default() };
        let e = w1.send_to_address(to_w2.clone(), COIN, options).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{rate}: {e}");
    }
    let options = SendOptions { fee_rate_sat_per_kvb: Some(max_rate), ..Default::default() };
    let e = w1.send_to_address(to_w2.clone(), COIN, options).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientFunds, "{e}");
    let options =
        SendOptions { fee_rate_sat_per_kvb: Some(5_000), comment: "hi".into(), ..Default::default() };
    let txid = w1.send_to_address(to_w2, 2 * COIN, options).unwrap();
    assert!(f.switch.is_in_mempool(txid).unwrap());
    assert_eq!(*changes.lock().unwrap(), [(txid, ChangeType::New)]);
    let sent = w1.get_transaction(txid).unwrap().unwrap();
    assert_eq!((sent.sent - sent.received - sent.fee.unwrap()), 2 * COIN);
    assert!(sent.confirmed_in.is_none());
    let got = w2.get_transaction(txid).unwrap().unwrap();
    assert_eq!((got.received, got.sent, got.fee), (2 * COIN, 0, None));
    assert_eq!(w2.get_balances().unwrap().untrusted_pending, 2 * COIN);

    f.a.generate(&script(ELSEWHERE), 1).unwrap();
    assert_eq!(*changes.lock().unwrap(), [(txid, ChangeType::New), (txid, ChangeType::Updated)]);
    let got = w2.get_transaction(txid).unwrap().unwrap();
    assert_eq!(got.confirmed_in.map(|b| b.height), Some(102));
    assert_eq!(w2.list_unspent().unwrap()[0].value, 2 * COIN);

    drop(tx_handler);
    drop(load_handler);
    f.loader.unload_wallet("w2".into()).unwrap();
    assert_eq!(w2.get_balances().unwrap_err().kind(), ErrorKind::NotFound, "a handle outlives its wallet");
    assert_eq!(f.loader.unload_wallet("w2".into()).unwrap_err().kind(), ErrorKind::NotFound);
    let w2 = f.loader.load_wallet("w2".into()).unwrap();
    assert_eq!(w2.get_balances().unwrap().trusted, 2 * COIN);
    assert_eq!(*loaded.lock().unwrap(), ["w1", "w2"], "the dropped load handler is not called");
    f.loader.flush().unwrap();
    f.loader.stop().unwrap();
    assert!(f.loader.list_wallets().unwrap().is_empty());
}

#[test]
fn a_refused_broadcast_frees_the_coins() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 101).unwrap();
    f.switch.refuse.store(true, Ordering::SeqCst);
    let e = w1.send_to_address(ELSEWHERE.into(), 10 * COIN, SendOptions::default()).unwrap_err();
    assert_eq!((e.kind(), e.message()), (ErrorKind::Rejected, "min relay fee not met"));
    assert_eq!(w1.get_balances().unwrap().trusted, 50 * COIN, "the coin is spendable again");
    assert_eq!(w1.list_transactions().unwrap().len(), 101, "the refused transaction is not listed");
    f.switch.refuse.store(false, Ordering::SeqCst);
    let txid = w1.send_to_address(ELSEWHERE.into(), 10 * COIN, SendOptions::default()).unwrap();
    assert!(f.switch.is_in_mempool(txid).unwrap());
    assert!(w1.get_balances().unwrap().trusted < 40 * COIN);
}

#[test]
fn a_reorganization_replaces_the_stale_blocks() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(ELSEWHERE), 5).unwrap();
    let mine = w1.get_new_address("".into()).unwrap();
    f.a.generate(&script(&mine), 3).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 150 * COIN);
    assert_eq!(w1.list_transactions().unwrap().len(), 3);

    // Node b: the same first 5 blocks, then a longer branch of its own.
    for height in 1..=5 {
        let block = {
            let chain = &f.a.lock().chain;
            chain.block(&chain.block_hash(height).unwrap()).unwrap().clone()
        };
        f.b.submit_block(block).unwrap();
    }
    f.b.generate(&script(ELSEWHERE), 5).unwrap();
    f.switch.use_b.store(true, Ordering::SeqCst);
    f.b.generate(&script(ELSEWHERE), 1).unwrap();

    let b_tip = f.b.lock().chain.tip();
    let balances = w1.get_balances().unwrap();
    assert_eq!(balances, interfaces::Balances::default(), "the coinbases of the stale branch are gone");
    assert!(w1.list_transactions().unwrap().is_empty());
    // The wallet's tip is b's.
    use bitcoin::hashes::Hash;
    let raw = f.switch.get_tip().unwrap().unwrap();
    assert_eq!((raw.hash, raw.height), (b_tip.to_byte_array(), 11));
    // And it keeps following b.
    f.b.generate(&script(&mine), 1).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 50 * COIN);
    let listed = w1.list_transactions().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].confirmed_in.map(|b| b.height), Some(12));
}

#[test]
fn a_send_written_but_not_broadcast_is_resubmitted_on_the_next_load() {
    // As after a crash between writing the transaction and broadcasting it.
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 101).unwrap();
    f.switch.lose.store(true, Ordering::SeqCst);
    let e = w1.send_to_address(ELSEWHERE.into(), 10 * COIN, SendOptions::default()).unwrap_err();
    assert!(e.is_disconnected());
    let listed = w1.list_transactions().unwrap();
    let txid = listed.last().unwrap().txid;
    assert!(listed.last().unwrap().sent > 0, "the send is in the wallet");
    assert!(!f.switch.is_in_mempool(txid).unwrap());
    // As in Core: an unconfirmed transaction the mempool lacks is not trusted. Its input is spent
    // and its change counts nowhere, is not listed and cannot be spent.
    let balances = w1.get_balances().unwrap();
    assert_eq!((balances.trusted, balances.untrusted_pending), (0, 0));
    assert!(w1.list_unspent().unwrap().is_empty());
    let e = w1.send_to_address(ELSEWHERE.into(), COIN, SendOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientFunds, "{e}");
    f.loader.stop().unwrap();

    f.switch.lose.store(false, Ordering::SeqCst);
    let again = Loader::new(f.switch.clone(), WalletSettings::regtest(f.dir.path().join("wallets")));
    let w1 = again.load_wallet("w1".into()).unwrap();
    assert!(f.switch.is_in_mempool(txid).unwrap(), "resubmitted on load");
    let trusted = w1.get_balances().unwrap().trusted;
    assert!(trusted > 39 * COIN && trusted < 40 * COIN, "the change is trusted again: {trusted}");
}

#[test]
fn a_resubmission_the_node_refuses_frees_the_coins_for_good() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 101).unwrap();
    f.switch.lose.store(true, Ordering::SeqCst);
    w1.send_to_address(ELSEWHERE.into(), 10 * COIN, SendOptions::default()).unwrap_err();
    let txid = w1.list_transactions().unwrap().last().unwrap().txid;
    f.loader.stop().unwrap();
    f.switch.lose.store(false, Ordering::SeqCst);

    // The node refuses it on the next load: the wallet marks it evicted and writes that down.
    f.switch.refuse.store(true, Ordering::SeqCst);
    let settings = || WalletSettings::regtest(f.dir.path().join("wallets"));
    let again = Loader::new(f.switch.clone(), settings());
    let w1 = again.load_wallet("w1".into()).unwrap();
    assert_eq!(w1.get_balances().unwrap().trusted, 50 * COIN, "the coin is spendable again");
    assert!(w1.list_transactions().unwrap().iter().all(|t| t.txid != txid));
    again.stop().unwrap();

    // And it stays so: the next load does not resubmit it.
    f.switch.refuse.store(false, Ordering::SeqCst);
    let third = Loader::new(f.switch.clone(), settings());
    let w1 = third.load_wallet("w1".into()).unwrap();
    assert!(!f.switch.is_in_mempool(txid).unwrap(), "not resubmitted");
    assert_eq!(w1.get_balances().unwrap().trusted, 50 * COIN);
    let paid = w1.send_to_address(ELSEWHERE.into(), 10 * COIN, SendOptions::default()).unwrap();
    assert!(f.switch.is_in_mempool(paid).unwrap());
}

#[test]
fn concurrent_sends_and_mining() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    let w2 = f.loader.create_wallet("w2".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 110).unwrap();
    let start = w1.get_balances().unwrap().trusted;
    assert_eq!(start, 10 * 50 * COIN);
    let to = w2.get_new_address("".into()).unwrap();
    let w1: Arc<dyn interfaces::Wallet> = Arc::from(w1);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            let (w1, to) = (w1.clone(), to.clone());
            scope.spawn(move || {
                for _ in 0..3 {
                    w1.send_to_address(to.clone(), COIN, SendOptions::default()).unwrap();
                }
            });
        }
        let a = f.a.clone();
        scope.spawn(move || {
            for _ in 0..3 {
                a.generate(&script(ELSEWHERE), 1).unwrap();
            }
        });
    });
    f.a.generate(&script(ELSEWHERE), 1).unwrap();
    assert!(f.a.lock().mempool.is_empty());
    let sent: Vec<_> = w1.list_transactions().unwrap().into_iter().filter(|t| t.sent > 0).collect();
    assert_eq!(sent.len(), 9);
    let fees: i64 = sent.iter().map(|t| t.fee.unwrap()).sum();
    assert_eq!(w2.get_balances().unwrap().trusted, 9 * COIN);
    // Four more blocks matured four more coinbases.
    assert_eq!(w1.get_balances().unwrap().trusted, start + 4 * 50 * COIN - 9 * COIN - fees);
}

#[test]
fn a_second_load_while_the_first_is_loading_fails_as_in_core() {
    let f = fixture();
    f.loader.register_rpcs().unwrap();
    f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.loader.unload_wallet("w1".into()).unwrap();
    std::thread::scope(|scope| {
        let gate = f.switch.tip_gate.closed();
        let first = scope.spawn(|| f.rpc("loadwallet", serde_json::json!(["w1"])));
        // The first load is catching up (it asked for the tip).
        f.switch.tip_gate.wait_for_a_waiter();
        let e = f.rpc("loadwallet", serde_json::json!(["w1"])).unwrap_err();
        assert_eq!(e, (-4, "Wallet already loading.".to_string()));
        let e = f.loader.load_wallet("w1".into()).err().unwrap();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Failed, "Wallet already loading."));
        drop(gate);
        assert_eq!(first.join().unwrap(), Ok(serde_json::json!({"name": "w1"})));
    });
    let e = f.rpc("loadwallet", serde_json::json!(["w1"])).unwrap_err();
    assert_eq!(e, (-35, "Wallet \"w1\" is already loaded.".to_string()));
}

#[test]
fn a_send_spending_the_change_of_a_send_in_flight_waits_for_its_broadcast() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    // One spendable coin: the second send can only spend the first one's change.
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 101).unwrap();
    let (recorded, first_recorded) = std::sync::mpsc::channel();
    let recorded = Mutex::new(Some(recorded));
    let _handler = w1
        .handle_transaction_changed(Box::new(move |_, kind| {
            if kind == ChangeType::New {
                if let Some(tx) = recorded.lock().unwrap().take() {
                    tx.send(()).unwrap();
                }
            }
            Ok(())
        }))
        .unwrap();
    *f.switch.delay_next_broadcast.lock().unwrap() = Some(std::time::Duration::from_millis(500));
    let w1: Arc<dyn interfaces::Wallet> = Arc::from(w1);
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| w1.send_to_address(ELSEWHERE.into(), COIN, SendOptions::default()));
        // The first send is recorded and now on its (slow) way to the node.
        first_recorded.recv().unwrap();
        let second = w1.send_to_address(ELSEWHERE.into(), COIN, SendOptions::default());
        (first.join().unwrap(), second)
    });
    let (first, second) = (first.unwrap(), second.unwrap());
    let child = bitcoin::consensus::deserialize::<bitcoin::Transaction>(
        &w1.get_transaction(second).unwrap().unwrap().tx,
    )
    .unwrap();
    use bitcoin::hashes::Hash;
    assert_eq!(
        child.input[0].previous_output.txid.to_byte_array(),
        first,
        "it spends the first one's change"
    );
    assert!(f.switch.is_in_mempool(first).unwrap() && f.switch.is_in_mempool(second).unwrap());
}

#[test]
fn a_transaction_callback_cannot_send_from_its_own_send() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    f.a.generate(&script(&w1.get_new_address("".into()).unwrap()), 110).unwrap();
    let w1: Arc<dyn interfaces::Wallet> = Arc::from(w1);
    let inner = Arc::downgrade(&w1);
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = results.clone();
    let _handler = w1
        .handle_transaction_changed(Box::new(move |_, kind| {
            if kind == ChangeType::New {
                if let Some(w1) = inner.upgrade() {
                    let sent = w1.send_to_address(ELSEWHERE.into(), COIN, SendOptions::default());
                    sink.lock().unwrap().push(sent.map_err(|e| e.message().to_string()));
                }
            }
            Ok(())
        }))
        .unwrap();
    // Returns (no deadlock); the nested send was refused.
    let txid = w1.send_to_address(ELSEWHERE.into(), COIN, SendOptions::default()).unwrap();
    assert!(f.switch.is_in_mempool(txid).unwrap());
    let results = results.lock().unwrap();
    assert!(!results.is_empty());
    for r in results.iter() {
        let e = r.as_ref().unwrap_err();
        assert!(e.contains("inside a transaction callback"), "{e}");
    }
}

#[test]
fn a_wallet_ahead_of_a_shorter_node_chain_rolls_back_and_loads() {
    let f = fixture();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    let mine = w1.get_new_address("".into()).unwrap();
    f.a.generate(&script(ELSEWHERE), 3).unwrap();
    f.a.generate(&script(&mine), 7).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 7 * 50 * COIN);
    drop(w1);
    f.loader.stop().unwrap();

    // Node b has only a's first 5 blocks: the wallet (at 10) is ahead of it.
    for height in 1..=5 {
        let block = {
            let chain = &f.a.lock().chain;
            chain.block(&chain.block_hash(height).unwrap()).unwrap().clone()
        };
        f.b.submit_block(block).unwrap();
    }
    f.switch.use_b.store(true, Ordering::SeqCst);
    let settings = || WalletSettings {
        startup_wallets: vec!["w1".into()],
        fallback_fee: Some(wallet::DEFAULT_FALLBACK_FEE),
        notify: None,
        ..WalletSettings::regtest(f.dir.path().join("wallets"))
    };
    // As `-wallet=w1` at start-up: it loads.
    let again = Loader::new(f.switch.clone(), settings());
    again.load().unwrap();
    let w1 = again.get_wallet("w1".into()).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 2 * 50 * COIN, "the coinbases above 5 are gone");
    let heights: Vec<u32> =
        w1.list_transactions().unwrap().iter().map(|t| t.confirmed_in.unwrap().height).collect();
    assert_eq!(heights, [4, 5]);
    // It follows b from there.
    f.b.generate(&script(&mine), 1).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 3 * 50 * COIN);
    drop(w1);
    again.stop().unwrap();
    // The rollback was written: the next start finds the wallet where it left it.
    let third = Loader::new(f.switch.clone(), settings());
    third.load().unwrap();
    let w1 = third.get_wallet("w1".into()).unwrap();
    let heights: Vec<u32> =
        w1.list_transactions().unwrap().iter().map(|t| t.confirmed_in.unwrap().height).collect();
    assert_eq!(heights, [4, 5, 6]);
}

/// An import's coins follow a reorganization as the wallet's own do: its coinbases on the stale
/// branch vanish, the new branch's are found by the block notifications.
#[test]
fn an_imports_coins_follow_a_reorganization() {
    use bdk_wallet::miniscript::descriptor::checksum::desc_checksum;
    use bitcoin::key::{CompressedPublicKey, PrivateKey};
    use bitcoin::secp256k1::{Secp256k1, SecretKey};

    let f = fixture();
    f.loader.register_rpcs().unwrap();
    let w1 = f.loader.create_wallet("w1".into(), CreateWalletOptions::default()).unwrap();
    let secp = Secp256k1::new();
    let key = PrivateKey::new(SecretKey::from_slice(&[42; 32]).unwrap(), bitcoin::Network::Regtest);
    let wpkh = Address::p2wpkh(
        &CompressedPublicKey::from_private_key(&secp, &key).unwrap(),
        bitcoin::Network::Regtest,
    )
    .to_string();
    let combo = format!("combo({})", key.to_wif());
    let combo = format!("{combo}#{}", desc_checksum(&combo).unwrap());
    let r = f.rpc("importdescriptors", serde_json::json!([[{"desc": combo, "timestamp": "now"}]])).unwrap();
    assert_eq!(r, serde_json::json!([{"success": true}]));
    f.a.generate(&script(ELSEWHERE), 5).unwrap();
    f.a.generate(&script(&wpkh), 3).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 150 * COIN);
    assert_eq!(w1.list_transactions().unwrap().len(), 3);

    for height in 1..=5 {
        let block = {
            let chain = &f.a.lock().chain;
            chain.block(&chain.block_hash(height).unwrap()).unwrap().clone()
        };
        f.b.submit_block(block).unwrap();
    }
    f.b.generate(&script(ELSEWHERE), 5).unwrap();
    f.switch.use_b.store(true, Ordering::SeqCst);
    f.b.generate(&script(ELSEWHERE), 1).unwrap();
    assert_eq!(w1.get_balances().unwrap(), interfaces::Balances::default(), "the stale coinbases are gone");
    assert!(w1.list_transactions().unwrap().is_empty());

    f.b.generate(&script(&wpkh), 1).unwrap();
    assert_eq!(w1.get_balances().unwrap().immature, 50 * COIN);
    let listed = w1.list_transactions().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].confirmed_in.map(|b| b.height), Some(12));
}
