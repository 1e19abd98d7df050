//! The option table: every option once, as a clap `Arg` plus what clap has
//! no place for (which programs take it, whether `-noX` means something,
//! whether a config file may set it, the default shown by `-help`).
//!
//! From the table come the clap `Command` of each program, the set of keys a
//! config file may use, and the help text.

use clap::builder::ValueParser;
use clap::{Arg, ArgAction, Command};

use crate::values::{self, setting};
use crate::Program;

mod network;
mod policy;
mod storage;
mod testing;

/// The clap id of the cli's positional arguments (method and params).
pub(crate) const ARGS: &str = "args";

/// How an option takes values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A boolean: bare `-X` is true, `-X=0` / `-noX` false.
    Flag,
    /// One value; a later occurrence overrides an earlier one.
    Value,
    /// Repeatable; `-noX` clears what came before.
    List,
}

/// One option.
#[derive(Debug)]
pub(crate) struct OptionDef {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    /// Shown as `-name=<value_name>`; empty for flags.
    pub(crate) value_name: &'static str,
    /// What a bare `-X` means for a `Value` or `List` option; `None` when
    /// the option needs a value.
    pub(crate) bare: Option<&'static str>,
    pub(crate) help: &'static str,
    /// The default, as `-help` shows it.
    pub(crate) default: &'static str,
    pub(crate) programs: &'static [Program],
    /// Whether `-noX` is accepted (always for flags and lists).
    pub(crate) negatable: bool,
    /// Whether a config file may set it.
    pub(crate) in_file: bool,
    pub(crate) heading: &'static str,
    parser: fn() -> ValueParser,
}

const ALL: &[Program] = &[Program::Node, Program::Cli, Program::Wallet];
/// Node options the gui refuses: it cannot detach, and console output would garble its screen.
const NOT_FOR_GUI: &[&str] = &["daemon", "printtoconsole"];
const NODE: &[Program] = &[Program::Node];
const CLI: &[Program] = &[Program::Cli];
const WALLET_ONLY: &[Program] = &[Program::Wallet];
const NODE_AND_WALLET: &[Program] = &[Program::Node, Program::Wallet];
const NODE_AND_CLI: &[Program] = &[Program::Node, Program::Cli];
const CLI_AND_WALLET: &[Program] = &[Program::Cli, Program::Wallet];

const GENERAL: &str = "Options";
const CHAIN: &str = "Chain selection options";
const RPC: &str = "RPC options";
const WALLET: &str = "Wallet options";
const IPC: &str = "IPC options";
const DEBUG: &str = "Debugging and logging options";
const CONNECTION: &str = "Connection options (parsed and validated; this node has no P2P network)";
const RELAY: &str = "Node relay options";

fn bool_parser() -> ValueParser {
    ValueParser::new(setting(values::parse_bool))
}

/// A flag's definition; the other shapes spell out every field.
const fn flag(
    name: &'static str,
    help: &'static str,
    programs: &'static [Program],
    in_file: bool,
    heading: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        shape: Shape::Flag,
        value_name: "",
        bare: None,
        help,
        default: "0",
        programs,
        negatable: true,
        in_file,
        heading,
        parser: bool_parser,
    }
}

/// A flag that is on unless turned off (`-noX`, `-X=0`).
const fn flag_on(
    name: &'static str,
    help: &'static str,
    programs: &'static [Program],
    heading: &'static str,
) -> OptionDef {
    OptionDef { default: "1", ..flag(name, help, programs, true, heading) }
}

/// A single-valued option a config file may set; `-noX` unsets it when `negatable`.
#[allow(clippy::too_many_arguments)]
const fn value(
    name: &'static str,
    value_name: &'static str,
    help: &'static str,
    default: &'static str,
    programs: &'static [Program],
    negatable: bool,
    heading: &'static str,
    parser: fn() -> ValueParser,
) -> OptionDef {
    OptionDef {
        name,
        shape: Shape::Value,
        value_name,
        bare: None,
        help,
        default,
        programs,
        negatable,
        in_file: true,
        heading,
        parser,
    }
}

