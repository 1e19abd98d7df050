//! The intended semantics of registrations, shown on a toy in-process node:
//! a chain client hears about blocks through `ChainNotifications` while its
//! handler lives, an RPC command is callable while its handler lives, and a
//! dropped or disconnected handler unregisters.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use interfaces::*;

/// A toy node: a chain of heights, subscribers and RPC commands.
#[derive(Default)]
struct State {
    tip: Vec<BlockRef>,
    subscribers: BTreeMap<u64, Arc<dyn ChainNotifications>>,
    commands: BTreeMap<String, Vec<(u64, RpcCommand)>>,
}

#[derive(Default, Clone)]
struct ToyChain {
    state: Arc<Mutex<State>>,
    next_id: Arc<AtomicU64>,
}

fn hash_of(height: u32) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&height.to_le_bytes());
    h[31] = 0xaa;
    h
}

impl ToyChain {
    fn mine(&self) {
        let (info, subscribers) = {
            let mut state = self.state.lock().unwrap();
            let height = state.tip.len() as u32;
            let prev_hash = state.tip.last().map(|b| b.hash);
            state.tip.push(BlockRef { hash: hash_of(height), height });
            let info =
                BlockInfo { hash: hash_of(height), prev_hash, height, time: 1_296_688_602, data: vec![] };
            (info, state.subscribers.values().cloned().collect::<Vec<_>>())
        };
        // Call subscribers without the lock held: they may call back.
        for s in subscribers {
            s.block_connected(info.clone()).unwrap();
            s.updated_block_tip().unwrap();
        }
    }

    /// The dispatcher: tries each actor registered for the method.
    fn dispatch(&self, method: &str, params: &str) -> std::result::Result<String, RpcError> {
        let actors: Vec<Arc<dyn RpcActor>> = {
            let state = self.state.lock().unwrap();
            state.commands.get(method).into_iter().flatten().map(|(_, c)| c.actor.clone()).collect()
        };
        let count = actors.len();
        for (i, actor) in actors.into_iter().enumerate() {
            let request = RpcRequest {
                method: method.into(),
                params: params.into(),
                uri: "/".into(),
                user: "__cookie__".into(),
                last_handler: i + 1 == count,
            };
            let reply =
                actor.execute(request).map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
            if reply.handled {
                return match reply.error {
                    Some(e) => Err(e),
                    None => Ok(reply.result),
                };
            }
        }
        Err(RpcError::new(RpcError::METHOD_NOT_FOUND, "Method not found"))
    }
}

