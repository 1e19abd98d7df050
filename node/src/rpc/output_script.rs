//! Bitcoin Core's `rpc/output_script.cpp` methods: `validateaddress`, the descriptor methods
//! (`getdescriptorinfo`, `deriveaddresses`), and the descriptor helpers other categories share: the `range` argument
//! (`scantxoutset`, `deriveaddresses`) and the one script a mining output descriptor names
//! (`generatetodescriptor`, `generateblock`).

use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Address, Network, ScriptBuf};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::address::{self, Destination};
use crate::descriptor::{address_of, checksum, strip_checksum, with_checksum, Descriptor};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Util",
        "validateaddress",
        ["address"],
        1,
        "Return information about the given bitcoin address.\n\nResult: isvalid, and for a valid address \
         address, scriptPubKey, isscript, iswitness, witness_version, witness_program; for an invalid one \
         error and error_locations (the positions of the characters in error, when they can be found).",
        validateaddress,
        usage = "validateaddress \"address\""
    ),
    builtin!("Util", "createmultisig", ["nrequired", "keys", "address_type"], 2, "Creates a multi-signature address requiring nrequired of the hex public keys; address_type legacy (default), p2sh-segwit or bech32. Returns address, redeemScript and descriptor.", createmultisig),
    builtin!("Util", "getdescriptorinfo", ["descriptor"], 1, "Analyses a descriptor: its public form with checksum (and one per <a;b> alternative as multipath_expansion), the checksum of the text given, whether it is ranged, solvable, and has private keys.", getdescriptorinfo),
    builtin!("Util", "deriveaddresses", ["descriptor", "range"], 1, "Derives the addresses of a descriptor (checksum required); range: end or [begin,end] for a ranged descriptor. A multipath descriptor gives one list per alternative.", deriveaddresses),
];

fn invalid_key(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, message)
}

fn invalid_parameter(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::INVALID_PARAMETER, message)
}

fn getdescriptorinfo(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getdescriptorinfo")?;
    let text = as_str(required(args, 0, "getdescriptorinfo")?)?;
    let descriptor = Descriptor::parse(text, false).map_err(invalid_key)?;
    let secp = Secp256k1::new();
    let expansions: Vec<String> =
        descriptor.multipath_expansion().iter().map(|d| with_checksum(&d.to_public_string(&secp))).collect();
    let body = strip_checksum(text, false).map_err(invalid_key)?;
    let mut out = serde_json::Map::new();
    out.insert("descriptor".into(), json!(expansions.first().cloned().unwrap_or_default()));
    if descriptor.is_multipath() {
        out.insert("multipath_expansion".into(), json!(expansions));
    }
    out.insert("checksum".into(), json!(checksum(body).unwrap_or_default()));
    out.insert("isrange".into(), json!(descriptor.is_range()));
    out.insert("issolvable".into(), json!(descriptor.is_solvable()));
    out.insert("hasprivatekeys".into(), json!(descriptor.has_private_keys()));
    Ok(Value::Object(out))
}

fn deriveaddresses(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "deriveaddresses")?;
    let text = as_str(required(args, 0, "deriveaddresses")?)?;
    let descriptor = Descriptor::parse(text, true).map_err(invalid_key)?;
    let (begin, end) = match arg(args, 1) {
        Some(range) => {
            if !descriptor.is_range() {
                return Err(invalid_parameter("Range should not be specified for an un-ranged descriptor"));
            }
            parse_descriptor_range(range)?
        }
        None if descriptor.is_range() => {
            return Err(invalid_parameter("Range must be specified for a ranged descriptor"));
        }
        None => (0, 0),
    };
    let secp = Secp256k1::new();
    let mut lists = Vec::new();
    for one in descriptor.multipath_expansion() {
        let mut addresses = Vec::new();
        for index in begin..=end {
            let expanded = one.expand(&secp, index).map_err(invalid_key)?;
            addresses.extend(expanded.scripts.iter().filter_map(address_of).map(|a| json!(a.to_string())));
        }
        if addresses.is_empty() {
            return Err(invalid_key("Descriptor does not have a corresponding address"));
        }
        lists.push(Value::Array(addresses));
    }
    if lists.len() == 1 {
        return Ok(lists.pop().unwrap_or(Value::Null));
    }
    Ok(Value::Array(lists))
}

