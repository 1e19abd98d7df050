//! `listdescriptors`: the wallet's own active descriptors (its two BDK keychains) and its imports,
//! in Core's shape and order, public or (`private: true`) with their private keys.

use bdk_wallet::KeychainKind;
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::{Call, CallResult, Method};
use crate::imports::parse::core_form;
use crate::state::State;

pub(crate) const LISTDESCRIPTORS: Method = Method {
    name: "listdescriptors",
    args: &["private"],
    required: 0,
    wallet: true,
    help: "Lists the wallet's descriptors, sorted: {\"wallet_name\", \"descriptors\": [{\"desc\",\n\
           \"timestamp\", \"active\", \"internal\" (active ones), \"range\", \"next\", \"next_index\"\n\
           (ranged ones)}]}. private: true shows them with their private keys.",
    run: listdescriptors,
};

fn listdescriptors(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let private = call.params.bool(0)?.unwrap_or(false);
    let descriptors = wallet.with_state(|s| Ok(list(s, private)))??;
    Ok(json!({"wallet_name": wallet.name, "descriptors": descriptors}))
}

fn list(state: &State, private: bool) -> Result<Vec<Value>, RpcError> {
    if private && !state.flags.private_keys_enabled {
        return Err(RpcError::new(
            RpcError::WALLET_ERROR,
            "Can't get private descriptor string for watch-only wallets",
        ));
    }
    let Some(k) = &state.keyed else { return Ok(Vec::new()) };
    let mut out: Vec<(String, Value)> = Vec::new();
    if k.own_keychains {
        for (n, keychain) in [KeychainKind::External, KeychainKind::Internal].into_iter().enumerate() {
            let desc = match (&k.private_descriptors, private) {
                (Some(d), true) => core_form(if n == 0 { &d.external } else { &d.internal }),
                (None, true) => {
                    return Err(RpcError::new(RpcError::WALLET_ERROR, "Can't get descriptor string."));
                }
                (_, false) => core_form(&k.wallet.public_descriptor(keychain).to_string()),
            };
            let next = k.wallet.next_derivation_index(keychain);
            let end =
                k.wallet.derivation_index(keychain).map_or(0, |i| i + 1) + k.wallet.spk_index().lookahead();
            let mut o = Map::new();
            o.insert("desc".into(), json!(desc));
            o.insert("timestamp".into(), json!(state.flags.birthtime));
            o.insert("active".into(), json!(true));
            o.insert("internal".into(), json!(keychain == KeychainKind::Internal));
            o.insert("range".into(), json!([0, end.saturating_sub(1)]));
            o.insert("next".into(), json!(next));
            o.insert("next_index".into(), json!(next));
            out.push((desc, Value::Object(o)));
        }
    }
    for entry in k.imports.entries() {
        let desc = if private { core_form(&entry.parsed.text) } else { entry.parsed.public.clone() };
        let mut o = Map::new();
        o.insert("desc".into(), json!(desc));
        o.insert("timestamp".into(), json!(entry.record.timestamp));
        o.insert("active".into(), json!(false));
        if entry.parsed.ranged {
            o.insert("range".into(), json!([entry.record.range.0, entry.record.range.1]));
            o.insert("next".into(), json!(entry.record.next_index));
            o.insert("next_index".into(), json!(entry.record.next_index));
        }
        out.push((desc, Value::Object(o)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, v)| v).collect())
}
