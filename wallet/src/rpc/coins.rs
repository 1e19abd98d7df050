//! `lockunspent` and `listlockunspent`: keeping coins out of coin selection, for this load or
//! (`persistent`) in the wallet file, with Core's checks and texts.

use bitcoin::{OutPoint, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::params::{invalid, type_error};
use super::{Call, CallResult, Failure, Method};

pub(crate) const LOCKUNSPENT: Method = Method {
    name: "lockunspent",
    args: &["unlock", "transactions", "persistent"],
    required: 1,
    wallet: true,
    help: "Locks (unlock=false) or unlocks (unlock=true) the given unspent outputs [{\"txid\", \"vout\"}]:\n\
           locked ones are not chosen to fund transactions. The lock lasts until the wallet is\n\
           unloaded unless persistent=true, which keeps it in the wallet file. unlock=true with no\n\
           list unlocks every output. Returns true.",
    run: lockunspent,
};

pub(crate) const LISTLOCKUNSPENT: Method = Method {
    name: "listlockunspent",
    args: &[],
    required: 0,
    wallet: true,
    help: "Returns the locked outputs: [{\"txid\", \"vout\"}].",
    run: listlockunspent,
};

/// Core's hash parameter checks (`txid must be of length 64 ...`).
fn parse_txid(value: &Value) -> Result<Txid, RpcError> {
    let text = value.as_str().ok_or_else(|| type_error(value, "string"))?;
    if text.len() != 64 {
        return Err(invalid(format!("txid must be of length 64 (not {}, for '{text}')", text.len())));
    }
    text.parse().map_err(|_| invalid(format!("txid must be hexadecimal string (not '{text}')")))
}

fn lockunspent(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let p = &call.params;
    let unlock = p.bool(0)?.ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, LOCKUNSPENT.synopsis()))?;
    let persistent = p.bool(2)?.unwrap_or(false);
    let Some(items) = p.array(1)? else {
        if unlock {
            wallet.with_state(|s| {
                for outpoint in s.locked() {
                    s.unlock(outpoint)?;
                }
                Ok(())
            })?;
        }
        return Ok(json!(true));
    };
    // Every output is checked before any lock changes, as Core does.
    let mut outpoints = Vec::with_capacity(items.len());
    for item in items {
        let object = item.as_object().ok_or_else(|| type_error(item, "object"))?;
        let txid = parse_txid(object.get("txid").unwrap_or(&Value::Null))?;
        let vout = object
            .get("vout")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid("Invalid parameter, missing vout key"))?;
        let vout = u32::try_from(vout).map_err(|_| invalid("Invalid parameter, vout cannot be negative"))?;
        outpoints.push(OutPoint { txid, vout });
    }
    wallet
        .with_state(|s| {
            let unspent: std::collections::HashSet<OutPoint> =
                s.coins().iter().map(|c| c.output.outpoint).collect();
            for outpoint in &outpoints {
                let check = |message: &str| Err(interfaces::Error::invalid_parameter(message));
                let Some(view) = s.transaction(outpoint.txid) else {
                    return check("Invalid parameter, unknown transaction");
                };
                if usize::try_from(outpoint.vout).map_or(true, |v| v >= view.tx.output.len()) {
                    return check("Invalid parameter, vout index out of bounds");
                }
                if !unspent.contains(outpoint) {
                    return check("Invalid parameter, expected unspent output");
                }
                let locked = s.is_locked(outpoint);
                if unlock && !locked {
                    return check("Invalid parameter, expected locked output");
                }
                // Locking again is allowed only to make a lock persistent.
                if !unlock && locked && !persistent {
                    return check("Invalid parameter, output already locked");
                }
            }
            for outpoint in outpoints {
                if unlock {
                    s.unlock(outpoint)?;
                } else {
                    s.lock(outpoint, persistent)?;
                }
            }
            Ok(())
        })
        .map_err(|e| Failure::Rpc(RpcError::new(RpcError::INVALID_PARAMETER, e.message())))?;
    Ok(json!(true))
}

fn listlockunspent(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let locked = wallet.with_state(|s| Ok(s.locked()))?;
    Ok(json!(locked.iter().map(|o| json!({"txid": o.txid.to_string(), "vout": o.vout})).collect::<Vec<_>>()))
}