impl Chain for ToyChain {
    fn get_height(&self) -> Result<Option<u32>> {
        Ok(self.get_tip()?.map(|b| b.height))
    }
    fn get_tip(&self) -> Result<Option<BlockRef>> {
        Ok(self.state.lock().unwrap().tip.last().copied())
    }
    fn get_block_hash(&self, height: u32) -> Result<Option<[u8; 32]>> {
        Ok(self.state.lock().unwrap().tip.get(height as usize).map(|b| b.hash))
    }
    fn find_block(&self, hash: [u8; 32], request: FoundBlockRequest) -> Result<Option<FoundBlock>> {
        let state = self.state.lock().unwrap();
        let Some(pos) = state.tip.iter().position(|b| b.hash == hash) else { return Ok(None) };
        Ok(Some(FoundBlock {
            hash,
            height: pos as u32,
            prev_hash: pos.checked_sub(1).map(|p| state.tip[p].hash),
            next_hash: state.tip.get(pos + 1).map(|b| b.hash),
            in_active_chain: true,
            header: request.want_header.then(|| vec![0; 80]),
            data: request.want_data.then(Vec::new),
            ..Default::default()
        }))
    }
    fn is_in_mempool(&self, _txid: [u8; 32]) -> Result<bool> {
        Ok(false)
    }
    fn broadcast_transaction(&self, tx: Vec<u8>, _max_tx_fee: i64) -> Result<[u8; 32]> {
        if tx.is_empty() {
            return Err(Error::rejected("TX decode failed"));
        }
        Ok([1; 32])
    }
    fn estimate_fee(&self, _target_blocks: u32) -> Result<Option<FeeEstimate>> {
        Ok(None)
    }
    fn relay_min_fee(&self) -> Result<i64> {
        Ok(1000)
    }
    fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Result<Box<dyn Handler>> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.state.lock().unwrap().subscribers.insert(id, notifications);
        let state = Arc::downgrade(&self.state);
        Ok(Box::new(CleanupHandler::new(move || {
            if let Some(state) = state.upgrade() {
                state.lock().unwrap().subscribers.remove(&id);
            }
        })))
    }
    fn wait_for_notifications_if_tip_changed(&self, _old_tip: [u8; 32]) -> Result<()> {
        Ok(()) // notifications are synchronous here
    }
    fn handle_rpc(&self, command: RpcCommand) -> Result<Box<dyn Handler>> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let name = command.name.clone();
        self.state.lock().unwrap().commands.entry(name.clone()).or_default().push((id, command));
        let state = Arc::downgrade(&self.state);
        Ok(Box::new(CleanupHandler::new(move || {
            if let Some(state) = state.upgrade() {
                if let Some(list) = state.lock().unwrap().commands.get_mut(&name) {
                    list.retain(|(i, _)| *i != id);
                }
            }
        })))
    }
    fn request_mempool_transactions(&self, _notifications: Arc<dyn ChainNotifications>) -> Result<()> {
        Ok(())
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

/// A chain client that records what it hears, and asks the chain back.
struct Recorder {
    chain: Box<dyn Chain>,
    events: Mutex<Vec<String>>,
}

impl ChainNotifications for Recorder {
    fn transaction_added_to_mempool(&self, _tx: Vec<u8>) -> Result<()> {
        self.events.lock().unwrap().push("tx".into());
        Ok(())
    }
    fn transaction_removed_from_mempool(&self, _txid: [u8; 32], reason: MempoolRemovalReason) -> Result<()> {
        self.events.lock().unwrap().push(format!("removed {reason:?}"));
        Ok(())
    }
    fn block_connected(&self, block: BlockInfo) -> Result<()> {
        // A client may call the chain from a notification.
        let found = self.chain.find_block(block.hash, FoundBlockRequest::default())?.unwrap();
        assert_eq!(found.prev_hash, block.prev_hash);
        assert_eq!(found.header, None);
        self.events.lock().unwrap().push(format!("connected {}", block.height));
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

#[test]
fn notifications_last_while_the_handler_lives() {
    let chain = ToyChain::default();
    chain.mine(); // genesis, before anyone listens
    let recorder = Arc::new(Recorder { chain: Box::new(chain.clone()), events: Mutex::default() });
    let handler = chain.handle_notifications(recorder.clone()).unwrap();
    chain.mine();
    handler.disconnect().unwrap();
    chain.mine();
    let second = chain.handle_notifications(recorder.clone()).unwrap();
    chain.mine();
    drop(second);
    chain.mine();
    assert_eq!(*recorder.events.lock().unwrap(), ["connected 1", "tip", "connected 3", "tip"]);
    assert_eq!(chain.get_height().unwrap(), Some(4));
    assert_eq!(chain.get_block_hash(2).unwrap(), Some(hash_of(2)));
    assert_eq!(chain.get_block_hash(5).unwrap(), None);
    let genesis = chain
        .find_block(hash_of(0), FoundBlockRequest { want_header: true, want_data: false })
        .unwrap()
        .unwrap();
    assert_eq!((genesis.prev_hash, genesis.next_hash), (None, Some(hash_of(1))));
    assert_eq!(genesis.header.map(|h| h.len()), Some(80));
    assert_eq!(genesis.data, None);
}

/// A wallet-side actor serving one wallet name.
struct WalletActor {
    wallet: &'static str,
}

impl RpcActor for WalletActor {
    fn execute(&self, request: RpcRequest) -> Result<RpcReply> {
        if request.params != format!("[\"{}\"]", self.wallet) {
            return Ok(if request.last_handler {
                RpcReply::error(
                    RpcError::WALLET_NOT_FOUND,
                    "Requested wallet does not exist or is not loaded",
                )
            } else {
                RpcReply::not_handled()
            });
        }
        Ok(RpcReply::result(format!("\"balance of {}\"", self.wallet)))
    }
}

fn command(wallet: &'static str) -> RpcCommand {
    RpcCommand {
        category: "wallet".into(),
        name: "getbalance".into(),
        arg_names: vec!["wallet".into()],
        help: "getbalance\nReturns the balance.".into(),
        actor: Arc::new(WalletActor { wallet }),
    }
}

#[test]
fn rpc_commands_last_while_the_handler_lives() {
    let chain = ToyChain::default();
    let chain_for_wallets: Box<dyn Chain> = Box::new(chain.clone());
    let first = chain_for_wallets.handle_rpc(command("w1")).unwrap();
    let second = chain_for_wallets.handle_rpc(command("w2")).unwrap();

    // Two wallet processes registered the same method: each serves its own.
    assert_eq!(chain.dispatch("getbalance", r#"["w1"]"#), Ok("\"balance of w1\"".into()));
    assert_eq!(chain.dispatch("getbalance", r#"["w2"]"#), Ok("\"balance of w2\"".into()));
    assert_eq!(chain.dispatch("getbalance", r#"["w3"]"#).unwrap_err().code, RpcError::WALLET_NOT_FOUND);

    drop(second);
    assert_eq!(chain.dispatch("getbalance", r#"["w2"]"#).unwrap_err().code, RpcError::WALLET_NOT_FOUND);
    first.disconnect().unwrap();
    assert_eq!(chain.dispatch("getbalance", r#"["w1"]"#).unwrap_err().code, RpcError::METHOD_NOT_FOUND);
}

#[test]
fn errors_and_defaults_through_trait_objects() {
    struct WalletOnlyInit;
    impl Init for WalletOnlyInit {}

    let chain: Box<dyn Chain> = Box::new(ToyChain::default());
    assert_eq!(chain.broadcast_transaction(vec![], 0).unwrap_err().kind(), ErrorKind::Rejected);
    assert_eq!(chain.broadcast_transaction(vec![1], 0).unwrap(), [1; 32]);
    let init: Box<dyn Init> = Box::new(WalletOnlyInit);
    let err = init.make_wallet_loader(chain).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("WalletLoader"), "{err}");
    for kind in [
        init.make_node().err().map(|e| e.kind()),
        init.make_chain().err().map(|e| e.kind()),
        init.make_echo().err().map(|e| e.kind()),
        init.make_rpc().err().map(|e| e.kind()),
    ] {
        assert_eq!(kind, Some(ErrorKind::Unavailable));
    }
}
