//! A real in-process node (chain, mempool, dispatcher, `NodeChain`) and a wallet loader over a
//! temporary wallets directory, with helpers to call RPCs as a client would.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use bitcoin::{Address, Network};
use interfaces::{Rpc, WalletLoader};
use node::rpc::Dispatcher;
use node::{ChainParams, ChainState, NodeChain, NodeState};
use serde_json::{json, Value};
use tempfile::TempDir;
use wallet::{Loader, WalletSettings};

pub const COIN: i64 = 100_000_000;
/// An address no test wallet owns.
pub const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

/// An RPC error: bitcoind code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFailure {
    pub code: i64,
    pub message: String,
}

pub struct Env {
    pub dir: TempDir,
    pub node: Arc<NodeState>,
    pub dispatcher: Arc<Dispatcher>,
    pub loader: Option<Arc<Loader>>,
}

impl Env {
    /// A node on a fresh in-memory regtest chain and a loader with its RPCs registered.
    pub fn new() -> Env {
        let node = Arc::new(NodeState::new(ChainState::new(ChainParams::regtest())));
        Env::with_node(tempfile::tempdir().unwrap(), node)
    }

    /// A node over `node` with wallets in `dir/wallets`.
    pub fn with_node(dir: TempDir, node: Arc<NodeState>) -> Env {
        let dispatcher = Arc::new(Dispatcher::new(node.clone()));
        let mut env = Env { dir, node, dispatcher, loader: None };
        env.start_loader(vec![]);
        env
    }

    pub fn wallets_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("wallets")
    }

    pub fn chain(&self) -> NodeChain {
        NodeChain::new(self.dispatcher.clone())
    }

    /// (Re)starts the loader: registers the RPCs and loads the start-up wallets.
    pub fn start_loader(&mut self, startup_wallets: Vec<String>) {
        self.stop_loader();
        let settings = WalletSettings {
            wallets_dir: self.wallets_dir(),
            network: Network::Regtest,
            startup_wallets,
            fallback_fee: Some(wallet::DEFAULT_FALLBACK_FEE),
            notify: None,
        };
        let loader = Arc::new(Loader::new(Arc::new(self.chain()), settings));
        loader.register_rpcs().unwrap();
        loader.load().unwrap();
        self.loader = Some(loader);
    }

    pub fn stop_loader(&mut self) {
        if let Some(loader) = self.loader.take() {
            loader.stop().unwrap();
        }
    }

    pub fn loader(&self) -> &Arc<Loader> {
        self.loader.as_ref().unwrap()
    }

    /// The raw JSON-RPC reply to `method(params)` on `uri`.
    pub fn raw(&self, method: &str, params: Value, uri: &str) -> Value {
        let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params}).to_string();
        let reply = self.dispatcher.execute_rpc(body, uri.into(), "test".into()).unwrap();
        serde_json::from_str(&reply).unwrap()
    }

    /// `method(params)` on `uri`: the result or the error.
    pub fn try_call_uri(&self, uri: &str, method: &str, params: Value) -> Result<Value, RpcFailure> {
        let reply = self.raw(method, params, uri);
        if reply["error"].is_null() {
            Ok(reply["result"].clone())
        } else {
            Err(RpcFailure {
                code: reply["error"]["code"].as_i64().unwrap(),
                message: reply["error"]["message"].as_str().unwrap().to_string(),
            })
        }
    }

    /// `method(params)` for wallet `wallet` (through `/wallet/<name>`).
    pub fn try_call(&self, wallet: &str, method: &str, params: Value) -> Result<Value, RpcFailure> {
        self.try_call_uri(&format!("/wallet/{}", encode(wallet)), method, params)
    }

    pub fn call(&self, wallet: &str, method: &str, params: Value) -> Value {
        self.try_call(wallet, method, params.clone())
            .unwrap_or_else(|e| panic!("{method} {params} on {wallet:?}: {e:?}"))
    }

    /// The error of a call expected to fail.
    pub fn fail(&self, wallet: &str, method: &str, params: Value) -> RpcFailure {
        match self.try_call(wallet, method, params.clone()) {
            Ok(v) => panic!("{method} {params} on {wallet:?} succeeded: {v}"),
            Err(e) => e,
        }
    }

    /// `method(params)` on `/`, expected to succeed.
    pub fn node_call(&self, method: &str, params: Value) -> Value {
        self.try_call_uri("/", method, params.clone()).unwrap_or_else(|e| panic!("{method} {params}: {e:?}"))
    }

    pub fn create(&self, wallet: &str) {
        self.node_call("createwallet", json!([wallet]));
    }

    pub fn new_address(&self, wallet: &str) -> String {
        self.call(wallet, "getnewaddress", json!([])).as_str().unwrap().to_string()
    }

    /// Mines `n` blocks to `address`.
    pub fn mine_to(&self, n: u32, address: &str) {
        let script = Address::from_str(address).unwrap().assume_checked().script_pubkey();
        self.node.generate(&script, n).unwrap();
    }

    pub fn mine(&self, n: u32) {
        self.mine_to(n, ELSEWHERE);
    }

    /// Creates `wallet` and mines 101 blocks to it (50 BTC spendable, 5000 immature).
    pub fn funded(&self, wallet: &str) -> String {
        self.create(wallet);
        let address = self.new_address(wallet);
        self.mine_to(101, &address);
        address
    }

    pub fn balance(&self, wallet: &str) -> i64 {
        sats(&self.call(wallet, "getbalance", json!([])))
    }

    pub fn mempool(&self) -> Vec<String> {
        self.node.lock().mempool.txids().iter().map(|t| t.to_string()).collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(loader) = self.loader.take() {
            let _ = loader.stop();
        }
    }
}

/// Percent-encodes a wallet name for a URI.
pub fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Satoshis of an amount as printed (`50.00000000`), exactly.
pub fn sats(amount: &Value) -> i64 {
    let text = amount.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or((1, text.as_str()), |rest| (-1, rest));
    sign * interfaces::parse_btc(digits).unwrap_or_else(|e| panic!("{amount} is not an amount: {e}"))
}
