//! [`State`]: one wallet's data behind its lock: the BDK wallet (if it has descriptors), its
//! signers, the wallet file, and what BDK does not keep (flags, comments, labels). Every change
//! goes through here and is written to the file before the lock is released.
//!
//! The read side computes what the RPCs and [`interfaces::Wallet`] show with Bitcoin Core's
//! rules, which differ from BDK's defaults in two places:
//! - a coinbase output is immature until it has 101 confirmations (Core's
//!   `GetBlocksToMaturity`; BDK counts 100);
//! - an unconfirmed transaction is *trusted* only if it is in the node's mempool and every input
//!   spends a wallet output of a confirmed or trusted transaction (Core's `CachedTxIsTrusted`;
//!   BDK trusts by keychain). An unconfirmed transaction the mempool lacks (a broadcast that got
//!   lost, a mempool that restarted empty) counts in no balance and its outputs are not listed or
//!   spent (Core's `GetBalance` / `AvailableCoins`), until it is back in the mempool or abandoned.
//!
//! Imported descriptors ([`crate::imports`]) own coins too: their transactions live in the BDK
//! wallet's graph like the wallet's own, and every read below asks both owners
//! ([`Keyed::owner_of`]): coins, transactions, amounts sent and received, trust.
//!
//! Mempool membership is not in BDK's graph and not written to the file: [`State::set_in_mempool`]
//! follows the node's notifications (added, removed), an accepted broadcast, and at load the
//! mempool's contents and `Chain::is_in_mempool` (see [`crate::sync`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use bdk_wallet::chain::{BlockId, CanonicalizationParams, ChainPosition};
use bdk_wallet::{KeychainKind, LocalOutput, WalletEvent};
use bitcoin::{Address, Amount, Block, Network, OutPoint, Transaction, Txid};
use interfaces::{ChangeType, Error, Result};

mod keyed;

pub(crate) use keyed::{Keyed, Owner};

use crate::imports::Imports;
use crate::keys::Signers;
use crate::store::{Changes, Flags, Store, TxNote};

/// Bitcoin Core's wallet counts a coinbase as mature from this many confirmations.
pub(crate) const COINBASE_MATURE_DEPTH: u32 = 101;

/// Seconds since the UNIX epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// One wallet's data, behind [`crate::wallet::WalletInner`]'s lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: Store,
    /// `None` for a wallet without descriptors (blank or without private keys).
    pub(crate) keyed: Option<Keyed>,
    /// The last processed block of a wallet without descriptors.
    pub(crate) keyless_tip: BlockId,
    pub(crate) flags: Flags,
    pub(crate) network: Network,
    pub(crate) notes: HashMap<Txid, TxNote>,
    pub(crate) labels: BTreeMap<String, String>,
    pending_notes: Vec<(Txid, TxNote)>,
    pending_labels: Vec<(String, String)>,
    pending_tip: bool,
    /// Unconfirmed wallet transactions known to be in the node's mempool (Core's `InMempool`).
    in_mempool: HashSet<Txid>,
    /// Coins `lockunspent` locked for this load only (persistent locks are BDK's, in the file).
    memory_locks: HashSet<OutPoint>,
}

/// What happened to which transactions, for the `handle_transaction_changed` callbacks.
pub(crate) type Changed = Vec<(Txid, ChangeType)>;

/// An unspent output with Core's classification.
#[derive(Debug, Clone)]
pub(crate) struct Coin {
    pub(crate) output: LocalOutput,
    /// The wallet keychain or import it belongs to.
    pub(crate) owner: Owner,
    /// Confirmations (0 while unconfirmed).
    pub(crate) depth: u32,
    pub(crate) confirmed_in: Option<BlockId>,
    pub(crate) is_coinbase: bool,
    /// Confirmed, or unconfirmed and trusted.
    pub(crate) trusted: bool,
    /// A coinbase output with fewer than 101 confirmations.
    pub(crate) immature: bool,
    /// Unconfirmed and its transaction is in the node's mempool.
    pub(crate) in_mempool: bool,
}

impl Coin {
    /// Whether coin selection may use it (as Core: trusted, mature, not locked).
    pub(crate) fn spendable(&self) -> bool {
        self.trusted && !self.immature
    }

    /// Whether Core would list it at all: confirmed, or unconfirmed in the mempool (Core's
    /// `AvailableCoins` skips an unconfirmed transaction the mempool lacks).
    pub(crate) fn available(&self) -> bool {
        self.depth > 0 || self.in_mempool
    }
}

