//! `getwalletinfo`, `getnewaddress`, `getbalance`, `getbalances`.

use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::amount::amount_json;
use super::{Call, CallResult, Failure, Method};
use crate::state::{sat_i64, State};

/// What Core's descriptor wallets report as `walletversion` (`FEATURE_LATEST`).
const WALLET_VERSION: i64 = 169_900;

/// `{"hash": <hex>, "height": n}` of the wallet's last processed block.
pub(crate) fn last_processed(state: &State) -> Value {
    let tip = state.tip();
    json!({"hash": tip.hash.to_string(), "height": tip.height})
}

pub(crate) const GETWALLETINFO: Method = Method {
    name: "getwalletinfo",
    args: &[],
    required: 0,
    wallet: true,
    help: "Returns the wallet's state: walletname, walletversion, format (\"sqlite\"), txcount,\n\
           keypoolsize, keypoolsize_hd_internal, paytxfee, private_keys_enabled, avoid_reuse, scanning,\n\
           descriptors, external_signer, blank, birthtime, flags, lastprocessedblock {hash, height}.",
    run: getwalletinfo,
};

fn getwalletinfo(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let value = wallet.with_state(|s| {
        let (txcount, lookahead) = match &s.keyed {
            // Placeholder keychains (a wallet without descriptors of its own) hand out nothing.
            Some(k) if !k.own_keychains => (k.canonical_txs().count(), 0),
            Some(k) => (k.canonical_txs().count(), k.wallet.spk_index().lookahead()),
            None => (0, 0),
        };
        let mut obj = Map::new();
        obj.insert("walletname".into(), json!(wallet.name));
        obj.insert("walletversion".into(), json!(WALLET_VERSION));
        obj.insert("format".into(), json!("sqlite"));
        obj.insert("txcount".into(), json!(txcount));
        obj.insert("keypoolsize".into(), json!(lookahead));
        obj.insert("keypoolsize_hd_internal".into(), json!(lookahead));
        obj.insert("paytxfee".into(), amount_json(0));
        obj.insert("private_keys_enabled".into(), json!(s.flags.private_keys_enabled));
        obj.insert("avoid_reuse".into(), json!(false));
        obj.insert("scanning".into(), json!(false));
        obj.insert("descriptors".into(), json!(true));
        obj.insert("external_signer".into(), json!(false));
        obj.insert("blank".into(), json!(s.flags.blank));
        obj.insert("birthtime".into(), json!(s.flags.birthtime));
        obj.insert("flags".into(), json!(flag_names(s)));
        obj.insert("lastprocessedblock".into(), last_processed(s));
        Ok(Value::Object(obj))
    })?;
    Ok(value)
}

/// Core's names of the wallet's flags (`getwalletinfo`'s `flags`).
fn flag_names(s: &State) -> Vec<&'static str> {
    let mut names = Vec::new();
    if !s.flags.private_keys_enabled {
        names.push("disable_private_keys");
    }
    if s.flags.blank {
        names.push("blank");
    }
    // Every wallet here is a descriptor wallet; Core sets the xpub-cache flag on each.
    names.extend(["last_hardened_xpub_cached", "descriptor_wallet"]);
    names
}

pub(crate) const GETNEWADDRESS: Method = Method {
    name: "getnewaddress",
    args: &["label", "address_type"],
    required: 0,
    wallet: true,
    help: "Returns a new receiving address (bech32, P2WPKH), recorded with label (default \"\").\n\
           Only address_type \"bech32\" is available.",
    run: getnewaddress,
};

fn getnewaddress(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let label = call.params.str(0)?.unwrap_or("").to_string();
    if label == "*" {
        return Err(RpcError::new(RpcError::WALLET_INVALID_LABEL_NAME, "Invalid label name").into());
    }
    check_address_type(call.params.str(1)?)?;
    let address = wallet.new_address(label)?;
    Ok(json!(address.to_string()))
}

pub(crate) const GETRAWCHANGEADDRESS: Method = Method {
    name: "getrawchangeaddress",
    args: &["address_type"],
    required: 0,
    wallet: true,
    help: "Returns a new change address (bech32, P2WPKH) from the wallet's internal keychain.\n\
           Only address_type \"bech32\" is available.",
    run: getrawchangeaddress,
};

fn getrawchangeaddress(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    check_address_type(call.params.str(0)?)?;
    let address = wallet.new_change_address()?;
    Ok(json!(address.to_string()))
}

/// Core's answers for an `address_type` other than the one the wallet has.
fn check_address_type(kind: Option<&str>) -> Result<(), Failure> {
    match kind {
        None | Some("bech32") => Ok(()),
        Some(kind @ ("legacy" | "p2sh-segwit" | "bech32m")) => {
            Err(RpcError::new(-12, format!("Error: No {kind} addresses available.")).into())
        }
        Some(other) => {
            Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, format!("Unknown address type '{other}'"))
                .into())
        }
    }
}

pub(crate) const GETBALANCE: Method = Method {
    name: "getbalance",
    args: &["dummy", "minconf", "include_watchonly", "avoid_reuse"],
    required: 0,
    wallet: true,
    help: "Returns the trusted balance in BTC: confirmed (at least minconf confirmations, default 0)\n\
           plus, with minconf 0, unconfirmed change and sends from this wallet. Immature coinbase\n\
           outputs (fewer than 101 confirmations) are not counted.",
    run: getbalance,
};

fn getbalance(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    if let Some(dummy) = p.get(0) {
        if dummy.as_str() != Some("*") {
            return Err(RpcError::new(
                RpcError::METHOD_DEPRECATED,
                "dummy first argument must be excluded or set to \"*\".",
            )
            .into());
        }
    }
    let minconf = p.int(1)?.unwrap_or(0);
    let _include_watchonly = p.bool(2)?;
    if p.bool(3)?.unwrap_or(false) {
        return Err(Failure::Rpc(RpcError::new(
            RpcError::WALLET_ERROR,
            "wallet does not have the \"avoid reuse\" feature enabled",
        )));
    }
    let balance = wallet.with_state(|s| {
        Ok(s.coins()
            .iter()
            .filter(|c| c.spendable() && i64::from(c.depth) >= minconf)
            .map(|c| sat_i64(c.output.txout.value))
            .sum::<i64>())
    })?;
    Ok(amount_json(balance))
}

pub(crate) const GETBALANCES: Method = Method {
    name: "getbalances",
    args: &[],
    required: 0,
    wallet: true,
    help: "Returns the balances in BTC: {\"mine\": {\"trusted\", \"untrusted_pending\", \"immature\"},\n\
           \"lastprocessedblock\": {\"hash\", \"height\"}}.",
    run: getbalances,
};

fn getbalances(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let value = wallet.with_state(|s| {
        let b = s.balances();
        Ok(json!({
            "mine": {
                "trusted": amount_json(b.trusted),
                "untrusted_pending": amount_json(b.untrusted_pending),
                "immature": amount_json(b.immature),
            },
            "lastprocessedblock": last_processed(s),
        }))
    })?;
    Ok(value)
}
