//! The block assembler: picks mempool transactions by ancestor fee rate and builds the block
//! around them (Core's `BlockAssembler`).
//!
//! Selection, step by step:
//! 1. Every pool entry gets a *package*: itself plus its in-pool ancestors not yet picked; its
//!    score is the package's modified fee (fee + `prioritisetransaction` delta) over its virtual
//!    size. Scores go into a max-heap.
//! 2. The best package is taken off the heap. Its score is recomputed (an ancestor may have been
//!    picked since it was pushed); a changed score is pushed back and the next one taken.
//! 3. A package below the minimum fee rate (1 sat/vB) ends the selection: nothing left scores
//!    higher. One that would reach the weight limit (4,000,000, counted from
//!    `block_reserved_weight` up) or the sigop limit (80,000, counted from
//!    `coinbase_output_max_additional_sigops` up), or holds a transaction that is not final in
//!    the next block, is skipped, and so is every package that contains it. After 1000 skips in
//!    a row with the block within 4000 weight units of full, the selection ends (Core's
//!    heuristic).
//! 4. A package that fits is added, ancestors first (pool order is a dependency order), and
//!    every descendant of what was added gets a fresh score on the heap.
//!
//! The pool's transactions were validated on the tip when they entered and re-checked after
//! every block, so a template is built without verifying signatures again; blocks from
//! explicit transaction lists (`generateblock`) go through [`ChainState::create_block`], which
//! does, and then through the same [`build_block`].

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    absolute, opcodes, Amount, Block, OutPoint, Script, ScriptBuf, Sequence, Target, Transaction, TxIn,
    TxMerkleNode, TxOut, Weight, Witness,
};
use interfaces::{BlockCreateOptions, CoinbaseTx};

use crate::chain::{height_push, is_final, BlockError, ChainState, MAX_BLOCK_SIGOPS_COST};
use crate::mempool::Mempool;

/// Version of the blocks templates carry (BIP9 top bits, no signalling).
pub const TEMPLATE_BLOCK_VERSION: i32 = 0x2000_0000;
/// Core's `MINIMUM_BLOCK_RESERVED_WEIGHT`.
pub const MINIMUM_BLOCK_RESERVED_WEIGHT: u64 = 2000;
/// The coinbase input's sequence: not final, so its lock time is enforced.
const COINBASE_SEQUENCE: u32 = 0xffff_fffe;
/// The witness reserved value every template commits to (BIP141).
const WITNESS_RESERVED_VALUE: [u8; 32] = [0; 32];
/// The commitment header inside the witness commitment push (BIP141).
const WITNESS_MAGIC: [u8; 4] = [0xaa, 0x21, 0xa9, 0xed];
/// Lowest package fee rate a template takes, satoshis per 1000 vbytes (Core's `-blockmintxfee`).
const BLOCK_MIN_FEE_RATE: i64 = 1000;
const MAX_CONSECUTIVE_FAILURES: u32 = 1000;
const BLOCK_FULL_ENOUGH_WEIGHT_DELTA: u64 = 4000;

/// How [`assemble`] builds a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembleOptions {
    /// Take transactions from the mempool (else the block holds only the coinbase).
    pub use_mempool: bool,
    /// Weight kept free for the header, the transaction count and the coinbase.
    pub block_reserved_weight: u64,
    /// Sigop cost kept free for the coinbase's outputs.
    pub coinbase_output_max_additional_sigops: u64,
    /// What the coinbase's first output pays to (templates for IPC clients: `OP_TRUE`, a
    /// placeholder the client replaces).
    pub coinbase_script: ScriptBuf,
}

impl AssembleOptions {
    /// The defaults, paying to `coinbase_script` (the node's own mining).
    pub fn paying_to(coinbase_script: ScriptBuf) -> AssembleOptions {
        let defaults = BlockCreateOptions::default();
        AssembleOptions {
            use_mempool: true,
            block_reserved_weight: defaults.block_reserved_weight,
            coinbase_output_max_additional_sigops: defaults.coinbase_output_max_additional_sigops,
            coinbase_script,
        }
    }