/// A wallet transaction as the RPCs show it.
#[derive(Debug, Clone)]
pub(crate) struct TxView {
    pub(crate) txid: Txid,
    pub(crate) tx: Arc<Transaction>,
    /// Satoshis of wallet coins spent (Core's debit).
    pub(crate) sent: u64,
    /// Satoshis paid to the wallet (Core's credit).
    pub(crate) received: u64,
    /// The fee when the wallet knows every input.
    pub(crate) fee: Option<u64>,
    /// The confirming block and its time.
    pub(crate) confirmed_in: Option<(BlockId, u64)>,
    pub(crate) depth: u32,
    /// Seconds since the epoch: first seen, or the block time if earlier / never seen.
    pub(crate) time: u64,
    /// When the wallet first learned of it.
    pub(crate) time_received: u64,
    pub(crate) is_coinbase: bool,
    pub(crate) trusted: bool,
    /// Whether it spends wallet coins.
    pub(crate) from_me: bool,
    /// Whether its inputs signal BIP125 replaceability.
    pub(crate) signals_rbf: bool,
}

/// One output of a wallet transaction.
#[derive(Debug, Clone)]
pub(crate) struct OutputView {
    pub(crate) vout: u32,
    pub(crate) value: u64,
    pub(crate) address: Option<String>,
    /// The keychain if the output is the wallet's.
    pub(crate) keychain: Option<KeychainKind>,
}

impl State {
    /// A state over `store`.
    pub(crate) fn new(
        store: Store,
        keyed: Option<Keyed>,
        keyless_tip: BlockId,
        flags: Flags,
        network: Network,
        notes: HashMap<Txid, TxNote>,
        labels: BTreeMap<String, String>,
    ) -> State {
        State {
            store,
            keyed,
            keyless_tip,
            flags,
            network,
            notes,
            labels,
            pending_notes: Vec::new(),
            pending_labels: Vec::new(),
            pending_tip: false,
            in_mempool: HashSet::new(),
            memory_locks: HashSet::new(),
        }
    }

    /// Records whether the node's mempool holds wallet transaction `txid`. Only unconfirmed
    /// canonical transactions are remembered as in it (a confirmed one no longer is).
    pub(crate) fn set_in_mempool(&mut self, txid: Txid, in_mempool: bool) {
        // Looked up directly (not through BDK's `get_tx`, a pass over the whole graph): known to
        // the wallet and anchored in no block of its chain.
        let unconfirmed = self.keyed.as_ref().is_some_and(|k| {
            let chain = k.wallet.local_chain();
            k.wallet.tx_graph().get_tx_node(txid).is_some_and(|node| {
                !node.anchors.iter().any(|anchor| {
                    chain.get(anchor.block_id.height).is_some_and(|cp| cp.hash() == anchor.block_id.hash)
                })
            })
        });
        if in_mempool && unconfirmed {
            self.in_mempool.insert(txid);
        } else {
            self.in_mempool.remove(&txid);
        }
    }

    /// Whether the node's mempool holds wallet transaction `txid`, as far as the wallet knows.
    pub(crate) fn is_in_mempool(&self, txid: Txid) -> bool {
        self.in_mempool.contains(&txid)
    }

    /// The last block the wallet processed.
    pub(crate) fn tip(&self) -> BlockId {
        match &self.keyed {
            Some(k) => k.wallet.local_chain().tip().block_id(),
            None => self.keyless_tip,
        }
    }

    /// The hash at `height` in the wallet's view of the chain, if it has a checkpoint there.
    pub(crate) fn hash_at(&self, height: u32) -> Option<bitcoin::BlockHash> {
        match &self.keyed {
            Some(k) => k.wallet.local_chain().get(height).map(|cp| cp.hash()),
            None => (self.keyless_tip.height == height).then_some(self.keyless_tip.hash),
        }
    }

    /// Checkpoints from the tip down (every processed block for a wallet with descriptors).
    pub(crate) fn checkpoints(&self) -> Vec<BlockId> {
        match &self.keyed {
            Some(k) => k.wallet.checkpoints().map(|cp| cp.block_id()).collect(),
            None => vec![self.keyless_tip],
        }
    }

    /// The BDK wallet with keychains of its own (for new addresses), or the error Core gives a
    /// wallet without keys.
    pub(crate) fn keyed_mut(&mut self) -> Result<&mut Keyed> {
        self.keyed.as_mut().filter(|k| k.own_keychains).ok_or_else(no_keys)
    }

