//! Chain state: the block index, the active chain, the UTXO set, and block acceptance.
//!
//! # Design
//!
//! * The **block index** maps every known block hash to an [`IndexEntry`] (header, height,
//!   cumulative work, arrival order). The **active chain** is a vector of hashes by height: the
//!   valid chain with the most work. Side branches are kept and reorganisations made as
//!   [`reorg`] describes (undo data from [`UtxoView`], kept in memory per active block).
//! * **Acceptance** is two steps: [`ChainState::accept_block`] first validates the block against
//!   a [`UtxoView`] layered over the UTXO set (nothing changes yet), then, if the state has a
//!   [`BlockStore`], appends and syncs the block, and only then commits the view and moves the tip.
//!   A failing write therefore leaves the state unchanged.
//! * **Opening** a directory replays the block file through the same validation; the UTXO set is
//!   never stored, it is rebuilt. Only the clock-dependent rule (a block time at most 2 h in the
//!   future) is not applied again: a stored block passed it when it was accepted, and a clock set
//!   back since must not make stored blocks invalid. A stored block that fails any other rule is
//!   corruption ([`StorageError::Corrupt`]): the chain refuses to open. With
//!   [`OpenMode::Reindex`] the chain is instead rebuilt from the intact stored blocks that connect
//!   from genesis, and the damaged file is kept aside (see [`BlockStore::reindex`]).

mod error;
mod params;
mod reorg;
mod script;
mod utxo;
mod validation;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::block::Header;
use bitcoin::pow::Work;
use bitcoin::script::Builder;
use bitcoin::{Amount, Block, BlockHash, OutPoint, Script, ScriptBuf, Transaction};

pub use error::BlockError;
pub use params::ChainParams;
pub use utxo::{Coin, UtxoSet};

use crate::storage::{followed_by, BlockStore, StorageError};
pub use reorg::{ChainTip, TipChange};
use utxo::{UtxoDelta, UtxoView};
use validation::{check_block, check_sigops, connect_transactions, BlockChecks, BlockContext};
pub(crate) use validation::{is_final, MAX_BLOCK_SIGOPS_COST};

/// Lowest header version accepted above genesis (BIP34, BIP66 and BIP65 are active on regtest).
const MIN_BLOCK_VERSION: i32 = 4;
/// Blocks the median time past is taken over.
const MEDIAN_TIME_SPAN: usize = 11;

/// How [`ChainState::open_with`] treats the stored blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OpenMode {
    /// Replay and re-validate every stored block. A torn tail (an append a crash interrupted) is
    /// cut off; any other damage, and a stored block that fails validation, refuses to open with
    /// [`StorageError::Corrupt`] and changes nothing.
    #[default]
    Normal,
    /// `-reindex`: rebuild the chain from the intact stored blocks, in file order, keeping each
    /// one that connects to the chain rebuilt so far. If anything is left out (damaged records,
    /// blocks that no longer connect), the block file is rewritten with the kept blocks and the
    /// original is kept aside, not deleted (see [`BlockStore::reindex`]).
    Reindex,
}

/// Where a block being validated comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A new block: every rule applies.
    New,
    /// A block read back from the block file: it passed the clock-dependent rule when it was
    /// accepted, which is not applied again.
    Stored,
}

/// What the block index knows about one block.
#[derive(Debug, Clone)]
pub(crate) struct IndexEntry {
    pub(crate) header: Header,
    pub(crate) height: u32,
    /// Work of the chain up to and including this block; the fork choice of a future reorg.
    pub(crate) chain_work: Work,
    /// Largest header time of this block and its ancestors (Core's `GetBlockTimeMax`).
    pub(crate) max_time: u32,
    /// The order blocks were received in: among chains of equal work, the one seen first wins.
    pub(crate) sequence: u64,
}

/// A validated block, ready to be committed.
#[derive(Debug)]
struct Connected {
    hash: BlockHash,
    height: u32,
    delta: UtxoDelta,
}

