//! Keeping a wallet in step with the node, through [`interfaces::Chain`] and
//! [`ChainNotifications`] only.
//!
//! Attaching a loaded wallet, step by step:
//! 1. Register a [`Notifier`] with `Chain::handle_notifications` (the handler is kept in the
//!    wallet; dropping it unregisters). From now on no block is missed.
//! 2. Catch up ([`catch_up`]): find the fork point (the highest wallet checkpoint that is still
//!    the active chain's block at its height, walking back from the wallet's tip), then fetch the
//!    blocks above it with `get_block_hash` + `find_block(want_data)` in batches and apply each
//!    with BDK's `apply_block_connected_to`, connected to the previous one (to the fork point for
//!    the first: BDK then drops the stale blocks above it). Each batch is written in one
//!    transaction. If the node's chain ends at the fork point (it is shorter than the wallet's,
//!    and the same below), there is nothing to fetch: the wallet drops its blocks above it
//!    ([`crate::state::State::rollback_to`]) and follows the node from there.
//! 3. `request_mempool_transactions`: unconfirmed transactions that concern the wallet.
//! 4. Resubmit the wallet's unconfirmed transactions the mempool lacks (Core's
//!    `ResubmitWalletTransactions`). One the node refuses is marked evicted and the file written:
//!    its coins are spendable again and it is not resubmitted on the next load.
//!
//! Steps 3 and 4 also establish which unconfirmed transactions are in the mempool (only those are
//! trusted, see [`crate::state`]); the notifications keep that up to date.
//!
//! Blocks arriving during step 2 and afterwards go through [`Notifier::block_connected`], which
//! shares the wallet's `sync_lock` with the catch-up: a block whose parent is the wallet's tip is
//! applied; one the wallet already has (same hash at that height) is skipped; anything else (a gap,
//! or a block of another branch) runs the catch-up, which resolves it from the node's active
//! chain. `block_disconnected` needs no work of its own: the next connected block, or
//! `updated_block_tip`, finds the fork and BDK replaces the stale blocks; their transactions turn
//! unconfirmed. Every change is written to the wallet file before the lock is released.
//!
//! Threading: the node calls notifications on one thread at a time per change, after releasing
//! its own lock, so the catch-up may call `Chain` methods from inside a notification. Nothing here
//! calls `broadcast_transaction` while holding a lock.

use std::sync::{Arc, Weak};

use bdk_wallet::chain::BlockId;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, Transaction, Txid};
use interfaces::{
    BlockInfo, ChainNotifications, Error, ErrorKind, FoundBlockRequest, MempoolRemovalReason, Result,
};

use crate::state::{now, Changed};
use crate::wallet::{lock, WalletInner};

/// Blocks fetched and written per step of a catch-up.
const BATCH: u32 = 200;

/// The largest fee a resubmitted transaction may pay (Core's default `-maxtxfee`, 0.10 BTC).
pub(crate) const MAX_TX_FEE_SAT: i64 = 10_000_000;

/// Registers the wallet for notifications, catches it up, reads the mempool and resubmits its
/// unconfirmed transactions (steps 1-4 of the module docs).
pub(crate) fn attach(wallet: &Arc<WalletInner>) -> Result<()> {
    let notifier: Arc<dyn ChainNotifications> = Arc::new(Notifier { wallet: Arc::downgrade(wallet) });
    let handler = wallet.chain.handle_notifications(notifier.clone())?;
    *lock(&wallet.notifications) = Some(handler);
    let mut changed = Vec::new();
    let result = {
        let _sync = lock(&wallet.sync_lock);
        catch_up(wallet, &mut changed)
    };
    wallet.fire(&changed);
    result?;
    wallet.chain.request_mempool_transactions(notifier)?;
    resubmit(wallet);
    Ok(())
}