    /// Gives a wallet without descriptors of its own (blank, or private keys disabled) a BDK
    /// wallet to hold its imports: two placeholder keychains whose keys are thrown away
    /// ([`Keyed::own_keychains`] false), written to the file at once. Its chain starts at genesis:
    /// the caller catches it up with the node (which reads every block once). `Ok(true)` if it
    /// was made now.
    pub(crate) fn ensure_keyed(&mut self) -> Result<bool> {
        if self.keyed.is_some() {
            return Ok(false);
        }
        let descriptors = crate::keys::placeholder_descriptors()?;
        let genesis = bitcoin::constants::genesis_block(self.network).block_hash();
        let mut wallet =
            bdk_wallet::Wallet::create(descriptors.external.clone(), descriptors.internal.clone())
                .network(self.network)
                .genesis_hash(genesis)
                .create_wallet_no_persist()
                .map_err(|e| Error::failed(format!("creating the wallet's key index: {e}")))?;
        let changeset = wallet.take_staged();
        let changes =
            Changes { bdk: changeset.as_ref(), descriptors: Some(&descriptors), ..Default::default() };
        self.store.persist(&changes).map_err(|e| Error::failed(format!("writing the wallet: {e}")))?;
        let signers = if self.flags.private_keys_enabled {
            Some(Signers::new(&descriptors, &wallet, self.network)?)
        } else {
            None
        };
        self.keyed = Some(Keyed {
            wallet,
            signers,
            imports: Imports::default(),
            private_descriptors: None,
            own_keychains: false,
        });
        Ok(true)
    }

    /// Writes every pending change to the file in one transaction.
    pub(crate) fn persist(&mut self) -> Result<()> {
        let tip = self.pending_tip.then_some((self.keyless_tip.height, self.keyless_tip.hash));
        let imports = self.keyed.as_mut().map(|k| k.imports.take_pending()).unwrap_or_default();
        let changes = Changes {
            bdk: self.keyed.as_ref().and_then(|k| k.wallet.staged()),
            tip,
            notes: self.pending_notes.clone(),
            labels: self.pending_labels.clone(),
            imports,
            descriptors: None,
        };
        let written = self.store.persist(&changes);
        let imports = changes.imports;
        if let Err(e) = written {
            if let Some(k) = self.keyed.as_mut() {
                k.imports.restore_pending(imports);
            }
            return Err(Error::failed(format!("writing the wallet: {e}")));
        }
        if let Some(k) = self.keyed.as_mut() {
            k.wallet.take_staged();
        }
        self.pending_notes.clear();
        self.pending_labels.clear();
        self.pending_tip = false;
        Ok(())
    }

    /// Records `note` for `txid` (written by the next [`State::persist`]).
    pub(crate) fn set_note(&mut self, txid: Txid, note: TxNote) {
        if note != TxNote::default() {
            self.notes.insert(txid, note.clone());
            self.pending_notes.push((txid, note));
        }
    }

    /// Forgets the note of `txid` that is not written yet (a payment undone before it was).
    pub(crate) fn discard_pending_note(&mut self, txid: Txid) {
        if self.pending_notes.iter().any(|(t, _)| *t == txid) {
            self.pending_notes.retain(|(t, _)| *t != txid);
            self.notes.remove(&txid);
        }
    }

    /// Labels `address` (written by the next [`State::persist`]).
    pub(crate) fn set_label(&mut self, address: String, label: String) {
        self.labels.insert(address.clone(), label.clone());
        self.pending_labels.push((address, label));
    }

    fn known_txids(&self) -> HashSet<Txid> {
        match &self.keyed {
            Some(k) => k.wallet.tx_graph().full_txs().map(|n| n.txid).collect(),
            None => HashSet::new(),
        }
    }

    /// Connects `block` at `height` on top of `connected_to` (which may be below the wallet's
    /// tip: BDK then drops the blocks above it, a reorganization).
    pub(crate) fn apply_block(
        &mut self,
        block: &Block,
        height: u32,
        connected_to: BlockId,
    ) -> Result<Changed> {
        let extends_tip = connected_to == self.tip();
        if !extends_tip {
            return self.apply_block_with_events(block, height, connected_to);
        }
        // The common case, a block on the tip: only its own transactions can change, so they
        // are compared directly. (BDK's event computation canonicalizes the whole graph twice
        // per block, which made catching up quadratic in the wallet's history.)
        match self.keyed.as_mut() {
            Some(k) => {
                let txids: Vec<Txid> = block.txdata.iter().map(Transaction::compute_txid).collect();
                let known: Vec<bool> =
                    txids.iter().map(|txid| k.wallet.tx_graph().get_tx(*txid).is_some()).collect();
                k.wallet
                    .apply_block_connected_to(block, height, connected_to)
                    .map_err(|e| Error::failed(format!("block {height} does not connect: {e}")))?;
                k.apply_block_to_imports(block, height)?;
                let mut changed = Changed::new();
                for (txid, was_known) in txids.into_iter().zip(known) {
                    // Mined: out of the mempool.
                    self.in_mempool.remove(&txid);
                    if k.wallet.tx_graph().get_tx(txid).is_some() {
                        changed.push((txid, if was_known { ChangeType::Updated } else { ChangeType::New }));
                    }
                }
                Ok(changed)
            }
            None => {
                self.keyless_tip = BlockId { height, hash: block.block_hash() };
                self.pending_tip = true;
                Ok(Vec::new())
            }
        }
    }

