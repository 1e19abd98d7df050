//! `-ipcconnect`: a JSON-RPC request sent to the node over its unix socket
//! (`Init.makeRpc` -> `Rpc.executeRpc`, as `bitcoin-cli -ipcconnect` does) instead of HTTP. The
//! socket's owner-only permission is the authentication: no cookie or password is read.

use std::path::{Path, PathBuf};

use config::Config;
use serde_json::Value;

/// What the socket gave.
pub(crate) enum IpcReply {
    /// The node's JSON-RPC reply object.
    Reply(Value),
    /// `-ipcconnect=auto` and no node listens: use HTTP.
    NotListening,
}

/// Why there is no reply; `transient` failures are retried with `-rpcwait`.
pub(crate) struct IpcFailure {
    pub(crate) message: String,
    pub(crate) transient: bool,
}

/// The socket `-ipcconnect` names, and whether it may be absent (`auto`); `None` without
/// `-ipcconnect`.
pub(crate) fn address(config: &Config) -> Result<Option<(PathBuf, ipc::ConnectMode)>, String> {
    let Some(spec) = &config.ipc_connect else { return Ok(None) };
    ipc::resolve_connect_address(spec, &config.chain_datadir).map_err(|e| format!("-ipcconnect: {e}"))
}

/// Sends `request` for `uri` to the node listening at `path`.
pub(crate) fn call(
    path: &Path,
    mode: ipc::ConnectMode,
    request: &str,
    uri: &str,
) -> Result<IpcReply, IpcFailure> {
    let fatal = |message: String| IpcFailure { message, transient: false };
    let ipc = ipc::Ipc::new().map_err(|e| fatal(format!("cannot start IPC: {e}")))?;
    let (init, connection) = match ipc.connect(path, mode) {
        Ok(Some(connected)) => connected,
        Ok(None) => return Ok(IpcReply::NotListening),
        // Nobody listens yet: with -rpcwait, wait for the node as over HTTP.
        Err(e) => return Err(IpcFailure { message: e.to_string(), transient: true }),
    };
    let rpc = init.make_rpc().map_err(|e| fatal(format!("the node gives no Rpc: {e}")))?;
    let text = rpc.execute_rpc(request.to_owned(), uri.to_owned(), String::new());
    drop(rpc);
    drop(init);
    connection.disconnect();
    let text = text.map_err(|e| fatal(e.message().to_owned()))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(reply @ (Value::Object(_) | Value::Array(_))) => Ok(IpcReply::Reply(reply)),
        _ => Err(fatal("couldn't parse reply from server".to_string())),
    }
}