/// A repeatable option a config file may set; `-noX` clears what came before.
const fn list(
    name: &'static str,
    value_name: &'static str,
    help: &'static str,
    default: &'static str,
    programs: &'static [Program],
    heading: &'static str,
    parser: fn() -> ValueParser,
) -> OptionDef {
    OptionDef {
        name,
        shape: Shape::List,
        value_name,
        bare: None,
        help,
        default,
        programs,
        negatable: true,
        in_file: true,
        heading,
        parser,
    }
}

fn any_parser() -> ValueParser {
    ValueParser::new(setting(values::parse_any))
}

fn int_parser() -> ValueParser {
    ValueParser::new(setting(values::parse_int))
}

/// Every option, in the order `-help` lists them.
pub(crate) static OPTIONS: &[OptionDef] = &[
    OptionDef {
        help: "Print this help message and exit",
        negatable: false,
        ..flag("help", "", ALL, false, GENERAL)
    },
    OptionDef {
        help: "Print the version and exit",
        negatable: false,
        ..flag("version", "", ALL, false, GENERAL)
    },
    OptionDef {
        name: "conf",
        shape: Shape::Value,
        value_name: "file",
        bare: None,
        help: "Read options from this file, relative to -datadir unless absolute: a name ending in \
               .toml is read as TOML (like node.toml), any other in bitcoin.conf's format. It replaces \
               both default files; -noconf reads none. A missing default file is fine, a missing -conf \
               file an error",
        default: "bitcoin.conf and node.toml",
        programs: ALL,
        negatable: true,
        in_file: false,
        heading: GENERAL,
        parser: || ValueParser::new(setting(values::parse_path)),
    },
    OptionDef {
        name: "datadir",
        shape: Shape::Value,
        value_name: "dir",
        bare: None,
        help: "Specify the data directory",
        default: "$HOME/.mpx",
        programs: ALL,
        negatable: false,
        in_file: false,
        heading: GENERAL,
        parser: || ValueParser::new(setting(values::parse_path)),
    },
    flag("daemon", "Run in the background as a daemon", NODE, true, GENERAL),
    OptionDef {
        name: "pid",
        shape: Shape::Value,
        value_name: "file",
        bare: None,
        help: "Write the process id to this file, relative to the chain's data directory unless \
               absolute; -nopid writes none",
        default: "bitcoind.pid",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: GENERAL,
        parser: || ValueParser::new(setting(values::parse_path)),
    },
    flag(
        "reindex",
        "Rebuild the chain from the intact blocks in blocks/blocks.dat; a damaged file is kept \
         aside as blocks.dat.corrupt-<time>, not deleted",
        NODE,
        true,
        GENERAL,
    ),
    OptionDef {
        name: "includeconf",
        shape: Shape::List,
        value_name: "file",
        bare: None,
        help: "Read more options from this bitcoin.conf-format file, relative to -datadir unless \
               absolute (only in the main bitcoin.conf, not in an included file; on the command line \
               only -noincludeconf, which reads no included file)",
        default: "none",
        programs: ALL,
        negatable: true,
        in_file: false,
        heading: GENERAL,
        parser: || ValueParser::new(setting(values::parse_path)),
    },
    flag(
        "allowignoredconf",
        "Treat a bitcoin.conf in the data directory that is ignored because -conf names another \
         file as a warning, not an error",
        ALL,
        true,
        GENERAL,
    ),
    value(
        "blocknotify",
        "cmd",
        "Execute command when the best block changes (%s in cmd is replaced by block hash); run \
         with sh -c, not waited for",
        "none",
        NODE,
        true,
        GENERAL,
        any_parser,
    ),
    value(
        "startupnotify",
        "cmd",
        "Execute command on startup, once the node answers RPC (sh -c, not waited for)",
        "none",
        NODE,
        true,
        GENERAL,
        any_parser,
    ),
    list(
        "shutdownnotify",
        "cmd",
        "Execute command immediately before beginning shutdown (sh -c; the shutdown waits for it); \
         repeatable",
        "none",
        NODE,
        GENERAL,
        any_parser,
    ),
    value(
        "maxmempool",
        "n",
        "Keep the transaction memory pool below <n> megabytes (exposed; not yet enforced by this node)",
        "300",
        NODE,
        false,
        GENERAL,
        int_parser,
    ),
    value(
        "mempoolexpiry",
        "n",
        "Do not keep transactions in the mempool longer than <n> hours (exposed; not yet enforced by \
         this node)",
        "336",
        NODE,
        false,
        GENERAL,
        int_parser,
    ),
    value(
        "par",
        "n",
        "Set the number of script verification threads (0 = auto, up to 15, <0 = leave that many \
         cores free); accepted for compatibility, this node verifies scripts on one thread",
        "0",
        NODE,
        false,
        GENERAL,
        int_parser,
    ),
    flag_on(
        "persistmempool",
        "Whether to save the mempool on shutdown and load on restart (exposed; this node does not \
         persist its mempool yet)",
        NODE,
        GENERAL,
    ),
    value(
        "prevoutfetchthreads",
        "n",
        "Set the number of threads used to prefetch block input prevouts (0 disables, up to 16); \
         accepted for compatibility, this node has no prefetch threads",
        "8",
        NODE,
        false,
        GENERAL,
        int_parser,
    ),
    flag(
        "txindex",
        "Maintain a full transaction index (exposed; getrawtransaction here finds confirmed \
         transactions by scanning the chain)",
        NODE,
        true,
        GENERAL,
    ),
    OptionDef {
        name: "chain",
        shape: Shape::Value,
        value_name: "chain",
        bare: None,
        help: "Use the chain <chain>; only regtest is supported",
        default: "regtest",
        programs: ALL,
        negatable: false,
        in_file: true,
        heading: CHAIN,
        parser: || ValueParser::new(setting(values::parse_nonempty)),
    },
    OptionDef {
        default: "1",
        ..flag("regtest", "Use the regression test chain, equivalent to -chain=regtest", ALL, true, CHAIN)
    },
    flag("testnet", "Use the test chain; not supported (only regtest)", ALL, true, CHAIN),
    flag("testnet4", "Use the test4 chain; not supported (only regtest)", ALL, true, CHAIN),
    flag("signet", "Use the signet chain; not supported (only regtest)", ALL, true, CHAIN),
    OptionDef {
        name: "debug",
        shape: Shape::List,
        value_name: "category",
        bare: Some("1"),
        help: "Log debugging information for <category>; repeatable. -debug, -debug=1 or -debug=all \
               log every category, -debug=0 or -debug=none ignore the categories before it, -nodebug \
               none. Categories (Bitcoin Core's; those of subsystems this node lacks have no events): \
               addrman, bench, blockstorage, cmpctblock, coindb, estimatefee, http, i2p, ipc, kernel, \
               leveldb, mempool, mempoolrej, net, privatebroadcast, proxy, prune, qt, rand, reindex, \
               rpc, scan, selectcoins, tor, txpackages, txreconciliation, validation, walletdb, zmq",
        default: "none",
        programs: NODE_AND_WALLET,
        negatable: true,
        in_file: true,
        heading: DEBUG,
        parser: any_parser,
    },
    list(
        "debugexclude",
        "category",
        "Exclude debug and trace logging for a category (takes priority over -debug); repeatable",
        "none",
        NODE_AND_WALLET,
        DEBUG,
        any_parser,
    ),
    value(
        "debuglogfile",
        "file",
        "Specify location of the debug log file, relative to the chain's data directory unless \
         absolute; -nodebuglogfile writes no log file",
        "debug.log",
        NODE_AND_WALLET,
        true,
        DEBUG,
        || ValueParser::new(setting(values::parse_path)),
    ),
    OptionDef {
        negatable: false,
        ..list(
            "loglevel",
            "<level>|<category>:<level>",
            "Set the global or per-category severity level for categories enabled with -debug: \
             info, debug or trace (warning, error and info are always logged); <category>:<level> \
             overrides the global level for one category; repeatable",
            "debug",
            NODE_AND_WALLET,
            DEBUG,
            any_parser,
        )
    },
    flag_on(
        "logratelimit",
        "Apply rate limiting to unconditional logging (info and above) to mitigate disk-filling \
         attacks: more than 1 MiB from one source location within an hour is dropped from the file \
         until the hour ends",
        NODE_AND_WALLET,
        DEBUG,
    ),
    flag(
        "logsourcelocations",
        "Prepend debug output with the originating source location ([file:line] [module])",
        NODE_AND_WALLET,
        true,
        DEBUG,
    ),
    flag(
        "logthreadnames",
        "Prepend debug output with name of the originating thread",
        NODE_AND_WALLET,
        true,
        DEBUG,
    ),
    flag("logtimemicros", "Add microsecond precision to debug timestamps", NODE_AND_WALLET, true, DEBUG),
    flag_on("logtimestamps", "Prepend debug output with timestamp", NODE_AND_WALLET, DEBUG),
    OptionDef {
        default: "1 when no -debug",
        ..flag(
            "shrinkdebugfile",
            "Shrink the debug log file on startup: over 11 MB, it is cut to its last 10 MB",
            NODE_AND_WALLET,
            true,
            DEBUG,
        )
    },
    list(
        "uacomment",
        "cmt",
        "Append comment to the user agent string (letters, digits and \" .,;-_?@\")",
        "none",
        NODE,
        DEBUG,
        any_parser,
    ),
    flag(
        "printtoconsole",
        "Send log messages to the console as well as to debug.log",
        NODE_AND_WALLET,
        true,
        DEBUG,
    ),
    list(
        "bind",
        "<addr>[:<port>][=onion]",
        "Bind to given address and always listen on it",
        "0.0.0.0",
        NODE,
        CONNECTION,
        || ValueParser::new(setting(values::parse_bind)),
    ),
    list(
        "connect",
        "ip",
        "Connect only to the specified node; -noconnect or -connect=0 disables automatic connections",
        "none",
        NODE,
        CONNECTION,
        || ValueParser::new(setting(values::parse_host)),
    ),
    flag_on("discover", "Discover own IP addresses", NODE, CONNECTION),
    flag_on("dnsseed", "Query for peer addresses via DNS lookup, if low on addresses", NODE, CONNECTION),
    flag_on("fixedseeds", "Allow fixed seeds if DNS seeds don't provide peers", NODE, CONNECTION),
    flag_on("listen", "Accept connections from outside", NODE, CONNECTION),
    flag_on("listenonion", "Automatically create Tor onion service", NODE, CONNECTION),
    value(
        "maxconnections",
        "n",
        "Maintain at most <n> automatic connections to peers",
        "125",
        NODE,
        false,
        CONNECTION,
        int_parser,
    ),
    flag_on("natpmp", "Use PCP or NAT-PMP to map the listening port", NODE, CONNECTION),
    value(
        "peertimeout",
        "n",
        "Seconds after connecting to a peer before considering disconnection based on inactivity \
         (minimum: 1)",
        "60",
        NODE,
        false,
        CONNECTION,
        int_parser,
    ),
    value("port", "port", "Listen for connections on <port>", "18444", NODE, false, CONNECTION, || {
        ValueParser::new(setting(values::parse_port))
    }),
    flag_on("v2transport", "Support v2 transport", NODE, CONNECTION),
    list(
        "whitelist",
        "[<permissions>@]<ip or network>",
        "Add permission flags to the peers connecting from the given IP address or network",
        "none",
        NODE,
        CONNECTION,
        || ValueParser::new(setting(values::parse_whitelist)),
    ),
    value(
        "dustrelayfee",
        "amt",
        "Fee rate (in BTC/kvB) used to define dust (exposed; this node's policy does not apply it yet)",
        "0.00003",
        NODE,
        false,
        RELAY,
        any_parser,
    ),
    value(
        "minrelaytxfee",
        "amt",
        "Fees (in BTC/kvB) smaller than this are considered zero fee for relaying and mempool \
         acceptance (exposed; this node's mempool uses a fixed 0.00001)",
        "0.000001",
        NODE,
        false,
        RELAY,
        any_parser,
    ),
    OptionDef {
        name: "rpcallowip",
        shape: Shape::List,
        value_name: "ip",
        bare: None,
        help: "Allow JSON-RPC connections from this source: a single IP (e.g. 1.2.3.4), a \
               network/netmask (e.g. 1.2.3.4/255.255.255.0) or a network/CIDR (e.g. 1.2.3.4/24); \
               repeatable. Loopback is always allowed",
        default: "loopback only",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_subnet)),
    },
    OptionDef {
        name: "rpcauth",
        shape: Shape::List,
        value_name: "userpw",
        bare: None,
        help: "Username and HMAC-SHA-256 hashed password for JSON-RPC connections, as \
               <USERNAME>:<SALT>$<HASH> (bitcoind's share/rpcauth makes them); repeatable, \
               beside the cookie or -rpcuser/-rpcpassword",
        default: "none",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_rpcauth)),
    },
    OptionDef {
        name: "rpcbind",
        shape: Shape::List,
        value_name: "addr",
        bare: None,
        help: "Listen for JSON-RPC connections on this IP address, optionally with :<port> \
               (which overrides -rpcport); repeatable. Ignored unless -rpcallowip is also given, \
               so RPC never leaves loopback by accident",
        default: "127.0.0.1 and ::1",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: RPC,
        // Checked when the settings are built, with Core's messages.
        parser: any_parser,
    },
    OptionDef {
        name: "rpcconnect",
        shape: Shape::Value,
        value_name: "ip",
        bare: None,
        help: "Send commands to the node at this IP address, optionally with :<port> \
               (which overrides -rpcport)",
        default: "127.0.0.1",
        programs: CLI,
        negatable: false,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_ip_with_port)),
    },
    OptionDef {
        name: "rpcport",
        shape: Shape::Value,
        value_name: "port",
        bare: None,
        help: "The JSON-RPC port",
        default: "18443",
        programs: NODE_AND_CLI,
        negatable: false,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_port)),
    },
    OptionDef {
        name: "rpcuser",
        shape: Shape::Value,
        value_name: "user",
        bare: None,
        help: "Username for JSON-RPC connections; with -rpcpassword instead of the cookie file",
        default: "none: cookie authentication",
        programs: NODE_AND_CLI,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_rpcuser)),
    },
    OptionDef {
        name: "rpcpassword",
        shape: Shape::Value,
        value_name: "pw",
        bare: None,
        help: "Password for JSON-RPC connections; with -rpcuser",
        default: "none: cookie authentication",
        programs: NODE_AND_CLI,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: any_parser,
    },
    OptionDef {
        name: "rpcservertimeout",
        shape: Shape::Value,
        value_name: "n",
        bare: None,
        help: "Seconds a JSON-RPC connection may stay silent (idle between requests, or stalled \
               sending a request or reading a reply) before it is closed; 0 disables the idle \
               timeout",
        default: "30",
        programs: NODE,
        negatable: false,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_count)),
    },
    OptionDef {
        name: "rpcthreads",
        shape: Shape::Value,
        value_name: "n",
        bare: None,
        help: "Number of threads that execute JSON-RPC requests (at least 1)",
        default: "16",
        programs: NODE,
        negatable: false,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_count)),
    },
    OptionDef {
        name: "rpcwhitelist",
        shape: Shape::List,
        value_name: "whitelist",
        bare: None,
        help: "The only methods a JSON-RPC user may call: <USERNAME>:<rpc 1>,<rpc 2>,...; \
               repeatable, a user given twice gets the methods both allow",
        default: "none",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_any)),
    },
    flag(
        "rpcwhitelistdefault",
        "With -rpcwhitelist, a user it does not name may call no method; 0 lets such a user call \
         every method (default: 1 when -rpcwhitelist is given, else 0)",
        NODE,
        true,
        RPC,
    ),
    flag(
        "rpcdoccheck",
        "Throw a non-fatal error at runtime if the documentation for an RPC is incorrect; accepted \
         for compatibility, this node's RPC help is not generated from checked documentation",
        NODE,
        true,
        RPC,
    ),
    flag_on("server", "Accept JSON-RPC commands; -server=0 runs without the RPC server", NODE, RPC),
    flag("rpcwait", "Wait for the RPC server to start", CLI, true, RPC),
    OptionDef {
        name: "rpcwallet",
        shape: Shape::Value,
        value_name: "name",
        bare: None,
        help: "Send wallet RPC methods to this wallet (the /wallet/<name> endpoint)",
        default: "none",
        programs: CLI,
        negatable: true,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_wallet_name)),
    },
    OptionDef {
        name: "rpcworkqueue",
        shape: Shape::Value,
        value_name: "n",
        bare: None,
        help: "Depth of the queue of JSON-RPC requests waiting for a thread (at least 1); a request \
               beyond it gets 503 \"Work queue depth exceeded\"",
        default: "64",
        programs: NODE,
        negatable: false,
        in_file: true,
        heading: RPC,
        parser: || ValueParser::new(setting(values::parse_count)),
    },
    flag(
        "disablewallet",
        "Do not load the wallet and disable wallet RPC calls (wallet processes that join with \
         -ipcconnect still serve theirs)",
        NODE,
        true,
        WALLET,
    ),
    OptionDef {
        name: "wallet",
        shape: Shape::List,
        value_name: "name",
        bare: None,
        help: "Load the wallet <name> (<chain datadir>/wallets/<name>/) at startup; repeatable. \
               -nowallet loads none",
        default: "none",
        programs: NODE_AND_WALLET,
        negatable: true,
        in_file: true,
        heading: WALLET,
        parser: || ValueParser::new(setting(values::parse_wallet_name)),
    },
    value(
        "fallbackfee",
        "amt",
        "A fee rate (in BTC/kvB) the wallet uses when fee estimation has insufficient data; 0 \
         disables the fallback, as bitcoind's default (this node's default is what regtest setups \
         give bitcoind)",
        "0.0002",
        NODE_AND_WALLET,
        false,
        WALLET,
        any_parser,
    ),
    value(
        "keypool",
        "n",
        "Set key pool size to <n>, at least 1 (exposed for the wallet)",
        "1000",
        NODE,
        false,
        WALLET,
        int_parser,
    ),
    flag(
        "unsafesqlitesync",
        "Set SQLite synchronous=OFF to speed up wallet writes at the risk of losing them on a crash \
         (exposed for the wallet)",
        NODE,
        true,
        WALLET,
    ),
    value(
        "walletnotify",
        "cmd",
        "Execute command when a wallet transaction changes (%s in cmd is replaced by TxID, %w by \
         the wallet name, %b by the block hash or 'unconfirmed', %h by the height or -1)",
        "none",
        NODE_AND_WALLET,
        true,
        WALLET,
        any_parser,
    ),
    OptionDef {
        name: "ipcbind",
        shape: Shape::List,
        value_name: "addr",
        bare: Some("unix"),
        help: "Listen for IPC connections at 'unix' (<chain datadir>/node.sock) or 'unix:<path>'; \
               repeatable",
        default: "none",
        programs: NODE,
        negatable: true,
        in_file: true,
        heading: IPC,
        parser: || ValueParser::new(setting(values::parse_ipc_bind)),
    },
    OptionDef {
        name: "ipcconnect",
        shape: Shape::Value,
        value_name: "addr",
        bare: Some("unix"),
        help: "Connect to a node over IPC at 'unix' (<chain datadir>/node.sock), 'unix:<path>' or \
               'auto' (unix if a node listens there, else as without it); -noipcconnect or \
               -ipcconnect=0 does not connect",
        default: "none",
        programs: CLI_AND_WALLET,
        negatable: true,
        in_file: true,
        heading: IPC,
        parser: || ValueParser::new(setting(values::parse_ipc_connect)),
    },
    OptionDef {
        name: "ipcfd",
        shape: Shape::Value,
        value_name: "n",
        bare: None,
        help: "Serve IPC on this inherited socket (set by the spawning node as -ipcfd <n>; \
               taken before the other options are read)",
        default: "none",
        programs: WALLET_ONLY,
        negatable: true,
        in_file: false,
        heading: IPC,
        parser: || ValueParser::new(setting(values::parse_fd)),
    },
];