    /// Adds what `block`, one of the wallet's blocks at `height`, holds for the imports (a
    /// rescan after an import).
    pub(crate) fn rescan_block(&mut self, block: &Block, height: u32) -> Result<Changed> {
        let Some(k) = self.keyed.as_mut() else { return Ok(Vec::new()) };
        if k.wallet.local_chain().get(height).map(|cp| cp.hash()) != Some(block.block_hash()) {
            return Err(Error::failed(format!("block {height} left the wallet's chain during the rescan")));
        }
        let known: Vec<Txid> = block
            .txdata
            .iter()
            .map(Transaction::compute_txid)
            .filter(|txid| k.wallet.tx_graph().get_tx(*txid).is_some())
            .collect();
        let found = k.apply_block_to_imports(block, height)?;
        Ok(found
            .into_iter()
            .map(|txid| (txid, if known.contains(&txid) { ChangeType::Updated } else { ChangeType::New }))
            .collect())
    }

    /// [`apply_block`](State::apply_block) for a block that replaces some of the wallet's: BDK's
    /// events say which transactions moved (confirmed elsewhere, unconfirmed, dropped).
    fn apply_block_with_events(
        &mut self,
        block: &Block,
        height: u32,
        connected_to: BlockId,
    ) -> Result<Changed> {
        let before = self.known_txids();
        match self.keyed.as_mut() {
            Some(k) => {
                let events = k
                    .wallet
                    .apply_block_connected_to_events(block, height, connected_to)
                    .map_err(|e| Error::failed(format!("block {height} does not connect: {e}")))?;
                let imported = k.apply_block_to_imports(block, height)?;
                // Mined: out of the mempool.
                for tx in &block.txdata {
                    self.in_mempool.remove(&tx.compute_txid());
                }
                let mut changed = changes(&before, &events);
                // BDK's events cover its own keychains only.
                for txid in imported {
                    if !changed.iter().any(|(t, _)| *t == txid) {
                        let kind = if before.contains(&txid) { ChangeType::Updated } else { ChangeType::New };
                        changed.push((txid, kind));
                    }
                }
                Ok(changed)
            }
            None => {
                self.keyless_tip = BlockId { height, hash: block.block_hash() };
                self.pending_tip = true;
                Ok(Vec::new())
            }
        }
    }

    /// Drops the wallet's blocks above `fork`, one of its checkpoints, making it the tip: the
    /// node's active chain ends there (it is shorter than the wallet's, e.g. its block files were
    /// replaced). Transactions confirmed above it turn unconfirmed (or vanish, for coinbases), as
    /// in a reorganization. BDK's `Wallet` cannot disconnect blocks by itself, so the removal is
    /// written to the file (after everything pending) and the BDK wallet reloaded from it.
    pub(crate) fn rollback_to(&mut self, fork: BlockId) -> Result<Changed> {
        use bdk_wallet::chain::local_chain;
        let Some(k) = self.keyed.as_ref() else {
            self.set_keyless_tip(fork);
            self.persist()?;
            return Ok(Vec::new());
        };
        if k.wallet.local_chain().get(fork.height).map(|cp| cp.block_id()) != Some(fork) {
            return Err(Error::failed(format!("block {} is not in the wallet's chain", fork.height)));
        }
        let unconfirmed: Changed = k
            .wallet
            .transactions()
            .filter(|t| {
                matches!(t.chain_position, ChainPosition::Confirmed { anchor, .. }
                    if anchor.block_id.height > fork.height)
            })
            .map(|t| (t.tx_node.txid, ChangeType::Updated))
            .collect();
        let blocks = k
            .wallet
            .checkpoints()
            .map(|cp| cp.height())
            .filter(|h| *h > fork.height)
            .map(|h| (h, None))
            .collect();
        self.persist()?;
        let removal =
            bdk_wallet::ChangeSet { local_chain: local_chain::ChangeSet { blocks }, ..Default::default() };
        let written = Changes { bdk: Some(&removal), ..Default::default() };
        self.store.persist(&written).map_err(|e| Error::failed(format!("writing the wallet: {e}")))?;
        let record = self.store.read().map_err(|e| Error::failed(format!("reading the wallet: {e}")))?;
        let descriptors =
            record.descriptors.ok_or_else(|| Error::failed("the wallet file lost its descriptors"))?;
        let wallet = crate::loader::load_bdk_wallet(&descriptors, record.changeset, self.network)?;
        if wallet.local_chain().tip().block_id() != fork {
            return Err(Error::failed("rolling the wallet back did not reach the fork point"));
        }
        if let Some(k) = self.keyed.as_mut() {
            k.wallet = wallet;
        }
        Ok(unconfirmed)
    }

