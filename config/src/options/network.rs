//! The P2P options Core's tests and configurations pass beyond the basic ones: validated with
//! Core's meaning and named by the start-up "P2P not available" notice (this node has no P2P).

use clap::builder::ValueParser;

use super::{any_parser, flag, flag_on, list, value, OptionDef, CONNECTION, NODE};
use crate::values::{self, setting};

fn host_parser() -> ValueParser {
    ValueParser::new(setting(values::parse_host))
}

/// This group's options.
pub(super) static OPTIONS: &[OptionDef] = &[
    list(
        "addnode",
        "ip",
        "Add a node to connect to and attempt to keep the connection open; repeatable",
        "none",
        NODE,
        CONNECTION,
        host_parser,
    ),
    list(
        "seednode",
        "ip",
        "Connect to a node to retrieve peer addresses, and disconnect; repeatable",
        "none",
        NODE,
        CONNECTION,
        host_parser,
    ),
    value(
        "proxy",
        "ip:port",
        "Connect through SOCKS5 proxy, set -noproxy to disable",
        "disabled",
        NODE,
        true,
        CONNECTION,
        any_parser,
    ),
    flag_on("proxyrandomize", "Randomize credentials for every proxy connection", NODE, CONNECTION),
    list(
        "onlynet",
        "net",
        "Make automatic outbound connections only to network <net> (ipv4, ipv6, onion, i2p, cjdns); \
         repeatable",
        "any",
        NODE,
        CONNECTION,
        any_parser,
    ),
    list(
        "externalip",
        "ip",
        "Specify your own public address; repeatable",
        "none",
        NODE,
        CONNECTION,
        host_parser,
    ),
    flag("forcednsseed", "Always query for peer addresses via DNS lookup", NODE, true, CONNECTION),
    flag_on(
        "networkactive",
        "Enable all P2P network activity (can be changed by the setnetworkactive RPC command)",
        NODE,
        CONNECTION,
    ),
    flag("blocksonly", "Whether to reject transactions from network peers", NODE, true, CONNECTION),
    value(
        "timeout",
        "n",
        "Specify socket connection timeout in milliseconds (minimum: 1)",
        "5000",
        NODE,
        false,
        CONNECTION,
        super::int_parser,
    ),
    value(
        "maxuploadtarget",
        "n",
        "Tries to keep outbound traffic under the given target per 24h (0 = no limit; a number with an \
         optional k/m/g/t suffix, MiB by default)",
        "0",
        NODE,
        false,
        CONNECTION,
        any_parser,
    ),
    value(
        "torcontrol",
        "ip:port",
        "Tor control host and port to use if onion listening enabled",
        "127.0.0.1:9051",
        NODE,
        false,
        CONNECTION,
        any_parser,
    ),
    value("torpassword", "pass", "Tor control port password", "empty", NODE, false, CONNECTION, any_parser),
    value(
        "i2psam",
        "ip:port",
        "I2P SAM proxy to reach I2P peers and accept I2P connections",
        "none",
        NODE,
        true,
        CONNECTION,
        any_parser,
    ),
    flag_on("i2pacceptincoming", "Whether to accept inbound I2P connections", NODE, CONNECTION),
    flag(
        "logips",
        "Include IP addresses in debug output (Core's P2P log lines; the RPC server's lines always \
         name the client's address)",
        NODE,
        true,
        CONNECTION,
    ),
    flag(
        "cjdnsreachable",
        "If set, then this host is configured for CJDNS (connecting to fc00::/8 addresses would lead us \
         to the CJDNS network)",
        NODE,
        true,
        CONNECTION,
    ),
];