/// Every option: the main table, then the groups kept in their own files.
fn all() -> impl Iterator<Item = &'static OptionDef> {
    OPTIONS
        .iter()
        .chain(storage::OPTIONS)
        .chain(network::OPTIONS)
        .chain(policy::OPTIONS)
        .chain(testing::OPTIONS)
}

/// The option called `name`, whichever programs take it.
pub(crate) fn find(name: &str) -> Option<&'static OptionDef> {
    all().find(|def| def.name == name)
}

/// The options `program` takes, in table order.
pub(crate) fn for_program(program: Program) -> impl Iterator<Item = &'static OptionDef> {
    all().filter(move |def| def.is_for(program))
}

impl OptionDef {
    /// Whether `program` takes this option. The gui takes the node's options (it runs or
    /// spawns a node) except those a full-screen terminal ui cannot honour, and `-ipcconnect`.
    pub(crate) fn is_for(&self, program: Program) -> bool {
        match program {
            Program::Gui => {
                (self.programs.contains(&Program::Node) && !NOT_FOR_GUI.contains(&self.name))
                    || self.name == "ipcconnect"
            }
            _ => self.programs.contains(&program),
        }
    }

    /// The clap argument. Every option is a long option that takes its value
    /// after `=` only, so a value never swallows the next argument.
    fn arg(&self) -> Arg {
        let arg = Arg::new(self.name)
            .long(self.name)
            .require_equals(true)
            .value_parser((self.parser)())
            .help(self.help);
        let arg = if self.value_name.is_empty() { arg } else { arg.value_name(self.value_name) };
        let arg = match self.shape {
            Shape::Flag => arg.num_args(0..=1).default_missing_value("1").action(ArgAction::Set),
            Shape::Value => arg.num_args(1).action(ArgAction::Set),
            Shape::List => arg.num_args(1).action(ArgAction::Append),
        };
        match self.bare {
            Some(bare) => arg.num_args(0..=1).default_missing_value(bare),
            None => arg,
        }
    }

