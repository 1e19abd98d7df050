//! [`NodeMining`] (`interfaces::Mining`) and the templates it makes (`interfaces::BlockTemplate`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::block::Version as BlockVersion;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, Transaction, Txid, Wtxid};
use interfaces::{
    BlockCheckOptions, BlockCreateOptions, BlockRef, BlockTemplate, BlockWaitOptions, CoinbaseTx, Error,
    Mining, Result, MAX_MONEY_SAT,
};

use super::assembler::{assemble, coinbase_merkle_path, AssembleOptions, Assembled};
use crate::chain::BlockError;
use crate::state::{WaitEnd, WaitPoll};
use crate::NodeState;

/// How often a `waitNext` with a fee threshold builds a template to compare fees (Core: once
/// a second); a new tip is acted on at once.
const FEE_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// Core's BIP22 `reason` and the longer `debug` text for a block `submitBlock` /
/// `submitSolution` did not connect: `duplicate`, `inconclusive` for a block that does not
/// extend the tip (Core would keep it on a side branch; this node keeps none), else the reject
/// reason.
pub fn block_reject(e: &BlockError) -> (String, String) {
    let reason = match e {
        BlockError::NotOnTip(_) => "inconclusive",
        other => other.reject_reason(),
    };
    (reason.to_string(), e.to_string())
}

/// The deadline of a wait of `timeout_ms` milliseconds from now; `None` (forever) for a
/// timeout beyond a century (Core's cap) and `f64::MAX`; a negative or NaN timeout is zero.
fn deadline(timeout_ms: f64) -> Option<Instant> {
    let ms = if timeout_ms.is_nan() || timeout_ms < 0.0 { 0.0 } else { timeout_ms };
    let duration = Duration::try_from_secs_f64(ms / 1e3).ok()?;
    if duration > Duration::from_secs(100 * 365 * 24 * 3600) {
        return None;
    }
    Instant::now().checked_add(duration)
}

fn hash32(bytes: &[u8]) -> Option<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).ok()
}

/// The node's `Mining`: one per client (`Init.makeMining`), sharing the node.
#[derive(Debug)]
pub struct NodeMining {
    node: Arc<NodeState>,
    /// `interrupt()` was called and no wait has consumed it yet.
    interrupted: AtomicBool,
}

impl NodeMining {
    /// Mining on `node`.
    pub fn new(node: Arc<NodeState>) -> NodeMining {
        NodeMining { node, interrupted: AtomicBool::new(false) }
    }

    /// A template on the current tip with `options` (checked as Core checks them).
    pub fn new_template(node: &Arc<NodeState>, options: AssembleOptions) -> Result<NodeBlockTemplate> {
        NodeBlockTemplate::build(node.clone(), options)
    }
}

impl Mining for NodeMining {
    fn is_test_chain(&self) -> Result<bool> {
        Ok(true)
    }

    fn is_initial_block_download(&self) -> Result<bool> {
        Ok(false)
    }

    fn get_tip(&self) -> Result<Option<BlockRef>> {
        let watch = self.node.watch();
        Ok(Some(BlockRef { hash: watch.tip.to_byte_array(), height: watch.height }))
    }

    fn wait_tip_changed(&self, current_tip: [u8; 32], timeout: f64) -> Result<Option<BlockRef>> {
        let current = BlockHash::from_byte_array(current_tip);
        let end = self.node.wait_watch(deadline(timeout), |watch| {
            if self.interrupted.swap(false, Ordering::SeqCst) {
                WaitPoll::Ready(None)
            } else if watch.tip != current {
                WaitPoll::Ready(Some(BlockRef { hash: watch.tip.to_byte_array(), height: watch.height }))
            } else {
                WaitPoll::Pending(None)
            }
        });
        match end {
            WaitEnd::Ready(tip) => Ok(tip),
            WaitEnd::Timeout => self.get_tip(),
            WaitEnd::Shutdown | WaitEnd::Cancelled => Ok(None),
        }
    }

    fn create_new_block(
        &self,
        options: BlockCreateOptions,
        _cooldown: bool,
    ) -> Result<Option<Box<dyn BlockTemplate>>> {
        let options = AssembleOptions::from_client(&options).map_err(Error::failed)?;
        // Core first waits for a tip (there always is one here) and honours a pending
        // interrupt; the cooldown waits out initial block download and headers ahead of the
        // tip, neither of which a regtest node without peers has.
        if self.interrupted.swap(false, Ordering::SeqCst) || self.node.shutdown_requested() {
            return Ok(None);
        }
        Ok(Some(Box::new(NodeBlockTemplate::build(self.node.clone(), options)?)))
    }

