//! Bitcoin Core's `rpc/node.cpp` methods this node has: `logging` and `getmemoryinfo` (category
//! `control`), `getindexinfo` (`util`), and the test helpers `setmocktime`, `echo` and `echojson`
//! (category `hidden`, as there), and `echoipc`: through a spawned process when the executable
//! installed an [`EchoProvider`] (the multiprocess node does, as Core's spawns `bitcoin-echo`),
//! in this process otherwise (as Core's single-process build answers it).

use std::sync::{Arc, OnceLock};

use config::{DebugCategories, DebugCategory};
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Control",
        "logging",
        ["include", "exclude"],
        0,
        "Gets and sets the logging configuration.\nWhen called without an argument, returns the list of \
         categories with status that are currently being debug logged or not.\nWhen called with \
         arguments, adds or removes categories from debug logging and return the lists above.\nThe \
         arguments are evaluated in order \"include\", \"exclude\".\nIf an item is both included and \
         excluded, it will thus end up being excluded.\nThe valid logging categories are: addrman, \
         bench, blockstorage, cmpctblock, coindb, estimatefee, http, i2p, ipc, kernel, leveldb, \
         mempool, mempoolrej, net, privatebroadcast, proxy, prune, qt, rand, reindex, rpc, scan, \
         selectcoins, tor, txpackages, txreconciliation, validation, walletdb, zmq\nIn addition, the \
         following are available as category names with special meanings:\n  - \"all\",  \"1\" : \
         represent all logging categories.",
        logging,
        usage = "logging ( [\"include_category\",...] [\"exclude_category\",...] )"
    ),
    builtin!(
        "Control",
        "getmemoryinfo",
        ["mode"],
        0,
        "Returns an object containing information about memory usage.\nmode \"stats\" (default): \
         {\"locked\": {used, free, total, locked, chunks_used, chunks_free}}, which here describe \
         this process's heap (bytes and allocations live, the free bytes and chunks malloc keeps, \
         the bytes locked in RAM): this node keeps no separate locked pool for keys.\nmode \
         \"mallocinfo\": glibc's malloc_info XML.",
        getmemoryinfo,
        usage = "getmemoryinfo ( \"mode\" )"
    ),
    builtin!(
        "Util",
        "getindexinfo",
        ["index_name"],
        0,
        "Returns the status of one or all available indices currently running in the node: none \
         here (there is no transaction, block filter or coin statistics index), so always {}.",
        getindexinfo,
        usage = "getindexinfo ( \"index_name\" )"
    ),
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
        "echoipc",
        ["arg"],
        1,
        "Echo back the input argument, passing it through a spawned process in a multiprocess build.\n\
         This command is for testing.",
        echoipc,
        usage = "echoipc \"arg\""
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

/// Makes the `Echo` `echoipc` goes through: one in a process it spawns, ended when dropped.
pub type EchoProvider = Arc<dyn Fn() -> interfaces::Result<Box<dyn interfaces::Echo>> + Send + Sync>;

static ECHO_PROVIDER: OnceLock<EchoProvider> = OnceLock::new();

/// Installs the process's [`EchoProvider`] (once; later calls are ignored). An executable whose
/// build spawns processes installs one before it starts the node.
pub fn set_echo_provider(provider: EchoProvider) {
    let _ = ECHO_PROVIDER.set(provider);
}

/// The echo of a process that spawns nothing: this one.
struct LocalEcho;

impl interfaces::Echo for LocalEcho {
    fn echo(&self, echo: String) -> interfaces::Result<String> {
        Ok(echo)
    }
}

fn echoipc(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "echoipc")?;
    let text = as_str(required(args, 0, "echoipc")?)?.to_string();
    let echo: Box<dyn interfaces::Echo> = match ECHO_PROVIDER.get() {
        Some(provider) => provider().map_err(|e| RpcError::new(RpcError::MISC_ERROR, e.to_string()))?,
        None => Box::new(LocalEcho),
    };
    echo.echo(text).map(Value::String).map_err(|e| RpcError::new(RpcError::MISC_ERROR, e.to_string()))
}

