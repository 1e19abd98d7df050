//! `importdescriptors`: Core's request checks, in Core's order and with its error texts, then the
//! import itself ([`crate::imports`]) and one rescan for all requests.
//!
//! A call, step by step:
//! 1. Every request's `timestamp` is read first: a missing or malformed one fails the whole call
//!    (`-3`), as in Core. `0` counts as `1` (Core's minimum).
//! 2. Each request is checked and imported on its own; a bad one is answered
//!    `{"success": false, "error": {code, message}}` and the others go on.
//! 3. If any successful request had a time rather than `"now"`, the wallet's chain is read again
//!    from the lowest such time less two hours, then the node's mempool is replayed to the wallet
//!    (a payment to an import waiting there is the wallet's too): [`crate::rescan`].
//!
//! What is imported: see [`crate::imports::parse`] for the descriptor types; into a wallet with
//! private keys only descriptors with them, into one without only descriptors without them
//! (`raw()` / `addr()` included), as in Core. A wallet without descriptors of its own gets its key
//! index at its first import and then reads the whole chain once (so it needs no rescan). Refused
//! with a `-4` error that says so: `active: true` (a BDK wallet's two active descriptors cannot be
//! replaced; the wallet's own descriptor, given again, succeeds).

use bdk_wallet::miniscript::descriptor::{Descriptor, DescriptorPublicKey};
use bdk_wallet::KeychainKind;
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::amount::type_name;
use super::params::type_error;
use super::{Call, CallResult, Method};
use crate::imports::{parse, Request, DEFAULT_RANGE_END};
use crate::rescan::Scan;
use crate::state::{now, State};

pub(crate) const IMPORTDESCRIPTORS: Method = Method {
    name: "importdescriptors",
    args: &["requests"],
    required: 1,
    wallet: true,
    help: "Imports descriptors: [{\"desc\", \"timestamp\" (\"now\" or a time), \"active\", \"range\",\n\
           \"next_index\", \"internal\", \"label\"}, ...]; one {\"success\", \"warnings\", \"error\"} per\n\
           request. combo, pk, pkh, wpkh, sh(wpkh) and key-path tr descriptors with private keys;\n\
           a timestamp rescans the chain from two hours before it. active: true is refused (the\n\
           wallet's two active descriptors cannot be replaced), as are imports into a wallet\n\
           without descriptors.",
    run: importdescriptors,
};

/// Core's lowest import time (0 would mean "no time").
const MINIMUM_TIMESTAMP: i64 = 1;

fn importdescriptors(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let requests = call
        .params
        .get(0)
        .ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, IMPORTDESCRIPTORS.synopsis()))?;
    let requests = requests.as_array().ok_or_else(|| type_error(requests, "array"))?;
    let now = i64::try_from(now()).unwrap_or(i64::MAX);
    let had_keys = wallet.with_state(|s| Ok(s.keyed.is_some()))?;
    let mut results = Vec::with_capacity(requests.len());
    let mut rescan_from: Option<i64> = None;
    for request in requests {
        let timestamp = timestamp_of(request)?;
        let result = wallet.with_state(|s| Ok(import_one(s, request, timestamp.unwrap_or(now))));
        let result = result.map_err(|e| RpcError::new(RpcError::WALLET_ERROR, e.message()))?;
        results.push(match result {
            Ok(warnings) => {
                if let Some(t) = timestamp {
                    rescan_from = Some(rescan_from.map_or(t, |r| r.min(t)));
                }
                let mut o = Map::new();
                o.insert("success".into(), json!(true));
                if !warnings.is_empty() {
                    o.insert("warnings".into(), json!(warnings));
                }
                Value::Object(o)
            }
            Err(e) => json!({"success": false, "error": {"code": e.code, "message": e.message}}),
        });
    }
    let scan = if !had_keys && wallet.with_state(|s| Ok(s.keyed.is_some()))? {
        Scan::NewIndex
    } else {
        rescan_from.map_or(Scan::Nothing, Scan::FromTime)
    };
    crate::rescan::scan_for_imports(wallet, scan)
        .map_err(|e| RpcError::new(RpcError::WALLET_ERROR, e.message()))?;
    Ok(Value::Array(results))
}

