//! Value parsers that clap runs on every option value, and the `Setting`
//! wrapper that carries a negation (`-noX`) through clap.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::debug::{DebugCategory, DebugValue};
use crate::rpc::{RpcAuthHash, Subnet};

/// What `-noX` becomes on clap's side: `--X=<NEGATED>`. A NUL byte cannot
/// appear in a command-line argument, and the config file rejects it, so no
/// real value can collide with it.
pub(crate) const NEGATED: &str = "\0negated";

/// One occurrence of an option as clap parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting<T> {
    /// `-noX`.
    Negated,
    /// `-X=<value>` (or bare `-X` where the option has a bare value).
    Value(T),
}

/// Wraps a value parser so that it also accepts the negation marker.
pub(crate) fn setting<T>(
    parse: fn(&str) -> Result<T, String>,
) -> impl Fn(&str) -> Result<Setting<T>, String> + Clone + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
{
    move |s: &str| if s == NEGATED { Ok(Setting::Negated) } else { parse(s).map(Setting::Value) }
}

pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err("not a boolean (use 1 or 0)".to_string()),
    }
}

pub(crate) fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err("not a port number".to_string()),
    }
}

/// `<ip>` or `<ip>:<port>` (`[<ipv6>]:<port>` for IPv6 with a port).
pub(crate) fn parse_ip_with_port(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    match s.parse::<SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Ok((addr.ip(), Some(addr.port()))),
        Ok(_) => Err("not a port number".to_string()),
        Err(_) => Err("not an IP address (optionally with :<port>)".to_string()),
    }
}

/// A non-negative count (threads, queue depth, seconds).
pub(crate) fn parse_count(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| "not a non-negative whole number".to_string())
}

/// `-rpcallowip`: a single IP, network/netmask or network/CIDR.
pub(crate) fn parse_subnet(s: &str) -> Result<Subnet, String> {
    s.parse()
}

/// `-rpcauth`: `<user>:<salt>$<hash>`.
pub(crate) fn parse_rpcauth(s: &str) -> Result<RpcAuthHash, String> {
    s.parse()
}

pub(crate) fn parse_fd(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(fd) if fd >= 0 => Ok(fd),
        _ => Err("not a file descriptor number".to_string()),
    }
}

pub(crate) fn parse_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        Err("empty path".to_string())
    } else {
        Ok(PathBuf::from(s))
    }
}

pub(crate) fn parse_nonempty(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(s.to_string())
    }
}

pub(crate) fn parse_rpcuser(s: &str) -> Result<String, String> {
    if s.contains(':') {
        return Err("must not contain ':'".to_string());
    }
    parse_nonempty(s)
}

/// A wallet is a directory `<chain datadir>/wallets/<name>/`, so a name is
/// one path component.
pub(crate) fn parse_wallet_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s == "." || s == ".." || s.contains(['/', '\\']) {
        return Err("not a wallet name (a non-empty name without '/')".to_string());
    }
    Ok(s.to_string())
}

/// `unix` or `unix:<path>`, the addresses the framework listens on.
pub(crate) fn parse_ipc_bind(s: &str) -> Result<String, String> {
    match s.strip_prefix("unix") {
        Some(rest) if rest.is_empty() || rest.starts_with(':') => Ok(s.to_string()),
        _ => Err("not an IPC address (expected 'unix' or 'unix:<path>')".to_string()),
    }
}

/// `unix`, `unix:<path>`, `auto`, or `0` (= none, like `-noipcconnect`).
pub(crate) fn parse_ipc_connect(s: &str) -> Result<String, String> {
    match s {
        "0" | "auto" => Ok(s.to_string()),
        _ => parse_ipc_bind(s)
            .map_err(|_| "not an IPC address (expected 'unix', 'unix:<path>', 'auto' or 0)".to_string()),
    }
}

pub(crate) fn parse_debug(s: &str) -> Result<DebugValue, String> {
    match s {
        "" | "1" | "all" => Ok(DebugValue::All),
        "0" | "none" => Ok(DebugValue::None),
        _ => s.parse::<DebugCategory>().map(DebugValue::Category).map_err(|_| {
            let known: Vec<&str> = DebugCategory::ALL.iter().map(|c| c.name()).collect();
            format!("unknown debug category (known: {}, or 1/all, 0/none)", known.join(", "))
        }),
    }
}