    /// `-name` or `-name=<value>`, as `-help` shows it.
    fn synopsis(&self) -> String {
        match (self.shape, self.bare) {
            (Shape::Flag, _) if self.name == "help" => "-?, -h, -help".to_string(),
            (Shape::Flag, _) => format!("-{}", self.name),
            (_, Some(_)) => format!("-{0}, -{0}=<{1}>", self.name, self.value_name),
            // A value name with its own brackets is shown as written.
            (_, None) if self.value_name.contains('<') => format!("-{}={}", self.name, self.value_name),
            (_, None) => format!("-{}=<{}>", self.name, self.value_name),
        }
    }
}

/// The clap command for `program`.
pub(crate) fn command(program: Program) -> Command {
    let command = Command::new(program.executable())
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        // A later occurrence of a single-valued option overrides an earlier one.
        .args_override_self(true)
        .args(for_program(program).map(OptionDef::arg));
    if program.takes_args() {
        command.arg(Arg::new(ARGS).num_args(1..).action(ArgAction::Append).last(true))
    } else {
        command
    }
}

/// The `-help` text of `program`.
pub(crate) fn help(program: Program) -> String {
    let mut out = format!("Usage: {} {}\n", program.executable(), program.usage());
    // Each heading once, in the order headings first appear.
    let mut headings: Vec<&str> = Vec::new();
    for def in for_program(program) {
        if !headings.contains(&def.heading) {
            headings.push(def.heading);
        }
    }
    let mut heading = "";
    let grouped = headings.into_iter().flat_map(|h| for_program(program).filter(move |def| def.heading == h));
    for def in grouped {
        if def.heading != heading {
            heading = def.heading;
            out.push_str(&format!("\n{heading}:\n"));
        }
        out.push_str(&format!("\n  {}\n", def.synopsis()));
        let text = format!("{} (default: {})", def.help, def.default);
        for line in wrap(&text, 72) {
            out.push_str(&format!("       {line}\n"));
        }
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_accepts_every_program_command() {
        for program in Program::ALL {
            command(program).debug_assert();
        }
    }

    #[test]
    fn table_is_consistent() {
        let every: Vec<&OptionDef> = all().collect();
        for (i, def) in every.iter().enumerate() {
            assert!(every[..i].iter().all(|other| other.name != def.name), "{} twice", def.name);
            assert!(!def.name.starts_with("no"), "{}: would clash with negation", def.name);
            assert_eq!(def.shape == Shape::Flag, def.value_name.is_empty(), "{}", def.name);
            if def.shape != Shape::Value {
                // -loglevel: Core's DISALLOW_NEGATION.
                assert!(def.negatable || ["help", "version", "loglevel"].contains(&def.name), "{}", def.name);
            }
        }
    }

    #[test]
    fn debug_help_names_every_category() {
        let debug = find("debug").unwrap();
        for category in crate::DebugCategory::ALL {
            assert!(debug.help.contains(category.name()), "{category}");
        }
    }

    #[test]
    fn wrap_splits_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
