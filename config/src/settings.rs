//! Groups of bitcoind's options, resolved with Core's defaults, bounds and error messages:
//! logging, mempool policy, the wallet's options, notification commands, and the P2P options
//! (parsed and validated with Core's meaning; this node has no P2P network).

use std::path::{Path, PathBuf};

use clap::ArgMatches;

use crate::config::{flag, flag_or, list, list_settings, value};
use crate::debug::{parse_category, DebugCategories, DebugCategory, LogLevel};
use crate::error::Error;
use crate::values::{parse_money, Setting};
use crate::Program;

/// How the log is written (`-debuglogfile`, `-logtimemicros`, `-logthreadnames`,
/// `-logsourcelocations`, `-loglevel`, `-logratelimit`, `-shrinkdebugfile`, `-logtimestamps`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogSettings {
    /// The log file (`-debuglogfile`, default `debug.log`, relative to the chain's data
    /// directory); `None` with `-nodebuglogfile`.
    pub file: Option<PathBuf>,
    /// Whether `-debug` asked for every category (`-debug`, `-debug=1`, `-debug=all`): then
    /// events outside the categories (other crates, module paths) show below info too.
    pub debug_all: bool,
    /// `-loglevel=<level>`: the level enabled categories log at (default debug).
    pub level: LogLevel,
    /// `-loglevel=<category>:<level>`, overriding `level` per category; `None` is `all`, which
    /// applies to events outside the categories.
    pub category_levels: Vec<(Option<DebugCategory>, LogLevel)>,
    /// `-logtimestamps` (default on).
    pub timestamps: bool,
    /// `-logtimemicros`: microseconds in the timestamps.
    pub time_micros: bool,
    /// `-logthreadnames`: `[thread] ` before each message.
    pub thread_names: bool,
    /// `-logsourcelocations`: `[file:line] [module] ` before each message.
    pub source_locations: bool,
    /// `-logratelimit` (default on): Core's per-source-location limit of 1 MiB an hour for
    /// info and above.
    pub rate_limit: bool,
    /// `-shrinkdebugfile` (default: on for the node unless `-debug` enables a category; off for
    /// `mpx-wallet`, which appends to the node's file): cut a log file over 11 MB to its last
    /// 10 MB at start.
    pub shrink_debug_file: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            file: Some(PathBuf::from(DEFAULT_DEBUG_LOG_FILE)),
            debug_all: false,
            level: LogLevel::Debug,
            category_levels: Vec::new(),
            timestamps: true,
            time_micros: false,
            thread_names: false,
            source_locations: false,
            rate_limit: true,
            shrink_debug_file: true,
        }
    }
}

/// The log file's default name in the chain's data directory.
pub const DEFAULT_DEBUG_LOG_FILE: &str = "debug.log";

/// `-debug` and `-debugexclude` with Core's rules: categories before the last `-debug=0` /
/// `-debug=none` are disregarded; an unknown name is Core's error; exclusions win.
pub(crate) fn debug_categories(m: &ArgMatches) -> Result<(DebugCategories, bool), Error> {
    let mut values: Vec<String> = Vec::new();
    for setting in list_settings::<String>(m, "debug") {
        match setting {
            Setting::Negated => values.clear(),
            Setting::Value(v) => values.push(v),
        }
    }
    let start = values.iter().rposition(|v| v == "0" || v == "none").map_or(0, |i| i + 1);
    let mut set = DebugCategories::none();
    let mut all = false;
    for name in &values[start..] {
        match parse_category(name) {
            Some(None) => {
                set = DebugCategories::all();
                all = true;
            }
            Some(Some(category)) => set.insert(category),
            None => return Err(Error::Core(format!("Unsupported logging category -debug={name}."))),
        }
    }
    for name in list::<String>(m, "debugexclude") {
        match parse_category(&name) {
            Some(None) => set = DebugCategories::none(),
            Some(Some(category)) => set.remove(category),
            None => return Err(Error::Core(format!("Unsupported logging category -debugexclude={name}."))),
        }
    }
    Ok((set, all))
}