    /// A client's options, checked as Core's `CheckMiningOptions` does (its messages).
    pub fn from_client(options: &BlockCreateOptions) -> Result<AssembleOptions, String> {
        let max_weight = Weight::MAX_BLOCK.to_wu();
        let reserved = options.block_reserved_weight;
        if reserved < MINIMUM_BLOCK_RESERVED_WEIGHT {
            return Err(format!(
                "block_reserved_weight ({reserved}) is lower than minimum safety value of ({MINIMUM_BLOCK_RESERVED_WEIGHT})"
            ));
        }
        if reserved > max_weight {
            return Err(format!(
                "block_reserved_weight ({reserved}) exceeds consensus maximum block weight ({max_weight})"
            ));
        }
        let sigops = options.coinbase_output_max_additional_sigops;
        if sigops > MAX_BLOCK_SIGOPS_COST as u64 {
            return Err(format!(
                "coinbase_output_max_additional_sigops ({sigops}) exceeds consensus maximum block sigops cost ({MAX_BLOCK_SIGOPS_COST})"
            ));
        }
        Ok(AssembleOptions {
            use_mempool: options.use_mempool,
            block_reserved_weight: reserved,
            coinbase_output_max_additional_sigops: sigops,
            coinbase_script: Builder::new().push_opcode(opcodes::OP_TRUE).into_script(),
        })
    }
}

/// Weight and transaction count of the last block assembled (Core's
/// `BlockAssembler::m_last_block_weight` / `m_last_block_num_txs`); `u64::MAX`: none yet.
static LAST_BLOCK_WEIGHT: AtomicU64 = AtomicU64::new(u64::MAX);
static LAST_BLOCK_TXS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Weight and transaction count of the last block assembled in this process, if any
/// (`getmininginfo`'s `currentblockweight` / `currentblocktx`).
pub fn last_block_stats() -> Option<(u64, u64)> {
    let weight = LAST_BLOCK_WEIGHT.load(AtomicOrdering::Relaxed);
    let txs = LAST_BLOCK_TXS.load(AtomicOrdering::Relaxed);
    (weight != u64::MAX && txs != u64::MAX).then_some((weight, txs))
}

/// A block template: the block (proof of work not ground) and what a client is told about it.
#[derive(Debug, Clone)]
pub struct Assembled {
    /// The block; its coinbase pays subsidy + fees to the options' script.
    pub block: Block,
    /// Fee of each transaction after the coinbase, satoshis (not the modified fee).
    pub fees: Vec<i64>,
    /// Sigop cost of each transaction after the coinbase.
    pub sigops: Vec<i64>,
    /// What a client needs to build its own coinbase.
    pub coinbase: CoinbaseTx,
    /// Height of the block.
    pub height: u32,
    /// Sum of `fees`.
    pub total_fees: i64,
    /// Weight counted by the selection (reserved weight included).
    pub weight: u64,
    /// Sigop cost counted by the selection (coinbase reserve included).
    pub sigop_cost: u64,
}

/// A package score on the heap: fee over vsize, then the earlier pool entry first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    fee: i64,
    vsize: u64,
    index: usize,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        let mine = i128::from(self.fee) * i128::from(other.vsize.max(1));
        let theirs = i128::from(other.fee) * i128::from(self.vsize.max(1));
        mine.cmp(&theirs).then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Entry<'a> {
    tx: &'a Transaction,
    fee: i64,
    modified_fee: i64,
    vsize: u64,
    weight: u64,
    sigops: u64,
    parents: Vec<usize>,
    children: Vec<usize>,
}

/// The selection's working state.
struct Selection<'a> {
    entries: Vec<Entry<'a>>,
    picked: Vec<bool>,
    failed: Vec<bool>,
    mark: Vec<usize>,
    stamp: usize,
}

