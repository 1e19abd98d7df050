//! `listtransactions`, `gettransaction`, `listunspent`: Core's entry shapes (`ListTransactions`,
//! `WalletTxToJSON`). Not shown: `blockindex` (BDK does not keep a transaction's position in its
//! block), `walletconflicts` is always empty, no `decoded` for `gettransaction verbose=true`
//! (the `hex` is there).

use std::collections::HashSet;
use std::str::FromStr;

use bdk_wallet::KeychainKind;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::Txid;
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::amount::{amount_from_value, amount_json};
use super::info::last_processed;
use super::params::{invalid, type_error};
use super::{Call, CallResult, Method};
use crate::state::{sat_i64, State, TxView, COINBASE_MATURE_DEPTH};

fn amount_of(sat: u64) -> Value {
    amount_json(sat_i64(bitcoin::Amount::from_sat(sat)))
}

fn neg_amount_of(sat: u64) -> Value {
    amount_json(-sat_i64(bitcoin::Amount::from_sat(sat)))
}

/// The fee a transaction from the wallet paid (Core: outputs minus debit, shown negative).
fn fee_of(v: &TxView) -> u64 {
    v.fee.unwrap_or_else(|| {
        let out: u64 = v.tx.output.iter().map(|o| o.value.to_sat()).sum();
        v.sent.saturating_sub(out)
    })
}

/// Core's `WalletTxToJSON`: the transaction-wide fields of an entry.
fn tx_fields(state: &State, v: &TxView, entry: &mut Map<String, Value>) {
    entry.insert("confirmations".into(), json!(v.depth));
    if v.is_coinbase {
        entry.insert("generated".into(), json!(true));
    }
    match v.confirmed_in {
        Some((block, time)) => {
            entry.insert("blockhash".into(), json!(block.hash.to_string()));
            entry.insert("blockheight".into(), json!(block.height));
            entry.insert("blocktime".into(), json!(time));
        }
        None => {
            entry.insert("trusted".into(), json!(v.trusted));
        }
    }
    entry.insert("txid".into(), json!(v.txid.to_string()));
    entry.insert("wtxid".into(), json!(v.tx.compute_wtxid().to_string()));
    entry.insert("walletconflicts".into(), json!([]));
    let rbf = if v.depth == 0 && v.signals_rbf { "yes" } else { "no" };
    entry.insert("bip125-replaceable".into(), json!(rbf));
    entry.insert("time".into(), json!(v.time));
    entry.insert("timereceived".into(), json!(v.time_received));
    if let Some(note) = state.notes.get(&v.txid) {
        if !note.comment.is_empty() {
            entry.insert("comment".into(), json!(note.comment));
        }
        if !note.comment_to.is_empty() {
            entry.insert("to".into(), json!(note.comment_to));
        }
    }
}

/// Core's `ListTransactions` for one transaction: a `send` entry per output paid to others (or
/// to our receiving addresses), then a `receive`/`generate`/`immature` entry per output to the
/// wallet's receiving keychain. `long` adds [`tx_fields`]; `label` filters received entries.
fn entries(state: &State, v: &TxView, long: bool, label: Option<&str>) -> Vec<Value> {
    let outputs = state.outputs(&v.tx);
    let mut list = Vec::new();
    if v.from_me && label.is_none() {
        let fee = fee_of(v);
        for out in outputs.iter().filter(|o| o.keychain != Some(KeychainKind::Internal)) {
            let mut e = Map::new();
            if let Some(a) = &out.address {
                e.insert("address".into(), json!(a));
            }
            e.insert("category".into(), json!("send"));
            e.insert("amount".into(), neg_amount_of(out.value));
            if let Some(l) = out.address.as_ref().and_then(|a| state.labels.get(a)) {
                e.insert("label".into(), json!(l));
            }
            e.insert("vout".into(), json!(out.vout));
            e.insert("fee".into(), neg_amount_of(fee));
            if long {
                tx_fields(state, v, &mut e);
            }
            e.insert("abandoned".into(), json!(false));
            list.push(Value::Object(e));
        }
    }
    for out in outputs
        .iter()
        .filter(|o| o.keychain == Some(KeychainKind::External) || (o.keychain.is_some() && !v.from_me))
    {
        let out_label = out.address.as_ref().and_then(|a| state.labels.get(a));
        if let Some(wanted) = label {
            if out_label.map(String::as_str).unwrap_or("") != wanted {
                continue;
            }
        }
        let mut e = Map::new();
        if let Some(a) = &out.address {
            e.insert("address".into(), json!(a));
        }
        let category = if !v.is_coinbase {
            "receive"
        } else if v.depth < 1 {
            "orphan"
        } else if v.depth < COINBASE_MATURE_DEPTH {
            "immature"
        } else {
            "generate"
        };
        e.insert("category".into(), json!(category));
        e.insert("amount".into(), amount_of(out.value));
        if let Some(l) = out_label {
            e.insert("label".into(), json!(l));
        }
        e.insert("vout".into(), json!(out.vout));
        e.insert("abandoned".into(), json!(false));
        if long {
            tx_fields(state, v, &mut e);
        }
        list.push(Value::Object(e));
    }
    list
}

