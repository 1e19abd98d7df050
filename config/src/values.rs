//! Value parsers that clap runs on every option value, and the `Setting`
//! wrapper that carries a negation (`-noX`) through clap.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

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

/// Any text: options whose values are checked later, with Bitcoin Core's messages.
pub(crate) fn parse_any(s: &str) -> Result<String, String> {
    Ok(s.to_string())
}

/// A whole number, possibly negative (`-par=-1`).
pub(crate) fn parse_int(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|_| "not a whole number".to_string())
}

/// `-bind=<addr>[:<port>][=onion]`: a numeric address (bitcoind does not resolve names here).
pub(crate) fn parse_bind(s: &str) -> Result<String, String> {
    let address = s.strip_suffix("=onion").unwrap_or(s);
    parse_ip_with_port(address).map_err(|_| format!("Cannot resolve -bind address: '{s}'"))?;
    Ok(s.to_string())
}

/// `-connect=<host>[:<port>]` (a name or an address), or `0` for no automatic connections.
pub(crate) fn parse_host(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b))
        && match s.rsplit_once(':') {
            // An IPv6 address without brackets has several colons and no port.
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
            }
            _ => true,
        };
    if valid {
        Ok(s.to_string())
    } else {
        Err("not a host name or address (optionally with :<port>)".to_string())
    }
}

/// The P2P permissions `-whitelist` may grant (bitcoind's names).
const PERMISSIONS: &[&str] =
    &["bloomfilter", "noban", "forcerelay", "relay", "mempool", "download", "addr", "all", "in", "out"];

/// `-whitelist=[<permission>[,<permission>...]@]<ip or network>`.
pub(crate) fn parse_whitelist(s: &str) -> Result<String, String> {
    let (permissions, network) = match s.split_once('@') {
        Some((permissions, network)) => (Some(permissions), network),
        None => (None, s),
    };
    for permission in permissions.into_iter().flat_map(|p| p.split(',')) {
        if !PERMISSIONS.contains(&permission) {
            return Err(format!("Invalid P2P permission: '{permission}'"));
        }
    }
    network.parse::<Subnet>().map_err(|_| format!("Invalid netmask specified in -whitelist: '{network}'"))?;
    Ok(s.to_string())
}

/// Satoshis in one bitcoin.
const COIN: u64 = 100_000_000;
/// Bitcoin's 21 million limit, in satoshis (Core's `MoneyRange`).
const MAX_MONEY: u64 = 21_000_000 * COIN;

/// Bitcoin Core's `ParseMoney`: surrounding whitespace allowed, digits with at most 8 decimals,
/// no sign, at most 10 whole digits, within 21 million; the amount in satoshis.
pub(crate) fn parse_money(s: &str) -> Option<u64> {
    let s = s.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if s.is_empty() || whole.len() > 10 || fraction.len() > 8 || !digits(whole) || !digits(fraction) {
        return None;
    }
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: u64 = format!("{fraction:0<8}").parse().ok()?;
    let amount = whole.checked_mul(COIN)?.checked_add(fraction)?;
    (amount <= MAX_MONEY).then_some(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money() {
        assert_eq!(parse_money("0.0002"), Some(20_000));
        assert_eq!(parse_money(" 1 "), Some(COIN));
        assert_eq!(parse_money("1."), Some(COIN));
        assert_eq!(parse_money(".5"), Some(COIN / 2));
        assert_eq!(parse_money("21000000"), Some(MAX_MONEY));
        for bad in
            ["", ".", "-1", "+1", "1e3", "0.000000001", "21000000.00000001", "12345678901", "1 2", "abc"]
        {
            assert_eq!(parse_money(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn p2p_values() {
        assert!(parse_bind("127.0.0.1").is_ok());
        assert!(parse_bind("[::1]:18444=onion").is_ok());
        assert_eq!(parse_bind("localhost").unwrap_err(), "Cannot resolve -bind address: 'localhost'");
        for ok in ["0", "127.0.0.1:18444", "node.example", "::1", "[::1]:8333"] {
            assert!(parse_host(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "host:0", "host:x", ":1"] {
            assert!(parse_host(bad).is_err(), "{bad}");
        }
        assert!(parse_whitelist("noban,relay@127.0.0.1/8").is_ok());
        assert!(parse_whitelist("10.0.0.0/255.0.0.0").is_ok());
        assert_eq!(parse_whitelist("fly@1.2.3.4").unwrap_err(), "Invalid P2P permission: 'fly'");
        assert_eq!(parse_whitelist("x.y").unwrap_err(), "Invalid netmask specified in -whitelist: 'x.y'");
    }
}