impl Selection<'_> {
    /// The package of `index`: itself and its not yet picked ancestors, in pool order.
    fn package(&mut self, index: usize) -> Vec<usize> {
        self.stamp += 1;
        let stamp = self.stamp;
        let mut members = vec![index];
        if let Some(m) = self.mark.get_mut(index) {
            *m = stamp;
        }
        let mut todo = vec![index];
        while let Some(i) = todo.pop() {
            let parents = self.entries.get(i).map(|e| e.parents.clone()).unwrap_or_default();
            for p in parents {
                if self.picked.get(p).copied().unwrap_or(true)
                    || self.mark.get(p).is_some_and(|m| *m == stamp)
                {
                    continue;
                }
                if let Some(m) = self.mark.get_mut(p) {
                    *m = stamp;
                }
                members.push(p);
                todo.push(p);
            }
        }
        members.sort_unstable();
        members
    }

    /// Modified fee and vsize of `members`.
    fn score(&self, members: &[usize]) -> (i64, u64) {
        members
            .iter()
            .filter_map(|&m| self.entries.get(m))
            .fold((0i64, 0u64), |(f, v), e| (f.saturating_add(e.modified_fee), v.saturating_add(e.vsize)))
    }

    fn candidate(&mut self, index: usize) -> Candidate {
        let members = self.package(index);
        let (fee, vsize) = self.score(&members);
        Candidate { fee, vsize, index }
    }
}

/// Picks pool entries (indexes into the pool's dependency order, in block order).
fn select<'a>(
    mempool: &'a Mempool,
    height: u32,
    median_time_past: u32,
    weight: &mut u64,
    sigop_cost: &mut u64,
) -> (Vec<Entry<'a>>, Vec<usize>) {
    let pool: Vec<_> = mempool.entries().collect();
    let position: HashMap<_, _> = pool.iter().enumerate().map(|(i, (txid, _))| (**txid, i)).collect();
    let mut entries: Vec<Entry<'a>> = Vec::with_capacity(pool.len());
    for (txid, entry) in &pool {
        let mut parents: Vec<usize> =
            entry.tx.input.iter().filter_map(|i| position.get(&i.previous_output.txid).copied()).collect();
        parents.sort_unstable();
        parents.dedup();
        entries.push(Entry {
            tx: &entry.tx,
            fee: i64::try_from(entry.fee.to_sat()).unwrap_or(i64::MAX),
            modified_fee: mempool.modified_fee(txid).unwrap_or(0),
            vsize: entry.vsize,
            weight: entry.weight,
            sigops: entry.sigop_cost,
            parents,
            children: Vec::new(),
        });
    }
    for i in 0..entries.len() {
        let parents = entries.get(i).map(|e| e.parents.clone()).unwrap_or_default();
        for p in parents {
            if let Some(parent) = entries.get_mut(p) {
                parent.children.push(i);
            }
        }
    }
    let count = entries.len();
    let mut s = Selection {
        entries,
        picked: vec![false; count],
        failed: vec![false; count],
        mark: vec![usize::MAX; count],
        stamp: 0,
    };
    let max_weight = Weight::MAX_BLOCK.to_wu();
    let mut heap: BinaryHeap<Candidate> = (0..count).map(|i| s.candidate(i)).collect();
    let mut chosen = Vec::new();
    let mut consecutive_failures = 0u32;
    while let Some(candidate) = heap.pop() {
        let i = candidate.index;
        if s.picked.get(i).copied().unwrap_or(true) || s.failed.get(i).copied().unwrap_or(true) {
            continue;
        }
        let members = s.package(i);
        let (fee, vsize) = s.score(&members);
        if fee != candidate.fee || vsize != candidate.vsize {
            heap.push(Candidate { fee, vsize, index: i });
            continue;
        }
        if i128::from(fee) * 1000 < i128::from(BLOCK_MIN_FEE_RATE) * i128::from(vsize) {
            break;
        }
        let members_of = || members.iter().filter_map(|&m| s.entries.get(m));
        let package_weight: u64 = members_of().map(|e| e.weight).sum();
        let package_sigops: u64 = members_of().map(|e| e.sigops).sum();
        let fits = weight.saturating_add(package_weight) < max_weight
            && sigop_cost.saturating_add(package_sigops) < MAX_BLOCK_SIGOPS_COST as u64
            && members_of().all(|e| is_final(e.tx, height, median_time_past))
            && !members.iter().any(|&m| s.failed.get(m).copied().unwrap_or(false));
        if !fits {
            if let Some(f) = s.failed.get_mut(i) {
                *f = true;
            }
            consecutive_failures += 1;
            if consecutive_failures > MAX_CONSECUTIVE_FAILURES
                && weight.saturating_add(BLOCK_FULL_ENOUGH_WEIGHT_DELTA) > max_weight
            {
                break;
            }
            continue;
        }
        consecutive_failures = 0;
        *weight = weight.saturating_add(package_weight);
        *sigop_cost = sigop_cost.saturating_add(package_sigops);
        for &m in &members {
            if let Some(p) = s.picked.get_mut(m) {
                *p = true;
            }
        }
        chosen.extend_from_slice(&members);
        // Descendants of what was just picked score differently now.
        let mut todo: Vec<usize> = members
            .iter()
            .filter_map(|&m| s.entries.get(m))
            .flat_map(|e| e.children.iter().copied())
            .collect();
        let mut descendants: Vec<usize> = Vec::new();
        while let Some(d) = todo.pop() {
            if s.picked.get(d).copied().unwrap_or(true) || descendants.contains(&d) {
                continue;
            }
            descendants.push(d);
            if let Some(e) = s.entries.get(d) {
                todo.extend(e.children.iter().copied());
            }
        }
        for d in descendants {
            heap.push(s.candidate(d));
        }
    }
    (s.entries, chosen)
}