/// The node's view of the chain: block index, active chain, UTXO set, and optional storage.
pub struct ChainState {
    params: ChainParams,
    index: HashMap<BlockHash, IndexEntry>,
    blocks: HashMap<BlockHash, Block>,
    active: Vec<BlockHash>,
    utxos: UtxoSet,
    store: Option<BlockStore>,
    /// The coins each active block spent, in spending order (Core's undo data, in memory): the
    /// fee and prevout columns of `getblock` 2 and 3.
    spent: HashMap<BlockHash, Vec<(OutPoint, Coin)>>,
    /// `setmocktime`: the clock's reading in place of the system's (`None`: the system clock).
    mock_time: Option<u32>,
    /// Blocks that failed validation when connected (with their descendants: invalid).
    failed: HashSet<BlockHash>,
    /// Blocks `invalidateblock` marked invalid, kept across restarts in `invalidated_dir`.
    invalidated: HashSet<BlockHash>,
    invalidated_dir: Option<PathBuf>,
    /// Blocks that were connected at least once (fully validated): `valid-fork` tips.
    validated: HashSet<BlockHash>,
    /// The next [`IndexEntry::sequence`].
    next_sequence: u64,
}

impl std::fmt::Debug for ChainState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A summary: the blocks themselves would drown everything else.
        f.debug_struct("ChainState")
            .field("network", &self.params.network)
            .field("height", &self.height())
            .field("tip", &self.tip())
            .field("known_blocks", &self.index.len())
            .field("utxos", &self.utxos.len())
            .field("store", &self.store.as_ref().map(BlockStore::path))
            .finish()
    }
}

impl ChainState {
    /// A chain holding only the genesis block, kept in memory only.
    pub fn new(params: ChainParams) -> ChainState {
        let genesis = params.genesis.clone();
        let hash = genesis.block_hash();
        let entry = IndexEntry {
            header: genesis.header,
            height: 0,
            chain_work: genesis.header.work(),
            max_time: genesis.header.time,
            sequence: 0,
        };
        ChainState {
            params,
            index: HashMap::from([(hash, entry)]),
            blocks: HashMap::from([(hash, genesis)]),
            active: vec![hash],
            // As in Bitcoin Core, the genesis coinbase is not spendable: it never enters the set.
            utxos: UtxoSet::new(),
            store: None,
            spent: HashMap::new(),
            mock_time: None,
            failed: HashSet::new(),
            invalidated: HashSet::new(),
            invalidated_dir: None,
            validated: HashSet::from([hash]),
            next_sequence: 1,
        }
    }

    /// Opens the chain stored under `dir` (created if missing) with [`OpenMode::Normal`]: replays
    /// and re-validates every stored block; a torn tail is cut, any other damage is
    /// [`StorageError::Corrupt`]. Every block accepted afterwards is written there before the tip
    /// moves.
    pub fn open(dir: &Path, params: ChainParams) -> Result<ChainState, StorageError> {
        ChainState::open_with(dir, params, OpenMode::Normal)
    }

    /// Opens the chain stored under `dir` (created if missing) as `mode` says.
    pub fn open_with(dir: &Path, params: ChainParams, mode: OpenMode) -> Result<ChainState, StorageError> {
        let network = params.network;
        let mut chain = ChainState::new(params);
        // Invalidations first, so the replay does not connect what the user took off.
        chain.load_invalidated(dir)?;
        let store = match mode {
            OpenMode::Normal => {
                let (store, stored) = BlockStore::open(dir, network)?;
                let count = stored.len();
                for (i, record) in stored.into_iter().enumerate() {
                    let hash = record.block.block_hash();
                    let height = chain.height().saturating_add(1);
                    if let Err(e) = chain.replay(record.block) {
                        let reason = format!(
                            "stored block {hash} (height {height}) fails re-validation: {e}{}",
                            followed_by(count - i - 1)
                        );
                        return Err(store.corrupt(record.offset, reason));
                    }
                }
                store
            }
            OpenMode::Reindex => {
                tracing::info!(target: "blockstorage", "Reindexing blocks from {}", dir.display());
                let mut refused = 0usize;
                let (store, _) = BlockStore::reindex(dir, network, |record| {
                    let hash = record.block.block_hash();
                    match chain.replay(record.block) {
                        Ok(()) => true,
                        Err(e) => {
                            // The first one says why; the later ones mostly fail because their
                            // parent was lost with it.
                            if refused == 0 {
                                tracing::warn!(
                                    target: "blockstorage",
                                    offset = record.offset,
                                    %hash,
                                    "Reindex: stored block does not connect; setting it aside: {e}"
                                );
                            } else {
                                tracing::debug!(
                                    target: "blockstorage",
                                    offset = record.offset,
                                    %hash,
                                    "Reindex: stored block does not connect; setting it aside: {e}"
                                );
                            }
                            refused += 1;
                            false
                        }
                    }
                })?;
                store
            }
        };
        tracing::info!("Loaded best chain: height={} hash={}", chain.height(), chain.tip());
        chain.store = Some(store);
        Ok(chain)
    }