    /// Moves a wallet without descriptors to `tip` (it has nothing to undo or scan).
    pub(crate) fn set_keyless_tip(&mut self, tip: BlockId) {
        if self.keyed.is_none() && self.keyless_tip != tip {
            self.keyless_tip = tip;
            self.pending_tip = true;
        }
    }

    /// Adds `tx` as unconfirmed, seen at `seen`, if it concerns the wallet.
    pub(crate) fn apply_unconfirmed(&mut self, tx: Transaction, seen: u64) -> Changed {
        use bdk_wallet::chain::Indexer;
        let Some(k) = self.keyed.as_mut() else { return Vec::new() };
        let for_imports = k.imports.index_tx(&tx);
        let for_wallet = k.own_keychains && k.wallet.spk_index().is_tx_relevant(&tx);
        if !for_wallet && !for_imports {
            return Vec::new();
        }
        let txid = tx.compute_txid();
        // A transaction evicted earlier in the same second must become canonical again.
        let seen = match k.wallet.tx_graph().get_last_evicted(txid) {
            Some(evicted) => seen.max(evicted.saturating_add(1)),
            None => seen,
        };
        let was_known = k.wallet.tx_graph().get_tx(txid).is_some();
        let was_evicted = k.wallet.tx_graph().get_last_evicted(txid).is_some();
        if k.wallet.tx_graph().direct_conflicts(&tx).next().is_none() {
            // Nothing it could displace: only this transaction can change (BDK's events would
            // canonicalize the whole graph twice to say so). Seen again while pending is no
            // change; back after an eviction is an update.
            if for_wallet {
                k.wallet.apply_unconfirmed_txs([(tx, seen)]);
            } else {
                k.insert_unconfirmed(tx, seen);
            }
            return match (was_known, was_evicted) {
                (false, _) => vec![(txid, ChangeType::New)],
                (true, true) => vec![(txid, ChangeType::Updated)],
                (true, false) => Vec::new(),
            };
        }
        let before = self.known_txids();
        match self.keyed.as_mut() {
            Some(k) if !for_wallet => {
                // An import's: BDK's events would not see it; whatever it displaces is reported
                // by the next listing.
                k.insert_unconfirmed(tx, seen);
                if before.contains(&txid) {
                    vec![(txid, ChangeType::Updated)]
                } else {
                    vec![(txid, ChangeType::New)]
                }
            }
            Some(k) => {
                let events = k.wallet.apply_unconfirmed_txs_events([(tx, seen)]);
                let mut changed = changes(&before, &events);
                if !before.contains(&txid) && !changed.iter().any(|(t, _)| *t == txid) {
                    changed.push((txid, ChangeType::New));
                }
                changed
            }
            None => Vec::new(),
        }
    }

    /// Marks `txid` as gone from the mempool at `at` (its inputs become spendable again).
    pub(crate) fn apply_evicted(&mut self, txid: Txid, at: u64) -> Changed {
        let Some(k) = self.keyed.as_mut() else { return Vec::new() };
        if k.wallet.tx_graph().get_tx(txid).is_none() {
            return Vec::new();
        }
        let at = match k.wallet.tx_graph().get_tx_node(txid).and_then(|n| n.last_seen) {
            Some(seen) => at.max(seen),
            None => at,
        };
        let events = k.wallet.apply_evicted_txs_events([(txid, at)]);
        self.in_mempool.remove(&txid);
        changes(&HashSet::from([txid]), &events)
    }

    /// Confirmations of something confirmed at `height`.
    fn depth_of(&self, height: u32) -> u32 {
        self.tip().height.saturating_sub(height).saturating_add(1)
    }

    /// Every unspent wallet output with Core's classification.
    pub(crate) fn coins(&self) -> Vec<Coin> {
        let Some(k) = &self.keyed else { return Vec::new() };
        let mut trust = TrustCache::default();
        k.unspent()
            .into_iter()
            .map(|(output, owner)| {
                let tx = k.wallet.tx_graph().get_tx(output.outpoint.txid);
                let is_coinbase = tx.as_ref().is_some_and(|t| t.is_coinbase());
                let (depth, confirmed_in) = match &output.chain_position {
                    ChainPosition::Confirmed { anchor, .. } => {
                        (self.depth_of(anchor.block_id.height), Some(anchor.block_id))
                    }
                    ChainPosition::Unconfirmed { .. } => (0, None),
                };
                let trusted = depth > 0 || self.is_trusted(output.outpoint.txid, &mut trust, 0);
                let immature = is_coinbase && depth < COINBASE_MATURE_DEPTH;
                let in_mempool = depth == 0 && self.is_in_mempool(output.outpoint.txid);
                Coin { output, owner, depth, confirmed_in, is_coinbase, trusted, immature, in_mempool }
            })
            .collect()
    }

