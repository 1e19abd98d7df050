//! Bitcoin Core's waits for the tip (`rpc/blockchain.cpp`): `waitfornewblock`, `waitforblock`,
//! `waitforblockheight`.
//!
//! Each sleeps on [`NodeState::wait_watch`](crate::NodeState::wait_watch), woken when the tip
//! moves, and ends when its condition holds, its timeout (milliseconds, 0 = none) passes, the
//! node shuts down (so `stop` never waits for a client that waits for a block) or, for a request
//! that came over IPC, the client goes away. Whichever way it ends, it answers Core's
//! `{"hash", "height"}` of the tip at that moment.

use std::time::{Duration, Instant};

use bitcoin::BlockHash;
use interfaces::RpcError;
use serde_json::{json, Value};

use super::super::util::*;
use super::super::{CallResult, Dispatcher};
use crate::{WaitEnd, WaitPoll, Watch};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Blockchain",
        "waitfornewblock",
        ["timeout", "current_tip"],
        0,
        "Waits for any new block (or, with current_tip, for the tip to differ from it) and returns \
         {\"hash\", \"height\"} of the tip; the current tip on timeout (milliseconds, 0 = none) or \
         shutdown.\nMake sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0).",
        waitfornewblock,
        usage = "waitfornewblock ( timeout \"current_tip\" )"
    ),
    builtin!(
        "Blockchain",
        "waitforblock",
        ["blockhash", "timeout"],
        1,
        "Waits for the block blockhash to be the tip and returns {\"hash\", \"height\"} of the tip; \
         the current tip on timeout (milliseconds, 0 = none) or shutdown.\nMake sure to use no RPC \
         timeout (bitcoin-cli -rpcclienttimeout=0).",
        waitforblock,
        usage = "waitforblock \"blockhash\" ( timeout )"
    ),
    builtin!(
        "Blockchain",
        "waitforblockheight",
        ["height", "timeout"],
        1,
        "Waits for the tip to be at height or higher and returns {\"hash\", \"height\"} of the tip; \
         the current tip on timeout (milliseconds, 0 = none) or shutdown.\nMake sure to use no RPC \
         timeout (bitcoin-cli -rpcclienttimeout=0).",
        waitforblockheight,
        usage = "waitforblockheight height ( timeout )"
    ),
];

/// The deadline for a `timeout` argument: milliseconds, 0 or absent for none, negative refused
/// with Core's message.
fn deadline(timeout: Option<&Value>) -> Result<Option<Instant>, RpcError> {
    let Some(timeout) = timeout else { return Ok(None) };
    let ms = as_i64(timeout)?;
    if ms < 0 {
        return Err(RpcError::new(RpcError::MISC_ERROR, "Negative timeout"));
    }
    let ms = u64::try_from(ms).unwrap_or(0);
    // A deadline too far to represent is no deadline.
    Ok((ms > 0).then(|| Instant::now().checked_add(Duration::from_millis(ms))).flatten())
}

fn tip_json(watch: &Watch) -> Value {
    json!({"hash": watch.tip.to_string(), "height": watch.height})
}

/// Waits until `done` holds for the watched tip, or the wait ends otherwise; answers the tip then.
fn wait_until(d: &Dispatcher, deadline: Option<Instant>, done: impl Fn(&Watch) -> bool) -> CallResult {
    let end = d.node().wait_watch(deadline, |watch| {
        if done(watch) {
            WaitPoll::Ready(*watch)
        } else {
            WaitPoll::Pending(None)
        }
    });
    let watch = match end {
        WaitEnd::Ready(watch) => watch,
        WaitEnd::Timeout | WaitEnd::Shutdown | WaitEnd::Cancelled => d.node().watch(),
    };
    Ok(tip_json(&watch))
}

fn waitfornewblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "waitfornewblock")?;
    let deadline = deadline(arg(args, 0))?;
    let from: BlockHash = match arg(args, 1) {
        Some(hash) => parse_hash(hash, "current_tip")?,
        None => d.node().watch().tip,
    };
    wait_until(d, deadline, |watch| watch.tip != from)
}

fn waitforblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "waitforblock")?;
    let hash: BlockHash = parse_hash(required(args, 0, "waitforblock")?, "blockhash")?;
    let deadline = deadline(arg(args, 1))?;
    wait_until(d, deadline, |watch| watch.tip == hash)
}

fn waitforblockheight(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "waitforblockheight")?;
    let height = as_i64(required(args, 0, "waitforblockheight")?)?;
    let deadline = deadline(arg(args, 1))?;
    wait_until(d, deadline, |watch| i64::from(watch.height) >= height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_core() {
        assert_eq!(deadline(None).ok(), Some(None));
        assert_eq!(deadline(Some(&json!(0))).ok(), Some(None));
        assert!(deadline(Some(&json!(5))).is_ok_and(|d| d.is_some()));
        let negative = deadline(Some(&json!(-1))).err();
        assert_eq!(
            negative.map(|e| (e.code, e.message)),
            Some((RpcError::MISC_ERROR, "Negative timeout".into()))
        );
        assert_eq!(deadline(Some(&json!("5"))).err().map(|e| e.code), Some(RpcError::TYPE_ERROR));
    }
}