/// Core's `ParseDescriptorRange`: `end` (from 0) or `[begin, end]`, inclusive, at most a million
/// indexes, below 2^31.
pub(crate) fn parse_descriptor_range(value: &Value) -> Result<(u32, u32), RpcError> {
    let (low, high) = match value {
        Value::Number(_) => (0, as_i64(value)?),
        Value::Array(items) if items.len() == 2 => {
            let low = as_i64(&items[0])?;
            let high = as_i64(&items[1])?;
            if low > high {
                return Err(invalid_parameter(
                    "Range specified as [begin,end] must not have begin after end",
                ));
            }
            (low, high)
        }
        _ => return Err(invalid_parameter("Range must be specified as end or as [begin,end]")),
    };
    if low < 0 {
        return Err(invalid_parameter("Range should be greater or equal than 0"));
    }
    if (high >> 31) != 0 {
        return Err(invalid_parameter("End of range is too high"));
    }
    if high >= low + 1_000_000 {
        return Err(invalid_parameter("Range is too large"));
    }
    let to_u32 = |v: i64| u32::try_from(v).map_err(|_| invalid_parameter("End of range is too high"));
    Ok((to_u32(low)?, to_u32(high)?))
}

/// The output script a mining RPC's descriptor names (Core's `getScriptFromDescriptor`). The
/// inner `Err` is the parse error when `text` is not a descriptor (`generateblock` then tries it
/// as an address); a ranged or multipath descriptor, or one whose key cannot be derived, is an
/// RPC error. A `combo()` mines to its P2WPKH script for a compressed key, else to its P2PKH.
pub(crate) fn script_from_descriptor(text: &str) -> Result<Result<ScriptBuf, String>, RpcError> {
    let descriptor = match Descriptor::parse(text, false) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    if descriptor.is_multipath() {
        return Err(invalid_key("Multipath descriptor not accepted"));
    }
    if descriptor.is_range() {
        return Err(invalid_parameter(
            "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?",
        ));
    }
    let secp = Secp256k1::new();
    let mut scripts = descriptor.expand(&secp, 0).map_err(invalid_key)?.scripts;
    let chosen = match scripts.len() {
        4 => 2,
        2 => 1,
        _ => 0,
    };
    if chosen >= scripts.len() {
        return Err(invalid_key("Descriptor has no script"));
    }
    Ok(Ok(scripts.swap_remove(chosen)))
}

fn validateaddress(_d: &Dispatcher, args: &[Value]) -> CallResult {
    let Some(given) = args.first().filter(|_| args.len() <= 1) else {
        // Core answers a wrong argument count with the method's help; an explicit null is a
        // type error instead.
        let help = super::find_builtin("validateaddress").map(|m| format!("{}\n\n{}", m.synopsis(), m.help));
        return Err(interfaces::RpcError::new(interfaces::RpcError::MISC_ERROR, help.unwrap_or_default()));
    };
    let text = as_str(given)?;
    match address::decode(text) {
        Ok(destination) => Ok(valid_json(&destination)),
        Err(e) => Ok(json!({"isvalid": false, "error_locations": e.locations, "error": e.message})),
    }
}

/// Core's answer for a valid address: its canonical form, script and what kind it is
/// (`DescribeAddress`: no `isscript` for a witness version nobody defined yet).
fn valid_json(destination: &Destination) -> Value {
    let script = destination.script_pubkey();
    let canonical =
        Address::from_script(&script, Network::Regtest).map(|a| a.to_string()).unwrap_or_default();
    let mut o = json!({"isvalid": true, "address": canonical, "scriptPubKey": hex(script.as_bytes())});
    match destination {
        Destination::PubkeyHash(_) => {
            o["isscript"] = json!(false);
            o["iswitness"] = json!(false);
        }
        Destination::ScriptHash(_) => {
            o["isscript"] = json!(true);
            o["iswitness"] = json!(false);
        }
        Destination::Witness { version, program } => {
            let defined = match version {
                0 => Some(program.len() == 32),
                // Taproot and pay-to-anchor are both scripts to Core.
                1 if program.len() == 32 || program.as_slice() == [0x4e, 0x73] => Some(true),
                _ => None,
            };
            if let Some(isscript) = defined {
                o["isscript"] = json!(isscript);
            }
            o["iswitness"] = json!(true);
            o["witness_version"] = json!(version);
            o["witness_program"] = json!(hex(program));
        }
    }
    o
}