pub(crate) fn log_settings(
    program: Program,
    m: &ArgMatches,
    chain_datadir: &Path,
    debug: DebugCategories,
    debug_all: bool,
) -> Result<LogSettings, Error> {
    let mut level = LogLevel::Debug;
    let mut category_levels = Vec::new();
    for text in list::<String>(m, "loglevel") {
        // Core looks for the ':' from the fourth character on.
        let has_colon = text.char_indices().any(|(i, c)| i >= 3 && c == ':');
        if !has_colon {
            level = LogLevel::parse(&text).ok_or_else(|| {
                Error::Core(format!(
                    "Unsupported global logging level -loglevel={text}. Valid values: {}.",
                    LogLevel::NAMES
                ))
            })?;
            continue;
        }
        let parsed = match text.split(':').collect::<Vec<_>>()[..] {
            [category, level] => parse_category(category).zip(LogLevel::parse(level)),
            _ => None,
        };
        let (category, category_level) = parsed.ok_or_else(|| {
            Error::Core(format!(
                "Unsupported category-specific logging level -loglevel={text}. Expected \
                 -loglevel=<category>:<loglevel>. Valid categories: {}. Valid loglevels: {}.",
                DebugCategory::names(),
                LogLevel::NAMES
            ))
        })?;
        category_levels.retain(|(c, _)| *c != category);
        category_levels.push((category, category_level));
    }
    let file = match crate::config::setting::<PathBuf>(m, "debuglogfile") {
        Some(Setting::Negated) => None,
        Some(Setting::Value(path)) => Some(chain_datadir.join(path)),
        None => Some(chain_datadir.join(DEFAULT_DEBUG_LOG_FILE)),
    };
    Ok(LogSettings {
        file,
        debug_all,
        level,
        category_levels,
        timestamps: flag_or(m, "logtimestamps", true),
        time_micros: flag(m, "logtimemicros"),
        thread_names: flag(m, "logthreadnames"),
        source_locations: flag(m, "logsourcelocations"),
        rate_limit: flag_or(m, "logratelimit", true),
        // A wallet process appends to the node's file, which the node shrinks.
        shrink_debug_file: flag_or(m, "shrinkdebugfile", debug.is_empty() && program == Program::Node),
    })
}

/// The mempool's policy options, Core's units (exposed; the node's mempool applies its own fixed
/// policy until it reads these).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MempoolSettings {
    /// `-maxmempool`, megabytes (default 300; 0, or at least 5).
    pub max_size_mb: u64,
    /// `-mempoolexpiry`, hours (default 336).
    pub expiry_hours: u64,
    /// `-minrelaytxfee`, sat/kvB (default 100, Core's current 0.000001 BTC/kvB).
    pub min_relay_fee: u64,
    /// `-dustrelayfee`, sat/kvB (default 3000).
    pub dust_relay_fee: u64,
    /// `-persistmempool` (default on).
    pub persist: bool,
}

pub(crate) fn mempool_settings(m: &ArgMatches) -> Result<MempoolSettings, Error> {
    let max_size_mb = match value::<i64>(m, "maxmempool") {
        None => 300,
        // Core's bound: 40 clusters of its 101 kvB limit, rounded up to whole megabytes.
        Some(mb) if mb < 0 || (mb > 0 && mb < 5) => {
            return Err(Error::Core("-maxmempool must be at least 5 MB".to_string()))
        }
        Some(mb) => mb.unsigned_abs(),
    };
    let expiry_hours = match value::<i64>(m, "mempoolexpiry") {
        None => 336,
        Some(hours) if hours < 0 => {
            return Err(Error::invalid("mempoolexpiry", &hours.to_string(), "must not be negative"))
        }
        Some(hours) => hours.unsigned_abs(),
    };
    Ok(MempoolSettings {
        max_size_mb,
        expiry_hours,
        min_relay_fee: amount(m, "minrelaytxfee")?.unwrap_or(100),
        dust_relay_fee: amount(m, "dustrelayfee")?.unwrap_or(3000),
        persist: flag_or(m, "persistmempool", true),
    })
}

/// A fee rate option in BTC/kvB, as sat/kvB; Core's message when it is not an amount.
fn amount(m: &ArgMatches, name: &str) -> Result<Option<u64>, Error> {
    match value::<String>(m, name) {
        None => Ok(None),
        Some(text) => parse_money(&text)
            .map(Some)
            .ok_or_else(|| Error::Core(format!("Invalid amount for -{name}=<amount>: '{text}'"))),
    }
}

/// The wallet's options, exposed for the wallet (which applies them; see the config README).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletOptions {
    /// `-fallbackfee`, sat/kvB, when given (`Some(0)`: no fallback, as bitcoind).
    pub fallback_fee: Option<u64>,
    /// `-keypool`, at least 1 (default 1000).
    pub keypool: u64,
    /// `-walletnotify=<cmd>`: `%s` txid, `%w` wallet name, `%b` block hash or `unconfirmed`, `%h`
    /// height or -1.
    pub notify: Option<String>,
    /// `-unsafesqlitesync`: SQLite `synchronous=OFF`.
    pub unsafe_sqlite_sync: bool,
}

pub(crate) fn wallet_options(m: &ArgMatches) -> Result<WalletOptions, Error> {
    Ok(WalletOptions {
        fallback_fee: amount(m, "fallbackfee")?,
        // Core: max(-keypool, 1).
        keypool: value::<i64>(m, "keypool").map_or(1000, |n| n.max(1).unsigned_abs()),
        notify: value::<String>(m, "walletnotify").filter(|cmd| !cmd.is_empty()),
        unsafe_sqlite_sync: flag(m, "unsafesqlitesync"),
    })
}

