//! Bitcoin Core's `rpc/net.cpp`: `getnetworkinfo`, `getconnectioncount`, `getpeerinfo`,
//! `addnode`, `disconnectnode`, `getaddednodeinfo`, `getnettotals`, `ping`,
//! `setnetworkactive`, over the P2P subsystem ([`crate::net::Connman`]). Without one (the
//! daemon has not started it, or it has stopped) the P2P methods answer Core's `-9` "Error:
//! Peer-to-peer functionality missing or disabled".
//!
//! `version` is [`CLIENT_VERSION`], 319900: Bitcoin Core's master (v31.99), whose result shapes
//! this node follows (see `/work/shared/CORE-RPC-SHAPES.md`). Clients choose a result layout by
//! this number (e.g. `warnings` as an array from 280000, `bip125-replaceable` gone from
//! `gettransaction` in 310000); a number of our own would send them to layouts we do not give.

use std::sync::Arc;

use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::net::{service_names, AddedError, Connman, Peer, LOCAL_SERVICES, PROTOCOL_VERSION};

/// The `version` reported: Bitcoin Core's whose shapes we follow (see the module doc).
pub(crate) const CLIENT_VERSION: u32 = 319_900;

/// Core's `RPC_CLIENT_P2P_DISABLED`.
const P2P_DISABLED: i32 = -9;
/// Core's `RPC_CLIENT_NODE_ALREADY_ADDED`.
const NODE_ALREADY_ADDED: i32 = -23;
/// Core's `RPC_CLIENT_NODE_NOT_ADDED`.
const NODE_NOT_ADDED: i32 = -24;
/// Core's `RPC_CLIENT_NODE_NOT_CONNECTED`.
const NODE_NOT_CONNECTED: i32 = -29;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Network",
        "getnetworkinfo",
        [],
        0,
        "Returns an object containing various state info regarding P2P networking.",
        getnetworkinfo
    ),
    builtin!(
        "Network",
        "getconnectioncount",
        [],
        0,
        "Returns the number of connections to other nodes.",
        getconnectioncount
    ),
    builtin!(
        "Network",
        "getpeerinfo",
        [],
        0,
        "Returns data about each connected network peer as a json array of objects.",
        getpeerinfo
    ),
    builtin!(
        "Network",
        "addnode",
        ["node", "command", "v2transport"],
        2,
        "Attempts to add or remove a node from the addnode list.\nOr try a connection to a node once.\nNodes added using addnode (or -connect) are protected from DoS disconnection and are not required to be\nfull nodes/support SegWit as other outbound peers are (though such peers will not be synced from).\nAddnode connections are limited to 8 at a time and are counted separately from the -maxconnections limit.",
        addnode
    ),
    builtin!(
        "Network",
        "disconnectnode",
        ["address", "nodeid"],
        0,
        "Immediately disconnects from the specified peer node.\n\nStrictly one out of 'address' and 'nodeid' can be provided to identify the node.\n\nTo disconnect by nodeid, either set 'address' to the empty string, or call using the named 'nodeid' argument only.",
        disconnectnode
    ),
    builtin!(
        "Network",
        "getaddednodeinfo",
        ["node"],
        0,
        "Returns information about the given added node, or all added nodes\n(note that onetry addnodes are not listed here)",
        getaddednodeinfo
    ),
    builtin!(
        "Network",
        "getnettotals",
        [],
        0,
        "Returns information about network traffic, including bytes in, bytes out,\nand current system time.",
        getnettotals
    ),
    builtin!(
        "Network",
        "ping",
        [],
        0,
        "Requests that a ping be sent to all other nodes, to measure ping time.\nResults are provided in getpeerinfo.\nPing command is handled in queue with all other commands, so it measures processing backlog, not just network ping.",
        ping
    ),
    builtin!(
        "Network",
        "setnetworkactive",
        ["state"],
        1,
        "Disable/enable all p2p network activity.",
        setnetworkactive
    ),
];

/// `/mpx:<version>/`, as bitcoind's `/Satoshi:<version>/`, when the daemon set no other
/// ([`Dispatcher::set_subversion`], with the `-uacomment`s).
pub(crate) fn subversion() -> String {
    format!("/mpx:{}/", env!("CARGO_PKG_VERSION"))
}

