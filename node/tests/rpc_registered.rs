//! Methods registered through the dispatcher (what `Chain::handle_rpc` will use): named
//! arguments, `/wallet/<name>` URIs, not-handled fall-through, unregistering, `help`.

mod common;

use std::sync::{Arc, Mutex};

use interfaces::{Rpc, RpcActor, RpcCommand, RpcError, RpcReply, RpcRequest};
use node::rpc::Dispatcher;
use node::NodeState;
use serde_json::{json, Value};

struct Wallet {
    name: &'static str,
    seen: Mutex<Vec<RpcRequest>>,
}

impl RpcActor for Wallet {
    fn execute(&self, request: RpcRequest) -> interfaces::Result<RpcReply> {
        self.seen.lock().unwrap().push(request.clone());
        let wanted = request.uri.strip_prefix("/wallet/");
        if wanted.is_some_and(|w| w != self.name) {
            return Ok(if request.last_handler {
                RpcReply::error(
                    RpcError::WALLET_NOT_FOUND,
                    "Requested wallet does not exist or is not loaded",
                )
            } else {
                RpcReply::not_handled()
            });
        }
        Ok(RpcReply::result(json!({"wallet": self.name, "params": request.params}).to_string()))
    }
}

fn command(actor: Arc<Wallet>) -> RpcCommand {
    RpcCommand {
        category: "wallet".into(),
        name: "getbalance".into(),
        arg_names: vec!["dummy".into(), "minconf".into()],
        help: "getbalance ( \"dummy\" minconf )\nReturns the balance.".into(),
        actor,
    }
}

fn call(d: &Dispatcher, body: Value, uri: &str) -> Value {
    serde_json::from_str(&d.execute_rpc(body.to_string(), uri.into(), "u".into()).unwrap()).unwrap()
}

#[test]
fn registered_methods() {
    let d = Dispatcher::new(Arc::new(NodeState::new(common::chain())));
    let a = Arc::new(Wallet { name: "a", seen: Mutex::new(vec![]) });
    let b = Arc::new(Wallet { name: "b", seen: Mutex::new(vec![]) });
    let ha = d.register(command(a.clone()));
    let hb = d.register(command(b.clone()));

    let r = call(&d, json!({"id": 1, "method": "getbalance", "params": {"minconf": 3}}), "/wallet/b");
    assert_eq!(r["result"], json!({"wallet": "b", "params": "[null,3]"}));
    assert_eq!(a.seen.lock().unwrap().last().map(|r| r.last_handler), Some(false));
    assert_eq!(
        b.seen.lock().unwrap().last().map(|r| (r.last_handler, r.user.clone())),
        Some((true, "u".into()))
    );

    let r = call(&d, json!({"id": 1, "method": "getbalance"}), "/wallet/c");
    assert_eq!(r["error"]["code"], json!(-18));
    let r = call(&d, json!({"id": 1, "method": "getbalance", "params": {"nope": 1}}), "/");
    assert_eq!(r["error"]["code"], json!(-8));

    let help = call(&d, json!({"id": 1, "method": "help"}), "/");
    assert!(
        help["result"].as_str().unwrap().contains("== Wallet ==\ngetbalance ( \"dummy\" minconf )"),
        "{help}"
    );

    drop(ha);
    drop(hb);
    let r = call(&d, json!({"id": 1, "method": "getbalance"}), "/");
    assert_eq!(r["error"]["code"], json!(-32601));
}

struct Panics;

impl RpcActor for Panics {
    fn execute(&self, _request: RpcRequest) -> interfaces::Result<RpcReply> {
        panic!("a bug in a registered method");
    }
}

#[test]
fn a_panicking_method_fails_only_its_own_request() {
    let d = Dispatcher::new(Arc::new(NodeState::new(common::chain())));
    let _handler = d.register(RpcCommand {
        category: "test".into(),
        name: "explode".into(),
        arg_names: vec![],
        help: "explode".into(),
        actor: Arc::new(Panics),
    });
    let batch = json!([{"id": 1, "method": "explode"}, {"id": 2, "method": "getblockcount"}]);
    let replies = call(&d, batch, "/");
    assert_eq!(replies[0]["error"], json!({"code": -32603, "message": "Internal error"}));
    assert_eq!(replies[0]["id"], json!(1));
    assert_eq!(replies[1]["result"], json!(0), "the rest of the batch still runs");
}