    /// Sets the clock this chain reads (block times of new templates, the "too far in the
    /// future" rule, mempool entry times) to `time`; `None` goes back to the system clock.
    /// Bitcoin Core's `SetMockTime` (`setmocktime`, regtest only).
    pub fn set_mock_time(&mut self, time: Option<u32>) {
        self.mock_time = time;
    }

    /// The mocked time, if the clock is mocked.
    pub fn mock_time(&self) -> Option<u32> {
        self.mock_time
    }

    /// The node's clock: the mocked time if set, else the system time (seconds since the epoch).
    pub fn now(&self) -> u32 {
        self.mock_time.unwrap_or_else(now)
    }

    /// The consensus parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Hash of the tip of the active chain.
    pub fn tip(&self) -> BlockHash {
        // `active` always holds at least genesis.
        self.active.last().copied().unwrap_or_else(|| self.params.genesis.block_hash())
    }

    /// Height of the tip (genesis is 0).
    pub fn height(&self) -> u32 {
        u32::try_from(self.active.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Hash of the active-chain block at `height`.
    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.active.get(usize::try_from(height).ok()?).copied()
    }

    /// A known block by hash.
    pub fn block(&self, hash: &BlockHash) -> Option<&Block> {
        self.blocks.get(hash)
    }

    /// A known header by hash.
    pub fn header(&self, hash: &BlockHash) -> Option<&Header> {
        self.index.get(hash).map(|e| &e.header)
    }

    /// Height of a known block.
    pub fn block_height(&self, hash: &BlockHash) -> Option<u32> {
        self.index.get(hash).map(|e| e.height)
    }

    /// Whether `hash` is on the active chain.
    pub fn is_active(&self, hash: &BlockHash) -> bool {
        self.block_height(hash).and_then(|h| self.block_hash(h)).is_some_and(|h| h == *hash)
    }

    /// Cumulative work of the active chain.
    pub fn chain_work(&self) -> Work {
        self.index.get(&self.tip()).map_or(Work::from_be_bytes([0; 32]), |e| e.chain_work)
    }

    /// Cumulative work of the chain up to and including the known block `hash`.
    pub fn block_chain_work(&self, hash: &BlockHash) -> Option<Work> {
        self.index.get(hash).map(|e| e.chain_work)
    }

    /// Largest header time of the block `hash` and its ancestors.
    pub fn block_max_time(&self, hash: &BlockHash) -> Option<u32> {
        self.index.get(hash).map(|e| e.max_time)
    }

    /// Median time past of the active-chain block at `height` (its 11 blocks up to it).
    pub fn median_time_past_of(&self, height: u32) -> u32 {
        self.median_time_past_at(height)
    }

    /// The coins the active block `hash` spent, in spending order (inputs of its transactions
    /// after the coinbase, one by one).
    pub fn spent_coins(&self, hash: &BlockHash) -> Option<&[(OutPoint, Coin)]> {
        self.spent.get(hash).map(Vec::as_slice)
    }

    /// The unspent outputs of the active chain.
    pub fn utxos(&self) -> &UtxoSet {
        &self.utxos
    }

    /// Median time of the last 11 blocks of the active chain (the floor for the next block's time).
    pub fn median_time_past(&self) -> u32 {
        self.median_time_past_at(self.height())
    }

    fn median_time_past_at(&self, height: u32) -> u32 {
        let end = usize::try_from(height).map_or(self.active.len(), |h| h.saturating_add(1));
        let start = end.saturating_sub(MEDIAN_TIME_SPAN);
        let mut times: Vec<u32> = self
            .active
            .get(start..end.min(self.active.len()))
            .unwrap_or_default()
            .iter()
            .filter_map(|h| self.index.get(h).map(|e| e.header.time))
            .collect();
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// Accepts `block`: one that extends the tip is validated, stored (synced to disk when the
    /// state has storage) and becomes the new tip; one on a side branch is checked, stored, and
    /// becomes part of the active chain if its branch has the most work (see [`reorg`]). Returns
    /// what the active chain did. On an error about the block itself nothing changes.
    pub fn accept_block(&mut self, block: Block) -> Result<TipChange, BlockError> {
        self.process_block(block, Origin::New)
    }

    /// Replays a block read back from the block file (it is on disk already).
    fn replay(&mut self, block: Block) -> Result<(), BlockError> {
        self.process_block(block, Origin::Stored).map(|_| ())
    }

    fn process_block(&mut self, block: Block, origin: Origin) -> Result<TipChange, BlockError> {
        let hash = block.block_hash();
        if self.index.contains_key(&hash) {
            return Err(BlockError::Duplicate(hash));
        }
        let prev = block.header.prev_blockhash;
        if prev != self.tip() || self.invalidated.contains(&hash) {
            return self.accept_side_block(block, origin);
        }
        let connected = self.validate_with(&block, origin, BlockChecks::ALL)?;
        if origin == Origin::New {
            if let Some(store) = self.store.as_mut() {
                store.append(&block)?;
            }
        }
        let height = connected.height;
        self.commit(block.clone(), connected);
        Ok(TipChange { connected: vec![(block, height)], ..TipChange::default() })
    }

    /// Whether `block` would be accepted on the tip, the proof of work and the merkle root
    /// checked only as asked (Core's `TestBlockValidity`, behind `Mining.checkBlock`); changes
    /// nothing. A block that does not build on the tip fails with [`BlockError::NotOnTip`] (or
    /// [`BlockError::PrevBlockNotFound`]) before any other check.
    pub fn test_block_validity(
        &self,
        block: &Block,
        check_pow: bool,
        check_merkle_root: bool,
    ) -> Result<(), BlockError> {
        let prev = block.header.prev_blockhash;
        if !self.index.contains_key(&prev) {
            return Err(BlockError::PrevBlockNotFound(prev));
        }
        if prev != self.tip() {
            return Err(BlockError::NotOnTip(prev));
        }
        let checks = BlockChecks { pow: check_pow, merkle_root: check_merkle_root };
        self.validate_with(block, Origin::New, checks).map(|_| ())
    }

    fn validate_with(
        &self,
        block: &Block,
        origin: Origin,
        checks: BlockChecks,
    ) -> Result<Connected, BlockError> {
        let hash = block.block_hash();
        check_block(block, &self.params, checks)?;

        let prev = block.header.prev_blockhash;
        let Some(prev_entry) = self.index.get(&prev) else {
            return Err(BlockError::PrevBlockNotFound(prev));
        };
        if prev != self.tip() {
            return Err(BlockError::NotOnTip(prev));
        }
        let height = prev_entry.height.saturating_add(1);

        // Contextual header checks.
        if block.header.version.to_consensus() < MIN_BLOCK_VERSION {
            return Err(BlockError::BadVersion(block.header.version.to_consensus()));
        }
        let median_time_past = self.median_time_past_at(prev_entry.height);
        if block.header.time <= median_time_past {
            return Err(BlockError::TimeTooOld { time: block.header.time, median_time_past });
        }
        if origin == Origin::New
            && block.header.time > self.now().saturating_add(self.params.max_future_block_time)
        {
            return Err(BlockError::TimeTooNew(block.header.time));
        }

        // Contextual coinbase check (BIP34): scriptSig starts with the height, pushed as Core does.
        let (coinbase, txs) = block.txdata.split_first().ok_or(BlockError::CoinbaseMissing)?;
        let expected = height_push(height);
        let starts_with_height =
            coinbase.input.first().is_some_and(|i| i.script_sig.as_bytes().starts_with(expected.as_bytes()));
        if !starts_with_height {
            return Err(BlockError::CoinbaseHeight(height));
        }

        let mut view = UtxoView::new(&self.utxos);
        let mtp = |h: u32| self.median_time_past_at(h);
        let at = BlockContext { height, median_time_past: &mtp };
        let (fees, sigop_cost) = connect_transactions(&mut view, txs, &at, &self.params)?;
        check_sigops(coinbase, sigop_cost)?;
        let limit = self.params.subsidy(height).checked_add(fees).unwrap_or(Amount::MAX_MONEY);
        let paid = coinbase.output.iter().map(|o| o.value).fold(Amount::ZERO, |a, v| a + v);
        if paid > limit {
            return Err(BlockError::CoinbaseAmount { actual_sat: paid.to_sat(), limit_sat: limit.to_sat() });
        }
        view.add_outputs(coinbase, height);
        Ok(Connected { hash, height, delta: view.into_delta() })
    }

    /// Adds `block` at `height` to the block index (once; a block connected again after a
    /// reorganisation keeps its entry and sequence).
    fn insert_index(&mut self, block: &Block, height: u32) {
        let hash = block.block_hash();
        if self.index.contains_key(&hash) {
            return;
        }
        let parent = self.index.get(&block.header.prev_blockhash);
        let work = block.header.work();
        let chain_work = parent.map_or(work, |p| p.chain_work + work);
        let max_time = parent.map_or(block.header.time, |p| p.max_time.max(block.header.time));
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.index.insert(hash, IndexEntry { header: block.header, height, chain_work, max_time, sequence });
    }

    fn commit(&mut self, block: Block, connected: Connected) {
        let Connected { hash, height, delta } = connected;
        self.insert_index(&block, height);
        self.validated.insert(hash);
        self.blocks.insert(hash, block);
        self.active.push(hash);
        self.spent.insert(hash, delta.undo.clone());
        self.utxos.apply(delta);
        tracing::debug!(target: "validation", "UpdateTip: new best={hash} height={height}");
    }

    /// Builds a valid block on the tip: a coinbase paying subsidy plus fees to `script_pubkey`
    /// (with the BIP34 height and a witness commitment), then `txs` in the order given, with the
    /// nonce ground until the proof of work holds. The block is not accepted; pass it to
    /// [`ChainState::accept_block`]. Fails with the rule `txs` break.
    pub fn create_block(&self, script_pubkey: &Script, txs: Vec<Transaction>) -> Result<Block, BlockError> {
        let time = self.now().max(self.median_time_past().saturating_add(1));
        self.create_block_at(script_pubkey, txs, time)
    }

    /// [`ChainState::create_block`] whose coinbase claims the subsidy only, leaving the fees of
    /// `txs` unclaimed: what Bitcoin Core's `generateblock` mines (its template is made without the
    /// mempool, and the given transactions are added after the coinbase is written). Blocks must
    /// match bitcoind's to the byte for UTXO-set hashes and block hashes under mock time to agree.
    pub fn create_block_without_fees(
        &self,
        script_pubkey: &Script,
        txs: Vec<Transaction>,
    ) -> Result<Block, BlockError> {
        let time = self.now().max(self.median_time_past().saturating_add(1));
        self.build_and_grind(script_pubkey, txs, time, false)
    }

    /// [`ChainState::create_block`] with a chosen block time.
    pub fn create_block_at(
        &self,
        script_pubkey: &Script,
        txs: Vec<Transaction>,
        time: u32,
    ) -> Result<Block, BlockError> {
        self.build_and_grind(script_pubkey, txs, time, true)
    }

    fn build_and_grind(
        &self,
        script_pubkey: &Script,
        txs: Vec<Transaction>,
        time: u32,
        claim_fees: bool,
    ) -> Result<Block, BlockError> {
        let height = self.height().saturating_add(1);
        let mut view = UtxoView::new(&self.utxos);
        let mtp = |h: u32| self.median_time_past_at(h);
        let at = BlockContext { height, median_time_past: &mtp };
        let (fees, sigop_cost) = connect_transactions(&mut view, &txs, &at, &self.params)?;
        let claimed = if claim_fees { fees } else { Amount::ZERO };
        let mut block = crate::mining::build_block(self, script_pubkey, claimed, txs, time)?;
        if let Some(coinbase) = block.txdata.first() {
            check_sigops(coinbase, sigop_cost)?;
        }
        crate::mining::grind(&mut block, self.params.pow_limit)?;
        Ok(block)
    }

    /// The next block's height, its median time past and the subsidy it may pay.
    pub(crate) fn next_block_context(&self) -> (u32, u32, Amount) {
        let height = self.height().saturating_add(1);
        (height, self.median_time_past(), self.params.subsidy(height))
    }

    /// Checks `tx` as the next block would: every consensus rule of [`ChainState::accept_block`]
    /// that applies to one transaction (sanity, finality, inputs unspent, maturity, amounts,
    /// signatures), against the tip's UTXO set plus the outputs of `parents` (transactions
    /// already accepted to the mempool, in dependency order; they are not re-verified, only their
    /// spends and outputs are applied). Returns the fee `tx` pays. The mempool's entry check.
    pub fn check_transaction_on_tip(
        &self,
        parents: &[Transaction],
        tx: &Transaction,
    ) -> Result<Amount, BlockError> {
        self.check_transaction_on_tip_with_sigops(parents.iter(), tx).map(|(fee, _)| fee)
    }

    /// [`ChainState::check_transaction_on_tip`], also returning the transaction's sigop cost
    /// (BIP141 weighting: what a block template counts for it).
    pub fn check_transaction_on_tip_with_sigops<'a>(
        &self,
        parents: impl IntoIterator<Item = &'a Transaction>,
        tx: &Transaction,
    ) -> Result<(Amount, usize), BlockError> {
        let height = self.height().saturating_add(1);
        let mut view = UtxoView::new(&self.utxos);
        for parent in parents {
            for txin in &parent.input {
                view.spend(&txin.previous_output);
            }
            view.add_outputs(parent, height);
        }
        validation::check_transaction(tx)?;
        let mtp = |h: u32| self.median_time_past_at(h);
        let at = BlockContext { height, median_time_past: &mtp };
        connect_transactions(&mut view, std::slice::from_ref(tx), &at, &self.params)
    }

    /// After a block: which of `txs` (mempool transactions, in dependency order, each valid on
    /// the previous tip when it entered) are still valid on the new tip: their inputs exist and
    /// are unspent (in the UTXO set or among the outputs of the earlier ones kept), coinbase
    /// spends are mature and lock times final. Signatures are not verified again: they depend
    /// only on the spent coins, which are the same coins when still unspent. One pass over one
    /// view, so a large pool costs linear time.
    pub fn still_valid_on_tip(&self, txs: &[&Transaction]) -> Vec<bool> {
        let height = self.height().saturating_add(1);
        let median_time_past = self.median_time_past();
        let mut view = UtxoView::new(&self.utxos);
        txs.iter()
            .map(|tx| {
                let inputs_ok = tx.input.iter().all(|i| {
                    view.get(&i.previous_output).is_some_and(|coin| {
                        !coin.is_coinbase
                            || height.saturating_sub(coin.height) >= self.params.coinbase_maturity
                    })
                });
                let ok = inputs_ok && is_final(tx, height, median_time_past);
                if ok {
                    for input in &tx.input {
                        view.spend(&input.previous_output);
                    }
                    view.add_outputs(tx, height);
                }
                ok
            })
            .collect()
    }

    /// Builds a block with [`ChainState::create_block`] and accepts it; returns its hash.
    pub fn mine_block(
        &mut self,
        script_pubkey: &Script,
        txs: Vec<Transaction>,
    ) -> Result<BlockHash, BlockError> {
        let block = self.create_block(script_pubkey, txs)?;
        let hash = block.block_hash();
        self.accept_block(block)?;
        Ok(hash)
    }
}

/// `CScript() << height` as Bitcoin Core writes it: OP_1..OP_16 for small heights, else a
/// minimal script number push.
pub(crate) fn height_push(height: u32) -> ScriptBuf {
    Builder::new().push_int(i64::from(height)).into_script()
}

fn now() -> u32 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u32::try_from(secs).unwrap_or(u32::MAX)
}