/// A `logging` argument: an array of category names, `all`/`1` for every one.
fn categories_named(v: Option<&Value>) -> Result<Option<DebugCategories>, RpcError> {
    let Some(v) = v else { return Ok(None) };
    let Value::Array(names) = v else { return Err(type_error(v, "array")) };
    let mut set = DebugCategories::none();
    for name in names {
        match as_str(name)? {
            "" | "1" | "all" => set = DebugCategories::all(),
            "libevent" => {
                // Core keeps accepting it, as a no-op with a warning.
                tracing::warn!(
                    "The logging category `libevent` is deprecated and will be removed in a future release"
                );
            }
            name => {
                let category: DebugCategory = name.parse().map_err(|_| {
                    RpcError::new(RpcError::INVALID_PARAMETER, format!("unknown logging category {name}"))
                })?;
                set.insert(category);
            }
        }
    }
    Ok(Some(set))
}

fn logging(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "logging")?;
    let include = categories_named(arg(args, 0))?;
    let exclude = categories_named(arg(args, 1))?;
    if include.is_some() || exclude.is_some() {
        let mut enabled = crate::logging::categories();
        include.iter().flat_map(|s| s.iter()).for_each(|c| enabled.insert(c));
        exclude.iter().flat_map(|s| s.iter()).for_each(|c| enabled.remove(c));
        crate::logging::set_categories(enabled)
            .map_err(|e| RpcError::new(RpcError::MISC_ERROR, e.to_string()))?;
        tracing::info!(target: "node::rpc", "Debug categories now: {:?}", enabled);
    }
    let enabled = crate::logging::categories();
    let status: Map<String, Value> =
        DebugCategory::ALL.iter().map(|c| (c.name().to_string(), json!(enabled.contains(*c)))).collect();
    Ok(Value::Object(status))
}

fn getmemoryinfo(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getmemoryinfo")?;
    let mode = arg(args, 0).map(as_str).transpose()?.unwrap_or("stats");
    match mode {
        "stats" => {
            let s = crate::memory::stats();
            Ok(json!({"locked": {
                "used": s.used,
                "free": s.free,
                "total": s.total,
                "locked": s.locked,
                "chunks_used": s.chunks_used,
                "chunks_free": s.chunks_free,
            }}))
        }
        "mallocinfo" => crate::memory::malloc_info()
            .map(Value::String)
            .map_err(|_| RpcError::new(RpcError::INVALID_PARAMETER, "mallocinfo mode not available")),
        other => Err(RpcError::new(RpcError::INVALID_PARAMETER, format!("unknown mode {other}"))),
    }
}

fn getindexinfo(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getindexinfo")?;
    arg(args, 0).map(as_str).transpose()?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_help_lists_every_category() {
        let help = super::super::find_builtin("logging").map(|m| m.help).unwrap_or_default();
        assert!(
            help.contains(&format!("valid logging categories are: {}\n", DebugCategory::names())),
            "{help}"
        );
    }

    #[test]
    fn category_arguments() {
        let all = categories_named(Some(&json!(["all"]))).ok().flatten();
        assert_eq!(all, Some(DebugCategories::all()));
        let some = categories_named(Some(&json!(["rpc", "net"]))).ok().flatten();
        assert_eq!(some.map(|s| s.iter().count()), Some(2));
        let unknown = categories_named(Some(&json!(["nope"]))).err().map(|e| (e.code, e.message));
        assert_eq!(unknown, Some((RpcError::INVALID_PARAMETER, "unknown logging category nope".into())));
        assert_eq!(categories_named(Some(&json!("rpc"))).err().map(|e| e.code), Some(RpcError::TYPE_ERROR));
    }
}