/// Builds the next block on `chain`'s tip from `mempool` (see the module doc). The proof of
/// work is not ground ([`grind`] does it); the header's time is the node's clock, at least the
/// median time past plus one.
pub fn assemble(
    chain: &ChainState,
    mempool: &Mempool,
    options: &AssembleOptions,
) -> Result<Assembled, BlockError> {
    let (height, median_time_past, subsidy) = chain.next_block_context();
    let mut weight = options.block_reserved_weight;
    let mut sigop_cost = options.coinbase_output_max_additional_sigops;
    let (entries, chosen) = if options.use_mempool {
        select(mempool, height, median_time_past, &mut weight, &mut sigop_cost)
    } else {
        (Vec::new(), Vec::new())
    };

    let mut fees = Vec::with_capacity(chosen.len());
    let mut sigops = Vec::with_capacity(chosen.len());
    let mut txs = Vec::with_capacity(chosen.len());
    let mut total_fees = 0i64;
    for e in chosen.iter().filter_map(|&i| entries.get(i)) {
        fees.push(e.fee);
        sigops.push(i64::try_from(e.sigops).unwrap_or(i64::MAX));
        total_fees = total_fees.saturating_add(e.fee);
        txs.push(e.tx.clone());
    }
    LAST_BLOCK_WEIGHT.store(weight, AtomicOrdering::Relaxed);
    LAST_BLOCK_TXS.store(txs.len() as u64, AtomicOrdering::Relaxed);
    let fee_amount = Amount::from_sat(u64::try_from(total_fees).unwrap_or(0));
    let time = chain.now().max(median_time_past.saturating_add(1));
    let block = build_block(chain, &options.coinbase_script, fee_amount, txs, time)?;
    let reward = subsidy.checked_add(fee_amount).unwrap_or(Amount::MAX_MONEY);
    let coinbase = block.txdata.first().ok_or(BlockError::Template("no coinbase"))?;
    let required_outputs = coinbase.output.iter().skip(1).map(serialize).collect();
    let coinbase = CoinbaseTx {
        version: u32::try_from(coinbase.version.0).unwrap_or(2),
        sequence: COINBASE_SEQUENCE,
        script_sig_prefix: height_push(height).into_bytes(),
        witness: WITNESS_RESERVED_VALUE.to_vec(),
        block_reward_remaining: i64::try_from(reward.to_sat()).unwrap_or(i64::MAX),
        required_outputs,
        lock_time: coinbase.lock_time.to_consensus_u32(),
    };
    Ok(Assembled { block, fees, sigops, coinbase, height, total_fees, weight, sigop_cost })
}

