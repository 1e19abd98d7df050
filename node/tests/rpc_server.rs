//! The JSON-RPC server over real TCP: authentication, bitcoind's request/response shapes and
//! status codes, the chain and mempool methods, and `stop`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::consensus::serialize;
use bitcoin::{Address, Amount, Network, OutPoint, TxOut};
use common::*;
use node::rpc::{Dispatcher, RpcAuth, RpcServer, RpcServerConfig};
use node::NodeState;
use serde_json::{json, Value};

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Sends raw bytes and reads the whole response (the request asks for `Connection: close`).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

fn post(addr: SocketAddr, auth: Option<(&str, &str)>, path: &str, body: &str) -> Reply {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n"
    );
    if let Some((user, password)) = auth {
        request.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(format!("{user}:{password}").as_bytes())
        ));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let response = raw(addr, request.as_bytes());
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, headers: head.to_string(), body: body.to_string() }
}

struct TestNode {
    node: Arc<NodeState>,
    server: Option<RpcServer>,
    addr: SocketAddr,
}

const AUTH: Option<(&str, &str)> = Some(("alice", "secret"));

impl TestNode {
    fn start(auth: RpcAuth) -> TestNode {
        let node = Arc::new(NodeState::new(chain()));
        let dispatcher = Arc::new(Dispatcher::new(node.clone()));
        let config = RpcServerConfig::local("127.0.0.1:0".parse().unwrap(), auth);
        let server = RpcServer::start(dispatcher, &config).unwrap();
        let addr = server.local_addr();
        TestNode { node, server: Some(server), addr }
    }

    fn with_password() -> TestNode {
        TestNode::start(RpcAuth::UserPassword { user: "alice".into(), password: "secret".into() })
    }

    /// A 1.0 call; returns the reply.
    fn call(&self, method: &str, params: Value) -> Reply {
        post(
            self.addr,
            AUTH,
            "/",
            &json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}).to_string(),
        )
    }

    /// A 1.0 call that must succeed; returns its result.
    fn ok(&self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params);
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        let v = reply.json();
        assert_eq!(v["error"], Value::Null);
        v["result"].clone()
    }

    /// A 1.0 call that must fail; returns (HTTP status, code, message).
    fn err(&self, method: &str, params: Value) -> (u16, i64, String) {
        let reply = self.call(method, params);
        let v = reply.json();
        assert_eq!(v["result"], Value::Null, "{}", reply.body);
        (
            reply.status,
            v["error"]["code"].as_i64().unwrap_or(0),
            v["error"]["message"].as_str().unwrap_or("").to_string(),
        )
    }
}

fn key_address(key: &Key) -> Address {
    Address::from_script(&key.p2wpkh(), Network::Regtest).unwrap()
}

