//! `-whitelist=[<permissions>@]<ip or network>`: the permissions an inbound peer from a listed
//! network gets (Core's `NetPermissions`). Only their names are shown (`getpeerinfo`'s
//! `permissions`) and `noban` is applied the one way that matters here: transactions are
//! announced to such a peer at once instead of after the trickle delay. Entries given with `out`
//! apply to our manual connections too, `in` (or neither) to inbound ones only.

use std::net::IpAddr;

/// Core's default when an entry names no permission.
const DEFAULT: &[&str] = &["noban", "mempool", "download", "relay"];
/// Core's order for `getpeerinfo`.
const ORDER: &[&str] = &["bloomfilter", "noban", "forcerelay", "relay", "mempool", "download", "addr"];

/// One parsed `-whitelist` entry.
#[derive(Debug, Clone)]
pub(crate) struct WhitelistEntry {
    subnet: config::Subnet,
    permissions: Vec<&'static str>,
    inbound: bool,
    outbound: bool,
}

/// Parses the `-whitelist` values (already validated by the config; an entry that does not
/// parse is skipped).
pub(crate) fn parse(entries: &[String]) -> Vec<WhitelistEntry> {
    entries
        .iter()
        .filter_map(|entry| {
            let (names, network) = match entry.split_once('@') {
                Some((names, network)) => (names.split(',').collect::<Vec<_>>(), network),
                None => (Vec::new(), entry.as_str()),
            };
            let subnet = network.parse::<config::Subnet>().ok()?;
            let mut permissions = Vec::new();
            let (mut inbound, mut outbound) = (false, false);
            for name in &names {
                match *name {
                    "in" => inbound = true,
                    "out" => outbound = true,
                    "all" => permissions.extend_from_slice(ORDER),
                    // "forcerelay" implies "relay", as in Core.
                    "forcerelay" => permissions.extend_from_slice(&["forcerelay", "relay"]),
                    other => permissions.extend(ORDER.iter().copied().filter(|p| *p == other)),
                }
            }
            if permissions.is_empty() && !names.iter().any(|n| !matches!(*n, "in" | "out")) {
                permissions.extend_from_slice(DEFAULT);
            }
            if !inbound && !outbound {
                inbound = true;
            }
            Some(WhitelistEntry { subnet, permissions, inbound, outbound })
        })
        .collect()
}

/// The permissions of a peer at `ip` (in Core's order).
pub(crate) fn for_peer(whitelist: &[WhitelistEntry], ip: IpAddr, inbound: bool) -> Vec<&'static str> {
    let granted: Vec<&'static str> = whitelist
        .iter()
        .filter(|e| if inbound { e.inbound } else { e.outbound })
        .filter(|e| e.subnet.contains(ip))
        .flat_map(|e| e.permissions.iter().copied())
        .collect();
    ORDER.iter().copied().filter(|p| granted.contains(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entries: &[&str], ip: &str, inbound: bool, expect: &[&str]) {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        let ip: IpAddr = ip.parse().expect("an address");
        assert_eq!(for_peer(&parse(&entries), ip, inbound), expect, "{entries:?} {ip} inbound={inbound}");
    }

    #[test]
    fn permissions_by_network_and_direction() {
        check(&["noban@127.0.0.1"], "127.0.0.1", true, &["noban"]);
        check(&["noban@127.0.0.1"], "127.0.0.2", true, &[]);
        check(&["noban@127.0.0.1"], "127.0.0.1", false, &[]);
        check(&["noban,out@127.0.0.0/8"], "127.0.0.9", false, &["noban"]);
        check(&["127.0.0.1"], "127.0.0.1", true, &["noban", "relay", "mempool", "download"]);
        check(&["forcerelay@::1"], "::1", true, &["forcerelay", "relay"]);
        check(&["mempool@10.0.0.0/8", "noban@10.1.0.0/16"], "10.1.2.3", true, &["noban", "mempool"]);
    }
}