fn connman(d: &Dispatcher) -> Result<Arc<Connman>, RpcError> {
    d.net()
        .ok_or_else(|| RpcError::new(P2P_DISABLED, "Error: Peer-to-peer functionality missing or disabled"))
}

fn usage(name: &str) -> RpcError {
    let synopsis = super::find_builtin(name).map_or_else(|| name.to_string(), Builtin::synopsis);
    RpcError::new(RpcError::MISC_ERROR, synopsis)
}

fn getnetworkinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getnetworkinfo")?;
    let net = d.net();
    let reachable = net.is_some();
    let networks: Vec<Value> = ["ipv4", "ipv6", "onion", "i2p", "cjdns"]
        .iter()
        .map(|name| {
            let reachable = reachable && matches!(*name, "ipv4" | "ipv6");
            json!({"name": name, "limited": !reachable, "reachable": reachable, "proxy": "", "proxy_randomize_credentials": false})
        })
        .collect();
    let (inbound, outbound) = net.as_ref().map_or((0, 0), |n| n.connection_counts());
    let services = if reachable { LOCAL_SERVICES } else { 0 };
    let limits = *d.node().lock().mempool.limits();
    let fee = btc(bitcoin::Amount::from_sat(limits.min_relay_fee_per_kvb));
    let incremental = btc(bitcoin::Amount::from_sat(limits.incremental_relay_fee_per_kvb));
    Ok(json!({
        "version": CLIENT_VERSION,
        "subversion": d.subversion(),
        "protocolversion": PROTOCOL_VERSION,
        "localservices": format!("{services:016x}"),
        "localservicesnames": service_names(services),
        "localrelay": true,
        "timeoffset": 0,
        "networkactive": net.as_ref().is_some_and(|n| n.network_active()),
        "connections": inbound + outbound,
        "connections_in": inbound,
        "connections_out": outbound,
        "networks": networks,
        "relayfee": fee,
        "incrementalfee": incremental,
        "localaddresses": [],
        "warnings": [],
    }))
}

fn getconnectioncount(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getconnectioncount")?;
    let (inbound, outbound) = connman(d)?.connection_counts();
    Ok(json!(inbound + outbound))
}

fn peer_json(peer: &Peer, now: f64) -> Value {
    let info = peer.info();
    let mut obj = serde_json::Map::new();
    let mut put = |key: &str, value: Value| {
        obj.insert(key.to_string(), value);
    };
    put("id", json!(peer.id));
    put("addr", json!(peer.addr_name));
    if let Some(bind) = peer.addr_bind {
        put("addrbind", json!(bind.to_string()));
    }
    put("network", json!(crate::net::network_name(&peer.addr)));
    put("services", json!(format!("{:016x}", info.services)));
    put("servicesnames", json!(service_names(info.services)));
    put("relaytxes", json!(info.relay_txs));
    put("lastsend", json!(info.last_send));
    put("lastrecv", json!(info.last_recv));
    put("last_transaction", json!(info.last_transaction));
    put("last_block", json!(info.last_block));
    put("bytessent", json!(info.bytes_sent));
    put("bytesrecv", json!(info.bytes_recv));
    put("conntime", json!(peer.conn_time));
    put("timeoffset", json!(info.time_offset));
    if let Some(ping) = info.ping_time {
        put("pingtime", real_value(ping));
    }
    if let Some(min) = info.min_ping {
        put("minping", real_value(min));
    }
    if let Some((_, sent)) = info.ping_sent {
        put("pingwait", real_value((now - sent).max(0.0)));
    }
    put("version", json!(info.version));
    put("subver", json!(info.subver));
    put("inbound", json!(peer.inbound()));
    put("bip152_hb_to", json!(false));
    put("bip152_hb_from", json!(false));
    put("startingheight", json!(info.starting_height));
    put("presynced_headers", json!(-1));
    put("synced_headers", json!(info.synced_headers));
    put("synced_blocks", json!(info.synced_blocks));
    let mut inflight: Vec<u32> = info.in_flight.values().copied().collect();
    inflight.sort_unstable();
    put("inflight", json!(inflight));
    put("addr_relay_enabled", json!(false));
    put("addr_processed", json!(0));
    put("addr_rate_limited", json!(0));
    put("permissions", json!(peer.permissions));
    put(
        "minfeefilter",
        btc(bitcoin::Amount::from_sat(u64::try_from(info.fee_filter_sat_per_kvb).unwrap_or(0))),
    );
    put("bytessent_per_msg", json!(info.sent_per_msg));
    put("bytesrecv_per_msg", json!(info.recv_per_msg));
    put("connection_type", json!(peer.conn_type.name()));
    put("transport_protocol_type", json!("v1"));
    put("session_id", json!(""));
    Value::Object(obj)
}