    fn check_block(
        &self,
        block: Vec<u8>,
        options: BlockCheckOptions,
        reason: &mut String,
        debug: &mut String,
    ) -> Result<bool> {
        let block: Block =
            deserialize(&block).map_err(|e| Error::failed(format!("Block decode failed: {e}")))?;
        let result =
            self.node.lock().chain.test_block_validity(&block, options.check_pow, options.check_merkle_root);
        match result {
            Ok(()) => Ok(true),
            Err(e) => {
                *reason = match &e {
                    BlockError::NotOnTip(_) => "inconclusive-not-best-prevblk".to_string(),
                    other => other.reject_reason().to_string(),
                };
                *debug = e.to_string();
                Ok(false)
            }
        }
    }

    fn interrupt(&self) -> Result<()> {
        self.interrupted.store(true, Ordering::SeqCst);
        self.node.wake_waiters();
        Ok(())
    }

    fn submit_block(&self, block: Vec<u8>, reason: &mut String, debug: &mut String) -> Result<bool> {
        let block: Block =
            deserialize(&block).map_err(|e| Error::failed(format!("Block decode failed: {e}")))?;
        submit(&self.node, block, reason, debug, SideBranch::Refused)
    }

    fn get_transactions_by_tx_id(&self, txids: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let inner = self.node.lock();
        Ok(txids
            .iter()
            .map(|id| {
                hash32(id)
                    .and_then(|h| inner.mempool.get(&Txid::from_byte_array(h)))
                    .map(|e| serialize(&e.tx))
                    .unwrap_or_default()
            })
            .collect())
    }