#[test]
fn authentication() {
    let t = TestNode::with_password();
    let none = post(t.addr, None, "/", r#"{"method":"getblockcount"}"#);
    assert_eq!(none.status, 401);
    let headers = none.headers.to_ascii_lowercase();
    assert!(headers.contains("www-authenticate: basic realm=\"jsonrpc\""), "{}", none.headers);
    assert_eq!(post(t.addr, Some(("alice", "wrong")), "/", r#"{"method":"getblockcount"}"#).status, 401);
    assert_eq!(post(t.addr, Some(("bob", "secret")), "/", r#"{"method":"getblockcount"}"#).status, 401);
    assert_eq!(t.ok("getblockcount", json!([])), json!(0));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".cookie");
    let c = TestNode::start(RpcAuth::Cookie { path: path.clone() });
    let cookie = std::fs::read_to_string(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let (user, password) = cookie.split_once(':').unwrap();
    assert_eq!(user, "__cookie__");
    assert_eq!(password.len(), 64);
    let reply = post(c.addr, Some((user, password)), "/", r#"{"method":"getblockcount","id":1}"#);
    assert_eq!((reply.status, reply.json()["result"].clone()), (200, json!(0)));
    assert_eq!(post(c.addr, Some((user, "00")), "/", r#"{"method":"getblockcount"}"#).status, 401);
    let mut c = c;
    c.server.take().unwrap().stop();
    assert!(!path.exists(), "the cookie is removed at stop");
}

#[test]
fn shapes_batches_and_errors() {
    let t = TestNode::with_password();
    let one = post(t.addr, AUTH, "/", r#"{"jsonrpc":"1.0","id":"x","method":"getblockcount","params":[]}"#);
    assert_eq!((one.status, one.json()), (200, json!({"result": 0, "error": null, "id": "x"})));
    let two = post(t.addr, AUTH, "/", r#"{"jsonrpc":"2.0","id":7,"method":"getblockcount"}"#);
    assert_eq!((two.status, two.json()), (200, json!({"jsonrpc": "2.0", "result": 0, "id": 7})));

    let batch = post(
        t.addr,
        AUTH,
        "/",
        r#"[{"jsonrpc":"2.0","id":1,"method":"getblockcount"},{"id":2,"method":"nosuch"},{"jsonrpc":"2.0","id":3,"method":"getbestblockhash"}]"#,
    );
    assert_eq!(batch.status, 200);
    let items = batch.json();
    assert_eq!(items[0], json!({"jsonrpc": "2.0", "result": 0, "id": 1}));
    assert_eq!(
        items[1],
        json!({"result": null, "error": {"code": -32601, "message": "Method not found"}, "id": 2})
    );
    assert_eq!(items[2]["result"], json!("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"));

    let invalid = post(t.addr, AUTH, "/", r#"[1, {"id": 5}]"#);
    assert_eq!(invalid.status, 200);
    assert_eq!(invalid.json()[0]["error"]["code"], json!(-32600));
    assert_eq!(invalid.json()[1]["error"]["code"], json!(-32600));
    let notification = post(t.addr, AUTH, "/", r#"{"jsonrpc":"2.0","method":"getblockcount"}"#);
    assert_eq!((notification.status, notification.body.as_str()), (204, ""));
    // A batch of notifications only: no content either (Core's interface_rpc); an empty batch
    // stays `[]` for old clients, as in bitcoind.
    let notifications = r#"[{"jsonrpc":"2.0","method":"getblockcount"},{"jsonrpc":"2.0","method":"nosuch"}]"#;
    let all = post(t.addr, AUTH, "/", notifications);
    assert_eq!((all.status, all.body.as_str()), (204, ""));
    // A 1.0 request without an id gets a reply without one (Core's interface_rpc).
    let no_id = post(t.addr, AUTH, "/", r#"[{"method":"getblockcount"},{"pizza":"sausage"}]"#);
    assert_eq!(
        (no_id.status, no_id.json()),
        (
            200,
            json!([{"result": 0, "error": null}, {"result": null, "error": {"code": -32600, "message": "Missing method"}}])
        )
    );
    // Core's two refusals of a jsonrpc field (interface_rpc).
    let number = post(t.addr, AUTH, "/", r#"{"jsonrpc":2,"method":"getblockcount"}"#);
    assert_eq!(
        (number.status, number.json()),
        (
            400,
            json!({"result": null, "error": {"code": -32600, "message": "jsonrpc field must be a string"}})
        )
    );
    let three = post(t.addr, AUTH, "/", r#"{"jsonrpc":"3.0","method":"getblockcount"}"#);
    assert_eq!(
        (three.status, three.json()),
        (
            400,
            json!({"result": null, "error": {"code": -32600, "message": "JSON-RPC version not supported"}})
        )
    );
    let empty = post(t.addr, AUTH, "/", "[]");
    assert_eq!((empty.status, empty.body.trim_end()), (200, "[]"));

    let unknown = t.call("nosuch", json!([]));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], json!({"code": -32601, "message": "Method not found"}));
    let unknown2 = post(t.addr, AUTH, "/", r#"{"jsonrpc":"2.0","id":1,"method":"nosuch"}"#);
    assert_eq!((unknown2.status, unknown2.json()["error"]["code"].clone()), (200, json!(-32601)));

    let bad = post(t.addr, AUTH, "/", "{not json");
    assert_eq!((bad.status, bad.json()["error"]["code"].clone()), (500, json!(-32700)));
    let bad = post(t.addr, AUTH, "/", "\u{0}\u{1}[[[[");
    assert_eq!(bad.status, 500);

    assert_eq!(
        t.err("getblockhash", json!(["x"])),
        (500, -3, "JSON value of type string is not of expected type number".into())
    );
    assert_eq!(t.err("getblockhash", json!([5])).1, -8);
    assert_eq!(t.err("getblockhash", json!([])).1, -1);
    assert_eq!(t.err("getblockcount", json!([1])).1, -1);
    assert_eq!(t.err("getblock", json!(["abc"])).1, -8);
    assert_eq!(t.err("getblock", json!(["00".repeat(32)])), (500, -5, "Block not found".into()));
    assert_eq!(t.err("generatetoaddress", json!([1, "notanaddress"])).1, -5);
    assert_eq!(t.err("getblockhash", json!({"bogus": 1})).1, -8);

    // Named arguments.
    let genesis = t.ok("getblockhash", json!({"height": 0}));
    assert_eq!(
        t.ok("getblockheader", json!({"blockhash": genesis, "verbose": false})).as_str().unwrap().len(),
        160
    );

    // Garbage on the socket and wrong HTTP methods do not hurt the server.
    raw(t.addr, b"\x00\x01garbage\r\n\r\n");
    raw(t.addr, b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n");
    let get = raw(
        t.addr,
        format!(
            "GET / HTTP/1.1\r\nAuthorization: Basic {}\r\nConnection: close\r\n\r\n",
            base64(b"alice:secret")
        )
        .as_bytes(),
    );
    assert!(get.starts_with("HTTP/1.1 405"), "{get}");
    assert_eq!(t.ok("getblockcount", json!([])), json!(0));

    let help = t.ok("help", json!([]));
    for name in ["getblockcount", "sendrawtransaction", "generatetoaddress", "stop", "uptime"] {
        assert!(help.as_str().unwrap().contains(name), "{help}");
    }
    assert!(t.ok("uptime", json!([])).is_u64());
}

#[test]
fn mining_and_blocks() {
    let t = TestNode::with_password();
    let key = Key::new(1);
    let address = key_address(&key);
    assert!(address.to_string().starts_with("bcrt1q"));
    let hashes = t.ok("generatetoaddress", json!([101, address.to_string()]));
    assert_eq!(hashes.as_array().unwrap().len(), 101);
    assert_eq!(t.ok("getblockcount", json!([])), json!(101));
    assert_eq!(t.ok("getbestblockhash", json!([])), hashes[100]);
    assert_eq!(t.ok("getblockhash", json!([1])), hashes[0]);

    // All 101 coinbases pay the address; one is mature.
    {
        let inner = t.node.lock();
        let total: Amount = inner
            .chain
            .utxos()
            .iter()
            .filter(|(_, c)| c.output.script_pubkey == key.p2wpkh())
            .fold(Amount::ZERO, |a, (_, c)| a + c.output.value);
        assert_eq!(total, Amount::from_btc(5050.0).unwrap());
    }

    let tip = hashes[100].clone();
    let hex = t.ok("getblock", json!([tip, 0]));
    let block: bitcoin::Block = bitcoin::consensus::deserialize(
        &(0..hex.as_str().unwrap().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex.as_str().unwrap()[i..i + 2], 16).unwrap())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(json!(block.block_hash().to_string()), tip);
    let v1 = t.ok("getblock", json!([tip]));
    assert_eq!(v1["height"], json!(101));
    assert_eq!(v1["confirmations"], json!(1));
    assert_eq!(v1["tx"][0], json!(block.txdata[0].compute_txid().to_string()));
    assert_eq!(v1["previousblockhash"], hashes[99]);
    let v2 = t.ok("getblock", json!([tip, 2]));
    assert_eq!(v2["tx"][0]["vout"][0]["scriptPubKey"]["address"], json!(address.to_string()));
    assert_eq!(v2["tx"][0]["vout"][0]["value"].to_string(), "50.00000000", "bitcoind's amount format");
    assert!(v2["tx"][0]["vin"][0]["coinbase"].is_string());
    let header = t.ok("getblockheader", json!([hashes[0]]));
    assert_eq!((header["height"].clone(), header["nextblockhash"].clone()), (json!(1), hashes[1].clone()));

    let info = t.ok("getblockchaininfo", json!([]));
    assert_eq!(info["chain"], json!("regtest"));
    assert_eq!(info["blocks"], json!(101));
    assert_eq!(info["headers"], json!(101));
    assert_eq!(info["bestblockhash"], tip);
    assert_eq!(info["initialblockdownload"], json!(false));
    assert_eq!(info["pruned"], json!(false));
    // bitcoind (v28 on): an array of strings.
    assert_eq!(info["warnings"], json!([]));
    assert_eq!(info["target"], json!(format!("7fffff{}", "0".repeat(58))));
    assert_eq!(info["chainwork"].as_str().unwrap().len(), 64);
    let tips = t.ok("getchaintips", json!([]));
    assert_eq!(tips, json!([{"height": 101, "hash": tip, "branchlen": 0, "status": "active"}]));
}

#[test]
fn send_mine_and_double_spend() {
    let t = TestNode::with_password();
    let key = Key::new(1);
    let address = key_address(&key);
    t.ok("generatetoaddress", json!([101, address.to_string()]));
    let prev: (OutPoint, TxOut) = coinbase_of(&t.node.lock().chain, 1);
    let tx = spend(&prev, &key, Key::new(2).p2wpkh(), 10_000);
    let txid = tx.compute_txid().to_string();
    let hexstring: String = serialize(&tx).iter().map(|b| format!("{b:02x}")).collect();

    assert_eq!(t.ok("sendrawtransaction", json!([hexstring])), json!(txid));
    assert_eq!(t.ok("sendrawtransaction", json!([hexstring])), json!(txid), "resending is fine");
    assert_eq!(t.ok("getrawmempool", json!([])), json!([txid]));
    let verbose = t.ok("getrawmempool", json!([true]));
    assert_eq!(verbose[&txid]["fees"]["base"].to_string(), "0.00010000");
    assert_eq!(t.ok("getmempoolinfo", json!([]))["size"], json!(1));
    assert_eq!(t.ok("getrawtransaction", json!([txid])), json!(hexstring));

    let double = spend(&prev, &key, key.p2wpkh(), 20_000);
    let double_hex: String = serialize(&double).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(t.err("sendrawtransaction", json!([double_hex])), (500, -26, "txn-mempool-conflict".into()));
    assert_eq!(t.err("sendrawtransaction", json!(["zz"])).1, -22);
    let huge_fee = spend(&coinbase_of(&t.node.lock().chain, 2), &key, key.p2wpkh(), 10_000_000);
    let huge_hex: String = serialize(&huge_fee).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(t.err("sendrawtransaction", json!([huge_hex])).1, -25);

    t.ok("generatetoaddress", json!([1, address.to_string()]));
    assert_eq!(t.ok("getrawmempool", json!([])), json!([]));
    let confirmed = t.ok("getrawtransaction", json!([txid, true]));
    assert_eq!(confirmed["confirmations"], json!(1));
    assert_eq!(
        t.err("sendrawtransaction", json!([double_hex])),
        (500, -25, "bad-txns-inputs-missingorspent".into())
    );

    // generateblock with a raw transaction.
    let next = spend(&coinbase_of(&t.node.lock().chain, 3), &key, key.p2wpkh(), 10_000);
    let next_hex: String = serialize(&next).iter().map(|b| format!("{b:02x}")).collect();
    let made = t.ok("generateblock", json!([address.to_string(), [next_hex]]));
    let block = t.ok("getblock", json!([made["hash"]]));
    assert_eq!(block["tx"][1], json!(next.compute_txid().to_string()));
    assert_eq!(t.err("generateblock", json!([address.to_string(), ["00".repeat(32)]])).1, -5);
}

#[test]
fn stop_shuts_down() {
    let mut t = TestNode::with_password();
    assert_eq!(t.ok("stop", json!([])), json!("mpx-node stopping"));
    assert!(t.node.wait_for_shutdown_timeout(Duration::from_secs(5)));
    t.server.take().unwrap().stop();
    // stop() returns after the listener is closed.
    assert!(TcpStream::connect(t.addr).is_err(), "the port is closed");
}

#[test]
fn server_config_from_node_config() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = format!("-datadir={}", dir.path().display());
    let parse = |extra: &[&str]| {
        let mut args = vec![datadir.clone(), "-regtest".to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        match config::parse_with_home(config::Program::Node, args, Some(dir.path().to_path_buf())).unwrap() {
            config::Action::Run(c) => RpcServerConfig::from_config(&c),
            other => panic!("{other:?}"),
        }
    };
    let cookie = parse(&[]);
    assert_eq!(cookie.settings.bind, ["[::1]:18443".parse().unwrap(), "127.0.0.1:18443".parse().unwrap()]);
    assert_eq!(cookie.auth, RpcAuth::Cookie { path: dir.path().join("regtest").join(".cookie") });
    let password = parse(&["-rpcuser=u", "-rpcpassword=p", "-rpcport=1234"]);
    assert!(password.settings.bind.iter().all(|addr| addr.port() == 1234));
    assert_eq!(password.auth, RpcAuth::UserPassword { user: "u".into(), password: "p".into() });
}

/// A method that blocks until released: it keeps a worker busy for as long as a test needs.
struct Gate {
    entered: std::sync::mpsc::SyncSender<()>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl interfaces::RpcActor for Gate {
    fn execute(&self, request: interfaces::RpcRequest) -> interfaces::Result<interfaces::RpcReply> {
        if request.method == "big" {
            return Ok(interfaces::RpcReply::result(json!("x".repeat(1 << 20)).to_string()));
        }
        let _ = self.entered.send(());
        let _ = self.release.lock().unwrap().recv();
        Ok(interfaces::RpcReply::result("true"))
    }
}

fn register(dispatcher: &Dispatcher, name: &str, actor: Arc<Gate>) -> Box<dyn interfaces::Handler> {
    dispatcher.register(interfaces::RpcCommand {
        category: "test".into(),
        name: name.into(),
        arg_names: vec![],
        help: name.into(),
        actor,
    })
}

#[test]
fn a_full_work_queue_answers_503_and_large_replies_carry_content_length() {
    let node = Arc::new(NodeState::new(chain()));
    let dispatcher = Arc::new(Dispatcher::new(node));
    let (entered, entered_rx) = std::sync::mpsc::sync_channel(8);
    let (release_tx, release) = std::sync::mpsc::channel();
    let gate = Arc::new(Gate { entered, release: std::sync::Mutex::new(release) });
    let _block = register(&dispatcher, "block", gate.clone());
    let _big = register(&dispatcher, "big", gate);
    let auth = RpcAuth::UserPassword { user: "alice".into(), password: "secret".into() };
    let mut config = RpcServerConfig::local("127.0.0.1:0".parse().unwrap(), auth);
    config.settings.threads = 1;
    config.settings.work_queue = 1;
    let server = RpcServer::start(dispatcher.clone(), &config).unwrap();
    let addr = server.local_addr();

    // One request runs (the only worker) ...
    let (done, finished) = std::sync::mpsc::channel();
    let send = |id: u32| {
        let done = done.clone();
        std::thread::spawn(move || {
            let reply = post(addr, AUTH, "/", &format!(r#"{{"method":"block","id":{id}}}"#));
            done.send((reply.status, reply.body)).unwrap();
        })
    };
    let first = send(1);
    entered_rx.recv_timeout(Duration::from_secs(20)).expect("the first request runs");
    // ... of two more, one waits in the queue (depth 1) and the other is refused at once: the
    // refusal is the first reply to arrive, while the worker is still held.
    let (second, third) = (send(2), send(3));
    let (status, body) = finished.recv_timeout(Duration::from_secs(20)).expect("a refusal");
    assert_eq!((status, body.as_str()), (503, "Work queue depth exceeded"));
    release_tx.send(()).unwrap();
    release_tx.send(()).unwrap();
    for _ in 0..2 {
        let (status, body) = finished.recv_timeout(Duration::from_secs(20)).expect("a reply");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"result\":true"), "{body}");
    }
    for thread in [first, second, third] {
        thread.join().unwrap();
    }

    // A 1 MiB reply: Content-Length, never chunked (bitcoincore-rpc accepts nothing else).
    let big = post(addr, AUTH, "/", r#"{"method":"big","id":4}"#);
    let headers = big.headers.to_ascii_lowercase();
    assert!(!headers.contains("transfer-encoding"), "{}", big.headers);
    assert!(headers.contains(&format!("content-length: {}", big.body.len())), "{}", big.headers);
    assert_eq!(big.json()["result"].as_str().map(str::len), Some(1 << 20));
    server.stop();
}

#[test]
fn a_client_outside_the_allowed_networks_gets_403() {
    let node = Arc::new(NodeState::new(chain()));
    let dispatcher = Arc::new(Dispatcher::new(node));
    let auth = RpcAuth::UserPassword { user: "alice".into(), password: "secret".into() };
    let mut config = RpcServerConfig::local("127.0.0.1:0".parse().unwrap(), auth);
    config.settings.allow = vec!["10.0.0.0/8".parse().unwrap()];
    let server = RpcServer::start(dispatcher, &config).unwrap();
    let reply = post(server.local_addr(), AUTH, "/", r#"{"method":"getblockcount","id":1}"#);
    assert_eq!(reply.status, 403);
    server.stop();
}

/// `-rpcwhitelist` (Core's rpc_whitelist): a user named may call only its methods, in a batch
/// too; with the default deny, a user not named may call nothing; 403 without a body either way.
#[test]
fn rpcwhitelist_refuses_with_403() {
    let start = |entries: &[&str]| {
        let node = Arc::new(NodeState::new(chain()));
        let dispatcher = Arc::new(Dispatcher::new(node));
        let auth = RpcAuth::UserPassword { user: "alice".into(), password: "secret".into() };
        let mut config = RpcServerConfig::local("127.0.0.1:0".parse().unwrap(), auth);
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        config.settings.whitelist = config::RpcWhitelist::from_entries(&entries, None);
        RpcServer::start(dispatcher, &config).unwrap()
    };
    let call = |server: &RpcServer, body: &str| post(server.local_addr(), AUTH, "/", body);
    let server = start(&["alice:getblockcount,getbestblockhash"]);
    let allowed = call(&server, r#"{"id":1,"method":"getblockcount"}"#);
    assert_eq!((allowed.status, allowed.json()["result"].clone()), (200, json!(0)));
    let refused = call(&server, r#"{"id":1,"method":"uptime"}"#);
    assert_eq!((refused.status, refused.body.as_str()), (403, ""));
    let batch = call(&server, r#"[{"id":1,"method":"getblockcount"},{"id":2,"method":"uptime"}]"#);
    assert_eq!((batch.status, batch.body.as_str()), (403, ""));
    let server = start(&["bob:uptime"]);
    let not_named = call(&server, r#"{"id":1,"method":"getblockcount"}"#);
    assert_eq!((not_named.status, not_named.body.as_str()), (403, ""));
}
