//! Side branches and reorganisations: blocks that do not build on the tip are kept, the chain
//! with the most work that is not invalid is the active one, and `invalidateblock` /
//! `reconsiderblock` move the tip as Bitcoin Core's do.
//!
//! * A block on a side branch gets the checks that need no UTXO set (context-free, header
//!   version, time against its own ancestors' median, BIP34 height), is stored and indexed, and
//!   is validated fully only when its branch gets more work than the active chain.
//! * [`ChainState::activate_best_chain`] disconnects back to the fork with the in-memory undo data,
//!   then connects the branch block by block; a block that fails is marked invalid (with every
//!   block built on it) and the best remaining chain is activated instead, which may be the old
//!   one, reconnected. Equal work keeps the block seen first.
//! * Invalidations asked for by `invalidateblock` survive a restart: their hashes are kept in
//!   `<dir>/invalidated-blocks` (written atomically). Blocks that failed validation are not
//!   written down: on a restart they fail again the same way.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use bitcoin::{Block, BlockHash};

use super::validation::{check_block, BlockChecks};
use super::{height_push, BlockError, ChainState, IndexEntry, Origin, MIN_BLOCK_VERSION};
use crate::storage::StorageError;

/// What one change of the active chain did, for the mempool and the notifications.
#[derive(Debug, Default)]
pub struct TipChange {
    /// Blocks taken off the tip, newest first, with their heights.
    pub disconnected: Vec<(Block, u32)>,
    /// Blocks connected, oldest first, with their heights.
    pub connected: Vec<(Block, u32)>,
    /// Blocks that failed validation on the way (now marked invalid), and why.
    pub failed: Vec<(BlockHash, BlockError)>,
}

impl TipChange {
    fn extend(&mut self, other: TipChange) {
        self.disconnected.extend(other.disconnected);
        self.connected.extend(other.connected);
        self.failed.extend(other.failed);
    }
}

/// A chain tip for `getchaintips`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// The tip block.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
    /// Blocks between it and the active chain (0 for the active tip).
    pub branch_len: u32,
    /// Core's status: `active`, `valid-fork`, `valid-headers` or `invalid`.
    pub status: &'static str,
}

const INVALIDATED_FILE: &str = "invalidated-blocks";

impl ChainState {
    /// Whether `hash` or any block below it is invalid (failed validation or was invalidated).
    pub fn is_invalid(&self, hash: &BlockHash) -> bool {
        let mut current = *hash;
        loop {
            if self.failed.contains(&current) || self.invalidated.contains(&current) {
                return true;
            }
            if self.is_active(&current) {
                return false;
            }
            match self.index.get(&current) {
                Some(entry) if entry.height > 0 => current = entry.header.prev_blockhash,
                _ => return false,
            }
        }
    }

    /// Indexes and stores a block that does not extend the tip, after the checks that need no
    /// UTXO set, then makes the best chain active. A replayed block (`Origin::Stored`) is on disk
    /// already and is not written again.
    pub(super) fn accept_side_block(
        &mut self,
        block: Block,
        origin: Origin,
    ) -> Result<TipChange, BlockError> {
        let hash = block.block_hash();
        let prev = block.header.prev_blockhash;
        let prev_entry = self.index.get(&prev).cloned().ok_or(BlockError::PrevBlockNotFound(prev))?;
        if origin == Origin::New && self.is_invalid(&prev) {
            return Err(BlockError::BadPrevBlock(prev));
        }
        check_block(&block, &self.params, BlockChecks::ALL)?;
        self.check_header_on_branch(&block, &prev_entry, origin)?;
        if origin == Origin::New {
            if let Some(store) = self.store.as_mut() {
                store.append(&block)?;
            }
        }
        self.insert_index(&block, prev_entry.height.saturating_add(1));
        self.blocks.insert(hash, block);
        tracing::debug!(target: "validation", "Saw new side-branch block {hash} (height {})", prev_entry.height + 1);
        Ok(self.activate_best_chain())
    }

