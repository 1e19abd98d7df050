//! `Chain` and `Node` over a real socketpair, against fakes: plain data
//! round trips (32-byte hashes, range-checked heights, optional fields,
//! enums), a notification object the server side calls back, closures, and
//! handlers whose drop unregisters on the server.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{eventually, hash};
use interfaces::*;

/// A registered `handle_notify_block_tip` closure.
type TipCallback = Box<dyn Fn(BlockTip) -> Result<()> + Send + Sync>;

/// What the test shares with the fakes on the server side.
#[derive(Default)]
struct Shared {
    tip: Mutex<Option<BlockRef>>,
    notifications: Mutex<BTreeMap<u64, Arc<dyn ChainNotifications>>>,
    tip_callbacks: Mutex<BTreeMap<u64, TipCallback>>,
    next_id: AtomicU64,
}

impl Shared {
    fn subscribers(&self) -> Vec<Arc<dyn ChainNotifications>> {
        self.notifications.lock().unwrap().values().cloned().collect()
    }
}

struct FakeChain(Arc<Shared>);

fn found(hash_seed: u8, request: FoundBlockRequest) -> FoundBlock {
    FoundBlock {
        hash: hash(hash_seed),
        height: 7,
        time: 1_700_000_000,
        max_time: 1_700_000_001,
        mtp_time: 1_699_999_000,
        prev_hash: Some(hash(hash_seed - 1)),
        in_active_chain: true,
        next_hash: None,
        header: request.want_header.then(|| vec![0xab; 80]),
        data: request.want_data.then(|| vec![1, 2, 3, 0, 255]),
    }
}