/// Commands run on node events, each with `sh -c` as bitcoind runs them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Notify {
    /// `-blocknotify=<cmd>`: on each new tip after start, `%s` replaced by the block hash.
    pub block: Option<String>,
    /// `-startupnotify=<cmd>`: once the node has started.
    pub startup: Option<String>,
    /// `-shutdownnotify=<cmd>`, repeatable: before the shutdown begins, waited for.
    pub shutdown: Vec<String>,
    /// `-alertnotify=<cmd>`: on an alert, `%s` replaced by the message (this node raises none).
    pub alert: Option<String>,
}

pub(crate) fn notify(m: &ArgMatches) -> Notify {
    let command = |name| value::<String>(m, name).filter(|cmd| !cmd.is_empty());
    Notify {
        block: command("blocknotify"),
        startup: command("startupnotify"),
        shutdown: list::<String>(m, "shutdownnotify").into_iter().filter(|cmd| !cmd.is_empty()).collect(),
        alert: command("alertnotify"),
    }
}

/// The P2P options, validated with Core's syntax and bounds. This node has no P2P network: they
/// are exposed so that `getnetworkinfo` and the start-up log can tell the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct P2pSettings {
    /// `-port` (default 18444, regtest's).
    pub port: u16,
    /// `-bind=<addr>[:<port>][=onion]` values.
    pub bind: Vec<String>,
    /// `-listen` (default on, off with `-connect` and no `-bind`, as in Core).
    pub listen: bool,
    /// `-addnode` values: nodes kept connected.
    pub addnode: Vec<String>,
    /// `-connect` values; `-connect=0` / `-noconnect` give `no_auto_connect` and no address.
    pub connect: Vec<String>,
    /// Whether automatic outbound connections are off (`-connect` given, `-noconnect`,
    /// `-connect=0` or `-maxconnections=0`).
    pub no_auto_connect: bool,
    /// `-maxconnections` (default 125).
    pub max_connections: u64,
    /// `-v2transport` (default on).
    pub v2transport: bool,
    /// `-peertimeout`, seconds (default 60, at least 1).
    pub peer_timeout_secs: u64,
    /// `-discover` (default on).
    pub discover: bool,
    /// `-dnsseed` (default on).
    pub dnsseed: bool,
    /// `-fixedseeds` (default on).
    pub fixedseeds: bool,
    /// `-listenonion` (default on).
    pub listenonion: bool,
    /// `-natpmp` (default on).
    pub natpmp: bool,
    /// `-whitelist` values.
    pub whitelist: Vec<String>,
    /// `-seednode` values.
    pub seednode: Vec<String>,
    /// `-proxy` (`None`: none, or `-noproxy`).
    pub proxy: Option<String>,
    /// `-onlynet` networks (empty: any).
    pub onlynet: Vec<String>,
}

/// The P2P options accepted and checked whose effect this node does not have (no address
/// discovery, DNS or fixed seeds, onion service, NAT-PMP, proxies or other networks than IP):
/// the daemon names those given at start.
pub const P2P_NOT_APPLIED: &[&str] = &[
    "discover",
    "dnsseed",
    "fixedseeds",
    "listenonion",
    "natpmp",
    "whitelist",
    "seednode",
    "proxy",
    "proxyrandomize",
    "onlynet",
    "externalip",
    "forcednsseed",
    "networkactive",
    "blocksonly",
    "timeout",
    "maxuploadtarget",
    "torcontrol",
    "torpassword",
    "i2psam",
    "i2pacceptincoming",
    "cjdnsreachable",
    "logips",
];

pub(crate) fn p2p_settings(m: &ArgMatches) -> Result<P2pSettings, Error> {
    let connect_settings = list_settings::<String>(m, "connect");
    let connect: Vec<String> = list::<String>(m, "connect").into_iter().filter(|c| c != "0").collect();
    let max_connections = match value::<i64>(m, "maxconnections") {
        None => 125,
        Some(n) => n.max(0).unsigned_abs(),
    };
    let peer_timeout_secs = match value::<i64>(m, "peertimeout") {
        None => 60,
        Some(n) if n <= 0 => return Err(Error::Core("peertimeout must be a positive integer.".to_string())),
        Some(n) => n.unsigned_abs(),
    };
    let bind: Vec<String> = list(m, "bind");
    // Core's parameter interaction: a -bind means listening; -connect (even -connect=0) without
    // one means not listening unless -listen says so.
    let listen_default = !bind.is_empty() || list::<String>(m, "connect").is_empty();
    Ok(P2pSettings {
        port: value::<u16>(m, "port").unwrap_or(18444),
        bind,
        listen: flag_or(m, "listen", listen_default),
        addnode: list(m, "addnode"),
        no_auto_connect: !connect_settings.is_empty() || max_connections == 0,
        connect,
        max_connections,
        v2transport: flag_or(m, "v2transport", true),
        peer_timeout_secs,
        discover: flag_or(m, "discover", true),
        dnsseed: flag_or(m, "dnsseed", true),
        fixedseeds: flag_or(m, "fixedseeds", true),
        listenonion: flag_or(m, "listenonion", true),
        natpmp: flag_or(m, "natpmp", true),
        whitelist: list(m, "whitelist"),
        seednode: list(m, "seednode"),
        proxy: proxy(m)?,
        onlynet: onlynet(m)?,
    })
}

