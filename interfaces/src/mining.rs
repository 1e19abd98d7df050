//! [`Mining`] and [`BlockTemplate`]: what a mining client (a Stratum v2
//! template provider, pool software) asks of the node, Bitcoin Core's
//! `interfaces::Mining` (schema `mining.capnp`, Core's file ID and ordinals),
//! plus the options and the coinbase description they carry.
//!
//! Long waits ([`Mining::wait_tip_changed`], [`BlockTemplate::wait_next`])
//! end early when [`call_cancelled`] says the caller is gone: the IPC layer
//! installs the probe with [`set_call_cancelled_probe`], so an implementation
//! that knows nothing of IPC can still stop waiting for a client that
//! disconnected.

use std::sync::OnceLock;

use crate::{BlockRef, Error, Result};

/// Bitcoin Core's `MAX_MONEY` in satoshis: [`BlockWaitOptions::fee_threshold`]'s
/// default, meaning "never wake for fees".
pub const MAX_MONEY_SAT: i64 = 2_100_000_000_000_000;

/// The weight [`BlockCreateOptions::block_reserved_weight`] keeps free by default
/// (header, transaction count and the client's coinbase).
pub const DEFAULT_BLOCK_RESERVED_WEIGHT: u64 = 8000;

/// The sigop cost kept free for the client's coinbase outputs by default.
pub const DEFAULT_COINBASE_OUTPUT_MAX_ADDITIONAL_SIGOPS: u64 = 400;

/// What the deprecated `BlockTemplate.submitSolutionOld7` (`@7`) answers.
pub const OLD_SUBMIT_SOLUTION_MESSAGE: &str =
    "Old submitSolution (@7) not supported. Please update your client!";

/// How [`Mining::create_new_block`] builds a template (Core's `BlockCreateOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCreateOptions {
    /// Fill the block from the mempool (else only the coinbase).
    pub use_mempool: bool,
    /// Weight left free for the header, the transaction count and the coinbase.
    pub block_reserved_weight: u64,
    /// Sigop cost left free for the coinbase's outputs.
    pub coinbase_output_max_additional_sigops: u64,
}

impl Default for BlockCreateOptions {
    fn default() -> BlockCreateOptions {
        BlockCreateOptions {
            use_mempool: true,
            block_reserved_weight: DEFAULT_BLOCK_RESERVED_WEIGHT,
            coinbase_output_max_additional_sigops: DEFAULT_COINBASE_OUTPUT_MAX_ADDITIONAL_SIGOPS,
        }
    }
}

/// How long [`BlockTemplate::wait_next`] waits and for what (Core's `BlockWaitOptions`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockWaitOptions {
    /// Milliseconds; `f64::MAX` waits forever.
    pub timeout: f64,
    /// Satoshis the next block's fees must rise by; [`MAX_MONEY_SAT`] never wakes for fees.
    pub fee_threshold: i64,
}

impl Default for BlockWaitOptions {
    fn default() -> BlockWaitOptions {
        BlockWaitOptions { timeout: f64::MAX, fee_threshold: MAX_MONEY_SAT }
    }
}

/// What [`Mining::check_block`] checks besides everything else (Core's `BlockCheckOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCheckOptions {
    /// Check the header's merkle root.
    pub check_merkle_root: bool,
    /// Check the proof of work.
    pub check_pow: bool,
}

impl Default for BlockCheckOptions {
    fn default() -> BlockCheckOptions {
        BlockCheckOptions { check_merkle_root: true, check_pow: true }
    }
}

/// What a client needs to build its own coinbase for a template (Core's `CoinbaseTx`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoinbaseTx {
    /// Transaction version.
    pub version: u32,
    /// The coinbase input's sequence.
    pub sequence: u32,
    /// Start of the scriptSig: the BIP34 height push; the client appends its own data.
    pub script_sig_prefix: Vec<u8>,
    /// The witness reserved value (32 bytes), empty without a witness commitment.
    pub witness: Vec<u8>,
    /// Subsidy plus the template's fees, satoshis: what the client's outputs may pay.
    pub block_reward_remaining: i64,
    /// Outputs the coinbase must carry (consensus-encoded `TxOut`s: the witness commitment).
    pub required_outputs: Vec<Vec<u8>>,
    /// Transaction lock time.
    pub lock_time: u32,
}

/// A block template a mining client holds (Core's `interfaces::BlockTemplate`).
pub trait BlockTemplate: Send + Sync {
    /// The 80-byte header (merkle root of the template's own coinbase).
    fn get_block_header(&self) -> Result<Vec<u8>>;

    /// The whole block; its coinbase is a placeholder the client must not use.
    fn get_block(&self) -> Result<Vec<u8>>;

    /// Fee of each transaction after the coinbase, satoshis.
    fn get_tx_fees(&self) -> Result<Vec<i64>>;

    /// Sigop cost of each transaction after the coinbase.
    fn get_tx_sigops(&self) -> Result<Vec<i64>>;

    /// What the client needs to build the coinbase.
    fn get_coinbase_tx(&self) -> Result<CoinbaseTx>;