    fn get_transactions_by_witness_id(&self, wtxids: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let inner = self.node.lock();
        let by_wtxid: HashMap<Wtxid, &Transaction> =
            inner.mempool.entries().map(|(_, e)| (e.tx.compute_wtxid(), &e.tx)).collect();
        Ok(wtxids
            .iter()
            .map(|id| {
                hash32(id)
                    .and_then(|h| by_wtxid.get(&Wtxid::from_byte_array(h)))
                    .map(|tx| serialize(*tx))
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// Which answer a submission gives for a block stored on a side branch or already known (Core's
/// `SubmitBlock` says `inconclusive` / `duplicate` either way): `submitSolution` answers true
/// (the block was accepted), `Mining.submitBlock` false (not a new tip).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SideBranch {
    Accepted,
    Refused,
}

/// Submits `block`; `true` when it is on the active chain (or, for `submitSolution`, stored on a
/// side branch), else Core's `reason` and `debug`.
fn submit(
    node: &NodeState,
    block: Block,
    reason: &mut String,
    debug: &mut String,
    side: SideBranch,
) -> Result<bool> {
    reason.clear();
    debug.clear();
    match node.submit_block(block) {
        Ok(hash) if node.lock().chain.is_active(&hash) => Ok(true),
        Ok(_) => {
            *reason = "inconclusive".into();
            Ok(side == SideBranch::Accepted)
        }
        // A block already known: accepted before (Core's duplicate-as-success for submitSolution).
        Err(BlockError::Duplicate(_)) => {
            *reason = "duplicate".into();
            Ok(side == SideBranch::Accepted)
        }
        Err(BlockError::Storage(e)) => Err(Error::failed(format!("storage-error: {e}"))),
        Err(e) => {
            (*reason, *debug) = block_reject(&e);
            Ok(false)
        }
    }
}

/// One template a client holds: the block and what it was built from.
#[derive(Debug)]
pub struct NodeBlockTemplate {
    node: Arc<NodeState>,
    options: AssembleOptions,
    assembled: Assembled,
    /// The mempool change count the template was built after.
    mempool_changes: u64,
    /// `interruptWait()` was called and no `waitNext` has consumed it yet.
    interrupted: AtomicBool,
}

impl NodeBlockTemplate {
    fn build(node: Arc<NodeState>, options: AssembleOptions) -> Result<NodeBlockTemplate> {
        let mempool_changes = node.watch().mempool_changes;
        let assembled = {
            let inner = node.lock();
            assemble(&inner.chain, &inner.mempool, &options)
        }
        .map_err(|e| Error::failed(format!("CreateNewBlock failed: {e}")))?;
        tracing::debug!(
            target: "bench",
            "CreateNewBlock(): block weight: {} txs: {} fees: {} sigops {}",
            assembled.weight,
            assembled.fees.len(),
            assembled.total_fees,
            assembled.sigop_cost
        );
        Ok(NodeBlockTemplate {
            node,
            options,
            assembled,
            mempool_changes,
            interrupted: AtomicBool::new(false),
        })
    }

    /// What the template holds.
    pub fn assembled(&self) -> &Assembled {
        &self.assembled
    }
}

enum Wake {
    Interrupted,
    Tip,
    Mempool(u64),
}

impl BlockTemplate for NodeBlockTemplate {
    fn get_block_header(&self) -> Result<Vec<u8>> {
        Ok(serialize(&self.assembled.block.header))
    }

    fn get_block(&self) -> Result<Vec<u8>> {
        Ok(serialize(&self.assembled.block))
    }

    fn get_tx_fees(&self) -> Result<Vec<i64>> {
        Ok(self.assembled.fees.clone())
    }

    fn get_tx_sigops(&self) -> Result<Vec<i64>> {
        Ok(self.assembled.sigops.clone())
    }

    fn get_coinbase_tx(&self) -> Result<CoinbaseTx> {
        Ok(self.assembled.coinbase.clone())
    }

    fn get_coinbase_merkle_path(&self) -> Result<Vec<Vec<u8>>> {
        Ok(coinbase_merkle_path(&self.assembled.block).into_iter().map(|h| h.to_vec()).collect())
    }

    fn submit_solution(
        &self,
        version: u32,
        timestamp: u32,
        nonce: u32,
        coinbase: Vec<u8>,
        reason: &mut String,
        debug: &mut String,
    ) -> Result<bool> {
        let coinbase: Transaction =
            deserialize(&coinbase).map_err(|e| Error::failed(format!("Coinbase decode failed: {e}")))?;
        let mut block = self.assembled.block.clone();
        match block.txdata.first_mut() {
            Some(first) => *first = coinbase,
            None => return Err(Error::failed("the template has no coinbase")),
        }
        // Core stores the version as a signed 32-bit field: the same bits.
        block.header.version = BlockVersion::from_consensus(i32::from_ne_bytes(version.to_ne_bytes()));
        block.header.time = timestamp;
        block.header.nonce = nonce;
        block.header.merkle_root =
            block.compute_merkle_root().ok_or_else(|| Error::failed("the block has no transactions"))?;
        submit(&self.node, block, reason, debug, SideBranch::Accepted)
    }

    fn wait_next(&self, options: BlockWaitOptions) -> Result<Option<Box<dyn BlockTemplate>>> {
        let until = deadline(options.timeout);
        let prev = self.assembled.block.header.prev_blockhash;
        let watch_fees = options.fee_threshold < MAX_MONEY_SAT;
        let mut seen = self.mempool_changes;
        let mut next_fee_check = Instant::now();
        loop {
            let end = self.node.wait_watch(until, |watch| {
                if self.interrupted.swap(false, Ordering::SeqCst) {
                    WaitPoll::Ready(Wake::Interrupted)
                } else if watch.tip != prev {
                    WaitPoll::Ready(Wake::Tip)
                } else if watch_fees && watch.mempool_changes != seen {
                    if Instant::now() >= next_fee_check {
                        WaitPoll::Ready(Wake::Mempool(watch.mempool_changes))
                    } else {
                        WaitPoll::Pending(Some(next_fee_check))
                    }
                } else {
                    WaitPoll::Pending(None)
                }
            });
            match end {
                WaitEnd::Ready(Wake::Tip) => {
                    return Ok(Some(Box::new(NodeBlockTemplate::build(
                        self.node.clone(),
                        self.options.clone(),
                    )?)))
                }
                WaitEnd::Ready(Wake::Mempool(changes)) => {
                    seen = changes;
                    next_fee_check = Instant::now() + FEE_CHECK_INTERVAL;
                    let next = NodeBlockTemplate::build(self.node.clone(), self.options.clone())?;
                    let threshold = self.assembled.total_fees.saturating_add(options.fee_threshold);
                    let tip_moved = next.assembled.block.header.prev_blockhash != prev;
                    if tip_moved || next.assembled.total_fees >= threshold {
                        return Ok(Some(Box::new(next)));
                    }
                }
                WaitEnd::Ready(Wake::Interrupted) | WaitEnd::Timeout | WaitEnd::Shutdown => return Ok(None),
                WaitEnd::Cancelled => {
                    tracing::debug!(target: "ipc", "waitNext: the client went away; wait ended");
                    return Ok(None);
                }
            }
        }
    }

    fn interrupt_wait(&self) -> Result<()> {
        self.interrupted.store(true, Ordering::SeqCst);
        self.node.wake_waiters();
        Ok(())
    }
}
