//! `bitcoin-cli`'s own commands, which are several calls and a shaped answer rather than one
//! call: `-getinfo` (network, chain, wallet and balance in one human-readable report) and
//! `-generate [nblocks] [maxtries]` (a new address of the wallet, then `generatetoaddress`).
//! The texts and shapes are bitcoin-cli's, so scripts reading them work unchanged.

use serde_json::{json, Map, Value};

use crate::params;

/// How a command sends one JSON-RPC request (an object or a batch array) to the node, for a
/// wallet or not: the reply, or the message to print after `error: `.
pub(crate) type Send<'a> = dyn Fn(&Value, Option<&str>) -> Result<Value, String> + 'a;

/// A command's outcome: the reply object to print as bitcoin-cli prints replies, or an error
/// line (`error: ...`, exit 1).
pub(crate) type Outcome = Result<Value, String>;

fn request(method: &str, params: Value, id: u64) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id})
}

fn reply(result: Value) -> Value {
    json!({"result": result, "error": null, "id": 1})
}

/// The result of the batch reply with `id`, or its error object.
fn by_id(batch: &Value, id: u64) -> Result<Value, Value> {
    let item = batch.as_array().and_then(|items| items.iter().find(|i| i["id"] == json!(id)));
    match item {
        Some(item) if !item["error"].is_null() => Err(item["error"].clone()),
        Some(item) => Ok(item["result"].clone()),
        None => Err(json!({"code": -1, "message": "missing reply in batch"})),
    }
}

/// `-getinfo`: bitcoin-cli's report (`wallet` is `-rpcwallet`'s).
pub(crate) fn getinfo(args: &[String], wallet: Option<&str>, send: &Send<'_>) -> Outcome {
    if !args.is_empty() {
        return Err("-getinfo takes no arguments".into());
    }
    let batch = Value::Array(vec![
        request("getnetworkinfo", json!([]), 0),
        request("getblockchaininfo", json!([]), 1),
        request("getwalletinfo", json!([]), 2),
        request("getbalances", json!([]), 3),
    ]);
    let replies = send(&batch, wallet)?;
    let network = match by_id(&replies, 0) {
        Ok(v) => v,
        Err(error) => return Ok(json!({"result": null, "error": error, "id": 1})),
    };
    let chain = match by_id(&replies, 1) {
        Ok(v) => v,
        Err(error) => return Ok(json!({"result": null, "error": error, "id": 1})),
    };
    let mut text = format!(
        "Chain: {}\nBlocks: {}\nHeaders: {}\nVerification progress: {:.4}%\nDifficulty: {}\n\n",
        as_text(&chain["chain"]),
        chain["blocks"],
        chain["headers"],
        chain["verificationprogress"].as_f64().unwrap_or(0.0) * 100.0,
        chain["difficulty"],
    );
    text += &format!(
        "Network: in {}, out {}, total {}\nVersion: {}\nTime offset (s): {}\nProxies: {}\nMin tx relay fee rate (BTC/kvB): {}\n\n",
        network["connections_in"],
        network["connections_out"],
        network["connections"],
        network["version"],
        network["timeoffset"],
        proxies(&network["networks"]),
        network["relayfee"],
    );
    if let Ok(info) = by_id(&replies, 2) {
        let name = info["walletname"].as_str().unwrap_or_default();
        text += &format!("Wallet: {}\n", if name.is_empty() { "\"\"" } else { name });
        text += &format!("Keypool size: {}\n", info["keypoolsize"]);
        if !info["unlocked_until"].is_null() {
            text += &format!("Unlocked until: {}\n", info["unlocked_until"]);
        }
    }
    if let Ok(balances) = by_id(&replies, 3) {
        text += &format!("Balance: {}\n\n", balances["mine"]["trusted"]);
    } else if wallet.is_none() {
        // Several wallets and none chosen: each one's balance, as bitcoin-cli lists them.
        if let Some(section) = wallet_balances(send)? {
            text += &section;
        }
    }
    let warnings = match &network["warnings"] {
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join("\n"),
        other => as_text(other),
    };
    text += &format!("Warnings: {}", if warnings.is_empty() { "(none)" } else { &warnings });
    Ok(reply(Value::String(text)))
}

/// The `Balances` section: every loaded wallet's trusted balance, right-aligned.
fn wallet_balances(send: &Send<'_>) -> Result<Option<String>, String> {
    let listed = send(&request("listwallets", json!([]), 1), None)?;
    let Some(wallets) = listed["result"].as_array().filter(|w| w.len() > 1) else { return Ok(None) };
    let mut rows = Vec::new();
    for name in wallets.iter().filter_map(Value::as_str) {
        let balances = send(&request("getbalances", json!([]), 1), Some(name))?;
        rows.push((balances["result"]["mine"]["trusted"].to_string(), name.to_string()));
    }
    let width = rows.iter().map(|(b, _)| b.len()).max().unwrap_or(0).max(10);
    let mut section = String::from("Balances\n");
    for (balance, name) in rows {
        section += &format!("{balance:>width$} {}\n", if name.is_empty() { "\"\"" } else { &name });
    }
    section.push('\n');
    Ok(Some(section))
}

/// bitcoin-cli's proxies line: each proxy with the networks using it, or `n/a`.
fn proxies(networks: &Value) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut by_proxy: Map<String, Value> = Map::new();
    for network in networks.as_array().into_iter().flatten() {
        let proxy = network["proxy"].as_str().unwrap_or_default();
        if proxy.is_empty() {
            continue;
        }
        if !by_proxy.contains_key(proxy) {
            order.push(proxy.to_string());
            by_proxy.insert(proxy.to_string(), json!([]));
        }
        if let Some(Value::Array(names)) = by_proxy.get_mut(proxy) {
            names.push(network["name"].clone());
        }
    }
    if order.is_empty() {
        return "n/a".into();
    }
    order
        .iter()
        .map(|proxy| {
            let names: Vec<String> = by_proxy[proxy].as_array().into_iter().flatten().map(as_text).collect();
            format!("{proxy} ({})", names.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn as_text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

/// `-generate [nblocks] [maxtries]`: bitcoin-cli's checks and texts, then a new address of the
/// wallet and `generatetoaddress` to it; answers `{"address", "blocks"}`.
pub(crate) fn generate(args: &[String], wallet: Option<&str>, send: &Send<'_>) -> Outcome {
    if args.len() > 2 {
        return Err("too many arguments (maximum 2 for nblocks and maxtries)".into());
    }
    let mut call_args = args.to_vec();
    if let Some(first) = args.first() {
        let nblocks = params::positional("generatetoaddress", std::slice::from_ref(first))
            .map_err(|e| e.to_string())?;
        if nblocks[0].as_i64().is_none_or(|n| n <= 0) {
            return Err(
                "the first argument (number of blocks to generate, default: 1) must be an integer value greater than zero"
                    .into(),
            );
        }
    } else {
        call_args.push("1".into());
    }
    let address_reply = send(&request("getnewaddress", json!([]), 1), wallet)?;
    if !address_reply["error"].is_null() {
        return Ok(address_reply);
    }
    let address = as_text(&address_reply["result"]);
    call_args.insert(1, address.clone());
    let converted = params::positional("generatetoaddress", &call_args).map_err(|e| e.to_string())?;
    let blocks = send(&request("generatetoaddress", converted, 1), wallet)?;
    if !blocks["error"].is_null() {
        return Ok(blocks);
    }
    Ok(reply(json!({"address": address, "blocks": blocks["result"]})))
}