    /// Core's `CachedTxIsTrusted` for an unconfirmed canonical transaction: it is in the mempool,
    /// and every input spends a wallet output whose transaction is confirmed or itself trusted.
    fn is_trusted(&self, txid: Txid, cache: &mut TrustCache, level: u32) -> bool {
        if let Some(t) = cache.memo.get(&txid) {
            return *t;
        }
        let Some(k) = &self.keyed else { return false };
        let trusted = match cache.position(k, txid) {
            None => false,
            Some(Confirmation::Confirmed) => true,
            Some(Confirmation::Unconfirmed) if level > 100 => false,
            // Core: "Don't trust unconfirmed transactions from us unless they are in the mempool."
            Some(Confirmation::Unconfirmed) if !self.is_in_mempool(txid) => false,
            Some(Confirmation::Unconfirmed) => {
                let inputs: Vec<OutPoint> = match k.wallet.tx_graph().get_tx(txid) {
                    Some(tx) => tx.input.iter().map(|input| input.previous_output).collect(),
                    None => Vec::new(),
                };
                inputs.into_iter().all(|prev| {
                    let mine =
                        k.wallet.tx_graph().get_txout(prev).is_some_and(|out| k.is_mine(&out.script_pubkey));
                    mine && self.is_trusted(prev.txid, cache, level + 1)
                })
            }
        };
        cache.memo.insert(txid, trusted);
        trusted
    }

    /// `(trusted, untrusted_pending, immature)` in satoshis, as Core's `GetBalance`: untrusted
    /// coins count as pending only while their transaction is in the mempool.
    pub(crate) fn balances(&self) -> interfaces::Balances {
        let mut b = interfaces::Balances::default();
        for coin in self.coins() {
            let value = sat_i64(coin.output.txout.value);
            if coin.immature {
                b.immature += value;
            } else if coin.trusted {
                b.trusted += value;
            } else if coin.in_mempool {
                b.untrusted_pending += value;
            }
        }
        b
    }

    /// Whether `lockunspent` locked `outpoint` (for this load, or written to the file).
    pub(crate) fn is_locked(&self, outpoint: &OutPoint) -> bool {
        self.memory_locks.contains(outpoint)
            || self.keyed.as_ref().is_some_and(|k| k.wallet.is_outpoint_locked(*outpoint))
    }

    /// Every locked outpoint, in order.
    pub(crate) fn locked(&self) -> Vec<OutPoint> {
        let mut all: Vec<OutPoint> = self.memory_locks.iter().copied().collect();
        if let Some(k) = &self.keyed {
            all.extend(k.wallet.list_locked_outpoints());
        }
        all.sort();
        all.dedup();
        all
    }

    /// Locks `outpoint` against coin selection; `persistent` also writes the lock to the file,
    /// so it survives an unload or restart (Core's `lockunspent` with `persistent`).
    pub(crate) fn lock(&mut self, outpoint: OutPoint, persistent: bool) -> Result<()> {
        self.memory_locks.insert(outpoint);
        if persistent {
            if let Some(k) = self.keyed.as_mut() {
                k.wallet.lock_outpoint(outpoint);
            }
            self.persist()?;
        }
        Ok(())
    }

    /// Unlocks `outpoint`, in memory and in the file.
    pub(crate) fn unlock(&mut self, outpoint: OutPoint) -> Result<()> {
        self.memory_locks.remove(&outpoint);
        if let Some(k) = self.keyed.as_mut().filter(|k| k.wallet.is_outpoint_locked(outpoint)) {
            k.wallet.unlock_outpoint(outpoint);
            self.persist()?;
        }
        Ok(())
    }

    /// The outpoints coin selection must not use (untrusted, immature or locked).
    pub(crate) fn unspendable(&self) -> Vec<OutPoint> {
        let coins = self.coins();
        let Some(k) = &self.keyed else { return Vec::new() };
        coins
            .iter()
            .filter(|c| {
                !c.spendable()
                    || self.is_locked(&c.output.outpoint)
                    || k.wallet.is_outpoint_locked(c.output.outpoint)
            })
            .map(|c| c.output.outpoint)
            .collect()
    }

