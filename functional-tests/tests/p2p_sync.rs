//! P2P between real nodes over real sockets, as Bitcoin Core's test framework drives it:
//! `addnode <addr> onetry`, the handshake seen in `getpeerinfo` on both sides (found by
//! `subver` and `inbound`, `pong` bytes received), blocks and transactions relayed, a longer
//! branch from another node reorganising both, `disconnectnode`, `addnode add|remove` and
//! `getaddednodeinfo`; and hostile raw TCP clients (garbage, an oversized message, silence, a
//! hand-made handshake) dropped without harm. Runs the multiprocess node with
//! `MPX_TEST_MULTIPROCESS=1`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_network::VersionMessage;
use bitcoin::p2p::{Address, Magic, ServiceFlags};
use functional_tests::{wait_until, RpcFailure, TestFramework, TestNode};
use serde_json::{json, Value};

/// Mined to nobody's wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const WAIT: Duration = Duration::from_secs(60);

fn start(test: &mut TestFramework, extra: &[&str]) {
    for node in &mut test.nodes {
        let comment = format!("-uacomment=testnode{}", node.index);
        let mut args = vec![comment.as_str()];
        args.extend_from_slice(extra);
        node.start(&args);
    }
}

fn subver(node: &TestNode) -> Value {
    node.call("getnetworkinfo", json!([]))["subversion"].clone()
}

fn find_conn(node: &TestNode, peer_subver: &Value, inbound: bool) -> Option<Value> {
    let peers = node.call("getpeerinfo", json!([]));
    peers.as_array()?.iter().find(|p| p["subver"] == *peer_subver && p["inbound"] == json!(inbound)).cloned()
}

/// Core's `connect_nodes(a, b)`: `addnode onetry`, then both ends see each other and a pong.
fn connect(test: &TestFramework, a: usize, b: usize) {
    let (from, to) = (&test.nodes[a], &test.nodes[b]);
    let (from_subver, to_subver) = (subver(from), subver(to));
    assert_eq!(from.call("addnode", json!([to.p2p_addr(), "onetry"])), Value::Null);
    let pong = |node: &TestNode, peer: &Value, inbound: bool| {
        find_conn(node, peer, inbound)
            .is_some_and(|p| p["bytesrecv_per_msg"]["pong"].as_u64().unwrap_or(0) >= 29)
    };
    wait_until("the outbound side sees a pong", WAIT, || pong(from, &to_subver, false));
    wait_until("the inbound side sees a pong", WAIT, || pong(to, &from_subver, true));
}

fn best(node: &TestNode) -> Value {
    node.call("getbestblockhash", json!([]))
}

fn sync_blocks(nodes: &[&TestNode]) {
    wait_until("the nodes have the same tip", WAIT, || nodes.iter().all(|n| best(n) == best(nodes[0])));
}

fn mempool(node: &TestNode) -> Value {
    node.call("getrawmempool", json!([]))
}

fn peer_count(node: &TestNode) -> usize {
    node.call("getpeerinfo", json!([])).as_array().map_or(0, Vec::len)
}