    /// The coinbase's merkle branch (32-byte hashes, internal byte order), deepest first.
    fn get_coinbase_merkle_path(&self) -> Result<Vec<Vec<u8>>>;

    /// The removed `submitSolution @7`: always an error telling the client to update.
    fn submit_solution_old7(
        &self,
        version: u32,
        timestamp: u32,
        nonce: u32,
        coinbase: Vec<u8>,
    ) -> Result<bool> {
        let _ = (version, timestamp, nonce, coinbase);
        Err(Error::failed(OLD_SUBMIT_SOLUTION_MESSAGE))
    }

    /// Rebuilds the block with the client's coinbase (consensus encoding with witness),
    /// version, time and nonce, validates and submits it. `true` when the node accepted it: a
    /// new tip, or (as Core) a block it already had (`reason` `duplicate`) or stored on a side
    /// branch (`inconclusive`); `false` with Core's reject `reason` (and `debug`) otherwise.
    fn submit_solution(
        &self,
        version: u32,
        timestamp: u32,
        nonce: u32,
        coinbase: Vec<u8>,
        reason: &mut String,
        debug: &mut String,
    ) -> Result<bool>;

    /// Waits for a new tip or for the next block's fees to rise by `options.fee_threshold`,
    /// and returns the template for it; `None` on timeout, [`BlockTemplate::interrupt_wait`]
    /// or shutdown.
    fn wait_next(&self, options: BlockWaitOptions) -> Result<Option<Box<dyn BlockTemplate>>>;

    /// Ends the [`BlockTemplate::wait_next`] in progress (or the next one) with `None`.
    /// Never blocks.
    fn interrupt_wait(&self) -> Result<()>;
}

/// What a mining client asks of the node (Core's `interfaces::Mining`).
pub trait Mining: Send + Sync {
    /// Whether the node runs a test chain (regtest, testnet, signet).
    fn is_test_chain(&self) -> Result<bool>;

    /// Whether the node is still catching up with the network.
    fn is_initial_block_download(&self) -> Result<bool> {
        Ok(false)
    }

    /// The tip of the active chain.
    fn get_tip(&self) -> Result<Option<BlockRef>> {
        Err(Error::unimplemented("getTip"))
    }

    /// Waits until the tip is not `current_tip` (hash, internal byte order) or `timeout`
    /// milliseconds passed, and returns the tip then; `None` on [`Mining::interrupt`] or
    /// shutdown.
    fn wait_tip_changed(&self, current_tip: [u8; 32], timeout: f64) -> Result<Option<BlockRef>> {
        let _ = (current_tip, timeout);
        Err(Error::unimplemented("waitTipChanged"))
    }

    /// A new block template on the tip; `None` on [`Mining::interrupt`] or shutdown.
    fn create_new_block(
        &self,
        options: BlockCreateOptions,
        cooldown: bool,
    ) -> Result<Option<Box<dyn BlockTemplate>>> {
        let _ = (options, cooldown);
        Err(Error::unimplemented("createNewBlock"))
    }

    /// Whether `block` would be valid on the tip; on `false`, `reason` is Core's reject reason.
    fn check_block(
        &self,
        block: Vec<u8>,
        options: BlockCheckOptions,
        reason: &mut String,
        debug: &mut String,
    ) -> Result<bool> {
        let _ = (block, options, reason, debug);
        Err(Error::unimplemented("checkBlock"))
    }

    /// Ends the [`Mining::wait_tip_changed`] / [`Mining::create_new_block`] in progress (or
    /// the next one). Never blocks.
    fn interrupt(&self) -> Result<()> {
        Ok(())
    }

    /// Validates and connects `block`; `true` when it became the new tip, else `reason`.
    fn submit_block(&self, block: Vec<u8>, reason: &mut String, debug: &mut String) -> Result<bool> {
        let _ = (block, reason, debug);
        Err(Error::unimplemented("submitBlock"))
    }

    /// Mempool transactions by txid, one entry per id, empty for an unknown one.
    fn get_transactions_by_tx_id(&self, txids: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let _ = txids;
        Err(Error::unimplemented("getTransactionsByTxID"))
    }

    /// Mempool transactions by wtxid, one entry per id, empty for an unknown one.
    fn get_transactions_by_witness_id(&self, wtxids: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let _ = wtxids;
        Err(Error::unimplemented("getTransactionsByWitnessID"))
    }
}

static CANCEL_PROBE: OnceLock<fn() -> bool> = OnceLock::new();

/// Installs the probe [`call_cancelled`] asks (the IPC layer's "has the caller of the request
/// this thread serves gone away?"). The first installation wins.
pub fn set_call_cancelled_probe(probe: fn() -> bool) {
    let _ = CANCEL_PROBE.set(probe);
}

/// Whether the caller of the request this thread is serving has gone away (disconnected or
/// cancelled), so a long wait may end early; `false` when no probe is installed or the thread
/// serves no remote request.
pub fn call_cancelled() -> bool {
    CANCEL_PROBE.get().is_some_and(|probe| probe())
}