/// The request's time, `None` for `"now"` (Core's `GetImportTimestamp`; its errors fail the call).
fn timestamp_of(request: &Value) -> Result<Option<i64>, RpcError> {
    match request.get("timestamp") {
        Some(Value::String(s)) if s == "now" => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) => Ok(Some(t.max(MINIMUM_TIMESTAMP))),
            None => Err(RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range")),
        },
        Some(other) => Err(RpcError::new(
            RpcError::TYPE_ERROR,
            format!("Expected number or \"now\" timestamp value for key. got type {}", type_name(other)),
        )),
        None => Err(RpcError::new(RpcError::TYPE_ERROR, "Missing required timestamp field for key")),
    }
}

/// Checks one request as bitcoind does and imports it; `Ok(warnings)` on success.
fn import_one(state: &mut State, request: &Value, timestamp: i64) -> Result<Vec<String>, RpcError> {
    let Some(obj) = request.as_object() else { return Err(type_error(request, "object")) };
    let desc = match obj.get("desc") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(type_error(other, "string")),
        None => return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Descriptor not found.")),
    };
    let flag = |name: &str| -> Result<bool, RpcError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(type_error(other, "bool")),
        }
    };
    let active = flag("active")?;
    let internal = flag("internal")?;
    let label = match obj.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(type_error(other, "string")),
    };
    if label.as_deref() == Some("*") {
        return Err(RpcError::new(RpcError::WALLET_INVALID_LABEL_NAME, "Invalid label name"));
    }
    let private_keys_enabled = state.flags.private_keys_enabled;
    let body = parse::strip_checksum(desc)?;
    if private_keys_enabled && (body.starts_with("raw(") || body.starts_with("addr(")) {
        return Err(no_private_keys());
    }
    let parsed = parse::parse_body(body, state.network)?;
    let mut warnings = Vec::new();
    let range = obj.get("range").filter(|r| !r.is_null());
    let (range, next_index) = if !parsed.ranged {
        if range.is_some() {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                "Range should not be specified for an un-ranged descriptor",
            ));
        }
        ((0, 0), 0)
    } else {
        let (start, end) = match range {
            Some(r) => parse_range(r)?,
            None => {
                warnings.push("Range not given, using default keypool range".to_string());
                (0, DEFAULT_RANGE_END - 1)
            }
        };
        let next = match obj.get("next_index").filter(|n| !n.is_null()) {
            None => start,
            Some(v) => {
                let n = v.as_i64().ok_or_else(|| type_error(v, "number"))?;
                u32::try_from(n)
                    .ok()
                    .filter(|n| (start..=end).contains(n))
                    .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMETER, "next_index is out of range"))?
            }
        };
        ((start, end), next)
    };
    if active && !parsed.ranged {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Active descriptors must be ranged"));
    }
    if parsed.ranged && label.is_some() {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Ranged descriptors should not have a label"));
    }
    if internal && label.is_some() {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Internal addresses should not have a label"));
    }
    if active && parsed.is_combo {
        return Err(RpcError::new(RpcError::WALLET_ERROR, "Combo descriptors cannot be set to active"));
    }
    if !parsed.keys.is_empty() && !private_keys_enabled {
        return Err(RpcError::new(
            RpcError::WALLET_ERROR,
            "Cannot import private keys to a wallet with private keys disabled",
        ));
    }
    if parsed.keys.is_empty() && private_keys_enabled {
        return Err(no_private_keys());
    }
    if parsed.keys.is_empty() && !parse::expandable(&parsed) {
        return Err(RpcError::new(
            RpcError::WALLET_ERROR,
            "Cannot expand descriptor. Probably because of hardened derivations without private keys provided",
        ));
    }
    // A wallet without descriptors of its own gets a key index for its imports now.
    state.ensure_keyed().map_err(|e| RpcError::new(RpcError::WALLET_ERROR, e.message()))?;
    let Some(keyed) = state.keyed.as_mut() else {
        return Err(RpcError::new(RpcError::WALLET_ERROR, "the wallet has no key index"));
    };
    if !parsed.is_combo && parsed.script.is_none() && keyed.own_keychains {
        let own: Vec<&Descriptor<DescriptorPublicKey>> = [KeychainKind::External, KeychainKind::Internal]
            .into_iter()
            .map(|k| keyed.wallet.public_descriptor(k))
            .collect();
        if own.contains(&&parsed.parts[0]) {
            // One of the wallet's own descriptors: it has it already.
            return Ok(warnings);
        }
    }
    if active {
        return Err(not_supported(
            desc,
            "active: true would replace one of the wallet's two active descriptors, which this wallet \
             cannot do (import it with active: false to watch and spend its coins)",
        ));
    }
    let ranged = parsed.ranged;
    let id = keyed.imports.add(Request { parsed, range, next_index, internal, timestamp })?;
    // Core names the addresses of a single-script import in the address book (label or "").
    let addresses: Vec<String> = if internal || ranged {
        Vec::new()
    } else {
        keyed
            .imports
            .scripts(id)
            .iter()
            .filter_map(|spk| bitcoin::Address::from_script(spk, state.network).ok())
            .map(|a| a.to_string())
            .collect()
    };
    for address in addresses {
        state.set_label(address, label.clone().unwrap_or_default());
    }
    state.persist().map_err(|e| RpcError::new(RpcError::WALLET_ERROR, e.message()))?;
    Ok(warnings)
}

