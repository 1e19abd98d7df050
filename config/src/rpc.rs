//! The JSON-RPC server's settings as bitcoind defines them: which addresses it listens on
//! (`-rpcbind` only together with `-rpcallowip`), which clients it serves (`-rpcallowip`
//! subnets, loopback always), the salted `-rpcauth` credentials, and the sizes of its worker
//! pool and queue.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// bitcoind's `DEFAULT_HTTP_THREADS`: threads that execute requests (`-rpcthreads`).
pub const DEFAULT_RPC_THREADS: usize = 16;
/// bitcoind's `DEFAULT_HTTP_WORKQUEUE`: requests waiting for a thread (`-rpcworkqueue`).
pub const DEFAULT_RPC_WORK_QUEUE: usize = 64;
/// bitcoind's `DEFAULT_HTTP_SERVER_TIMEOUT` in seconds (`-rpcservertimeout`).
pub const DEFAULT_RPC_SERVER_TIMEOUT_SECS: u64 = 30;

/// A network a client address may belong to (`-rpcallowip`): an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    network: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// The subnet of every address that shares the first `prefix` bits of `address`;
    /// `None` if `prefix` is longer than the address.
    pub fn new(address: IpAddr, prefix: u8) -> Option<Subnet> {
        let bits = address_bits(address);
        (u32::from(prefix) <= bits).then(|| Subnet { network: mask(address, prefix), prefix })
    }

    /// One address.
    pub fn single(address: IpAddr) -> Subnet {
        let prefix = if address.is_ipv4() { 32 } else { 128 };
        Subnet { network: address, prefix }
    }

    /// Whether the network address is in fc00::/8: a CJDNS address once `-cjdnsreachable` says
    /// this host is on CJDNS (fd00::/8, RFC4193 with the L bit, stays a private IPv6 network).
    pub fn is_cjdns(&self) -> bool {
        matches!(self.network, IpAddr::V6(v6) if v6.octets()[0] == 0xfc)
    }

    /// Whether `address` is in this subnet. An IPv4 address mapped into IPv6
    /// (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers) counts as that IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        address.is_ipv4() == self.network.is_ipv4() && mask(address, self.prefix) == self.network
    }

    /// Loopback, always allowed: `127.0.0.0/8` and `::1`.
    pub fn loopback() -> [Subnet; 2] {
        [
            Subnet { network: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), prefix: 8 },
            Subnet::single(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `1.2.3.4`, `1.2.3.4/24`, `1.2.3.4/255.255.255.0`, `::/0`, `fe80::/10`: bitcoind's forms.
impl FromStr for Subnet {
    type Err = String;

    fn from_str(s: &str) -> Result<Subnet, String> {
        let invalid = || {
            format!(
                "Invalid -rpcallowip subnet specification: {s}. Valid values are a single IP (e.g. \
                 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. \
                 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0)"
            )
        };
        let (address, mask_text) = match s.split_once('/') {
            Some((address, mask)) => (address, Some(mask)),
            None => (s, None),
        };
        // Core also takes an IPv6 address in brackets (`[::1]`).
        let address = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(address);
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        let Some(mask_text) = mask_text else {
            return Ok(Subnet::single(address));
        };
        if let Ok(prefix) = mask_text.parse::<u8>() {
            return Subnet::new(address, prefix).ok_or_else(invalid);
        }
        // A netmask: same family, ones followed by zeros.
        let netmask: IpAddr = mask_text.parse().map_err(|_| invalid())?;
        if netmask.is_ipv4() != address.is_ipv4() {
            return Err(invalid());
        }
        // Contiguous: every one bit is in the leading run.
        let ones = as_u128(netmask).leading_ones().min(address_bits(netmask));
        if ones != as_u128(netmask).count_ones() {
            return Err(invalid());
        }
        Subnet::new(address, ones as u8).ok_or_else(invalid)
    }
}

fn address_bits(address: IpAddr) -> u32 {
    if address.is_ipv4() {
        32
    } else {
        128
    }
}

fn as_u128(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `address` with all but its first `prefix` bits cleared (`prefix` at most the address's bits).
fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    // Both families as the top bits of a u128, so one mask serves both.
    let keep = if prefix >= 128 { u128::MAX } else { !(u128::MAX >> prefix) };
    let bits = as_u128(address) & keep;
    match address {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from((bits >> 96) as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// One `-rpcauth=<user>:<salt>$<hash>` line: `hash` is the hex HMAC-SHA256 of the password
/// keyed with `salt` (bitcoind's `share/rpcauth` output).
#[derive(Clone, PartialEq, Eq)]
pub struct RpcAuthHash {
    /// The user name.
    pub user: String,
    /// The salt, as written (its text is the HMAC key).
    pub salt: String,
    /// The expected HMAC, lower-case hex.
    pub hash: String,
}

/// Hides the salt and hash, so a `{:?}` of a [`Config`](crate::Config) is safe to log.
impl fmt::Debug for RpcAuthHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcAuthHash").field("user", &self.user).finish_non_exhaustive()
    }
}

impl FromStr for RpcAuthHash {
    type Err = String;

    fn from_str(s: &str) -> Result<RpcAuthHash, String> {
        let invalid = || "Invalid -rpcauth argument (expected <user>:<salt>$<hash>)".to_string();
        let (user, salted) = s.split_once(':').ok_or_else(invalid)?;
        if salted.contains(':') {
            return Err(invalid());
        }
        let (salt, hash) = salted.split_once('$').ok_or_else(invalid)?;
        if user.is_empty() || salt.is_empty() || hash.contains('$') {
            return Err(invalid());
        }
        // Core checks only the shape: a hash that is not 64 hex digits is kept and simply never
        // matches a password (Core's own tests start a node with one).
        Ok(RpcAuthHash { user: user.to_string(), salt: salt.to_string(), hash: hash.to_ascii_lowercase() })
    }
}

/// bitcoind's `-rpcwhitelist` rules: the users named have only their methods (a user named
/// twice, the methods both entries allow; `<user>` alone, or `<user>:`, none); with `default_deny`
/// (`-rpcwhitelistdefault`, on by default once any `-rpcwhitelist` is given) every other user may
/// call nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpcWhitelist {
    /// The methods of each user named (method names split on `,` and spaces, as bitcoind).
    pub users: BTreeMap<String, BTreeSet<String>>,
    /// Whether a user not named may call nothing.
    pub default_deny: bool,
}

impl RpcWhitelist {
    /// Builds the whitelist from the `-rpcwhitelist` values in order; `default_deny` is
    /// `-rpcwhitelistdefault` when given.
    pub fn from_entries(entries: &[String], default_deny: Option<bool>) -> RpcWhitelist {
        let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entry in entries {
            let (user, methods) = match entry.split_once(':') {
                Some((user, methods)) => (user, Some(methods)),
                None => (entry.as_str(), None),
            };
            let seen = users.contains_key(user);
            let allowed = users.entry(user.to_string()).or_default();
            if let Some(methods) = methods {
                let given: BTreeSet<String> = methods.split([',', ' ']).map(str::to_string).collect();
                *allowed = if seen { allowed.intersection(&given).cloned().collect() } else { given };
            }
        }
        RpcWhitelist { default_deny: default_deny.unwrap_or(!entries.is_empty()), users }
    }

    /// Whether `user` may call `method`.
    pub fn allows(&self, user: &str, method: &str) -> bool {
        match self.users.get(user) {
            Some(methods) => methods.contains(method),
            None => !self.default_deny,
        }
    }

    /// Whether `user` may call some method: a user without any is refused before the request is read.
    pub fn allows_any(&self, user: &str) -> bool {
        self.users.contains_key(user) || !self.default_deny
    }
}

/// The JSON-RPC server's settings, bitcoind's rules applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcServerSettings {
    /// Addresses to listen on. Loopback (`[::1]` and `127.0.0.1` on `-rpcport`) unless both
    /// `-rpcbind` and `-rpcallowip` are given: RPC never leaves loopback by accident.
    pub bind: Vec<SocketAddr>,
    /// Why a `-rpcbind` or `-rpcallowip` was not used as given (bitcoind's warnings), to log.
    pub bind_warnings: Vec<&'static str>,
    /// Clients allowed: loopback, then each `-rpcallowip`.
    pub allow: Vec<Subnet>,
    /// `-rpcauth` credentials, besides the cookie or `-rpcuser`/`-rpcpassword`.
    pub auth_hashes: Vec<RpcAuthHash>,
    /// `-rpcwhitelist` / `-rpcwhitelistdefault`: which methods each user may call.
    pub whitelist: RpcWhitelist,
    /// `-rpcthreads`, at least 1.
    pub threads: usize,
    /// `-rpcworkqueue`, at least 1.
    pub work_queue: usize,
    /// `-rpcservertimeout`; `None` for 0 (no idle timeout, as in bitcoind).
    pub server_timeout: Option<Duration>,
}

impl RpcServerSettings {
    /// bitcoind's `-rpcbind` / `-rpcallowip` rule: both, or loopback with a warning.
    pub(crate) fn resolve_bind(
        requested: &[SocketAddr],
        allow_ip_given: bool,
        port: u16,
    ) -> (Vec<SocketAddr>, Vec<&'static str>) {
        if !requested.is_empty() && allow_ip_given {
            return (requested.to_vec(), Vec::new());
        }
        let mut warnings = Vec::new();
        if allow_ip_given {
            warnings
                .push("Option -rpcallowip was specified without -rpcbind; this doesn't usually make sense");
        }
        if !requested.is_empty() {
            warnings.push(
                "Option -rpcbind was ignored because -rpcallowip was not specified, refusing to allow \
                 everyone to connect",
            );
        }
        let loopback = vec![
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
        ];
        (loopback, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(s: &str) -> Result<String, String> {
        s.parse::<Subnet>().map(|n| n.to_string())
    }

    #[test]
    fn subnet_forms() {
        assert_eq!(subnet("1.2.3.4").unwrap(), "1.2.3.4/32");
        assert_eq!(subnet("1.2.3.4/24").unwrap(), "1.2.3.0/24");
        assert_eq!(subnet("1.2.3.4/255.255.0.0").unwrap(), "1.2.0.0/16");
        assert_eq!(subnet("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(subnet("::/0").unwrap(), "::/0");
        assert_eq!(subnet("fe80::1/10").unwrap(), "fe80::/10");
        for bad in ["", "1.2.3", "1.2.3.4/33", "1.2.3.4/255.0.255.0", "1.2.3.4/ffff::", "::1/129", "x/8"] {
            let e = subnet(bad).unwrap_err();
            assert!(e.starts_with("Invalid -rpcallowip subnet specification"), "{bad}: {e}");
        }
    }

    #[test]
    fn subnet_membership() {
        let net: Subnet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()), "IPv4-mapped peers count as IPv4");
        let [v4, v6] = Subnet::loopback();
        assert!(v4.contains("127.4.5.6".parse().unwrap()) && !v4.contains("::1".parse().unwrap()));
        assert!(v6.contains("::1".parse().unwrap()) && !v6.contains("::2".parse().unwrap()));
        let all: Subnet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()) && !all.contains("::2".parse().unwrap()));
    }

    #[test]
    fn rpcwhitelist_rules() {
        let entries = |e: &[&str]| e.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Core's rpc_whitelist users: a list, an intersection of two, a name alone, an empty list.
        let w = RpcWhitelist::from_entries(
            &entries(&[
                "a:getblockcount,getbestblockhash",
                "b:getblockcount, uptime",
                "b:uptime,echo",
                "c",
                "d:",
            ]),
            None,
        );
        assert!(w.default_deny, "on by default once a whitelist is given");
        assert!(w.allows("a", "getblockcount") && !w.allows("a", "uptime"));
        assert!(w.allows("b", "uptime") && !w.allows("b", "getblockcount") && !w.allows("b", "echo"));
        assert!(!w.allows("c", "uptime") && !w.allows("d", "uptime") && w.allows_any("c"));
        assert!(!w.allows("e", "uptime") && !w.allows_any("e"), "a user not named may call nothing");
        let open = RpcWhitelist::from_entries(&entries(&["a:uptime"]), Some(false));
        assert!(open.allows("e", "getblockcount") && !open.allows("a", "getblockcount"));
        assert!(RpcWhitelist::from_entries(&[], None).allows("anyone", "stop"));
        assert!(!RpcWhitelist::from_entries(&[], Some(true)).allows_any("anyone"));
    }

    #[test]
    fn rpcauth_lines() {
        let hash = "a".repeat(64);
        let ok: RpcAuthHash = format!("alice:c0ffee${hash}").parse().unwrap();
        assert_eq!(
            (ok.user.as_str(), ok.salt.as_str(), ok.hash.as_str()),
            ("alice", "c0ffee", hash.as_str())
        );
        assert!(!format!("{ok:?}").contains("c0ffee"), "salt hidden from logs");
        for bad in ["alice", "alice:salt", ":s$h", "a:b:c$d", "alice:$h"] {
            assert!(bad.parse::<RpcAuthHash>().is_err(), "{bad}");
        }
        // As Core: only the shape is checked; such a hash never matches a password.
        assert!("alice:salt$xyz".parse::<RpcAuthHash>().is_ok());
    }

    #[test]
    fn bind_needs_allowip() {
        let requested: Vec<SocketAddr> = vec!["0.0.0.0:9".parse().unwrap()];
        let (bind, warnings) = RpcServerSettings::resolve_bind(&requested, false, 5);
        assert_eq!(bind, ["[::1]:5".parse().unwrap(), "127.0.0.1:5".parse().unwrap()]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("-rpcbind was ignored"));
        let (bind, warnings) = RpcServerSettings::resolve_bind(&requested, true, 5);
        assert_eq!((bind, warnings.len()), (requested.clone(), 0));
        let (bind, warnings) = RpcServerSettings::resolve_bind(&[], true, 5);
        assert_eq!((bind.len(), warnings.len()), (2, 1));
    }
}
