//! `sendtoaddress`: Core's argument checks in Core's order, then [`crate::send::send`].

use interfaces::RpcError;
use serde_json::json;

use super::amount::{amount_from_value, fee_rate_from_value};
use super::params::{conf_target, estimate_mode, invalid};
use super::{Call, CallResult, Failure, Method};
use crate::send::{parse_address, send, SendRequest};

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
    let mode = p.str(7)?;
    let mut target = None;
    let mut fee_rate = None;
    if let Some(rate) = p.get(9) {
        if p.get(6).is_some() {
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
        // sat/vB with up to 3 decimals, i.e. sat/kvB.
        fee_rate = Some(fee_rate_from_value(rate)?);
        replaceable.get_or_insert(true);
    } else {
        if let Some(mode) = mode {
            estimate_mode(mode)?;
        }
        if let Some(t) = p.get(6) {
            target = Some(conf_target(t)?);
        }
    }
    let address_text = p.str(0)?.unwrap_or("");
    let address = parse_address(address_text, wallet.network)
        .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e.message()))?;
    let amount = amount_from_value(p.get(1).unwrap_or(&serde_json::Value::Null))?;
    if amount <= 0 {
        return Err(RpcError::new(RpcError::TYPE_ERROR, "Invalid amount for send").into());
    }
    let verbose = p.bool(10)?.unwrap_or(false);
    let request = SendRequest {
        address,
        amount: bitcoin::Amount::from_sat(u64::try_from(amount).unwrap_or(0)),
        subtract_fee,
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
