//! Bitcoin Core's `rpc/net.cpp`: `getnetworkinfo`.
//!
//! The node has no peer-to-peer networking at all (regtest only, driven over RPC), and the
//! answer says so in Core's shape: no connections, no services offered (`localservices`
//! `0000000000000000`), the network inactive, every network unreachable, no local addresses.
//!
//! `version` is [`CLIENT_VERSION`], 319900: Bitcoin Core's master (v31.99), whose result shapes
//! this node follows (see `/work/shared/CORE-RPC-SHAPES.md`). Clients choose a result layout by
//! this number (e.g. `warnings` as an array from 280000, `bip125-replaceable` gone from
//! `gettransaction` in 310000); a number of our own would send them to layouts we do not give.

use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// The `version` reported: Bitcoin Core's whose shapes we follow (see the module doc).
pub(crate) const CLIENT_VERSION: u32 = 319_900;
/// Bitcoin Core's `PROTOCOL_VERSION`.
const PROTOCOL_VERSION: u32 = 70_016;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[builtin!(
    "Network",
    "getnetworkinfo",
    [],
    0,
    "Returns an object containing various state info regarding P2P networking.",
    getnetworkinfo
)];

/// `/mpx:<version>/`, as bitcoind's `/Satoshi:<version>/`, when the daemon set no other
/// ([`Dispatcher::set_subversion`], with the `-uacomment`s).
pub(crate) fn subversion() -> String {
    format!("/mpx:{}/", env!("CARGO_PKG_VERSION"))
}

fn getnetworkinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getnetworkinfo")?;
    let networks: Vec<Value> = ["ipv4", "ipv6", "onion", "i2p", "cjdns"]
        .iter()
        .map(|name| {
            json!({"name": name, "limited": true, "reachable": false, "proxy": "", "proxy_randomize_credentials": false})
        })
        .collect();
    let limits = *d.node().lock().mempool.limits();
    let fee = btc(bitcoin::Amount::from_sat(limits.min_relay_fee_per_kvb));
    let incremental = btc(bitcoin::Amount::from_sat(limits.incremental_relay_fee_per_kvb));
    Ok(json!({
        "version": CLIENT_VERSION,
        "subversion": d.subversion(),
        "protocolversion": PROTOCOL_VERSION,
        "localservices": "0000000000000000",
        "localservicesnames": [],
        "localrelay": true,
        "timeoffset": 0,
        "networkactive": false,
        "connections": 0,
        "connections_in": 0,
        "connections_out": 0,
        "networks": networks,
        "relayfee": fee,
        "incrementalfee": incremental,
        "localaddresses": [],
        "warnings": [],
    }))
}
