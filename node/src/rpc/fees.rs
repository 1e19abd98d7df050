//! Bitcoin Core's `rpc/fees.cpp`: `estimatesmartfee`.
//!
//! The node keeps no fee estimator, so every estimate is Core's answer for an estimator that has
//! recorded nothing yet: `{"errors": ["Insufficient data or no feerate found"], "blocks": 0}`
//! (Core's target falls to the largest usable one, 0, before it gives up). Arguments are checked
//! as Core checks them.

use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// The longest target Core's estimator tracks.
const MAX_CONF_TARGET: i64 = 1008;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Util", "estimatesmartfee", ["conf_target", "estimate_mode"], 1, "Estimates the fee rate needed to confirm within conf_target blocks (this node keeps no fee estimator: always \"Insufficient data\").", estimatesmartfee),
];

fn estimatesmartfee(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "estimatesmartfee")?;
    let target = as_i64(required(args, 0, "estimatesmartfee")?)?;
    if !(1..=MAX_CONF_TARGET).contains(&target) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("Invalid conf_target, must be between 1 and {MAX_CONF_TARGET}"),
        ));
    }
    if let Some(mode) = arg(args, 1) {
        let mode = as_str(mode)?;
        if !["unset", "economical", "conservative"].iter().any(|m| m.eq_ignore_ascii_case(mode)) {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                "Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", \"conservative\"",
            ));
        }
    }
    // Core syncs with the notification queue before estimating.
    d.node().sync_notifications();
    Ok(json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0}))
}