/// Core's `ParseDescriptorRange`: `end` or `[begin, end]`, inclusive.
fn parse_range(value: &Value) -> Result<(u32, u32), RpcError> {
    let invalid = |m: &str| RpcError::new(RpcError::INVALID_PARAMETER, m);
    let int = |v: &Value| -> Result<i64, RpcError> { v.as_i64().ok_or_else(|| type_error(v, "number")) };
    let (low, high) = match value {
        Value::Number(_) => (0, int(value)?),
        Value::Array(items) if items.len() == 2 => (int(&items[0])?, int(&items[1])?),
        _ => {
            return Err(invalid("Range must be specified as end or as [begin,end]"));
        }
    };
    if low < 0 {
        return Err(invalid("Range should be greater or equal than 0"));
    }
    if (high >> 31) != 0 {
        return Err(invalid("End of range is too high"));
    }
    if high >= low + 1_000_000 {
        return Err(invalid("Range is too large"));
    }
    if low > high {
        return Err(invalid("Range specified as [begin,end] must not have begin after end"));
    }
    let low = u32::try_from(low).map_err(|_| invalid("Range should be greater or equal than 0"))?;
    let high = u32::try_from(high).map_err(|_| invalid("End of range is too high"))?;
    Ok((low, high))
}

fn no_private_keys() -> RpcError {
    RpcError::new(
        RpcError::WALLET_ERROR,
        "Cannot import descriptor without private keys to a wallet with private keys enabled",
    )
}

fn not_supported(desc: &str, why: &str) -> RpcError {
    RpcError::new(RpcError::WALLET_ERROR, format!("Descriptor {desc} was not imported: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_core() {
        assert_eq!(parse_range(&json!(5)).unwrap(), (0, 5));
        assert_eq!(parse_range(&json!([2, 7])).unwrap(), (2, 7));
        let message = |v: Value| parse_range(&v).unwrap_err().message;
        assert_eq!(message(json!(-1)), "End of range is too high");
        assert_eq!(message(json!([-1, 10])), "Range should be greater or equal than 0");
        assert_eq!(message(json!([(2i64 << 32) - 1_000_000, 2i64 << 32])), "End of range is too high");
        assert_eq!(message(json!([2, 1])), "Range specified as [begin,end] must not have begin after end");
        assert_eq!(message(json!([0, 1_000_001])), "Range is too large");
    }

    #[test]
    fn timestamps_as_core() {
        assert_eq!(timestamp_of(&json!({"timestamp": "now"})).unwrap(), None);
        assert_eq!(timestamp_of(&json!({"timestamp": 0})).unwrap(), Some(1));
        assert_eq!(timestamp_of(&json!({"timestamp": 77})).unwrap(), Some(77));
        let e = timestamp_of(&json!({})).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (-3, "Missing required timestamp field for key"));
        let e = timestamp_of(&json!({"timestamp": "later"})).unwrap_err();
        assert_eq!(e.message, "Expected number or \"now\" timestamp value for key. got type string");
    }

    #[test]
    fn imports_module_is_wired() {
        // The parse entry point the RPC uses accepts the framework's request shape.
        let desc = parse::with_checksum("combo(cTe1f5rdT8A8DFgVWTjyPwACsDPJM9ff4QngFxUixCSvvbg1x6sh)");
        assert!(parse::parse(&desc).is_ok());
    }
}