/// Brings the wallet to the node's active tip, adding what changed to `changed` (for the callbacks,
/// which the caller runs once it has released `sync_lock`). The caller holds `sync_lock`.
pub(crate) fn catch_up(wallet: &WalletInner, changed: &mut Changed) -> Result<()> {
    let chain = &wallet.chain;
    let mut retries = 0u32;
    loop {
        if chain.shutdown_requested()? {
            return Ok(());
        }
        let Some(node_tip) = chain.get_tip()? else { return Ok(()) };
        let (local_tip, keyless) = wallet.with_state(|s| Ok((s.tip(), s.keyed.is_none())))?;
        if local_tip.hash.to_byte_array() == node_tip.hash {
            return Ok(());
        }
        if keyless {
            // Nothing to scan or undo: just remember where the chain is.
            let tip = BlockId { height: node_tip.height, hash: BlockHash::from_byte_array(node_tip.hash) };
            return wallet.with_state(|s| {
                s.set_keyless_tip(tip);
                s.persist()
            });
        }
        let fork = find_fork(wallet, local_tip)?;
        let last = node_tip.height.min(fork.height.saturating_add(BATCH));
        let mut blocks = Vec::new();
        let mut parent = fork;
        for height in fork.height.saturating_add(1)..=last {
            let Some(hash) = chain.get_block_hash(height)? else { break };
            let block = fetch_block(wallet, hash)?;
            if block.header.prev_blockhash != parent.hash {
                // The active chain moved while we read it; start over from the new tip.
                break;
            }
            parent = BlockId { height, hash: block.block_hash() };
            blocks.push((height, block));
        }
        if blocks.is_empty() {
            if fork != local_tip && fork.hash.to_byte_array() == node_tip.hash {
                // The node's chain is a prefix of the wallet's (it is behind the wallet, e.g. its
                // blocks were replaced by an older copy): drop the wallet's blocks above it.
                let rolled_back = wallet.with_state(|s| {
                    if s.tip() != local_tip {
                        return Ok(None);
                    }
                    s.rollback_to(fork).map(Some)
                })?;
                if let Some(rolled_back) = rolled_back {
                    tracing::warn!(target: "wallet", wallet = %wallet.name, from = local_tip.height,
                        to = fork.height, "the node's chain is shorter than the wallet's: rolled back to its tip");
                    changed.extend(rolled_back);
                }
                continue;
            }
            if retries < 10 {
                // The node's active chain changed while we read it: retry.
                retries += 1;
                continue;
            }
            return Err(Error::failed("the wallet's chain could not be reconciled with the node's"));
        }
        let applied = wallet.with_state(|s| {
            if s.tip() != local_tip {
                return Ok(None);
            }
            let mut changed = Vec::new();
            let mut connected_to = fork;
            for (height, block) in &blocks {
                changed.extend(s.apply_block(block, *height, connected_to)?);
                connected_to = BlockId { height: *height, hash: block.block_hash() };
            }
            s.persist()?;
            Ok(Some(changed))
        })?;
        if let Some(applied) = applied {
            if fork != local_tip {
                tracing::info!(target: "wallet", wallet = %wallet.name, fork = fork.height,
                    "reorganization: blocks above the fork point replaced");
            }
            tracing::debug!(target: "walletdb", wallet = %wallet.name, to = parent.height, "caught up");
            changed.extend(applied);
        }
    }
}

/// The highest wallet checkpoint at or below `local_tip` that is in the node's active chain.
fn find_fork(wallet: &WalletInner, local_tip: BlockId) -> Result<BlockId> {
    if wallet.chain.get_block_hash(local_tip.height)? == Some(local_tip.hash.to_byte_array()) {
        return Ok(local_tip);
    }
    let checkpoints = wallet.with_state(|s| Ok(s.checkpoints()))?;
    for cp in checkpoints {
        if wallet.chain.get_block_hash(cp.height)? == Some(cp.hash.to_byte_array()) {
            return Ok(cp);
        }
    }
    Err(Error::failed("the wallet shares no block with the node's chain (a different genesis?)"))
}

pub(crate) fn fetch_block(wallet: &WalletInner, hash: [u8; 32]) -> Result<Block> {
    let found = wallet
        .chain
        .find_block(hash, FoundBlockRequest { want_header: false, want_data: true })?
        .ok_or_else(|| Error::failed("the node lost a block of its active chain"))?;
    let data = found.data.ok_or_else(|| Error::failed("the node returned a block without its data"))?;
    deserialize(&data).map_err(|e| Error::failed(format!("undecodable block from the node: {e}")))
}

/// Resubmits the wallet's unconfirmed transactions that the mempool lacks, parents first (the
/// order of [`crate::state::State::transactions`]), recording which are in the mempool. One the
/// node refuses is marked evicted and written (a refused parent takes its children with it:
/// they are refused for their missing inputs).
pub(crate) fn resubmit(wallet: &WalletInner) {
    let pending = wallet.with_state(|s| {
        Ok(s.transactions()
            .into_iter()
            .filter(|v| v.confirmed_in.is_none() && !v.is_coinbase)
            .map(|v| (v.txid, v.tx))
            .collect::<Vec<_>>())
    });
    let Ok(pending) = pending else { return };
    for (txid, tx) in pending {
        let bytes = serialize(&*tx);
        let mark = |in_mempool: bool| {
            let _ = wallet.with_state(|s| {
                s.set_in_mempool(txid, in_mempool);
                Ok(())
            });
        };
        match wallet.chain.is_in_mempool(txid.to_byte_array()) {
            Ok(true) => {
                mark(true);
                continue;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(target: "wallet", error = %e, "resubmit: mempool query failed");
                return;
            }
        }
        match wallet.chain.broadcast_transaction(bytes, MAX_TX_FEE_SAT) {
            Ok(_) => {
                mark(true);
                tracing::info!(target: "wallet", wallet = %wallet.name, %txid, "resubmitted transaction")
            }
            Err(e) if matches!(e.kind(), ErrorKind::Rejected | ErrorKind::InvalidParameter) => {
                tracing::warn!(target: "wallet", wallet = %wallet.name, %txid, reason = %e,
                    "the node refused a resubmitted transaction; marked evicted, its coins are spendable again");
                let changed = wallet.with_state(|s| {
                    let changed = s.apply_evicted(txid, now());
                    s.persist()?;
                    Ok(changed)
                });
                match changed {
                    Ok(changed) => wallet.fire(&changed),
                    Err(e) => tracing::warn!(target: "wallet", wallet = %wallet.name, %txid, error = %e,
                        "could not record the refused transaction as evicted"),
                }
            }
            Err(e) => tracing::info!(target: "wallet", wallet = %wallet.name, %txid, reason = %e,
                "resubmitting a transaction failed"),
        }
    }
}

