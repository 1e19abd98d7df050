//! `importdescriptors`: Core's request checks and per-request result shape, over what a BDK
//! wallet can hold.
//!
//! What works: every request is checked as bitcoind checks it (`desc` with its checksum,
//! `timestamp` `"now"` or a number, `active`/`range`/`internal`/`label` rules, private keys into a
//! wallet without them), each answered `{"success": ...}` with `error: {code, message}` on
//! failure and the call itself never failing for one bad request. A descriptor the wallet already
//! has (one of its two active ones, given in private or public form) succeeds: it is tracked.
//!
//! What is missing, precisely: a BDK `Wallet` is built with exactly two descriptors (external
//! and internal keychain) and cannot take more, nor have them replaced, once created. So:
//! * any other descriptor (a `wpkh`/`pkh`/`tr`/`sh(wpkh)` single key or ranged xpub/xprv, active
//!   or not) is answered `success: false` with code -4 and says it was not imported;
//! * `combo()` does not exist in BDK's descriptor language (miniscript): one descriptor there
//!   stands for one script type, combo for up to four. It is answered `success: false`, -4.
//!
//! Importing for real needs the wallet crate (outside its RPC layer) to keep imported descriptors
//! of its own: a `KeychainTxOutIndex` keychain per imported descriptor (combo as its up to four
//! single-script descriptors), stored beside BDK's changeset, scanned from `timestamp`, and their
//! private keys added to the signers; or, for `active` ones into a blank wallet, building the BDK
//! wallet from them.

use bdk_wallet::bitcoin::secp256k1::Secp256k1;
use bdk_wallet::miniscript::descriptor::{Descriptor, DescriptorPublicKey};
use bdk_wallet::KeychainKind;
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::params::type_error;
use super::{Call, CallResult, Method};

pub(crate) const IMPORTDESCRIPTORS: Method = Method {
    name: "importdescriptors",
    args: &["requests"],
    required: 1,
    wallet: true,
    help: "Imports descriptors: [{\"desc\", \"timestamp\" (\"now\" or a time), \"active\", \"range\",\n\
           \"next_index\", \"internal\", \"label\"}, ...]; one {\"success\", \"error\"} per request.\n\
           A BDK wallet keeps only the two descriptors it was created with: those succeed, any\n\
           other (combo() included) is reported as not imported.",
    run: importdescriptors,
};

fn importdescriptors(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let requests = call
        .params
        .get(0)
        .ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, IMPORTDESCRIPTORS.synopsis()))?;
    let requests = requests.as_array().ok_or_else(|| type_error(requests, "array"))?;
    let (private_keys_enabled, existing) = wallet.with_state(|s| {
        let existing: Vec<Descriptor<DescriptorPublicKey>> = s
            .keyed
            .as_ref()
            .map(|k| {
                [KeychainKind::External, KeychainKind::Internal]
                    .iter()
                    .map(|kind| k.wallet.public_descriptor(*kind).clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok((s.flags.private_keys_enabled, existing))
    })?;
    let results: Vec<Value> = requests
        .iter()
        .map(|request| match import_one(request, private_keys_enabled, &existing) {
            Ok(warnings) => {
                let mut o = Map::new();
                o.insert("success".into(), json!(true));
                if !warnings.is_empty() {
                    o.insert("warnings".into(), json!(warnings));
                }
                Value::Object(o)
            }
            Err(e) => json!({"success": false, "error": {"code": e.code, "message": e.message}}),
        })
        .collect();
    Ok(Value::Array(results))
}

/// Checks one request as bitcoind does; `Ok(warnings)` if the wallet has (now) the descriptor.
fn import_one(
    request: &Value,
    private_keys_enabled: bool,
    existing: &[Descriptor<DescriptorPublicKey>],
) -> Result<Vec<String>, RpcError> {
    let Some(obj) = request.as_object() else { return Err(type_error(request, "object")) };
    let desc = match obj.get("desc") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(type_error(other, "string")),
        None => return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Descriptor not found.")),
    };
    match obj.get("timestamp") {
        Some(Value::String(s)) if s == "now" => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => {}
        Some(other) => {
            return Err(RpcError::new(
                RpcError::TYPE_ERROR,
                format!("Expected number or \"now\" timestamp value for key. got type {}", json_type(other)),
            ))
        }
        None => return Err(RpcError::new(RpcError::TYPE_ERROR, "Missing required timestamp field for key")),
    }
    let active = obj.get("active").and_then(Value::as_bool).unwrap_or(false);
    let internal = obj.get("internal").and_then(Value::as_bool).unwrap_or(false);
    let has_range = obj.get("range").is_some_and(|r| !r.is_null());
    let has_label = obj.get("label").is_some_and(|l| !l.is_null());
    let Some((body, _)) = desc.split_once('#') else {
        return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Missing checksum"));
    };
    if body.starts_with("combo(") {
        return Err(not_imported(
            desc,
            "combo() has no equivalent in a BDK wallet (one descriptor per script type)",
        ));
    }
    let secp = Secp256k1::new();
    let (parsed, keymap) = Descriptor::<DescriptorPublicKey>::parse_descriptor(&secp, desc)
        .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e.to_string()))?;
    let ranged = parsed.has_wildcard();
    if !ranged && has_range {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            "Range should not be specified for an un-ranged descriptor",
        ));
    }
    if ranged && has_label {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Ranged descriptors should not have a label"));
    }
    if internal && has_label {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Internal addresses should not have a label"));
    }
    if active && !ranged {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Active descriptors must be ranged"));
    }
    if !keymap.is_empty() && !private_keys_enabled {
        return Err(RpcError::new(
            RpcError::WALLET_ERROR,
            "Cannot import private keys to a wallet with private keys disabled",
        ));
    }
    if existing.contains(&parsed) {
        return Ok(Vec::new());
    }
    Err(not_imported(desc, "a BDK wallet keeps only the two descriptors it was created with"))
}

fn not_imported(desc: &str, why: &str) -> RpcError {
    RpcError::new(
        RpcError::WALLET_ERROR,
        format!("Descriptor {desc} was not imported: {why} (not supported yet)"),
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
