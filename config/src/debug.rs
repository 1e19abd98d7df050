//! Debug-logging categories (`-debug=<category>`), with Bitcoin Core's names.

use std::fmt;
use std::str::FromStr;

/// One debug-logging category, named as in Bitcoin Core's `-debug` list.
///
/// Only the categories that apply to this project are here; an unknown name
/// is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DebugCategory {
    /// Benchmark timings.
    Bench,
    /// Block files on disk.
    BlockStorage,
    /// The UTXO set's storage.
    CoinDb,
    /// Fee estimation.
    EstimateFee,
    /// The HTTP server under JSON-RPC.
    Http,
    /// Inter-process communication (the framework).
    Ipc,
    /// The mempool: accepted and removed transactions.
    Mempool,
    /// Transactions the mempool rejected.
    MempoolRej,
    /// JSON-RPC calls.
    Rpc,
    /// Coin selection in the wallet.
    SelectCoins,
    /// Block and transaction validation, chain tip changes.
    Validation,
    /// The wallet and its database.
    WalletDb,
}

impl DebugCategory {
    /// Every category, in the order `-help` lists them.
    pub const ALL: [DebugCategory; 12] = [
        DebugCategory::Bench,
        DebugCategory::BlockStorage,
        DebugCategory::CoinDb,
        DebugCategory::EstimateFee,
        DebugCategory::Http,
        DebugCategory::Ipc,
        DebugCategory::Mempool,
        DebugCategory::MempoolRej,
        DebugCategory::Rpc,
        DebugCategory::SelectCoins,
        DebugCategory::Validation,
        DebugCategory::WalletDb,
    ];

    /// The name used in `-debug=<name>` (and, by convention, as the tracing
    /// target's last component).
    pub fn name(self) -> &'static str {
        match self {
            DebugCategory::Bench => "bench",
            DebugCategory::BlockStorage => "blockstorage",
            DebugCategory::CoinDb => "coindb",
            DebugCategory::EstimateFee => "estimatefee",
            DebugCategory::Http => "http",
            DebugCategory::Ipc => "ipc",
            DebugCategory::Mempool => "mempool",
            DebugCategory::MempoolRej => "mempoolrej",
            DebugCategory::Rpc => "rpc",
            DebugCategory::SelectCoins => "selectcoins",
            DebugCategory::Validation => "validation",
            DebugCategory::WalletDb => "walletdb",
        }
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

/// The set of enabled debug categories. Empty by default.
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

    /// Whether `category` is enabled.
    pub fn contains(self, category: DebugCategory) -> bool {
        self.0 & category.bit() != 0
    }

    /// Enables `category`.
    pub fn insert(&mut self, category: DebugCategory) {
        self.0 |= category.bit();
    }

    /// Whether no category is enabled.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The enabled categories, in [`DebugCategory::ALL`] order.
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

/// One `-debug=<value>` as parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DebugValue {
    /// `1`, `all` or bare `-debug`.
    All,
    /// `0` or `none`: clears what came before.
    None,
    /// One category.
    Category(DebugCategory),
}
