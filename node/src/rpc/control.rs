//! Bitcoin Core's `rpc/server.cpp` methods: the RPC server itself (help, stop, uptime).

use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Control", "help", ["command"], 0, "Lists the commands, or shows help for one.", help),
    builtin!(
        "Control",
        "getrpcinfo",
        [],
        0,
        "Returns details of the RPC server: the commands running and the debug log's path.",
        getrpcinfo
    ),
    builtin!("Control", "stop", ["wait"], 0, "Requests a clean shutdown of the node.", stop),
    builtin!("Control", "uptime", [], 0, "Returns the seconds since the server started.", uptime),
];

fn uptime(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "uptime")?;
    Ok(json!(d.node().uptime()))
}

fn stop(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "stop")?;
    // bitcoind's hidden `wait`: milliseconds to sleep before answering (for tests).
    let wait = match arg(args, 0) {
        Some(v @ Value::Number(_)) => Some(as_i64(v)?),
        _ => None,
    };
    d.node().request_shutdown();
    if let Some(ms) = wait {
        std::thread::sleep(std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    }
    Ok(json!("mpx-node stopping"))
}

fn getrpcinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrpcinfo")?;
    let active: Vec<Value> = d
        .active_commands()
        .into_iter()
        .map(|(method, duration)| json!({"method": method, "duration": duration.as_micros()}))
        .collect();
    let logpath = d.log_path().map(|p| p.display().to_string()).unwrap_or_default();
    Ok(json!({"active_commands": active, "logpath": logpath}))
}

fn help(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "help")?;
    if let Some(v) = arg(args, 0) {
        let name = as_str(v)?;
        return Ok(json!(d.method_help(name).unwrap_or_else(|| format!("help: unknown command: {name}"))));
    }
    let mut list = d.method_list();
    // As bitcoind: test-only methods answer `help <name>` but stay out of the list.
    list.retain(|(cat, _, _)| cat != "hidden");
    list.sort_by_key(|(cat, name, _)| (cat.to_lowercase(), name.clone()));
    let mut text = String::new();
    let mut category = String::new();
    for (cat, _, synopsis) in list {
        if !cat.eq_ignore_ascii_case(&category) {
            if !text.is_empty() {
                text.push('\n');
            }
            // Core's categories are lowercase names shown capitalised ("wallet" -> "Wallet").
            let mut heading = cat.chars();
            let first = heading.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            text.push_str(&format!("== {first}{} ==\n", heading.as_str()));
            category = cat;
        }
        text.push_str(&synopsis);
        text.push('\n');
    }
    Ok(json!(text.trim_end()))
}
