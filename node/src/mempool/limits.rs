//! The pool's size and age limits (Bitcoin Core's `-maxmempool`, `-mempoolexpiry`,
//! `-minrelaytxfee`): expiry of old transactions, eviction of the lowest fee rates when the pool
//! is over its size, and the rolling minimum fee that eviction raises (Core's `TrimToSize`,
//! `Expire`, `GetMinFee`).
//!
//! Size is a heap estimate per entry (the serialized transaction plus per-input/output and
//! per-entry bookkeeping), what `getmempoolinfo` reports as `usage`. Eviction removes the entry
//! whose fee rate counted with its descendants is the lowest, with those descendants (Core's
//! descendant score before cluster mempool).

use std::collections::HashSet;

use bitcoin::{Transaction, Txid};

use super::Mempool;

/// Core's `ROLLING_FEE_HALFLIFE`: the rolling minimum fee halves every 12 hours.
const ROLLING_FEE_HALFLIFE_SECS: f64 = 12.0 * 60.0 * 60.0;

/// The limits in force (Core's options and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolLimits {
    /// `-maxmempool`, bytes of [`Mempool::usage`] (default 300 MB).
    pub max_usage_bytes: u64,
    /// `-mempoolexpiry`, seconds (default 336 hours).
    pub expiry_secs: u64,
    /// `-minrelaytxfee`, satoshis per 1000 virtual bytes (default 100).
    pub min_relay_fee_per_kvb: u64,
    /// `-incrementalrelayfee`: what an eviction adds to the rolling minimum (default 100).
    pub incremental_relay_fee_per_kvb: u64,
}

impl Default for MempoolLimits {
    fn default() -> MempoolLimits {
        MempoolLimits {
            max_usage_bytes: 300_000_000,
            expiry_secs: 336 * 60 * 60,
            min_relay_fee_per_kvb: super::MIN_RELAY_FEE_SAT_PER_KVB,
            incremental_relay_fee_per_kvb: 100,
        }
    }
}

/// The rolling minimum fee, raised by evictions and decaying after blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct RollingFee {
    /// Satoshis per 1000 virtual bytes.
    pub(super) rate: f64,
    /// When it was last raised or decayed (seconds since the epoch).
    pub(super) updated: u64,
    /// Whether a block was connected since it was raised (only then does it decay).
    pub(super) block_since_bump: bool,
}

/// Why entries left the pool because of its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRemoval {
    /// Older than `-mempoolexpiry`.
    Expiry,
    /// Evicted to stay under `-maxmempool`.
    SizeLimit,
}

/// A heap estimate of one entry: the transaction's bytes, its vectors' per-item overhead, and
/// the entry's own bookkeeping (index maps, the spent-outpoint map).
pub(super) fn entry_usage(tx: &Transaction) -> u64 {
    let items = (tx.input.len() + tx.output.len()) as u64;
    tx.total_size() as u64 + 48 * items + 64 * tx.input.len() as u64 + 320
}

impl Mempool {
    /// The limits in force.
    pub fn limits(&self) -> &MempoolLimits {
        &self.limits
    }

    /// Sets the limits (from the node's options); they apply from the next acceptance on.
    pub fn set_limits(&mut self, limits: MempoolLimits) {
        self.limits = limits;
    }

    /// The pool's heap estimate, bytes (`getmempoolinfo`'s `usage`).
    pub fn usage(&self) -> u64 {
        self.entries.values().map(|e| entry_usage(&e.tx)).sum()
    }

    /// The fee rate a new transaction must pay, satoshis per 1000 virtual bytes, at `now`: the
    /// relay minimum, or the rolling minimum evictions set while it has not decayed (Core's
    /// `GetMinFee` together with `-minrelaytxfee`).
    pub fn min_fee_per_kvb(&mut self, now: u64) -> u64 {
        self.decay_rolling_fee(now);
        (self.rolling.rate.ceil() as u64).max(self.limits.min_relay_fee_per_kvb)
    }

