//! `Init.makeWalletLoader(chain)`, `WalletLoader` and `Wallet` over a real
//! socketpair, against fakes: a chain passed to the server and called
//! back, structs with optional fields (`hasX` companions), lists of
//! structs, the `ChangeType` enum, and closures taking an interface.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::hash;
use interfaces::*;

/// The client's chain: only what the wallet loader calls.
struct ClientChain;

impl Chain for ClientChain {
    fn get_height(&self) -> Result<Option<u32>> {
        Ok(Some(7))
    }
    fn get_tip(&self) -> Result<Option<BlockRef>> {
        Ok(Some(BlockRef { hash: hash(7), height: 7 }))
    }
    fn get_block_hash(&self, _height: u32) -> Result<Option<[u8; 32]>> {
        Err(Error::unimplemented("get_block_hash"))
    }
    fn find_block(&self, _hash: [u8; 32], _request: FoundBlockRequest) -> Result<Option<FoundBlock>> {
        Err(Error::unimplemented("find_block"))
    }
    fn is_in_mempool(&self, _txid: [u8; 32]) -> Result<bool> {
        Err(Error::unimplemented("is_in_mempool"))
    }
    fn broadcast_transaction(&self, _tx: Vec<u8>, _max_tx_fee: i64) -> Result<[u8; 32]> {
        Err(Error::unimplemented("broadcast_transaction"))
    }
    fn estimate_fee(&self, _target_blocks: u32) -> Result<Option<FeeEstimate>> {
        Err(Error::unimplemented("estimate_fee"))
    }
    fn relay_min_fee(&self) -> Result<i64> {
        Err(Error::unimplemented("relay_min_fee"))
    }
    fn handle_notifications(&self, _notifications: Arc<dyn ChainNotifications>) -> Result<Box<dyn Handler>> {
        Err(Error::unimplemented("handle_notifications"))
    }
    fn wait_for_notifications_if_tip_changed(&self, _old_tip: [u8; 32]) -> Result<()> {
        Err(Error::unimplemented("wait_for_notifications_if_tip_changed"))
    }
    fn handle_rpc(&self, _command: RpcCommand) -> Result<Box<dyn Handler>> {
        Err(Error::unimplemented("handle_rpc"))
    }
    fn request_mempool_transactions(&self, _notifications: Arc<dyn ChainNotifications>) -> Result<()> {
        Err(Error::unimplemented("request_mempool_transactions"))
    }
    fn init_message(&self, _message: String) -> Result<()> {
        Ok(())
    }
    fn show_progress(&self, _title: String, _percent: u32, _resume_possible: bool) -> Result<()> {
        Ok(())
    }
    fn shutdown_requested(&self) -> Result<bool> {
        Ok(false)
    }
}

/// A registered `handle_load_wallet` closure.
type LoadCallback = Box<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>;

/// What the test shares with the server-side fakes.
#[derive(Default)]
struct Shared {
    tip_seen_at_load: Mutex<Option<BlockRef>>,
    create_options: Mutex<Vec<CreateWalletOptions>>,
    send_options: Mutex<Vec<SendOptions>>,
    load_callbacks: Mutex<BTreeMap<u64, LoadCallback>>,
    next_id: AtomicU64,
}

struct FakeWallet {
    name: String,
    shared: Arc<Shared>,
}

fn transactions() -> Vec<WalletTx> {
    vec![
        WalletTx {
            txid: hash(1),
            tx: vec![1; 60],
            received: 5_000_000_000,
            sent: 0,
            fee: None,
            confirmed_in: Some(BlockRef { hash: hash(2), height: 1 }),
            time: 1_700_000_000,
            is_coinbase: true,
        },
        WalletTx {
            txid: hash(3),
            tx: vec![],
            received: 0,
            sent: 100_000,
            fee: Some(141),
            confirmed_in: None,
            time: 1_700_000_100,
            is_coinbase: false,
        },
    ]
}

fn utxos() -> Vec<Utxo> {
    vec![
        Utxo {
            txid: hash(1),
            vout: 0,
            value: 5_000_000_000,
            script_pubkey: vec![0x00, 0x14, 7, 7],
            address: Some("bcrt1qexample".into()),
            confirmed_in: Some(BlockRef { hash: hash(2), height: 1 }),
            is_change: false,
            is_coinbase: true,
        },
        Utxo { txid: hash(3), vout: u32::MAX, address: None, is_change: true, ..Default::default() },
    ]
}