pub(crate) const LISTTRANSACTIONS: Method = Method {
    name: "listtransactions",
    args: &["label", "count", "skip", "include_watchonly"],
    required: 0,
    wallet: true,
    help: "Returns up to count (default 10) most recent wallet entries after skipping skip, oldest\n\
           first: category send/receive/generate/immature, amount, vout, fee (sends), confirmations,\n\
           blockhash, blockheight, blocktime, txid, wtxid, time, timereceived, ... label \"*\" (default)\n\
           lists all; another label only incoming entries with that label.",
    run: listtransactions,
};

fn listtransactions(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    let label = match p.str(0)? {
        None | Some("*") => None,
        Some(l) => Some(l.to_string()),
    };
    let count = p.int(1)?.unwrap_or(10);
    let skip = p.int(2)?.unwrap_or(0);
    let _include_watchonly = p.bool(3)?;
    if count < 0 {
        return Err(invalid("Negative count").into());
    }
    if skip < 0 {
        return Err(invalid("Negative from").into());
    }
    let all = wallet.with_state(|s| {
        Ok(s.transactions().iter().flat_map(|v| entries(s, v, true, label.as_deref())).collect::<Vec<_>>())
    })?;
    let n = all.len();
    let end = n.saturating_sub(usize::try_from(skip).unwrap_or(usize::MAX));
    let start = end.saturating_sub(usize::try_from(count).unwrap_or(usize::MAX));
    Ok(Value::Array(all.get(start..end).map(<[Value]>::to_vec).unwrap_or_default()))
}

/// Core's `ParseHashV` for a txid.
fn parse_txid(v: &Value) -> Result<Txid, RpcError> {
    let s = v.as_str().ok_or_else(|| type_error(v, "string"))?;
    if s.len() != 64 {
        return Err(invalid(format!("txid must be of length 64 (not {}, for '{s}')", s.len())));
    }
    Txid::from_str(s).map_err(|_| invalid(format!("txid must be hexadecimal string (not '{s}')")))
}

pub(crate) const GETTRANSACTION: Method = Method {
    name: "gettransaction",
    args: &["txid", "include_watchonly", "verbose"],
    required: 1,
    wallet: true,
    help: "Returns a wallet transaction: amount (net, excluding the fee), fee (sends), confirmations,\n\
           blockhash, blockheight, blocktime, txid, wtxid, time, timereceived, comment, to, details\n\
           (one entry per output, as listtransactions), hex, lastprocessedblock.",
    run: gettransaction,
};

fn gettransaction(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let txid = parse_txid(call.params.get(0).unwrap_or(&Value::Null))?;
    let _include_watchonly = call.params.bool(1)?;
    let _verbose = call.params.bool(2)?;
    let value = wallet.with_state(|s| {
        let Some(v) = s.transaction(txid) else {
            return Ok(None);
        };
        let mut e = Map::new();
        let net = i128::from(v.received) - i128::from(v.sent);
        let fee = if v.from_me { i128::from(fee_of(&v)) } else { 0 };
        let amount = i64::try_from(net + fee).unwrap_or(0);
        e.insert("amount".into(), amount_json(amount));
        if v.from_me {
            e.insert("fee".into(), neg_amount_of(fee_of(&v)));
        }
        tx_fields(s, &v, &mut e);
        e.insert("details".into(), Value::Array(entries(s, &v, false, None)));
        e.insert("hex".into(), json!(serialize_hex(&*v.tx)));
        e.insert("lastprocessedblock".into(), last_processed(s));
        Ok(Some(Value::Object(e)))
    })?;
    value.ok_or_else(|| {
        RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id").into()
    })
}

pub(crate) const LISTUNSPENT: Method = Method {
    name: "listunspent",
    args: &["minconf", "maxconf", "addresses", "include_unsafe", "query_options"],
    required: 0,
    wallet: true,
    help: "Returns the wallet's unspent outputs with between minconf (default 1) and maxconf\n\
           (default 9999999) confirmations: txid, vout, address, label, scriptPubKey, amount,\n\
           confirmations, spendable, solvable, desc, parent_descs, safe. Immature coinbase outputs are\n\
           listed only with include_immature_coinbase. query_options: minimumAmount, maximumAmount,\n\
           maximumCount, minimumSumAmount, include_immature_coinbase.",
    run: listunspent,
};

