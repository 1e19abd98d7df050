//! Bitcoin Core's `rpc/node.cpp` methods this node has: the test helpers `setmocktime`, `echo`
//! and `echojson` (category `hidden`, as there).

use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "hidden",
        "echo",
        ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7", "arg8", "arg9"],
        0,
        "Simply echo back the input arguments. This command is for testing.",
        echo
    ),
    builtin!(
        "hidden",
        "echojson",
        ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7", "arg8", "arg9"],
        0,
        "Simply echo back the input arguments. This command is for testing.",
        echo
    ),
    builtin!(
        "hidden",
        "setmocktime",
        ["timestamp"],
        1,
        "Set the local time to given timestamp (-regtest only); 0 goes back to the system time.",
        setmocktime
    ),
];

fn setmocktime(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "setmocktime")?;
    let time = as_i64(required(args, 0, "setmocktime")?)?;
    let max = i64::from(u32::MAX);
    if !(0..=max).contains(&time) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("Mocktime must be in the range [0, {max}], not {time}."),
        ));
    }
    // Block times are u32: the range check above makes the conversion exact.
    let mocked = u32::try_from(time).ok().filter(|t| *t != 0);
    d.node().set_mock_time(mocked);
    Ok(Value::Null)
}

/// `echo` and `echojson` (they differ only in how bitcoin-cli converts their arguments).
fn echo(_d: &Dispatcher, args: &[Value]) -> CallResult {
    if args.len() > 10 {
        let synopsis = super::find_builtin("echo").map(Builtin::synopsis).unwrap_or_default();
        return Err(RpcError::new(RpcError::MISC_ERROR, synopsis));
    }
    if args.get(9).and_then(Value::as_str) == Some("trigger_internal_bug") {
        return Err(RpcError::new(
            RpcError::MISC_ERROR,
            "Internal bug detected: request.params[9].get_str() != \"trigger_internal_bug\"",
        ));
    }
    Ok(json!(args))
}