impl Wallet for FakeWallet {
    fn get_wallet_name(&self) -> Result<String> {
        Ok(self.name.clone())
    }
    fn get_new_address(&self, label: String) -> Result<String> {
        Ok(format!("bcrt1q{label}"))
    }
    fn get_balances(&self) -> Result<Balances> {
        Ok(Balances { trusted: 1, untrusted_pending: -2, immature: i64::MAX })
    }
    fn send_to_address(&self, address: String, amount: i64, options: SendOptions) -> Result<[u8; 32]> {
        if amount > 21_000_000 * 100_000_000 {
            return Err(Error::insufficient_funds("Insufficient funds"));
        }
        self.shared.send_options.lock().unwrap().push(options);
        Ok(hash(address.len() as u8))
    }
    fn list_transactions(&self) -> Result<Vec<WalletTx>> {
        Ok(transactions())
    }
    fn get_transaction(&self, txid: [u8; 32]) -> Result<Option<WalletTx>> {
        Ok(transactions().into_iter().find(|t| t.txid == txid))
    }
    fn list_unspent(&self) -> Result<Vec<Utxo>> {
        Ok(utxos())
    }
    fn handle_transaction_changed(
        &self,
        callback: Box<dyn Fn([u8; 32], ChangeType) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        // Reports three changes during the registration call.
        for change in [ChangeType::New, ChangeType::Updated, ChangeType::Deleted] {
            callback(hash(9), change)?;
        }
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
}

struct FakeLoader {
    chain: Box<dyn Chain>,
    shared: Arc<Shared>,
    loaded: Mutex<Vec<String>>,
}

impl FakeLoader {
    fn wallet(&self, name: String) -> Box<dyn Wallet> {
        Box::new(FakeWallet { name, shared: self.shared.clone() })
    }
}

impl WalletLoader for FakeLoader {
    fn register_rpcs(&self) -> Result<()> {
        Ok(())
    }
    fn load(&self) -> Result<()> {
        // Calls the chain the client handed over, back across the socket.
        *self.shared.tip_seen_at_load.lock().unwrap() = self.chain.get_tip()?;
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        Ok(())
    }
    fn stop(&self) -> Result<()> {
        Ok(())
    }
    fn create_wallet(&self, name: String, options: CreateWalletOptions) -> Result<Box<dyn Wallet>> {
        if self.loaded.lock().unwrap().contains(&name) {
            return Err(Error::already_exists(format!("Wallet \"{name}\" already exists.")));
        }
        self.shared.create_options.lock().unwrap().push(options);
        self.loaded.lock().unwrap().push(name.clone());
        for callback in self.shared.load_callbacks.lock().unwrap().values() {
            callback(self.wallet(name.clone()))?;
        }
        Ok(self.wallet(name))
    }
    fn load_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        Err(Error::not_found(format!("Wallet file not found: {name}")))
    }
    fn unload_wallet(&self, name: String) -> Result<()> {
        self.loaded.lock().unwrap().retain(|n| *n != name);
        Ok(())
    }
    fn list_wallets(&self) -> Result<Vec<String>> {
        Ok(self.loaded.lock().unwrap().clone())
    }
    fn list_wallet_dir(&self) -> Result<Vec<String>> {
        Ok(vec![String::new(), "w1".into()])
    }
    fn get_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        if self.loaded.lock().unwrap().contains(&name) {
            Ok(self.wallet(name))
        } else {
            Err(Error::not_found(format!("wallet \"{name}\" is not loaded")))
        }
    }
    fn get_wallets(&self) -> Result<Vec<Box<dyn Wallet>>> {
        let names = self.loaded.lock().unwrap().clone();
        Ok(names.into_iter().map(|name| self.wallet(name)).collect())
    }
    fn handle_load_wallet(
        &self,
        callback: Box<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst);
        self.shared.load_callbacks.lock().unwrap().insert(id, callback);
        let shared = self.shared.clone();
        Ok(Box::new(CleanupHandler::new(move || {
            shared.load_callbacks.lock().unwrap().remove(&id);
        })))
    }
}

struct WalletInit(Arc<Shared>);

impl Init for WalletInit {
    fn make_wallet_loader(&self, chain: Box<dyn Chain>) -> Result<Box<dyn WalletLoader>> {
        Ok(Box::new(FakeLoader { chain, shared: self.0.clone(), loaded: Mutex::new(Vec::new()) }))
    }
}

fn setup() -> (Arc<Shared>, common::Pair, Box<dyn WalletLoader>) {
    let shared = Arc::new(Shared::default());
    let pair = common::connect(Box::new(WalletInit(shared.clone())));
    let loader = pair.init.make_wallet_loader(Box::new(ClientChain)).unwrap();
    (shared, pair, loader)
}

#[test]
fn the_loader_calls_back_the_chain_it_was_given() {
    let (shared, _pair, loader) = setup();
    loader.load().unwrap();
    assert_eq!(*shared.tip_seen_at_load.lock().unwrap(), Some(BlockRef { hash: hash(7), height: 7 }));
}