    /// Every canonical wallet transaction, oldest first (in chain order, unconfirmed last).
    pub(crate) fn transactions(&self) -> Vec<TxView> {
        let Some(k) = &self.keyed else { return Vec::new() };
        let mut trust = TrustCache::default();
        let mut views: Vec<TxView> = k
            .canonical_txs()
            .map(|ctx| self.view(&ctx.tx_node.tx, &ctx.chain_position, ctx.tx_node.first_seen, &mut trust))
            .collect();
        // Chain order: confirmed by height, then unconfirmed by when they were first seen; within a
        // block (BDK keeps no position) and among the unconfirmed, parents before children.
        let height = |v: &TxView| v.confirmed_in.map_or(u32::MAX, |(b, _)| b.height);
        views.sort_by_key(|v| (height(v), v.time_received, v.txid));
        let mut ordered = Vec::with_capacity(views.len());
        let mut group: Vec<TxView> = Vec::new();
        for v in views {
            if group.last().is_some_and(|g| height(g) != height(&v)) {
                ordered.extend(parents_first(std::mem::take(&mut group)));
            }
            group.push(v);
        }
        ordered.extend(parents_first(group));
        ordered
    }

    /// The wallet transaction `txid`, canonical or not (a conflicted one shows as unconfirmed).
    pub(crate) fn transaction(&self, txid: Txid) -> Option<TxView> {
        let k = self.keyed.as_ref()?;
        let mut trust = TrustCache::default();
        if let Some(ctx) = k.wallet.get_tx(txid) {
            return Some(self.view(&ctx.tx_node.tx, &ctx.chain_position, ctx.tx_node.first_seen, &mut trust));
        }
        let node = k.wallet.tx_graph().get_tx_node(txid)?;
        let position = ChainPosition::Unconfirmed { first_seen: node.first_seen, last_seen: node.last_seen };
        Some(self.view(&node.tx, &position, node.first_seen, &mut trust))
    }

    fn view(
        &self,
        tx: &Arc<Transaction>,
        position: &ChainPosition<bdk_wallet::chain::ConfirmationBlockTime>,
        first_seen: Option<u64>,
        trust: &mut TrustCache,
    ) -> TxView {
        let txid = tx.compute_txid();
        let (sent, received, fee) = match &self.keyed {
            Some(k) => {
                let (sent, received) = k.sent_and_received(tx);
                let fee = if tx.is_coinbase() || sent == 0 {
                    None
                } else {
                    k.wallet.calculate_fee(tx).ok().map(Amount::to_sat)
                };
                (sent, received, fee)
            }
            None => (0, 0, None),
        };
        let confirmed_in = match position {
            ChainPosition::Confirmed { anchor, .. } => Some((anchor.block_id, anchor.confirmation_time)),
            ChainPosition::Unconfirmed { .. } => None,
        };
        let depth = confirmed_in.map_or(0, |(b, _)| self.depth_of(b.height));
        let block_time = confirmed_in.map(|(_, t)| t);
        let time = match (first_seen, block_time) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => 0,
        };
        TxView {
            txid,
            tx: tx.clone(),
            sent,
            received,
            fee,
            confirmed_in,
            depth,
            time,
            time_received: first_seen.unwrap_or(time),
            is_coinbase: tx.is_coinbase(),
            trusted: depth > 0 || self.is_trusted(txid, trust, 0),
            from_me: sent > 0,
            signals_rbf: tx.is_explicitly_rbf(),
        }
    }

    /// The outputs of `tx`, with address and keychain.
    pub(crate) fn outputs(&self, tx: &Transaction) -> Vec<OutputView> {
        tx.output
            .iter()
            .enumerate()
            .map(|(i, out)| OutputView {
                vout: u32::try_from(i).unwrap_or(u32::MAX),
                value: out.value.to_sat(),
                address: Address::from_script(&out.script_pubkey, self.network).ok().map(|a| a.to_string()),
                keychain: self
                    .keyed
                    .as_ref()
                    .and_then(|k| k.owner_of(&out.script_pubkey).map(|owner| k.keychain_of(owner))),
            })
            .collect()
    }

    /// The `interfaces` shape of a transaction.
    pub(crate) fn to_wallet_tx(v: &TxView) -> interfaces::WalletTx {
        use bitcoin::hashes::Hash;
        interfaces::WalletTx {
            txid: v.txid.to_byte_array(),
            tx: bitcoin::consensus::serialize(&*v.tx),
            received: sat_i64(Amount::from_sat(v.received)),
            sent: sat_i64(Amount::from_sat(v.sent)),
            fee: v.fee.map(|f| sat_i64(Amount::from_sat(f))),
            confirmed_in: v
                .confirmed_in
                .map(|(b, _)| interfaces::BlockRef { hash: b.hash.to_byte_array(), height: b.height }),
            time: i64::try_from(v.time).unwrap_or(i64::MAX),
            is_coinbase: v.is_coinbase,
        }
    }
}

