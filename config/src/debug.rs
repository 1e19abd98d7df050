//! Debug-logging categories (`-debug=<category>`, `-debugexclude=<category>`) and severity
//! levels (`-loglevel`), with Bitcoin Core's names.

use std::fmt;
use std::str::FromStr;

/// One debug-logging category, named as in Bitcoin Core's `-debug` list.
///
/// Every category bitcoind accepts is accepted here, so a command line or `bitcoin.conf` written
/// for bitcoind (`-debugexclude=leveldb`) starts this node too. Categories of subsystems this
/// node does not have (`net`, `tor`, `leveldb`, `qt`, ...) simply have no events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[allow(missing_docs)] // The names say it; Core documents them.
pub enum DebugCategory {
    Addrman,
    Bench,
    BlockStorage,
    CmpctBlock,
    CoinDb,
    EstimateFee,
    Http,
    I2p,
    Ipc,
    Kernel,
    LevelDb,
    Mempool,
    MempoolRej,
    Net,
    PrivateBroadcast,
    Proxy,
    Prune,
    Qt,
    Rand,
    Reindex,
    Rpc,
    Scan,
    SelectCoins,
    Tor,
    TxPackages,
    TxReconciliation,
    Validation,
    WalletDb,
    Zmq,
}

impl DebugCategory {
    /// Every category, in alphabetical order (as `-help` and Core's error messages list them).
    pub const ALL: [DebugCategory; 29] = [
        DebugCategory::Addrman,
        DebugCategory::Bench,
        DebugCategory::BlockStorage,
        DebugCategory::CmpctBlock,
        DebugCategory::CoinDb,
        DebugCategory::EstimateFee,
        DebugCategory::Http,
        DebugCategory::I2p,
        DebugCategory::Ipc,
        DebugCategory::Kernel,
        DebugCategory::LevelDb,
        DebugCategory::Mempool,
        DebugCategory::MempoolRej,
        DebugCategory::Net,
        DebugCategory::PrivateBroadcast,
        DebugCategory::Proxy,
        DebugCategory::Prune,
        DebugCategory::Qt,
        DebugCategory::Rand,
        DebugCategory::Reindex,
        DebugCategory::Rpc,
        DebugCategory::Scan,
        DebugCategory::SelectCoins,
        DebugCategory::Tor,
        DebugCategory::TxPackages,
        DebugCategory::TxReconciliation,
        DebugCategory::Validation,
        DebugCategory::WalletDb,
        DebugCategory::Zmq,
    ];

    /// The name used in `-debug=<name>` (and, by convention, as the tracing target).
    pub fn name(self) -> &'static str {
        match self {
            DebugCategory::Addrman => "addrman",
            DebugCategory::Bench => "bench",
            DebugCategory::BlockStorage => "blockstorage",
            DebugCategory::CmpctBlock => "cmpctblock",
            DebugCategory::CoinDb => "coindb",
            DebugCategory::EstimateFee => "estimatefee",
            DebugCategory::Http => "http",
            DebugCategory::I2p => "i2p",
            DebugCategory::Ipc => "ipc",
            DebugCategory::Kernel => "kernel",
            DebugCategory::LevelDb => "leveldb",
            DebugCategory::Mempool => "mempool",
            DebugCategory::MempoolRej => "mempoolrej",
            DebugCategory::Net => "net",
            DebugCategory::PrivateBroadcast => "privatebroadcast",
            DebugCategory::Proxy => "proxy",
            DebugCategory::Prune => "prune",
            DebugCategory::Qt => "qt",
            DebugCategory::Rand => "rand",
            DebugCategory::Reindex => "reindex",
            DebugCategory::Rpc => "rpc",
            DebugCategory::Scan => "scan",
            DebugCategory::SelectCoins => "selectcoins",
            DebugCategory::Tor => "tor",
            DebugCategory::TxPackages => "txpackages",
            DebugCategory::TxReconciliation => "txreconciliation",
            DebugCategory::Validation => "validation",
            DebugCategory::WalletDb => "walletdb",
            DebugCategory::Zmq => "zmq",
        }
    }

    /// Every name, comma-separated, as Core's messages list them.
    pub fn names() -> String {
        DebugCategory::ALL.map(DebugCategory::name).join(", ")
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for DebugCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown category name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown debug category '{0}'")]
pub struct UnknownCategory(pub String);

impl FromStr for DebugCategory {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DebugCategory::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

/// A set of debug categories. Empty by default.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DebugCategories(u32);

impl DebugCategories {
    /// No category: only the default log messages.
    pub const fn none() -> Self {
        DebugCategories(0)
    }

    /// Every category (`-debug`, `-debug=1`, `-debug=all`).
    pub fn all() -> Self {
        DebugCategories(DebugCategory::ALL.iter().fold(0, |bits, c| bits | c.bit()))
    }

    /// Whether `category` is in the set.
    pub fn contains(self, category: DebugCategory) -> bool {
        self.0 & category.bit() != 0
    }

    /// Adds `category`.
    pub fn insert(&mut self, category: DebugCategory) {
        self.0 |= category.bit();
    }

    /// Removes `category`.
    pub fn remove(&mut self, category: DebugCategory) {
        self.0 &= !category.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The categories in the set, in [`DebugCategory::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = DebugCategory> {
        DebugCategory::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl fmt::Debug for DebugCategories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(DebugCategory::name)).finish()
    }
}

impl FromIterator<DebugCategory> for DebugCategories {
    fn from_iter<I: IntoIterator<Item = DebugCategory>>(iter: I) -> Self {
        let mut set = DebugCategories::none();
        iter.into_iter().for_each(|c| set.insert(c));
        set
    }
}

/// A log severity a user may select with `-loglevel` (Core's user-settable levels: `info`,
/// `debug`, `trace`; `warning` and `error` are always logged and cannot be selected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// `trace`: the most detail.
    Trace,
    /// `debug`: Core's default level for enabled categories.
    #[default]
    Debug,
    /// `info`: enabled categories log nothing below info.
    Info,
}

impl LogLevel {
    /// The levels `-loglevel` takes, as Core lists them.
    pub const NAMES: &'static str = "info, debug, trace";

    /// The level's name.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<LogLevel> {
        match s {
            "trace" => Some(LogLevel::Trace),
            "debug" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            _ => None,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A category named in `-debug`, `-debugexclude` or `-loglevel=<category>:<level>` as Core reads
/// it: `""`, `1` and `all` mean every category.
pub(crate) fn parse_category(s: &str) -> Option<Option<DebugCategory>> {
    match s {
        "" | "1" | "all" => Some(None),
        _ => s.parse().ok().map(Some),
    }
}