#[test]
fn create_wallet_options_cross_with_their_optional_field() {
    let (shared, _pair, loader) = setup();
    let cases = [
        CreateWalletOptions::default(),
        CreateWalletOptions { disable_private_keys: true, blank: true, load_on_startup: Some(false) },
        CreateWalletOptions { load_on_startup: Some(true), ..Default::default() },
    ];
    for (i, options) in cases.iter().enumerate() {
        let wallet = loader.create_wallet(format!("w{i}"), options.clone()).unwrap();
        assert_eq!(wallet.get_wallet_name().unwrap(), format!("w{i}"));
    }
    assert_eq!(*shared.create_options.lock().unwrap(), cases);
    assert_eq!(loader.list_wallets().unwrap(), ["w0", "w1", "w2"]);
    let err = loader.create_wallet("w0".into(), CreateWalletOptions::default()).err().unwrap();
    assert_eq!(err.message(), "Wallet \"w0\" already exists.");
    assert_eq!(loader.get_wallet("w1".into()).unwrap().get_wallet_name().unwrap(), "w1");
    assert!(loader.get_wallet("nope".into()).is_err());
    // Every loaded wallet at once: a list of objects, each one callable.
    let every: Vec<String> =
        loader.get_wallets().unwrap().iter().map(|w| w.get_wallet_name().unwrap()).collect();
    assert_eq!(every, ["w0", "w1", "w2"]);
    loader.unload_wallet("w1".into()).unwrap();
    assert_eq!(loader.list_wallets().unwrap(), ["w0", "w2"]);
    assert_eq!(loader.get_wallets().unwrap().len(), 2);
    assert_eq!(loader.list_wallet_dir().unwrap(), ["", "w1"]);
}

#[test]
fn wallet_data_round_trips() {
    let (shared, _pair, loader) = setup();
    let wallet = loader.create_wallet("w".into(), CreateWalletOptions::default()).unwrap();
    assert_eq!(wallet.get_new_address("abc".into()).unwrap(), "bcrt1qabc");
    assert_eq!(
        wallet.get_balances().unwrap(),
        Balances { trusted: 1, untrusted_pending: -2, immature: i64::MAX }
    );
    assert_eq!(wallet.list_transactions().unwrap(), transactions());
    assert_eq!(wallet.get_transaction(hash(3)).unwrap(), Some(transactions()[1].clone()));
    assert_eq!(wallet.get_transaction(hash(4)).unwrap(), None);
    assert_eq!(wallet.list_unspent().unwrap(), utxos());

    let options = [
        SendOptions::default(),
        SendOptions {
            subtract_fee_from_amount: true,
            fee_rate_sat_per_kvb: Some(25_000),
            conf_target: Some(6),
            replaceable: Some(false),
            comment: "rent".into(),
        },
        SendOptions { fee_rate_sat_per_kvb: Some(0), replaceable: Some(true), ..Default::default() },
    ];
    for o in &options {
        assert_eq!(wallet.send_to_address("bcrt1qxyz".into(), 1000, o.clone()).unwrap(), hash(9));
    }
    assert_eq!(*shared.send_options.lock().unwrap(), options);
    let err = wallet.send_to_address("a".into(), i64::MAX, SendOptions::default()).unwrap_err();
    assert_eq!(err.message(), "Insufficient funds");
}

#[test]
fn transaction_changed_closure_receives_every_change_type() {
    let (_shared, _pair, loader) = setup();
    let wallet = loader.create_wallet("w".into(), CreateWalletOptions::default()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let _handler = wallet
        .handle_transaction_changed(Box::new(move |txid, change| {
            sink.lock().unwrap().push((txid, change));
            Ok(())
        }))
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(hash(9), ChangeType::New), (hash(9), ChangeType::Updated), (hash(9), ChangeType::Deleted)]
    );
}

#[test]
fn load_wallet_closure_receives_a_usable_wallet_until_dropped() {
    let (shared, _pair, loader) = setup();
    let names = Arc::new(Mutex::new(Vec::new()));
    let sink = names.clone();
    let handler = loader
        .handle_load_wallet(Box::new(move |wallet: Box<dyn Wallet>| {
            // A call back to the server from inside the callback.
            sink.lock().unwrap().push(wallet.get_wallet_name()?);
            Ok(())
        }))
        .unwrap();
    loader.create_wallet("first".into(), CreateWalletOptions::default()).unwrap();
    assert_eq!(*names.lock().unwrap(), ["first"]);
    drop(handler);
    common::eventually("server unregisters", || shared.load_callbacks.lock().unwrap().is_empty());
    loader.create_wallet("second".into(), CreateWalletOptions::default()).unwrap();
    assert_eq!(*names.lock().unwrap(), ["first"]);
}
