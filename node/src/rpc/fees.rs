//! Bitcoin Core's `rpc/fees.cpp`: `estimatesmartfee` and (hidden) `estimaterawfee`.
//!
//! The node keeps no fee estimator, so every estimate is Core's answer for an estimator that has
//! recorded nothing yet: `{"errors": ["Insufficient data or no feerate found"], "blocks": 0}`
//! (Core's target falls to the largest usable one, 0, before it gives up); `estimaterawfee`
//! answers, for each horizon that tracks the target, its decay and scale, the one failing bucket
//! covering every fee rate with nothing in it, and Core's error. Arguments are checked as Core
//! checks them.

use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// The longest target Core's estimator tracks.
const MAX_CONF_TARGET: i64 = 1008;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "hidden",
        "estimaterawfee",
        ["conf_target", "threshold"],
        1,
        "WARNING: This interface is unstable and may disappear or change!\nEstimates the fee rate \
         needed to confirm within conf_target blocks, per horizon (short, medium, long), with the \
         bucket statistics behind it (this node keeps no fee estimator: no data in any bucket).",
        estimaterawfee,
        usage = "estimaterawfee conf_target ( threshold )"
    ),
    builtin!("Util", "estimatesmartfee", ["conf_target", "estimate_mode"], 1, "Estimates the fee rate needed to confirm within conf_target blocks (this node keeps no fee estimator: always \"Insufficient data\").", estimatesmartfee),
];

fn conf_target(args: &[Value], method: &str) -> Result<i64, RpcError> {
    let target = as_i64(required(args, 0, method)?)?;
    if !(1..=MAX_CONF_TARGET).contains(&target) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("Invalid conf_target, must be between 1 and {MAX_CONF_TARGET}"),
        ));
    }
    Ok(target)
}

fn estimatesmartfee(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "estimatesmartfee")?;
    conf_target(args, "estimatesmartfee")?;
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

/// Core's horizons: name, the longest target each tracks, its decay and scale.
const HORIZONS: [(&str, i64, f64, u32); 3] =
    [("short", 12, 0.962, 1), ("medium", 48, 0.9952, 2), ("long", MAX_CONF_TARGET, 0.99931, 24)];
/// Core's last fee-rate bucket (`INF_FEERATE`, sat/kvB), where a range of empty buckets ends.
const INFINITE_FEE_RATE: f64 = 1e99;

fn estimaterawfee(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "estimaterawfee")?;
    let target = conf_target(args, "estimaterawfee")?;
    if let Some(threshold) = arg(args, 1) {
        let threshold = match threshold {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            other => return Err(type_error(other, "number")),
        };
        if !(0.0..=1.0).contains(&threshold) {
            return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Invalid threshold"));
        }
    }
    d.node().sync_notifications();
    let mut result = serde_json::Map::new();
    for (name, highest, decay, scale) in HORIZONS {
        if target > highest {
            continue;
        }
        // No transaction was ever tracked: the whole range fails with nothing in it.
        let fail = json!({
            "startrange": real_value(0.0),
            "endrange": real_value(INFINITE_FEE_RATE),
            "withintarget": real_value(0.0),
            "totalconfirmed": real_value(0.0),
            "inmempool": real_value(0.0),
            "leftmempool": real_value(0.0),
        });
        result.insert(
            name.to_string(),
            json!({
                "decay": real_value(decay),
                "scale": scale,
                "fail": fail,
                "errors": ["Insufficient data or no feerate found which meets threshold"],
            }),
        );
    }
    Ok(Value::Object(result))
}