/// Orders `views` so that a transaction comes after every transaction of the list it spends,
/// keeping the given order otherwise.
pub(crate) fn parents_first(views: Vec<TxView>) -> Vec<TxView> {
    let listed: HashSet<Txid> = views.iter().map(|v| v.txid).collect();
    let mut placed: HashSet<Txid> = HashSet::new();
    let mut remaining = views;
    let mut ordered = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = remaining.into_iter().partition(|v| {
            v.tx.input.iter().all(|i| {
                let parent = i.previous_output.txid;
                !listed.contains(&parent) || placed.contains(&parent)
            })
        });
        if ready.is_empty() {
            ordered.extend(rest); // a cycle cannot happen; keep everything anyway
            break;
        }
        placed.extend(ready.iter().map(|v| v.txid));
        ordered.extend(ready);
        remaining = rest;
    }
    ordered
}

/// Satoshis as `i64` (every real amount fits).
pub(crate) fn sat_i64(amount: Amount) -> i64 {
    i64::try_from(amount.to_sat()).unwrap_or(i64::MAX)
}

/// The error Core gives a wallet without descriptors.
pub(crate) fn no_keys() -> Error {
    Error::failed("Error: This wallet has no available keys")
}

/// Whether a canonical transaction is confirmed in the wallet's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    Confirmed,
    Unconfirmed,
}

/// What one balance or listing computation learns about trust, computed at most once: BDK's
/// canonical view costs a pass over the whole transaction graph (its `Wallet::get_tx` does that
/// pass for every call), so it is taken once and looked up after.
#[derive(Default)]
struct TrustCache {
    canonical: Option<HashMap<Txid, Confirmation>>,
    memo: HashMap<Txid, bool>,
}

impl TrustCache {
    /// The position of `txid` among the canonical transactions; `None` if it is not canonical.
    fn position(&mut self, keyed: &Keyed, txid: Txid) -> Option<Confirmation> {
        let canonical = self.canonical.get_or_insert_with(|| {
            let graph = keyed.wallet.tx_graph();
            let chain = keyed.wallet.local_chain();
            graph
                .list_canonical_txs(chain, chain.tip().block_id(), CanonicalizationParams::default())
                .map(|tx| {
                    let confirmation = match tx.chain_position {
                        ChainPosition::Confirmed { .. } => Confirmation::Confirmed,
                        ChainPosition::Unconfirmed { .. } => Confirmation::Unconfirmed,
                    };
                    (tx.tx_node.txid, confirmation)
                })
                .collect()
        });
        canonical.get(&txid).copied()
    }
}

/// Maps BDK's events to `New` (the wallet did not know the transaction before) or `Updated`.
fn changes(before: &HashSet<Txid>, events: &[WalletEvent]) -> Changed {
    let mut out: Changed = Vec::new();
    for event in events {
        let txid = match event {
            WalletEvent::TxConfirmed { txid, .. }
            | WalletEvent::TxUnconfirmed { txid, .. }
            | WalletEvent::TxReplaced { txid, .. }
            | WalletEvent::TxDropped { txid, .. } => *txid,
            _ => continue,
        };
        let kind = if before.contains(&txid) { ChangeType::Updated } else { ChangeType::New };
        if !out.iter().any(|(t, _)| *t == txid) {
            out.push((txid, kind));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::hashes::Hash;
    use bitcoin::transaction::Version;
    use bitcoin::{ScriptBuf, Sequence, TxIn, Witness};

    fn view(parents: &[Txid], tag: u32) -> TxView {
        let input = parents
            .iter()
            .map(|p| TxIn {
                previous_output: OutPoint { txid: *p, vout: 0 },
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect();
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(tag),
            input,
            output: vec![],
        };
        TxView {
            txid: tx.compute_txid(),
            tx: Arc::new(tx),
            sent: 0,
            received: 0,
            fee: None,
            confirmed_in: None,
            depth: 0,
            time: 0,
            time_received: 0,
            is_coinbase: false,
            trusted: false,
            from_me: false,
            signals_rbf: false,
        }
    }

    #[test]
    fn parents_come_first() {
        let outside = Txid::from_byte_array([9; 32]);
        let a = view(&[outside], 1);
        let b = view(&[a.txid], 2);
        let c = view(&[b.txid, a.txid], 3);
        let d = view(&[outside], 4);
        let expect = [d.txid, a.txid, b.txid, c.txid];
        let ordered: Vec<Txid> = parents_first(vec![c, b, d, a]).into_iter().map(|v| v.txid).collect();
        assert_eq!(ordered, expect);
    }
}