fn rpc_error(result: Result<Value, RpcFailure>) -> (i64, String) {
    match result {
        Err(RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("expected an RPC error, got {other:?}"),
    }
}

#[test]
fn nodes_connect_sync_blocks_relay_transactions_and_reorganise() {
    let mut test = TestFramework::new("p2p_sync", 3);
    start(&mut test, &[]);
    connect(&test, 0, 1);
    let (n0, n1, n2) = (&test.nodes[0], &test.nodes[1], &test.nodes[2]);

    // The handshake as Core shows it, on both sides.
    let out = find_conn(n0, &subver(n1), false).expect("node0's outbound peer");
    let inb = find_conn(n1, &subver(n0), true).expect("node1's inbound peer");
    for (peer, kind) in [(&out, "manual"), (&inb, "inbound")] {
        assert_eq!(peer["version"], json!(70016));
        assert_eq!(peer["services"], json!("0000000000000409"));
        assert_eq!(peer["servicesnames"], json!(["NETWORK", "WITNESS", "NETWORK_LIMITED"]));
        assert_eq!(peer["connection_type"], json!(kind));
        assert_eq!(peer["transport_protocol_type"], json!("v1"));
        assert_eq!(peer["session_id"], json!(""));
        assert_eq!(peer["relaytxes"], json!(true));
        // Header included: a verack is 24 bytes, a version with our user agent more.
        assert_eq!(peer["bytesrecv_per_msg"]["verack"], json!(24));
        assert!(peer["bytesrecv_per_msg"]["version"].as_u64().unwrap_or(0) > 100);
        assert!(peer["pingtime"].as_f64().is_some(), "{peer}");
        let per_msg: u64 =
            peer["bytesrecv_per_msg"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        assert!(per_msg <= peer["bytesrecv"].as_u64().unwrap_or(0));
    }
    assert_eq!(out["addr"], json!(n1.p2p_addr()));
    assert_eq!(inb["addrbind"], json!(n1.p2p_addr()));
    assert_eq!(n0.call("getconnectioncount", json!([])), json!(1));
    let info = n1.call("getnetworkinfo", json!([]));
    assert_eq!(
        (info["connections"].clone(), info["connections_in"].clone(), info["connections_out"].clone()),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(info["localservices"], json!("0000000000000409"));
    assert_eq!(info["networkactive"], json!(true));

    // Blocks mined on either side reach the other.
    n0.call("generatetoaddress", json!([5, ELSEWHERE]));
    sync_blocks(&[n0, n1]);
    n1.call("generatetoaddress", json!([3, ELSEWHERE]));
    sync_blocks(&[n0, n1]);
    assert_eq!(n0.call("getblockcount", json!([])), json!(8));

    // A payment made on node0 reaches node1's mempool, and leaves both when node1 mines it.
    n0.call("createwallet", json!(["w"]));
    let address = n0.wallet_call("w", "getnewaddress", json!([]));
    n0.call("generatetoaddress", json!([101, address]));
    sync_blocks(&[n0, n1]);
    let txid = n0.wallet_call("w", "sendtoaddress", json!([ELSEWHERE, 1.5]));
    wait_until("node1 has the transaction", WAIT, || mempool(n1) == json!([txid]));
    let block = n1.call("generatetoaddress", json!([1, ELSEWHERE]))[0].clone();
    sync_blocks(&[n0, n1]);
    assert_eq!(mempool(n0), json!([]));
    assert_eq!(n1.call("getblock", json!([block, 1]))["tx"][1], txid);

    // node2 builds a longer chain alone; once connected, both others reorganise to it.
    let old_tip = best(n0);
    let height = n0.call("getblockcount", json!([])).as_u64().unwrap_or(0);
    n2.call("generatetoaddress", json!([height + 3, ELSEWHERE]));
    connect(&test, 2, 1);
    sync_blocks(&[n0, n1, n2]);
    assert_eq!(n0.call("getblockcount", json!([])), json!(height + 3));
    let tips = n0.call("getchaintips", json!([]));
    let old =
        tips.as_array().and_then(|t| t.iter().find(|t| t["hash"] == old_tip)).cloned().expect("old tip");
    assert_eq!(old["status"], json!("valid-fork"));
    // The payment went back to node0's mempool with the reorganisation; the wallet resends it
    // or not, but the mempools agree once relayed.
    wait_until("the mempools agree", WAIT, || mempool(n0) == mempool(n1) && mempool(n1) == mempool(n2));

    // disconnectnode by address (node2's view of node1) and by id; errors as Core's.
    assert_eq!(n2.call("disconnectnode", json!([n1.p2p_addr()])), Value::Null);
    wait_until("node1 and node2 are apart", WAIT, || {
        find_conn(n1, &subver(n2), true).is_none() && find_conn(n2, &subver(n1), false).is_none()
    });
    let id = find_conn(n0, &subver(n1), false).expect("still connected")["id"].clone();
    assert_eq!(n0.call("disconnectnode", json!(["", id])), Value::Null);
    wait_until("node0 has no peers", WAIT, || peer_count(n0) == 0);
    assert_eq!(
        rpc_error(n0.rpc("disconnectnode", json!(["", 999]))),
        (-29, "Node not found in connected nodes".to_string())
    );
    assert_eq!(rpc_error(n0.rpc("disconnectnode", json!(["1.2.3.4:5", 1]))).0, -8);

    // addnode add keeps a connection; getaddednodeinfo reports it; remove forgets it.
    assert_eq!(n0.call("addnode", json!([n2.p2p_addr(), "add"])), Value::Null);
    assert_eq!(
        rpc_error(n0.rpc("addnode", json!([n2.p2p_addr(), "add"]))),
        (-23, "Error: Node already added".to_string())
    );
    wait_until("the added node is connected", WAIT, || {
        n0.call("getaddednodeinfo", json!([]))[0]["connected"] == json!(true)
    });
    let added = n0.call("getaddednodeinfo", json!([n2.p2p_addr()]));
    assert_eq!(added[0]["addednode"], json!(n2.p2p_addr()));
    assert_eq!(added[0]["addresses"][0]["connected"], json!("outbound"));
    assert_eq!(rpc_error(n0.rpc("getaddednodeinfo", json!(["10.0.0.1"]))).0, -24);
    assert_eq!(n0.call("addnode", json!([n2.p2p_addr(), "remove"])), Value::Null);
    assert_eq!(rpc_error(n0.rpc("addnode", json!([n2.p2p_addr(), "remove"]))).0, -24);
    assert_eq!(rpc_error(n0.rpc("addnode", json!([n2.p2p_addr(), "bogus"]))).0, -1);

    // setnetworkactive false drops everyone; true lets connections in again.
    assert_eq!(n2.call("setnetworkactive", json!([false])), json!(false));
    wait_until("node2 has no peers", WAIT, || peer_count(n2) == 0 && peer_count(n0) == 0);
    assert_eq!(n2.call("setnetworkactive", json!([true])), json!(true));
    connect(&test, 0, 2);
    let totals = n2.call("getnettotals", json!([]));
    assert!(
        totals["totalbytesrecv"].as_u64().unwrap_or(0) > 0
            && totals["totalbytessent"].as_u64().unwrap_or(0) > 0
    );
    assert_eq!(n0.call("ping", json!([])), Value::Null);
}

/// Reads until the node closes the connection (true) or `timeout` passes (false).
fn closed_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

fn raw(message: NetworkMessage) -> Vec<u8> {
    serialize(&RawNetworkMessage::new(Magic::REGTEST, message))
}

/// Reads messages until one satisfies `want`, within the deadline.
fn read_until(stream: &mut TcpStream, buf: &mut Vec<u8>, want: impl Fn(&NetworkMessage) -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    let mut chunk = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    while Instant::now() < deadline {
        while let Ok((message, used)) = deserialize_partial::<RawNetworkMessage>(buf) {
            buf.drain(..used);
            if want(message.payload()) {
                return true;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn hostile_and_hand_made_peers() {
    let mut test = TestFramework::new("p2p_hostile", 2);
    start(&mut test, &["-peertimeout=3"]);
    let node = &test.nodes[0];
    let addr = node.p2p_addr();

    // Garbage (an HTTP request): wrong magic, dropped at the header.
    let mut garbage = TcpStream::connect(&addr).expect("connect");
    garbage.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("write");
    assert!(closed_within(&mut garbage, Duration::from_secs(10)), "garbage client not dropped");

    // A header declaring a payload over 4,000,000 bytes: dropped before any payload.
    let mut big = TcpStream::connect(&addr).expect("connect");
    let mut header = Magic::REGTEST.to_bytes().to_vec();
    header.extend_from_slice(b"block\0\0\0\0\0\0\0");
    header.extend_from_slice(&4_000_001u32.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    big.write_all(&header).expect("write");
    assert!(closed_within(&mut big, Duration::from_secs(10)), "oversized message not dropped");

    // Silence: the handshake times out after -peertimeout.
    let mut silent = TcpStream::connect(&addr).expect("connect");
    wait_until("the silent client is a peer", WAIT, || peer_count(node) >= 1);
    assert!(closed_within(&mut silent, Duration::from_secs(15)), "silent client not dropped");
    wait_until("no peers are left", WAIT, || peer_count(node) == 0);

    // Connecting to itself is noticed by the nonce and dropped.
    node.call("addnode", json!([addr, "onetry"]));
    std::thread::sleep(Duration::from_secs(2));
    wait_until("the self-connection is gone", WAIT, || peer_count(node) == 0);
    assert!(node.debug_log().contains("connected to self"), "no self-connection line");

    // A hand-made client: version, verack, then getheaders is answered with our blocks.
    node.call("generatetoaddress", json!([3, ELSEWHERE]));
    let mut client = TcpStream::connect(&addr).expect("connect");
    let local = client.local_addr().expect("local address");
    let peer = client.peer_addr().expect("peer address");
    let version = VersionMessage {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: 0,
        receiver: Address::new(&peer, ServiceFlags::NONE),
        sender: Address::new(&local, ServiceFlags::NONE),
        nonce: 42,
        user_agent: "/raw-client:0.1/".to_string(),
        start_height: 0,
        relay: false,
    };
    client.write_all(&raw(NetworkMessage::Version(version))).expect("write");
    let mut buf = Vec::new();
    assert!(read_until(
        &mut client,
        &mut buf,
        |m| matches!(m, NetworkMessage::Version(v) if v.start_height == 3)
    ));
    assert!(read_until(&mut client, &mut buf, |m| matches!(m, NetworkMessage::Verack)));
    client.write_all(&raw(NetworkMessage::Verack)).expect("write");
    assert!(read_until(&mut client, &mut buf, |m| matches!(m, NetworkMessage::Ping(_))));
    let genesis: bitcoin::BlockHash =
        node.call("getblockhash", json!([0])).as_str().and_then(|h| h.parse().ok()).expect("hash");
    let request = bitcoin::p2p::message_blockdata::GetHeadersMessage::new(
        vec![genesis],
        bitcoin::BlockHash::from_raw_hash(bitcoin::hashes::Hash::all_zeros()),
    );
    client.write_all(&raw(NetworkMessage::GetHeaders(request))).expect("write");
    assert!(read_until(&mut client, &mut buf, |m| matches!(m, NetworkMessage::Headers(h) if h.len() == 3)));
    let peer_info = find_conn(node, &json!("/raw-client:0.1/"), true).expect("the raw client is a peer");
    assert_eq!(peer_info["relaytxes"], json!(false));
    assert!(peer_info["bytesrecv_per_msg"]["getheaders"].as_u64().is_some());
    drop(client);

    // Through all that, the node works: another node connects and syncs.
    connect(&test, 1, 0);
    sync_blocks(&[&test.nodes[0], &test.nodes[1]]);
    assert_eq!(test.nodes[1].call("getblockcount", json!([])), json!(3));
}