    /// Header rules in the block's own branch: version, time after its ancestors' median, not
    /// too far in the future (new blocks only), BIP34 height in the coinbase.
    fn check_header_on_branch(
        &self,
        block: &Block,
        prev: &IndexEntry,
        origin: Origin,
    ) -> Result<(), BlockError> {
        let height = prev.height.saturating_add(1);
        if block.header.version.to_consensus() < MIN_BLOCK_VERSION {
            return Err(BlockError::BadVersion(block.header.version.to_consensus()));
        }
        let median_time_past = self.median_time_past_below(&block.header.prev_blockhash);
        if block.header.time <= median_time_past {
            return Err(BlockError::TimeTooOld { time: block.header.time, median_time_past });
        }
        if origin == Origin::New
            && block.header.time > self.now().saturating_add(self.params.max_future_block_time)
        {
            return Err(BlockError::TimeTooNew(block.header.time));
        }
        let expected = height_push(height);
        let coinbase = block.txdata.first().ok_or(BlockError::CoinbaseMissing)?;
        if !coinbase.input.first().is_some_and(|i| i.script_sig.as_bytes().starts_with(expected.as_bytes())) {
            return Err(BlockError::CoinbaseHeight(height));
        }
        Ok(())
    }

    /// The median time of the 11 blocks ending at `hash`, following its own branch.
    fn median_time_past_below(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(11);
        let mut current = Some(*hash);
        while let Some(h) = current.filter(|_| times.len() < 11) {
            let Some(entry) = self.index.get(&h) else { break };
            times.push(entry.header.time);
            current = (entry.height > 0).then_some(entry.header.prev_blockhash);
        }
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// The valid known block with the most work (the one seen first among equals, the current
    /// tip before any other).
    fn best_candidate(&self) -> BlockHash {
        let tip = self.tip();
        let mut best = (self.index.get(&tip).map(|e| e.chain_work), 0u64, tip);
        for (hash, entry) in &self.index {
            if *hash == tip || !self.blocks.contains_key(hash) {
                continue;
            }
            let better = match best.0 {
                None => true,
                Some(work) => {
                    entry.chain_work > work
                        || (entry.chain_work == work && best.2 != tip && entry.sequence < best.1)
                }
            };
            if better && !self.is_invalid(hash) {
                best = (Some(entry.chain_work), entry.sequence, *hash);
            }
        }
        best.2
    }

    /// Makes the best valid chain the active one (see the module docs); returns what changed.
    pub(super) fn activate_best_chain(&mut self) -> TipChange {
        let mut change = TipChange::default();
        loop {
            let best = self.best_candidate();
            if best == self.tip() {
                return change;
            }
            change.extend(self.reorganize_to(best));
        }
    }

    /// Disconnects to the fork with `target`'s branch, then connects towards `target`, stopping at
    /// the first block that fails (marked invalid).
    fn reorganize_to(&mut self, target: BlockHash) -> TipChange {
        let mut change = TipChange::default();
        let mut path = Vec::new();
        let mut current = target;
        while !self.is_active(&current) {
            path.push(current);
            match self.index.get(&current) {
                Some(entry) => current = entry.header.prev_blockhash,
                None => return change,
            }
        }
        let fork = current;
        while self.tip() != fork {
            match self.disconnect_tip() {
                Some(disconnected) => change.disconnected.push(disconnected),
                None => return change,
            }
        }
        for hash in path.into_iter().rev() {
            let Some(block) = self.blocks.get(&hash).cloned() else { return change };
            match self.validate_with(&block, Origin::Stored, BlockChecks::ALL) {
                Ok(connected) => {
                    let height = connected.height;
                    self.commit(block.clone(), connected);
                    change.connected.push((block, height));
                }
                Err(e) => {
                    tracing::info!(target: "validation", "Block {hash} failed to connect: {e}; marked invalid");
                    self.failed.insert(hash);
                    change.failed.push((hash, e));
                    return change;
                }
            }
        }
        change
    }

    /// Takes the tip block off the active chain, restoring the coins it spent.
    fn disconnect_tip(&mut self) -> Option<(Block, u32)> {
        let height = self.height();
        if height == 0 {
            return None;
        }
        let hash = self.active.pop()?;
        let block = self.blocks.get(&hash).cloned()?;
        let undo = self.spent.remove(&hash).unwrap_or_default();
        self.utxos.disconnect(&block, undo);
        tracing::debug!(target: "validation", "DisconnectTip: {hash} height={height}");
        Some((block, height))
    }

    /// Core's `invalidateblock`: marks `hash` invalid (and so every block built on it), takes it
    /// off the active chain if it is there, and activates the best remaining chain. The mark is
    /// kept across restarts.
    pub fn invalidate_block(&mut self, hash: &BlockHash) -> Result<TipChange, BlockError> {
        let entry = self.index.get(hash).cloned().ok_or(BlockError::UnknownBlock(*hash))?;
        if entry.height == 0 {
            return Err(BlockError::GenesisInvalidation);
        }
        self.invalidated.insert(*hash);
        self.save_invalidated()?;
        let mut change = TipChange::default();
        while self.is_active(hash) {
            match self.disconnect_tip() {
                Some(d) => change.disconnected.push(d),
                None => break,
            }
        }
        change.extend(self.activate_best_chain());
        Ok(change)
    }

    /// Core's `reconsiderblock`: clears the invalid marks of `hash`, the blocks below it and the
    /// blocks built on it, then activates the best chain (which may fail the same blocks again).
    pub fn reconsider_block(&mut self, hash: &BlockHash) -> Result<TipChange, BlockError> {
        if !self.index.contains_key(hash) {
            return Err(BlockError::UnknownBlock(*hash));
        }
        let mut cleared: HashSet<BlockHash> = self.descendants(hash);
        let mut current = *hash;
        while let Some(entry) = self.index.get(&current) {
            cleared.insert(current);
            if entry.height == 0 {
                break;
            }
            current = entry.header.prev_blockhash;
        }
        self.invalidated.retain(|h| !cleared.contains(h));
        self.failed.retain(|h| !cleared.contains(h));
        self.save_invalidated()?;
        Ok(self.activate_best_chain())
    }

    /// Every known block built on `hash` (not itself).
    fn descendants(&self, hash: &BlockHash) -> HashSet<BlockHash> {
        let mut found: HashSet<BlockHash> = HashSet::new();
        let mut frontier = vec![*hash];
        while let Some(parent) = frontier.pop() {
            for (h, entry) in &self.index {
                if entry.height > 0 && entry.header.prev_blockhash == parent && found.insert(*h) {
                    frontier.push(*h);
                }
            }
        }
        found
    }

    /// Every branch tip (a known block nothing is built on), for `getchaintips`.
    pub fn chain_tips(&self) -> Vec<ChainTip> {
        let parents: HashSet<BlockHash> =
            self.index.values().filter(|e| e.height > 0).map(|e| e.header.prev_blockhash).collect();
        let mut tips: Vec<ChainTip> = self
            .index
            .iter()
            // Leaves, and the active tip even when an invalid block is built on it (as Core).
            .filter(|(h, _)| !parents.contains(*h) || **h == self.tip())
            .map(|(hash, entry)| {
                let mut fork = *hash;
                let mut all_validated = true;
                while !self.is_active(&fork) {
                    all_validated &= self.validated.contains(&fork);
                    match self.index.get(&fork) {
                        Some(e) => fork = e.header.prev_blockhash,
                        None => break,
                    }
                }
                let fork_height = self.block_height(&fork).unwrap_or(0);
                let status = if *hash == self.tip() {
                    "active"
                } else if self.is_invalid(hash) {
                    "invalid"
                } else if all_validated {
                    "valid-fork"
                } else {
                    "valid-headers"
                };
                ChainTip { hash: *hash, height: entry.height, branch_len: entry.height - fork_height, status }
            })
            .collect();
        // The active tip first, then by height, as Core lists them.
        tips.sort_by_key(|t| (t.status != "active", std::cmp::Reverse(t.height)));
        tips
    }

    /// Reads the invalidations kept under `dir`.
    pub(super) fn load_invalidated(&mut self, dir: &Path) -> Result<(), StorageError> {
        self.invalidated_dir = Some(dir.to_path_buf());
        let path = dir.join(INVALIDATED_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::Io { op: "read", path, source: e }),
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let hash = line.parse().map_err(|_| StorageError::Io {
                op: "parse",
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not a block hash: {line}"),
                ),
            })?;
            self.invalidated.insert(hash);
        }
        Ok(())
    }

    /// Writes the invalidations down (temporary file, fsync, rename), when the chain has a
    /// directory.
    fn save_invalidated(&self) -> Result<(), StorageError> {
        let Some(dir) = self.invalidated_dir.as_ref() else { return Ok(()) };
        let path = dir.join(INVALIDATED_FILE);
        let temp: PathBuf = dir.join(format!("{INVALIDATED_FILE}.new"));
        let mut hashes: Vec<String> = self.invalidated.iter().map(ToString::to_string).collect();
        hashes.sort();
        let io = |op: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| StorageError::Io { op, path: p, source }
        };
        let mut file = fs::File::create(&temp).map_err(io("create", &temp))?;
        for hash in &hashes {
            writeln!(file, "{hash}").map_err(io("write", &temp))?;
        }
        file.sync_all().map_err(io("sync", &temp))?;
        fs::rename(&temp, &path).map_err(io("rename", &path))?;
        Ok(())
    }
}