/// Core's `MAX_PUBKEYS_PER_MULTISIG` for the addresses `createmultisig` makes.
const MAX_MULTISIG_KEYS: usize = 20;

fn createmultisig(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "createmultisig")?;
    let required_sigs = as_i64(required(args, 0, "createmultisig")?)?;
    let keys_value = required(args, 1, "createmultisig")?;
    let key_texts = keys_value.as_array().ok_or_else(|| type_error(keys_value, "array"))?;
    let address_type = arg(args, 2).map(as_str).transpose()?.unwrap_or("legacy");
    let mut keys = Vec::with_capacity(key_texts.len());
    for key in key_texts {
        let text = as_str(key)?;
        let parsed = unhex(text)
            .and_then(|bytes| bitcoin::PublicKey::from_slice(&bytes).ok())
            .ok_or_else(|| invalid_key(format!("Invalid public key: {text}")))?;
        keys.push(parsed);
    }
    if required_sigs < 1 {
        return Err(invalid_parameter("a multisignature address must require at least one key to redeem"));
    }
    let required_sigs = usize::try_from(required_sigs).unwrap_or(usize::MAX);
    if keys.len() < required_sigs {
        return Err(invalid_parameter(format!(
            "not enough keys supplied (got {} keys, but need at least {required_sigs} to redeem)",
            keys.len()
        )));
    }
    if keys.len() > MAX_MULTISIG_KEYS {
        return Err(invalid_parameter(format!(
            "Number of keys involved in the multisignature address creation > {MAX_MULTISIG_KEYS}\nReduce the number"
        )));
    }
    let mut kind = match address_type {
        "legacy" | "p2sh-segwit" | "bech32" => address_type,
        "bech32m" => return Err(invalid_key("createmultisig cannot create bech32m multisig addresses")),
        other => return Err(invalid_key(format!("Unknown address type '{other}'"))),
    };
    let mut warnings = Vec::new();
    // Segwit cannot use uncompressed keys: Core falls back to legacy and says so.
    if kind != "legacy" && keys.iter().any(|k| !k.compressed) {
        kind = "legacy";
        warnings.push(
            "Unable to make chosen address type, please ensure no uncompressed public keys are present.",
        );
    }
    let mut builder =
        bitcoin::script::Builder::new().push_int(i64::try_from(required_sigs).unwrap_or(i64::MAX));
    for key in &keys {
        builder = builder.push_key(key);
    }
    let redeem = builder
        .push_int(i64::try_from(keys.len()).unwrap_or(i64::MAX))
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script();
    if kind == "legacy" && redeem.len() > 520 {
        return Err(invalid_parameter(format!("redeemScript exceeds size limit: {} > 520", redeem.len())));
    }
    let multi = format!(
        "multi({required_sigs},{})",
        keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    );
    let (output, descriptor) = match kind {
        "legacy" => (redeem.to_p2sh(), format!("sh({multi})")),
        "p2sh-segwit" => (redeem.to_p2wsh().to_p2sh(), format!("sh(wsh({multi}))")),
        _ => (redeem.to_p2wsh(), format!("wsh({multi})")),
    };
    let address = Address::from_script(&output, Network::Regtest).map(|a| a.to_string()).unwrap_or_default();
    let mut out = serde_json::Map::new();
    out.insert("address".into(), json!(address));
    out.insert("redeemScript".into(), json!(hex(redeem.as_bytes())));
    out.insert("descriptor".into(), json!(with_checksum(&descriptor)));
    if !warnings.is_empty() {
        out.insert("warnings".into(), json!(warnings));
    }
    Ok(Value::Object(out))
}