impl Chain for FakeChain {
    fn get_height(&self) -> Result<Option<u32>> {
        Ok(self.0.tip.lock().unwrap().map(|t| t.height))
    }
    fn get_tip(&self) -> Result<Option<BlockRef>> {
        Ok(*self.0.tip.lock().unwrap())
    }
    fn get_block_hash(&self, height: u32) -> Result<Option<[u8; 32]>> {
        Ok((height <= 7).then(|| hash(height as u8 + 1)))
    }
    fn find_block(&self, hash: [u8; 32], request: FoundBlockRequest) -> Result<Option<FoundBlock>> {
        Ok((hash == common::hash(8)).then(|| found(8, request)))
    }
    fn is_in_mempool(&self, txid: [u8; 32]) -> Result<bool> {
        Ok(txid[0] == 1)
    }
    fn broadcast_transaction(&self, tx: Vec<u8>, max_tx_fee: i64) -> Result<[u8; 32]> {
        if max_tx_fee < 0 {
            return Err(Error::rejected("max-fee-exceeded"));
        }
        let mut txid = [0u8; 32];
        txid[..tx.len().min(32)].copy_from_slice(&tx[..tx.len().min(32)]);
        Ok(txid)
    }
    fn estimate_fee(&self, target_blocks: u32) -> Result<Option<FeeEstimate>> {
        Ok((target_blocks > 0).then_some(FeeEstimate { sat_per_kvb: 1000, target_blocks: target_blocks + 1 }))
    }
    fn relay_min_fee(&self) -> Result<i64> {
        Ok(1000)
    }
    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Result<Box<dyn Handler>> {
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst);
        self.0.notifications.lock().unwrap().insert(id, notifications);
        let shared = self.0.clone();
        Ok(Box::new(CleanupHandler::new(move || {
            shared.notifications.lock().unwrap().remove(&id);
        })))
    }
    fn wait_for_notifications_if_tip_changed(&self, _old_tip: [u8; 32]) -> Result<()> {
        Ok(())
    }
    fn handle_rpc(&self, command: RpcCommand) -> Result<Box<dyn Handler>> {
        // Calls the actor once during registration, so the test sees that
        // a struct carrying an interface crossed.
        let reply = command.actor.execute(RpcRequest {
            method: command.name.clone(),
            params: "[]".into(),
            uri: "/wallet/w1".into(),
            user: "__cookie__".into(),
            last_handler: true,
        })?;
        if reply.error.map(|e| e.code) != Some(RpcError::WALLET_NOT_FOUND) {
            return Err(Error::failed("actor did not answer as expected"));
        }
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
    fn request_mempool_transactions(&self, notifications: Arc<dyn ChainNotifications>) -> Result<()> {
        // Callbacks made during the call run on the calling client thread.
        notifications.transaction_added_to_mempool(vec![0xaa, 0xbb])?;
        notifications.transaction_removed_from_mempool(hash(3), MempoolRemovalReason::Replaced)
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

struct FakeNode(Arc<Shared>);

impl Node for FakeNode {
    fn init(&self) -> Result<()> {
        Ok(())
    }
    fn start_shutdown(&self) -> Result<()> {
        Ok(())
    }
    fn shutdown_requested(&self) -> Result<bool> {
        Ok(false)
    }
    fn shutdown(&self) -> Result<()> {
        Ok(())
    }
    fn get_block_count(&self) -> Result<u32> {
        Ok(101)
    }
    fn get_best_block_hash(&self) -> Result<[u8; 32]> {
        Ok(hash(101))
    }
    fn get_last_block_time(&self) -> Result<i64> {
        Ok(1_700_000_000)
    }
    fn get_mempool_size(&self) -> Result<u64> {
        Ok(3)
    }
    fn get_verification_progress(&self) -> Result<f64> {
        Ok(0.5)
    }
    fn is_initial_block_download(&self) -> Result<bool> {
        Ok(false)
    }
    fn execute_rpc(&self, request: String, uri: String) -> Result<String> {
        Ok(format!("{request} {uri}"))
    }
    fn list_rpc_commands(&self) -> Result<Vec<String>> {
        Ok(vec!["getblockcount".into(), "stop".into()])
    }
    fn wallet_loader(&self) -> Result<Box<dyn WalletLoader>> {
        Err(Error::unavailable("wallets are disabled"))
    }
    fn handle_notify_block_tip(
        &self,
        callback: Box<dyn Fn(BlockTip) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst);
        self.0.tip_callbacks.lock().unwrap().insert(id, callback);
        let shared = self.0.clone();
        Ok(Box::new(CleanupHandler::new(move || {
            shared.tip_callbacks.lock().unwrap().remove(&id);
        })))
    }
    fn handle_init_message(
        &self,
        _callback: Box<dyn Fn(String) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
    fn handle_show_progress(
        &self,
        _callback: Box<dyn Fn(Progress) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
}

struct FakeInit(Arc<Shared>);

impl Init for FakeInit {
    fn make_chain(&self) -> Result<Box<dyn Chain>> {
        Ok(Box::new(FakeChain(self.0.clone())))
    }
    fn make_node(&self) -> Result<Box<dyn Node>> {
        Ok(Box::new(FakeNode(self.0.clone())))
    }
}

/// The client's notification object: records what it hears.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    blocks: Mutex<Vec<BlockInfo>>,
}

impl ChainNotifications for Recorder {
    fn transaction_added_to_mempool(&self, tx: Vec<u8>) -> Result<()> {
        self.events.lock().unwrap().push(format!("added {tx:?}"));
        Ok(())
    }
    fn transaction_removed_from_mempool(&self, txid: [u8; 32], reason: MempoolRemovalReason) -> Result<()> {
        self.events.lock().unwrap().push(format!("removed {} {reason:?}", txid == hash(3)));
        Ok(())
    }
    fn block_connected(&self, block: BlockInfo) -> Result<()> {
        self.blocks.lock().unwrap().push(block);
        Ok(())
    }
    fn block_disconnected(&self, block: BlockInfo) -> Result<()> {
        self.events.lock().unwrap().push(format!("disconnected {}", block.height));
        Ok(())
    }
    fn updated_block_tip(&self) -> Result<()> {
        self.events.lock().unwrap().push("tip".into());
        Ok(())
    }
}

fn setup() -> (Arc<Shared>, common::Pair) {
    let shared = Arc::new(Shared::default());
    let pair = common::connect(Box::new(FakeInit(shared.clone())));
    (shared, pair)
}

#[test]
fn get_tip_round_trips_a_32_byte_hash_and_height() {
    let (shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    assert_eq!(chain.get_tip().unwrap(), None);
    assert_eq!(chain.get_height().unwrap(), None);
    let tip = BlockRef { hash: hash(42), height: 101 };
    *shared.tip.lock().unwrap() = Some(tip);
    assert_eq!(chain.get_tip().unwrap(), Some(tip));
    assert_eq!(chain.get_height().unwrap(), Some(101));
    assert_eq!(chain.get_block_hash(0).unwrap(), Some(hash(1)));
    assert_eq!(chain.get_block_hash(8).unwrap(), None);
}

#[test]
fn heights_beyond_int32_fail_the_call_instead_of_wrapping() {
    let (shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    *shared.tip.lock().unwrap() = Some(BlockRef { hash: hash(1), height: u32::MAX });
    let err = chain.get_tip().unwrap_err();
    assert!(err.message().contains("does not fit"), "{err}");
    // On the way in too: the client refuses to send it.
    let err = chain.get_block_hash(u32::MAX).unwrap_err();
    assert!(err.message().contains("does not fit"), "{err}");
    // The connection is still fine.
    assert_eq!(chain.relay_min_fee().unwrap(), 1000);
}

#[test]
fn find_block_returns_what_the_request_asks_for() {
    let (_shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let cases = [
        FoundBlockRequest { want_header: false, want_data: false },
        FoundBlockRequest { want_header: true, want_data: false },
        FoundBlockRequest { want_header: true, want_data: true },
    ];
    for request in cases {
        assert_eq!(chain.find_block(hash(8), request).unwrap(), Some(found(8, request)), "{request:?}");
    }
    assert_eq!(chain.find_block(hash(9), FoundBlockRequest::default()).unwrap(), None);
}

#[test]
fn other_chain_calls_round_trip() {
    let (_shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let mut in_pool = [0u8; 32];
    in_pool[0] = 1;
    assert!(chain.is_in_mempool(in_pool).unwrap());
    assert!(!chain.is_in_mempool([0; 32]).unwrap());
    let tx: Vec<u8> = (0..40).collect();
    let txid = chain.broadcast_transaction(tx.clone(), 0).unwrap();
    assert_eq!(txid[..], tx[..32]);
    let err = chain.broadcast_transaction(tx, -1).unwrap_err();
    assert_eq!(err.message(), "max-fee-exceeded");
    assert_eq!(chain.estimate_fee(0).unwrap(), None);
    assert_eq!(chain.estimate_fee(6).unwrap(), Some(FeeEstimate { sat_per_kvb: 1000, target_blocks: 7 }));
    assert!(!chain.shutdown_requested().unwrap());
}

#[test]
fn notifications_reach_the_client_until_the_handler_is_dropped() {
    let (shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let recorder = Arc::new(Recorder::default());
    let handler = chain.handle_notifications(recorder.clone()).unwrap();
    assert_eq!(shared.subscribers().len(), 1);

    // The server side (here: this test thread, as the node's notification
    // thread would) calls the client's object.
    let block = BlockInfo {
        hash: hash(5),
        prev_hash: Some(hash(4)),
        height: 5,
        time: 1_700_000_005,
        data: vec![9; 300],
    };
    for subscriber in shared.subscribers() {
        subscriber.block_connected(block.clone()).unwrap();
        subscriber.updated_block_tip().unwrap();
    }
    assert_eq!(*recorder.blocks.lock().unwrap(), vec![block]);
    assert_eq!(*recorder.events.lock().unwrap(), vec!["tip".to_owned()]);

    // Dropping the client's handler destroys the server's, which
    // unregisters, which releases the server's proxy of the recorder.
    drop(handler);
    eventually("server unregisters", || shared.subscribers().is_empty());
    eventually("recorder released", || Arc::strong_count(&recorder) == 1);
}

#[test]
fn disconnect_unregisters_without_dropping() {
    let (shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let handler = chain.handle_notifications(Arc::new(Recorder::default())).unwrap();
    assert_eq!(shared.subscribers().len(), 1);
    handler.disconnect().unwrap();
    assert!(shared.subscribers().is_empty());
    handler.disconnect().unwrap();
}

#[test]
fn callbacks_during_a_call_run_before_it_returns() {
    let (_shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let recorder = Arc::new(Recorder::default());
    chain.request_mempool_transactions(recorder.clone()).unwrap();
    assert_eq!(
        *recorder.events.lock().unwrap(),
        vec!["added [170, 187]".to_owned(), "removed true Replaced".to_owned()]
    );
}

#[test]
fn every_mempool_removal_reason_crosses() {
    let (shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let recorder = Arc::new(Recorder::default());
    let _handler = chain.handle_notifications(recorder.clone()).unwrap();
    let reasons = [
        MempoolRemovalReason::Expiry,
        MempoolRemovalReason::SizeLimit,
        MempoolRemovalReason::Reorg,
        MempoolRemovalReason::Block,
        MempoolRemovalReason::Conflict,
        MempoolRemovalReason::Replaced,
    ];
    for subscriber in shared.subscribers() {
        for reason in reasons {
            subscriber.transaction_removed_from_mempool(hash(3), reason).unwrap();
        }
    }
    let expect: Vec<String> = reasons.iter().map(|r| format!("removed true {r:?}")).collect();
    assert_eq!(*recorder.events.lock().unwrap(), expect);
}

struct WalletActor;
impl RpcActor for WalletActor {
    fn execute(&self, request: RpcRequest) -> Result<RpcReply> {
        Ok(if request.last_handler && request.uri == "/wallet/w1" {
            RpcReply::error(RpcError::WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded")
        } else {
            RpcReply::not_handled()
        })
    }
}

#[test]
fn handle_rpc_carries_a_command_with_its_actor() {
    let (_shared, pair) = setup();
    let chain = pair.init.make_chain().unwrap();
    let command = RpcCommand {
        category: "wallet".into(),
        name: "getbalance".into(),
        arg_names: vec!["dummy".into(), "minconf".into()],
        help: "getbalance\nReturns the balance.".into(),
        actor: Arc::new(WalletActor),
    };
    let handler = chain.handle_rpc(command).unwrap();
    handler.disconnect().unwrap();
}

#[test]
fn node_block_tip_closure_is_called_until_the_handler_is_dropped() {
    let (shared, pair) = setup();
    let node = pair.init.make_node().unwrap();
    assert_eq!(node.get_block_count().unwrap(), 101);
    assert_eq!(node.get_best_block_hash().unwrap(), hash(101));
    assert_eq!(node.get_verification_progress().unwrap(), 0.5);
    assert_eq!(node.list_rpc_commands().unwrap(), ["getblockcount", "stop"]);
    assert_eq!(node.wallet_loader().err().unwrap().message(), "wallets are disabled");

    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handler = node
        .handle_notify_block_tip(Box::new(move |tip: BlockTip| {
            sink.lock().unwrap().push(tip);
            Ok(())
        }))
        .unwrap();
    let tip = BlockTip {
        hash: hash(102),
        height: 102,
        time: 1_700_000_102,
        verification_progress: 1.0,
        initial_download: false,
    };
    for callback in shared.tip_callbacks.lock().unwrap().values() {
        callback(tip.clone()).unwrap();
    }
    assert_eq!(*seen.lock().unwrap(), vec![tip]);

    drop(handler);
    eventually("server unregisters the closure", || shared.tip_callbacks.lock().unwrap().is_empty());
    eventually("closure released", || Arc::strong_count(&seen) == 1);
}