fn getpeerinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getpeerinfo")?;
    let net = connman(d)?;
    let now = net.clock();
    Ok(Value::Array(net.peers().iter().map(|peer| peer_json(peer, now)).collect()))
}

fn addnode(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "addnode")?;
    let node = as_str(required(args, 0, "addnode")?)?;
    let command = as_str(required(args, 1, "addnode")?)?;
    if !matches!(command, "onetry" | "add" | "remove") {
        return Err(usage("addnode"));
    }
    let net = connman(d)?;
    if let Some(v2) = arg(args, 2) {
        if as_bool(v2)? {
            if !net.v2transport_enabled() {
                return Err(RpcError::new(
                    RpcError::INVALID_PARAMETER,
                    "Error: v2transport requested but not enabled (see -v2transport)",
                ));
            }
            tracing::info!(target: "net", "addnode {node}: v2transport requested; this node speaks v1 only, connecting with v1");
        }
    }
    match command {
        "onetry" => net.open_connection(node),
        "add" => net.add_node(node).map_err(|e| match e {
            AddedError::AlreadyAdded => RpcError::new(NODE_ALREADY_ADDED, "Error: Node already added"),
            AddedError::NotAdded => RpcError::new(NODE_NOT_ADDED, "Error: Node has not been added."),
        })?,
        _ => net.remove_node(node).map_err(|_| {
            RpcError::new(
                NODE_NOT_ADDED,
                "Error: Node could not be removed. It has not been added previously.",
            )
        })?,
    }
    Ok(Value::Null)
}

fn disconnectnode(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "disconnectnode")?;
    let net = connman(d)?;
    let address = arg(args, 0).map(as_str).transpose()?;
    let nodeid = arg(args, 1);
    let found = match (address, nodeid) {
        (Some(address), None) if !address.is_empty() => net.disconnect_address(address),
        (None | Some(""), Some(id)) => {
            let id = as_i64(id)?;
            u64::try_from(id).is_ok_and(|id| net.disconnect_id(id))
        }
        _ => {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                "Only one of address and nodeid should be provided.",
            ))
        }
    };
    if found {
        Ok(Value::Null)
    } else {
        Err(RpcError::new(NODE_NOT_CONNECTED, "Node not found in connected nodes"))
    }
}

fn getaddednodeinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getaddednodeinfo")?;
    let net = connman(d)?;
    let mut added = net.added_nodes();
    if let Some(node) = arg(args, 0) {
        let node = as_str(node)?;
        added.retain(|(name, _)| name == node);
        if added.is_empty() {
            return Err(RpcError::new(NODE_NOT_ADDED, "Error: Node has not been added."));
        }
    }
    let result: Vec<Value> = added
        .into_iter()
        .map(|(name, peer)| {
            let addresses: Vec<Value> = peer
                .iter()
                .map(|p| json!({"address": p.addr.to_string(), "connected": if p.inbound() { "inbound" } else { "outbound" }}))
                .collect();
            json!({"addednode": name, "connected": peer.is_some(), "addresses": addresses})
        })
        .collect();
    Ok(Value::Array(result))
}

fn getnettotals(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getnettotals")?;
    let (recv, sent) = connman(d)?.totals();
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    Ok(json!({
        "totalbytesrecv": recv,
        "totalbytessent": sent,
        "timemillis": millis,
        "uploadtarget": {
            "timeframe": 86400,
            "target": 0,
            "target_reached": false,
            "serve_historical_blocks": true,
            "bytes_left_in_cycle": 0,
            "time_left_in_cycle": 0,
        },
    }))
}

fn ping(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "ping")?;
    connman(d)?.ping_all();
    Ok(Value::Null)
}

fn setnetworkactive(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "setnetworkactive")?;
    let state = as_bool(required(args, 0, "setnetworkactive")?)?;
    let net = connman(d)?;
    net.set_network_active(state);
    Ok(json!(net.network_active()))
}