/// `-proxy=<host>:<port>` (or `unix:<path>`) with Core's messages; `-proxy=0` and `-noproxy` are
/// no proxy.
fn proxy(m: &ArgMatches) -> Result<Option<String>, Error> {
    let Some(proxy) = value::<String>(m, "proxy").filter(|p| p != "0") else { return Ok(None) };
    if proxy.ends_with('=') {
        return Err(Error::Core(format!("Invalid -proxy address or hostname, ends with '=': '{proxy}'")));
    }
    let valid = match proxy.strip_prefix("unix:") {
        // Core's limit is the length of a socket path (sun_path).
        Some(path) => !path.is_empty() && path.len() < 108,
        None => {
            let has_port =
                proxy.rsplit_once(':').is_some_and(|(host, _)| !host.contains(':') || host.ends_with(']'));
            let host = if has_port { proxy.rsplit_once(':').map_or("", |(host, _)| host) } else { &proxy };
            crate::values::parse_host(&proxy).is_ok()
                && !host.is_empty()
                && !host.split('.').any(str::is_empty)
        }
    };
    if !valid {
        return Err(Error::Core(format!("Invalid -proxy address or hostname: '{proxy}'")));
    }
    Ok(Some(proxy))
}

/// `-onlynet` names, Core's networks only (`tor` is `onion`).
fn onlynet(m: &ArgMatches) -> Result<Vec<String>, Error> {
    let mut nets = Vec::new();
    for net in list::<String>(m, "onlynet") {
        let name = match net.to_ascii_lowercase().as_str() {
            "ipv4" | "ipv6" | "onion" | "i2p" | "cjdns" => net.to_ascii_lowercase(),
            "tor" => "onion".to_string(),
            _ => return Err(Error::Core(format!("Unknown network specified in -onlynet: '{net}'"))),
        };
        nets.push(name);
    }
    Ok(nets)
}

/// Core's `MAX_SUBVERSION_LENGTH`.
const MAX_SUBVERSION_LENGTH: usize = 256;

/// The user-agent name in this node's subversion (`/mpx:<version>(<comments>)/`).
pub const USER_AGENT_NAME: &str = "mpx";

/// `/<name>:<version>(<comment>; <comment>)/`, Core's `FormatSubVersion`.
pub fn format_subversion(name: &str, version: &str, comments: &[String]) -> String {
    let comments = if comments.is_empty() { String::new() } else { format!("({})", comments.join("; ")) };
    format!("/{name}:{version}{comments}/")
}

/// `-uacomment` values, each of Core's safe characters only, the whole subversion at most 256.
pub(crate) fn ua_comments(m: &ArgMatches) -> Result<Vec<String>, Error> {
    let comments: Vec<String> = list(m, "uacomment");
    for comment in &comments {
        let safe = comment.bytes().all(|b| b.is_ascii_alphanumeric() || b" .,;-_?@".contains(&b));
        if !safe {
            return Err(Error::Core(format!("User Agent comment ({comment}) contains unsafe characters.")));
        }
    }
    let length = format_subversion(USER_AGENT_NAME, env!("CARGO_PKG_VERSION"), &comments).len();
    if length > MAX_SUBVERSION_LENGTH {
        return Err(Error::Core(format!(
            "Total length of network version string ({length}) exceeds maximum length ({MAX_SUBVERSION_LENGTH}). \
             Reduce the number or size of uacomments."
        )));
    }
    Ok(comments)
}

/// `-prevoutfetchthreads`, with Core's bounds (not negative; more than 16 counts as 16).
pub(crate) fn prevout_fetch_threads(m: &ArgMatches) -> Result<u64, Error> {
    match value::<i64>(m, "prevoutfetchthreads") {
        None => Ok(8),
        Some(n) if n < 0 => Err(Error::Core(format!(
            "-prevoutfetchthreads must be non-negative (got {n}). Use 0 to disable parallel input fetching."
        ))),
        Some(n) => Ok(n.unsigned_abs().min(16)),
    }
}
