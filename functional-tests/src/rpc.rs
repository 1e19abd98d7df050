//! JSON-RPC calls to a test node: the cookie read fresh for each call (it changes at every
//! start), the rpc client's HTTP exchange, and bitcoind's error shape decoded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

/// Why a call did not return a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcFailure {
    /// The node answered with a JSON-RPC error.
    Rpc {
        /// bitcoind's error code, e.g. -8.
        code: i64,
        /// The message.
        message: String,
    },
    /// No JSON-RPC answer: connection refused, no cookie, not HTTP, not JSON, ...
    Transport(String),
}

impl RpcFailure {
    /// The error code of an RPC error; `None` for a transport failure.
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcFailure::Rpc { code, .. } => Some(*code),
            RpcFailure::Transport(_) => None,
        }
    }
}

impl std::fmt::Display for RpcFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcFailure::Rpc { code, message } => write!(f, "RPC error {code}: {message}"),
            RpcFailure::Transport(message) => write!(f, "transport: {message}"),
        }
    }
}

/// The `Authorization` header value for the cookie at `cookie_file`.
fn authorization(cookie_file: &Path) -> Result<String, RpcFailure> {
    let cookie = std::fs::read_to_string(cookie_file)
        .map_err(|e| RpcFailure::Transport(format!("cannot read {}: {e}", cookie_file.display())))?;
    Ok(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(cookie.trim())))
}

/// Sends `body` to `path` and returns the HTTP status and the body text.
fn post_raw(
    addr: SocketAddr,
    cookie_file: &Path,
    path: &str,
    body: &[u8],
) -> Result<(u16, String), RpcFailure> {
    let auth = authorization(cookie_file)?;
    let response =
        cli::http::post(addr, path, &auth, body).map_err(|e| RpcFailure::Transport(format!("{e:?}")))?;
    Ok((response.status, String::from_utf8_lossy(&response.body).into_owned()))
}

/// Where a node answers RPC: its address and cookie. Cheap to clone and `Send`, so a test can
/// call the node from threads of its own (e.g. to keep it busy while it is killed).
#[derive(Debug, Clone)]
pub struct RpcEndpoint {
    pub(crate) addr: SocketAddr,
    pub(crate) cookie_file: PathBuf,
}

impl RpcEndpoint {
    /// The node listening on `addr` whose cookie is `cookie_file`.
    pub fn new(addr: SocketAddr, cookie_file: PathBuf) -> RpcEndpoint {
        RpcEndpoint { addr, cookie_file }
    }

    /// Calls `method`; the result or the failure.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcFailure> {
        call(self.addr, &self.cookie_file, "/", method, params)
    }

    /// Calls `method` on the wallet `wallet` (through `/wallet/<name>`).
    pub fn wallet_call(&self, wallet: &str, method: &str, params: Value) -> Result<Value, RpcFailure> {
        call(self.addr, &self.cookie_file, &format!("/wallet/{}", percent_encode(wallet)), method, params)
    }

    /// Posts `body` as is to `path`; returns the HTTP status and body.
    pub fn post_raw(&self, path: &str, body: &[u8]) -> Result<(u16, String), RpcFailure> {
        post_raw(self.addr, &self.cookie_file, path, body)
    }
}

/// Encodes a wallet name for the `/wallet/<name>` path.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Calls `method` with `params` on the wallet endpoint `path` (`/` or `/wallet/<name>`).
fn call(
    addr: SocketAddr,
    cookie_file: &Path,
    path: &str,
    method: &str,
    params: Value,
) -> Result<Value, RpcFailure> {
    let request = json!({"jsonrpc": "1.0", "id": "functional-test", "method": method, "params": params});
    let (status, body) = post_raw(addr, cookie_file, path, request.to_string().as_bytes())?;
    let reply: Value = serde_json::from_str(&body)
        .map_err(|e| RpcFailure::Transport(format!("HTTP {status}, body is not JSON ({e}): {body}")))?;
    match reply.get("error") {
        Some(Value::Null) | None => Ok(reply.get("result").cloned().unwrap_or(Value::Null)),
        Some(error) => Err(RpcFailure::Rpc {
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: error.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_names_are_percent_encoded() {
        assert_eq!(percent_encode("w1"), "w1");
        assert_eq!(percent_encode("my wallet/x"), "my%20wallet%2Fx");
        assert_eq!(percent_encode(""), "");
    }
}