fn listunspent(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    let minconf = p.int(0)?.unwrap_or(1);
    let maxconf = p.int(1)?.unwrap_or(9_999_999);
    let mut wanted: Option<HashSet<String>> = None;
    if let Some(list) = p.array(2)? {
        let mut set = HashSet::new();
        for item in list {
            let text = item.as_str().ok_or_else(|| type_error(item, "string"))?;
            let address = crate::send::parse_address(text, wallet.network)
                .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e.message()))?;
            if !set.insert(address.to_string()) {
                return Err(invalid(format!("Invalid parameter, duplicated address: {text}")).into());
            }
        }
        wanted = Some(set);
    }
    let include_unsafe = p.bool(3)?.unwrap_or(true);
    let (mut min_amount, mut max_amount, mut max_count) = (0, interfaces::MAX_MONEY, u64::MAX);
    let mut min_sum = None;
    let mut include_immature = false;
    if let Some(options) = p.get(4) {
        let obj = options.as_object().ok_or_else(|| type_error(options, "object"))?;
        if let Some(v) = obj.get("minimumAmount") {
            min_amount = amount_from_value(v)?;
        }
        if let Some(v) = obj.get("maximumAmount") {
            max_amount = amount_from_value(v)?;
        }
        if let Some(v) = obj.get("maximumCount") {
            let n = v.as_i64().ok_or_else(|| type_error(v, "number"))?;
            max_count = u64::try_from(n).ok().filter(|n| *n > 0).unwrap_or(u64::MAX);
        }
        if let Some(v) = obj.get("minimumSumAmount") {
            min_sum = Some(amount_from_value(v)?);
        }
        if let Some(v) = obj.get("include_immature_coinbase") {
            include_immature = v.as_bool().ok_or_else(|| type_error(v, "bool"))?;
        }
    }
    let list = wallet.with_state(|s| {
        let mut coins = s.coins();
        coins.sort_by_key(|c| c.output.outpoint);
        let mut list = Vec::new();
        let mut sum = 0i64;
        for c in coins {
            let depth = i64::from(c.depth);
            let value = sat_i64(c.output.txout.value);
            if !c.available()
                || (c.immature && !include_immature)
                || depth < minconf
                || depth > maxconf
                || (!include_unsafe && !c.trusted)
            {
                continue;
            }
            if value < min_amount || value > max_amount {
                continue;
            }
            let address = bitcoin::Address::from_script(&c.output.txout.script_pubkey, s.network)
                .ok()
                .map(|a| a.to_string());
            if let Some(set) = &wanted {
                if !address.as_ref().is_some_and(|a| set.contains(a)) {
                    continue;
                }
            }
            let mut e = Map::new();
            e.insert("txid".into(), json!(c.output.outpoint.txid.to_string()));
            e.insert("vout".into(), json!(c.output.outpoint.vout));
            if let Some(a) = &address {
                e.insert("address".into(), json!(a));
                if let Some(l) = s.labels.get(a) {
                    e.insert("label".into(), json!(l));
                }
            }
            e.insert("scriptPubKey".into(), json!(c.output.txout.script_pubkey.to_hex_string()));
            e.insert("amount".into(), amount_json(value));
            e.insert("confirmations".into(), json!(c.depth));
            let spendable =
                s.flags.private_keys_enabled && s.keyed.as_ref().is_some_and(|k| k.signers.is_some());
            e.insert("spendable".into(), json!(spendable));
            let solvable = s.keyed.as_ref().is_some_and(|k| k.is_solvable(c.owner));
            e.insert("solvable".into(), json!(solvable));
            if let Some((desc, parent)) = s.keyed.as_ref().and_then(|k| k.descriptors_of(c.owner)) {
                e.insert("desc".into(), json!(desc));
                e.insert("parent_descs".into(), json!([parent]));
            }
            e.insert("safe".into(), json!(c.trusted));
            list.push(Value::Object(e));
            sum = sum.saturating_add(value);
            if u64::try_from(list.len()).unwrap_or(u64::MAX) >= max_count || min_sum.is_some_and(|m| sum >= m)
            {
                break;
            }
        }
        Ok(list)
    })?;
    Ok(Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txids() {
        let ok = "a".repeat(64);
        assert!(parse_txid(&json!(ok)).is_ok());
        let e = parse_txid(&json!("abc")).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (-8, "txid must be of length 64 (not 3, for 'abc')"));
        let bad = "g".repeat(64);
        assert_eq!(
            parse_txid(&json!(bad)).unwrap_err().message,
            format!("txid must be hexadecimal string (not '{bad}')")
        );
        assert_eq!(parse_txid(&json!(1)).unwrap_err().code, -3);
    }
}
