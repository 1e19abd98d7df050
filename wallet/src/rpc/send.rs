//! `sendtoaddress` and `sendmany`: Core's argument checks in Core's order, then
//! [`crate::send::send`].

use interfaces::RpcError;
use serde_json::json;

use super::amount::{amount_from_value, fee_rate_from_value};
use super::params::{conf_target, estimate_mode, invalid, type_error, Params};
use super::{Call, CallResult, Failure, Method};
use crate::send::{parse_address, send, Recipient, SendRequest};

pub(crate) const SENDTOADDRESS: Method = Method {
    name: "sendtoaddress",
    args: &[
        "address",
        "amount",
        "comment",
        "comment_to",
        "subtractfeefromamount",
        "replaceable",
        "conf_target",
        "estimate_mode",
        "avoid_reuse",
        "fee_rate",
        "verbose",
    ],
    required: 2,
    wallet: true,
    help: "Sends amount (BTC) to address; returns the txid ({\"txid\", \"fee_reason\"} with verbose).\n\
           The fee rate is fee_rate (sat/vB) if given, else the node's estimate for conf_target, else\n\
           20 sat/vB (regtest fallback), never below the relay minimum. The transaction is written to\n\
           the wallet before it is broadcast.",
    run: sendtoaddress,
};

fn sendtoaddress(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    let comment = p.str(2)?.unwrap_or("").to_string();
    let comment_to = p.str(3)?.unwrap_or("").to_string();
    let subtract_fee = p.bool(4)?.unwrap_or(false);
    let mut replaceable = p.bool(5)?;
    if p.bool(8)?.unwrap_or(false) {
        return Err(Failure::Rpc(RpcError::new(
            RpcError::WALLET_ERROR,
            "wallet does not have the \"avoid reuse\" feature enabled",
        )));
    }
    let (target, fee_rate) = fee_choice(p, 6, 7, 9, &mut replaceable)?;
    let address_text = p.str(0)?.unwrap_or("");
    let address = parse_address(address_text, wallet.network)
        .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e.message()))?;
    let amount = amount_from_value(p.get(1).unwrap_or(&serde_json::Value::Null))?;
    if amount <= 0 {
        return Err(RpcError::new(RpcError::TYPE_ERROR, "Invalid amount for send").into());
    }
    let verbose = p.bool(10)?.unwrap_or(false);
    let request = SendRequest {
        recipients: vec![Recipient {
            address,
            amount: bitcoin::Amount::from_sat(u64::try_from(amount).unwrap_or(0)),
            subtract_fee,
        }],
        fee_rate_sat_per_kvb: fee_rate,
        conf_target: target,
        replaceable,
        comment,
        comment_to,
    };
    let sent = send(wallet, request).map_err(|e| RpcError::new(e.code, e.error.message()))?;
    Ok(if verbose {
        json!({"txid": sent.txid.to_string(), "fee_reason": sent.fee_reason})
    } else {
        json!(sent.txid.to_string())
    })
}

/// The fee choice of a send call (`conf_target`, `estimate_mode` and `fee_rate` at those
/// positions), with Core's checks: an explicit rate excludes the other two and makes the
/// transaction replaceable unless said otherwise. Returns the target and the rate (sat/kvB).
fn fee_choice(
    p: &Params,
    target_at: usize,
    mode_at: usize,
    rate_at: usize,
    replaceable: &mut Option<bool>,
) -> Result<(Option<u32>, Option<i64>), Failure> {
    let mode = p.str(mode_at)?;
    if let Some(rate) = p.get(rate_at) {
        if p.get(target_at).is_some() {
            return Err(invalid(
                "Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in \
                 blocks for automatic fee estimation, or an explicit fee rate.",
            )
            .into());
        }
        // Case-sensitive, as Core compares it (estimate_mode itself is parsed case-insensitively).
        if mode.is_some_and(|m| m != "unset") {
            return Err(invalid("Cannot specify both estimate_mode and fee_rate").into());
        }
        replaceable.get_or_insert(true);
        // sat/vB with up to 3 decimals, i.e. sat/kvB.
        return Ok((None, Some(fee_rate_from_value(rate)?)));
    }
    if let Some(mode) = mode {
        estimate_mode(mode)?;
    }
    let target = p.get(target_at).map(conf_target).transpose()?;
    Ok((target, None))
}

pub(crate) const SENDMANY: Method = Method {
    name: "sendmany",
    args: &[
        "dummy",
        "amounts",
        "minconf",
        "comment",
        "subtractfeefrom",
        "replaceable",
        "conf_target",
        "estimate_mode",
        "fee_rate",
        "verbose",
    ],
    required: 2,
    wallet: true,
    help: "Sends to several addresses in one transaction: amounts {\"address\": amount (BTC), ...};\n\
           subtractfeefrom: the addresses whose amounts pay the fee, split evenly. Fee choice as\n\
           sendtoaddress. Returns the txid ({\"txid\", \"fee_reason\"} with verbose).",
    run: sendmany,
};

fn sendmany(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    if p.str(0)?.is_some_and(|dummy| !dummy.is_empty()) {
        return Err(invalid("Dummy value must be set to \"\"").into());
    }
    let amounts = p.get(1).unwrap_or(&serde_json::Value::Null);
    let amounts = amounts.as_object().ok_or_else(|| type_error(amounts, "object"))?;
    let comment = p.str(3)?.unwrap_or("").to_string();
    let subtract_from: Vec<&str> = match p.array(4)? {
        Some(list) => list
            .iter()
            .map(|v| v.as_str().ok_or_else(|| type_error(v, "string")))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let mut replaceable = p.bool(5)?;
    let (target, fee_rate) = fee_choice(p, 6, 7, 8, &mut replaceable)?;
    let mut recipients = Vec::with_capacity(amounts.len());
    let mut seen = std::collections::HashSet::new();
    for (text, value) in amounts {
        let address = parse_address(text, wallet.network).map_err(|_| {
            RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, format!("Invalid Bitcoin address: {text}"))
        })?;
        if !seen.insert(address.to_string()) {
            return Err(invalid(format!("Invalid parameter, duplicated address: {text}")).into());
        }
        let amount = amount_from_value(value)?;
        if amount <= 0 {
            return Err(RpcError::new(RpcError::TYPE_ERROR, "Invalid amount for send").into());
        }
        recipients.push(Recipient {
            address,
            amount: bitcoin::Amount::from_sat(u64::try_from(amount).unwrap_or(0)),
            subtract_fee: subtract_from.contains(&text.as_str()),
        });
    }
    if recipients.is_empty() {
        return Err(invalid("Transaction must have at least one recipient").into());
    }
    let verbose = p.bool(9)?.unwrap_or(false);
    let request = SendRequest {
        recipients,
        fee_rate_sat_per_kvb: fee_rate,
        conf_target: target,
        replaceable,
        comment,
        comment_to: String::new(),
    };
    let sent = send(wallet, request).map_err(|e| RpcError::new(e.code, e.error.message()))?;
    Ok(if verbose {
        json!({"txid": sent.txid.to_string(), "fee_reason": sent.fee_reason})
    } else {
        json!(sent.txid.to_string())
    })
}