    /// The rolling minimum as it stands (for `getmempoolinfo`), without decaying it.
    pub fn rolling_min_fee_per_kvb(&self) -> u64 {
        self.rolling.rate.ceil() as u64
    }

    fn decay_rolling_fee(&mut self, now: u64) {
        if !self.rolling.block_since_bump || self.rolling.rate == 0.0 {
            return;
        }
        if now > self.rolling.updated + 10 {
            let mut halflife = ROLLING_FEE_HALFLIFE_SECS;
            let usage = self.usage();
            if usage < self.limits.max_usage_bytes / 4 {
                halflife /= 4.0;
            } else if usage < self.limits.max_usage_bytes / 2 {
                halflife /= 2.0;
            }
            let elapsed = (now - self.rolling.updated) as f64;
            self.rolling.rate /= 2f64.powf(elapsed / halflife);
            self.rolling.updated = now;
            if self.rolling.rate < self.limits.incremental_relay_fee_per_kvb as f64 / 2.0 {
                self.rolling.rate = 0.0;
            }
        }
    }

    /// Notes that a block was connected (the rolling minimum may decay from now on).
    pub(super) fn note_block(&mut self) {
        self.rolling.block_since_bump = true;
    }

    /// Applies the limits at `now`: expires old entries, then evicts by fee rate until the pool
    /// fits. Returns what left and why, in the order it left.
    pub fn apply_limits(&mut self, now: u64) -> Vec<(Txid, LimitRemoval)> {
        let mut removed = Vec::new();
        let cutoff = now.saturating_sub(self.limits.expiry_secs);
        let old: HashSet<Txid> =
            self.entries.iter().filter(|(_, e)| e.time < cutoff).map(|(t, _)| *t).collect();
        if !old.is_empty() {
            removed.extend(self.remove_with_descendants(&old).into_iter().map(|t| (t, LimitRemoval::Expiry)));
        }
        while self.usage() > self.limits.max_usage_bytes {
            let Some((worst, rate)) = self.lowest_descendant_score() else { break };
            let raised = rate + self.limits.incremental_relay_fee_per_kvb as f64;
            if raised > self.rolling.rate {
                self.rolling = RollingFee { rate: raised, updated: now, block_since_bump: false };
            }
            let gone = self.remove_with_descendants(&HashSet::from([worst]));
            removed.extend(gone.into_iter().map(|t| (t, LimitRemoval::SizeLimit)));
        }
        if !removed.is_empty() {
            tracing::debug!(target: "mempool", "Removed {} transactions for the pool's limits", removed.len());
        }
        removed
    }

    /// The entry whose fee rate counted with its descendants is the lowest, and that rate
    /// (satoshis per 1000 virtual bytes, fees as modified by `prioritisetransaction`).
    fn lowest_descendant_score(&self) -> Option<(Txid, f64)> {
        self.order
            .iter()
            .filter_map(|txid| {
                let mut fee = self.modified_fee(txid)?;
                let mut vsize = self.entries.get(txid)?.vsize;
                for d in self.descendants(txid) {
                    fee = fee.saturating_add(self.modified_fee(&d).unwrap_or(0));
                    vsize += self.entries.get(&d).map_or(0, |e| e.vsize);
                }
                Some((*txid, fee as f64 * 1000.0 / vsize.max(1) as f64))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Removes `roots` and every pool transaction descending from them; returns what was
    /// removed, in pool order.
    pub(super) fn remove_with_descendants(&mut self, roots: &HashSet<Txid>) -> Vec<Txid> {
        let mut doomed: HashSet<Txid> =
            roots.iter().filter(|t| self.entries.contains_key(*t)).copied().collect();
        for root in roots {
            doomed.extend(self.descendants(root));
        }
        let removed: Vec<Txid> = self.order.iter().filter(|t| doomed.contains(*t)).copied().collect();
        self.order.retain(|t| !doomed.contains(t));
        for txid in &removed {
            if let Some(entry) = self.entries.remove(txid) {
                for input in &entry.tx.input {
                    self.spent.remove(&input.previous_output);
                }
            }
        }
        removed
    }
}
