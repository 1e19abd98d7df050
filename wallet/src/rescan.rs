//! Reading the wallet's blocks again for descriptors just imported (Core's `RescanFromTime`),
//! then the node's mempool ([`scan_for_imports`]).
//!
//! A rescan from a time, step by step (`rescan_from_time`):
//! 1. Take the wallet's `sync_lock`: no block is applied meanwhile, so the wallet's chain (and
//!    tip) stays what it was when the scan started. Mempool notifications still run; they take
//!    only the state lock.
//! 2. The first block to read: the first of the active chain whose time, or any earlier block's
//!    (`FoundBlock::max_time`, which only grows with height), is at or after `time` less Core's
//!    `TIMESTAMP_WINDOW` (2 hours, the leeway a block's time has), found by bisection with
//!    `Chain::get_block_hash` and `Chain::find_block`.
//! 3. From there to the wallet's tip, [`BATCH`] blocks at a time: fetch each with
//!    `Chain::find_block` (the same calls the catch-up uses, so this works with the node in
//!    another process), then under the state lock add what concerns the imports
//!    ([`crate::state::State::rescan_block`]) and write the file.
//!
//! The caller fires the transaction callbacks with what changed, once no lock is held.

use std::sync::Arc;

use interfaces::{ChainNotifications, Error, FoundBlockRequest, Result};

use crate::state::Changed;
use crate::sync::{catch_up, fetch_block, Notifier};
use crate::wallet::{lock, WalletInner};

/// Core's `TIMESTAMP_WINDOW`: how far a block's time may lie before the time it was made.
pub(crate) const TIMESTAMP_WINDOW: i64 = 2 * 60 * 60;

/// Blocks read and written per step.
const BATCH: u32 = 100;

/// What an import needs read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Nothing (every import was at `"now"`).
    Nothing,
    /// The wallet's blocks from this time (less [`TIMESTAMP_WINDOW`]).
    FromTime(i64),
    /// The wallet just got its key index (it had no descriptors): its chain starts at genesis,
    /// and catching up with the node reads every block once, so no rescan is needed (an import
    /// at `"now"` then sees earlier payments too).
    NewIndex,
}

/// Reads what `scan` says for the imports just made, then replays the node's mempool to the
/// wallet (a payment to an import waiting there is the wallet's too), and runs the transaction
/// callbacks for what changed. Takes `sync_lock` itself; call it with no lock held.
pub(crate) fn scan_for_imports(wallet: &Arc<WalletInner>, scan: Scan) -> Result<()> {
    let mut changed = Vec::new();
    let result = match scan {
        Scan::Nothing => return Ok(()),
        Scan::FromTime(time) => rescan_from_time(wallet, time, &mut changed),
        Scan::NewIndex => {
            let _sync = lock(&wallet.sync_lock);
            catch_up(wallet, &mut changed)
        }
    };
    wallet.fire(&changed);
    result?;
    let notifier: Arc<dyn ChainNotifications> = Arc::new(Notifier { wallet: Arc::downgrade(wallet) });
    wallet.chain.request_mempool_transactions(notifier)
}

/// Scans the wallet's chain from the first block at or after `time - TIMESTAMP_WINDOW` for
/// transactions of the imports (see the module docs), adding what changed to `changed`.
fn rescan_from_time(wallet: &WalletInner, time: i64, changed: &mut Changed) -> Result<()> {
    let _sync = lock(&wallet.sync_lock);
    let tip = wallet.with_state(|s| Ok(s.tip()))?;
    let Some(start) = first_block_after(wallet, time.saturating_sub(TIMESTAMP_WINDOW), tip.height)? else {
        return Ok(());
    };
    tracing::info!(target: "wallet", wallet = %wallet.name, from = start, to = tip.height, "rescanning for imported descriptors");
    let title = format!("[{}] Rescanning...", wallet.name);
    let _ = wallet.chain.show_progress(title.clone(), 0, false);
    let mut height = start;
    while height <= tip.height {
        if wallet.chain.shutdown_requested()? {
            return Err(Error::failed("Rescan aborted: the node is shutting down"));
        }
        let last = tip.height.min(height.saturating_add(BATCH - 1));
        let mut blocks = Vec::new();
        for h in height..=last {
            let hash = wallet
                .chain
                .get_block_hash(h)?
                .ok_or_else(|| Error::failed(format!("block {h} left the node's chain during the rescan")))?;
            blocks.push((h, fetch_block(wallet, hash)?));
        }
        let found = wallet.with_state(|s| {
            let mut found = Vec::new();
            for (h, block) in &blocks {
                found.extend(s.rescan_block(block, *h)?);
            }
            s.persist()?;
            Ok(found)
        })?;
        changed.extend(found);
        let done = u64::from(last - start + 1) * 100 / u64::from(tip.height - start + 1);
        let _ = wallet.chain.show_progress(title.clone(), u32::try_from(done).unwrap_or(100).min(99), false);
        height = last.saturating_add(1);
    }
    let _ = wallet.chain.show_progress(title, 100, false);
    Ok(())
}

/// The lowest height up to `tip` whose block's `max_time` is at least `time`; `None` if there is
/// none.
fn first_block_after(wallet: &WalletInner, time: i64, tip: u32) -> Result<Option<u32>> {
    let max_time = |height: u32| -> Result<i64> {
        let hash = wallet
            .chain
            .get_block_hash(height)?
            .ok_or_else(|| Error::failed(format!("the node has no block {height}")))?;
        let found = wallet
            .chain
            .find_block(hash, FoundBlockRequest::default())?
            .ok_or_else(|| Error::failed(format!("the node lost block {height}")))?;
        debug_assert_eq!(found.hash, hash);
        Ok(found.max_time)
    };
    if max_time(tip)? < time {
        return Ok(None);
    }
    let (mut low, mut high) = (0u32, tip);
    while low < high {
        let mid = low + (high - low) / 2;
        if max_time(mid)? >= time {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok(Some(low))
}