/// The next block on `chain`'s tip holding `txs` (in order) after a coinbase as Core's miner
/// writes it: version 2; one input with the BIP34 height (plus `OP_0` up to height 16, for the
/// 2-byte minimum), sequence 0xfffffffe and the witness reserved value; lock time height - 1;
/// subsidy + `fees` paid to `script_pubkey`; the witness commitment. Merkle root set, nonce 0.
pub(crate) fn build_block(
    chain: &ChainState,
    script_pubkey: &Script,
    fees: Amount,
    txs: Vec<Transaction>,
    time: u32,
) -> Result<Block, BlockError> {
    let (height, _, subsidy) = chain.next_block_context();
    let value = subsidy.checked_add(fees).unwrap_or(Amount::MAX_MONEY);
    let mut script_sig = Builder::from(height_push(height).into_bytes());
    if height <= 16 {
        script_sig = script_sig.push_opcode(opcodes::OP_0);
    }
    let coinbase = Transaction {
        version: TxVersion::TWO,
        lock_time: absolute::LockTime::from_consensus(height.saturating_sub(1)),
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: script_sig.into_script(),
            sequence: Sequence(COINBASE_SEQUENCE),
            witness: Witness::from_slice(&[WITNESS_RESERVED_VALUE]),
        }],
        output: vec![TxOut { value, script_pubkey: script_pubkey.to_owned() }],
    };
    let mut txdata = Vec::with_capacity(txs.len() + 1);
    txdata.push(coinbase);
    txdata.extend(txs);
    let mut block = Block {
        header: Header {
            version: BlockVersion::from_consensus(TEMPLATE_BLOCK_VERSION),
            prev_blockhash: chain.tip(),
            merkle_root: TxMerkleNode::all_zeros(),
            time,
            bits: chain.params().pow_bits,
            nonce: 0,
        },
        txdata,
    };
    let witness_root = block.witness_root().ok_or(BlockError::Template("no transactions"))?;
    let commitment = Block::compute_witness_commitment(&witness_root, &WITNESS_RESERVED_VALUE);
    let mut data = PushBytesBuf::from(&WITNESS_MAGIC);
    data.extend_from_slice(commitment.as_byte_array())
        .map_err(|_| BlockError::Template("witness commitment too long"))?;
    let commitment_output = TxOut {
        value: Amount::ZERO,
        script_pubkey: Builder::new().push_opcode(opcodes::all::OP_RETURN).push_slice(data).into_script(),
    };
    if let Some(coinbase) = block.txdata.first_mut() {
        coinbase.output.push(commitment_output);
    }
    block.header.merkle_root = block.compute_merkle_root().ok_or(BlockError::Template("no transactions"))?;
    Ok(block)
}

/// Counts the nonce up until the block's hash meets `target` (instant on regtest).
pub fn grind(block: &mut Block, target: Target) -> Result<(), BlockError> {
    loop {
        if target.is_met_by(block.block_hash()) {
            return Ok(());
        }
        block.header.nonce =
            block.header.nonce.checked_add(1).ok_or(BlockError::Template("nonce space exhausted"))?;
    }
}

/// The merkle branch of the block's first transaction (the coinbase), deepest level first:
/// hashing the coinbase txid with each in turn (it is always the left node) gives the root.
pub fn coinbase_merkle_path(block: &Block) -> Vec<[u8; 32]> {
    let mut level: Vec<[u8; 32]> = block.txdata.iter().map(|tx| tx.compute_txid().to_byte_array()).collect();
    let mut path = Vec::new();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            if let Some(last) = level.last().copied() {
                level.push(last);
            }
        }
        if let Some(sibling) = level.get(1) {
            path.push(*sibling);
        }
        level = level
            .chunks(2)
            .map(|pair| {
                let left = pair.first().copied().unwrap_or_default();
                let right = pair.get(1).copied().unwrap_or(left);
                let mut both = [0u8; 64];
                both[..32].copy_from_slice(&left);
                both[32..].copy_from_slice(&right);
                bitcoin::hashes::sha256d::Hash::hash(&both).to_byte_array()
            })
            .collect();
    }
    path
}
