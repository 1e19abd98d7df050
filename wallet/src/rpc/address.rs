//! `getaddressinfo`: what the wallet knows of an address (Core's field names), for the wallet's
//! own keychains and its imports alike.

use bdk_wallet::KeychainKind;
use bitcoin::ScriptBuf;
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::{Call, CallResult, Method};
use crate::state::{Owner, State};

pub(crate) const GETADDRESSINFO: Method = Method {
    name: "getaddressinfo",
    args: &["address"],
    required: 1,
    wallet: true,
    help: "Returns what the wallet knows of address: address, scriptPubKey, ismine, solvable, desc,\n\
           parent_desc, iswatchonly, isscript, iswitness, witness_version, witness_program, pubkey,\n\
           iscompressed, ischange, timestamp, labels.",
    run: getaddressinfo,
};

fn getaddressinfo(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let text = call.params.str(0)?.unwrap_or("");
    let address = crate::send::parse_address(text, wallet.network)
        .map_err(|_| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Invalid address"))?;
    let spk = address.script_pubkey();
    let info = wallet.with_state(|s| Ok(address_info(s, &address.to_string(), &spk)))?;
    Ok(info)
}

fn address_info(state: &State, address: &str, spk: &ScriptBuf) -> Value {
    let keyed = state.keyed.as_ref();
    let owner = keyed.and_then(|k| k.owner_of(spk));
    let mut o = Map::new();
    o.insert("address".into(), json!(address));
    o.insert("scriptPubKey".into(), json!(spk.to_hex_string()));
    o.insert("ismine".into(), json!(owner.is_some()));
    let solvable = owner.is_some_and(|w| keyed.is_some_and(|k| k.is_solvable(w)));
    o.insert("solvable".into(), json!(solvable));
    if let Some((desc, parent)) = owner.and_then(|w| keyed.and_then(|k| k.descriptors_of(w))) {
        o.insert("desc".into(), json!(desc));
        o.insert("parent_desc".into(), json!(parent));
    }
    // Core's descriptor wallets answer false; a wallet without private keys is all watch-only
    // and says so by its flag instead.
    o.insert("iswatchonly".into(), json!(false));
    o.insert("isscript".into(), json!(spk.is_p2sh() || spk.is_p2wsh()));
    let witness = spk.witness_version();
    o.insert("iswitness".into(), json!(witness.is_some()));
    if let Some(version) = witness {
        o.insert("witness_version".into(), json!(version.to_num()));
        let program = spk.as_bytes().get(2..).unwrap_or_default();
        o.insert("witness_program".into(), json!(hex(program)));
    }
    if let Some(pubkey) = owner.and_then(|w| keyed.and_then(|k| k.public_key_of(w))) {
        if !spk.is_p2tr() {
            o.insert("pubkey".into(), json!(pubkey.to_string()));
            o.insert("iscompressed".into(), json!(pubkey.compressed));
        }
    }
    if let (Some(owner), Some(k)) = (owner, keyed) {
        o.insert("ischange".into(), json!(k.keychain_of(owner) == KeychainKind::Internal));
        let timestamp = match owner {
            Owner::Import((id, _), _) => k.imports.timestamp(id).unwrap_or(state.flags.birthtime),
            Owner::Wallet(..) => state.flags.birthtime,
        };
        o.insert("timestamp".into(), json!(timestamp));
    } else {
        o.insert("ischange".into(), json!(false));
    }
    let labels: Vec<&String> = state.labels.get(address).into_iter().collect();
    o.insert("labels".into(), json!(labels));
    Value::Object(o)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