/// The wallet's [`ChainNotifications`]; holds the wallet weakly (the node holds the notifier).
pub(crate) struct Notifier {
    pub(crate) wallet: Weak<WalletInner>,
}

impl Notifier {
    fn wallet(&self) -> Option<Arc<WalletInner>> {
        self.wallet.upgrade().filter(|w| w.is_loaded())
    }
}

/// An error for the node to log, unless the wallet was unloaded meanwhile (then the event no
/// longer matters).
fn unless_unloaded(wallet: &WalletInner, result: Result<()>) -> Result<()> {
    match result {
        Err(_) if !wallet.is_loaded() => Ok(()),
        other => other,
    }
}

impl ChainNotifications for Notifier {
    fn transaction_added_to_mempool(&self, tx: Vec<u8>) -> Result<()> {
        let Some(wallet) = self.wallet() else { return Ok(()) };
        let tx: Transaction = deserialize(&tx)
            .map_err(|e| Error::invalid_parameter(format!("undecodable transaction: {e}")))?;
        let txid = tx.compute_txid();
        let changed = match wallet.with_state(|s| {
            let changed = s.apply_unconfirmed(tx, now());
            s.set_in_mempool(txid, true);
            if !changed.is_empty() {
                s.persist()?;
            }
            Ok(changed)
        }) {
            Ok(changed) => changed,
            Err(e) => return unless_unloaded(&wallet, Err(e)),
        };
        wallet.fire(&changed);
        Ok(())
    }

    fn transaction_removed_from_mempool(&self, txid: [u8; 32], reason: MempoolRemovalReason) -> Result<()> {
        let Some(wallet) = self.wallet() else { return Ok(()) };
        let txid = Txid::from_byte_array(txid);
        let changed = match wallet.with_state(|s| {
            let changed = s.apply_evicted(txid, now());
            s.set_in_mempool(txid, false);
            if !changed.is_empty() {
                s.persist()?;
            }
            Ok(changed)
        }) {
            Ok(changed) => changed,
            Err(e) => return unless_unloaded(&wallet, Err(e)),
        };
        if !changed.is_empty() {
            tracing::info!(target: "wallet", wallet = %wallet.name, %txid, ?reason, "transaction left the mempool");
        }
        wallet.fire(&changed);
        Ok(())
    }

    fn block_connected(&self, block: BlockInfo) -> Result<()> {
        let Some(wallet) = self.wallet() else { return Ok(()) };
        let mut changed = Vec::new();
        let result = {
            let _sync = lock(&wallet.sync_lock);
            connect(&wallet, &block, &mut changed)
        };
        wallet.fire(&changed);
        unless_unloaded(&wallet, result)
    }

    fn block_disconnected(&self, block: BlockInfo) -> Result<()> {
        if let Some(wallet) = self.wallet() {
            tracing::debug!(target: "walletdb", wallet = %wallet.name, height = block.height,
                "block disconnected; the next tip update reconciles");
        }
        Ok(())
    }

    fn updated_block_tip(&self) -> Result<()> {
        let Some(wallet) = self.wallet() else { return Ok(()) };
        let mut changed = Vec::new();
        let result = {
            let _sync = lock(&wallet.sync_lock);
            catch_up(&wallet, &mut changed)
        };
        wallet.fire(&changed);
        unless_unloaded(&wallet, result)
    }
}

/// `block_connected`: apply, skip or catch up (see the module docs), adding what changed to
/// `changed`. The caller holds `sync_lock`.
fn connect(wallet: &WalletInner, block: &BlockInfo, changed: &mut Changed) -> Result<()> {
    let hash = BlockHash::from_byte_array(block.hash);
    let prev = block.prev_hash.map(BlockHash::from_byte_array);
    enum Next {
        Apply(BlockId),
        Skip,
        CatchUp,
    }
    let next = wallet.with_state(|s| {
        let tip = s.tip();
        Ok(if s.hash_at(block.height) == Some(hash) {
            Next::Skip
        } else if prev == Some(tip.hash) && block.height == tip.height.saturating_add(1) {
            Next::Apply(tip)
        } else {
            Next::CatchUp
        })
    })?;
    match next {
        Next::Skip => Ok(()),
        Next::CatchUp => catch_up(wallet, changed),
        Next::Apply(tip) => {
            let decoded: Block = deserialize(&block.data)
                .map_err(|e| Error::invalid_parameter(format!("undecodable block: {e}")))?;
            if decoded.block_hash() != hash {
                return Err(Error::invalid_parameter("block data does not match its hash"));
            }
            let applied = wallet.with_state(|s| {
                let applied = s.apply_block(&decoded, block.height, tip)?;
                s.persist()?;
                Ok(applied)
            })?;
            changed.extend(applied);
            Ok(())
        }
    }
}
