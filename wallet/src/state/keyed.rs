//! [`Keyed`]: the BDK wallet of a wallet with descriptors and its imports, and who owns an output
//! script ([`Owner`]): the questions every read of [`super::State`] asks of both owners, and the
//! insertion of the imports' transactions into BDK's graph.

use std::collections::HashSet;
use std::sync::Arc;

use bdk_wallet::chain::{BlockId, CanonicalizationParams, ConfirmationBlockTime, TxUpdate};
use bdk_wallet::{KeychainKind, LocalOutput, Update};
use bitcoin::{Block, OutPoint, Transaction, Txid};
use interfaces::{Error, Result};

use crate::imports::{Imports, PartId};
use crate::keys::Signers;

/// The BDK side of a wallet with descriptors, and its imports.
#[derive(Debug)]
pub(crate) struct Keyed {
    pub(crate) wallet: bdk_wallet::Wallet,
    /// `None` when private keys are disabled.
    pub(crate) signers: Option<Signers>,
    /// Imported descriptors; their transactions are in `wallet`'s graph.
    pub(crate) imports: Imports,
    /// The private descriptors of the two keychains (`listdescriptors true`); `None` without
    /// private keys or keychains of its own.
    pub(crate) private_descriptors: Option<crate::store::PrivateDescriptors>,
    /// Whether `wallet`'s two keychains are the wallet's own. False for a wallet created without
    /// descriptors (blank, or private keys disabled) that got a BDK wallet for its imports: its
    /// keychains are placeholders whose keys were thrown away, and never count.
    pub(crate) own_keychains: bool,
}

/// Who an output script belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// One of the BDK wallet's keychains, at a derivation index.
    Wallet(KeychainKind, u32),
    /// An imported descriptor's part, at a derivation index.
    Import(PartId, u32),
}

impl Keyed {
    /// The owner of `spk`: the wallet's keychains first, then the imports.
    pub(crate) fn owner_of(&self, spk: &bitcoin::ScriptBuf) -> Option<Owner> {
        if let Some((keychain, index)) =
            self.wallet.derivation_of_spk(spk.clone()).filter(|_| self.own_keychains)
        {
            return Some(Owner::Wallet(keychain, index));
        }
        self.imports.owner_of(spk).map(|(part, index)| Owner::Import(part, index))
    }

    /// Whether `spk` is the wallet's (its own keychains' or an import's).
    pub(crate) fn is_mine(&self, spk: &bitcoin::ScriptBuf) -> bool {
        self.owner_of(spk).is_some()
    }

    /// The keychain an output counts in for the listings: an import marked `internal` is change.
    pub(crate) fn keychain_of(&self, owner: Owner) -> KeychainKind {
        match owner {
            Owner::Wallet(keychain, _) => keychain,
            Owner::Import((id, _), _) if self.imports.is_internal(id) => KeychainKind::Internal,
            Owner::Import(..) => KeychainKind::External,
        }
    }

    /// The descriptor of the single script `owner` stands for, and the descriptor it comes from
    /// (listunspent's `desc` and `parent_descs`).
    pub(crate) fn descriptors_of(&self, owner: Owner) -> Option<(String, String)> {
        match owner {
            Owner::Wallet(keychain, index) => {
                let parent = self.wallet.public_descriptor(keychain);
                let single = parent.at_derivation_index(index).ok()?;
                Some((single.to_string(), parent.to_string()))
            }
            Owner::Import(part, index) => {
                let parent = self.imports.public(part.0)?.to_string();
                match self.imports.definite(part, index) {
                    Some(single) => Some((single.to_string(), parent)),
                    // raw() / addr(): the script is all there is.
                    None => Some((parent.clone(), parent)),
                }
            }
        }
    }

    /// Whether the wallet knows how to spend from `owner`'s script (not so a `raw()` / `addr()`
    /// import).
    pub(crate) fn is_solvable(&self, owner: Owner) -> bool {
        match owner {
            Owner::Wallet(..) => true,
            Owner::Import(part, index) => self.imports.definite(part, index).is_some(),
        }
    }

    /// The public key of the single-key script `owner` stands for.
    pub(crate) fn public_key_of(&self, owner: Owner) -> Option<bitcoin::PublicKey> {
        use bdk_wallet::miniscript::ForEachKey;
        let single = match owner {
            Owner::Wallet(keychain, index) => {
                self.wallet.public_descriptor(keychain).at_derivation_index(index).ok()?
            }
            Owner::Import(part, index) => self.imports.definite(part, index)?,
        };
        let mut found = None;
        single.for_each_key(|k| {
            found = k.derive_public_key(self.wallet.secp_ctx()).ok();
            true
        });
        found
    }

    /// Whether `tx` pays to or spends from the wallet or one of its imports.
    pub(super) fn is_relevant(&self, tx: &Transaction) -> bool {
        use bdk_wallet::chain::Indexer;
        (self.own_keychains && self.wallet.spk_index().is_tx_relevant(tx)) || self.imports.is_relevant(tx)
    }

    /// Satoshis of wallet coins `tx` spends and pays to the wallet (each output counted once,
    /// whoever of the wallet and its imports owns it).
    pub(super) fn sent_and_received(&self, tx: &Transaction) -> (u64, u64) {
        let graph = self.wallet.tx_graph();
        let sent = tx
            .input
            .iter()
            .filter_map(|i| graph.get_txout(i.previous_output))
            .filter(|out| self.is_mine(&out.script_pubkey))
            .map(|out| out.value.to_sat())
            .sum();
        let received = tx
            .output
            .iter()
            .filter(|out| self.is_mine(&out.script_pubkey))
            .map(|out| out.value.to_sat())
            .sum();
        (sent, received)
    }

    /// Adds to the graph the transactions of `block` that concern an import (BDK adds those that
    /// concern its own keychains); returns their txids.
    pub(crate) fn apply_block_to_imports(&mut self, block: &Block, height: u32) -> Result<Vec<Txid>> {
        if self.imports.is_empty() {
            return Ok(Vec::new());
        }
        let anchor = ConfirmationBlockTime {
            block_id: BlockId { height, hash: block.block_hash() },
            confirmation_time: u64::from(block.header.time),
        };
        let mut update = TxUpdate::default();
        for tx in &block.txdata {
            if self.imports.index_tx(tx) {
                let txid = tx.compute_txid();
                update.anchors.insert((anchor, txid));
                update.txs.push(Arc::new(tx.clone()));
            }
        }
        let txids: Vec<Txid> = update.anchors.iter().map(|(_, txid)| *txid).collect();
        if !txids.is_empty() {
            self.wallet
                .apply_update(Update { tx_update: update, ..Default::default() })
                .map_err(|e| Error::failed(format!("recording an imported descriptor's transaction: {e}")))?;
        }
        Ok(txids)
    }

    /// Adds the unconfirmed `tx` to the graph, seen at `seen`, whoever it concerns.
    pub(super) fn insert_unconfirmed(&mut self, tx: Transaction, seen: u64) {
        let txid = tx.compute_txid();
        let mut update = TxUpdate::default();
        update.txs.push(Arc::new(tx));
        update.seen_ats.insert((txid, seen));
        // No chain update: this cannot fail to connect.
        let _ = self.wallet.apply_update(Update { tx_update: update, ..Default::default() });
    }

    /// The canonical transactions that concern the wallet or its imports (BDK's
    /// `Wallet::transactions` sees only its own keychains).
    pub(crate) fn canonical_txs(
        &self,
    ) -> impl Iterator<
        Item = bdk_wallet::chain::tx_graph::CanonicalTx<'_, Arc<Transaction>, ConfirmationBlockTime>,
    > + '_ {
        let chain = self.wallet.local_chain();
        self.wallet
            .tx_graph()
            .list_canonical_txs(chain, chain.tip().block_id(), CanonicalizationParams::default())
            .filter(|ctx| self.is_relevant(&ctx.tx_node.tx))
    }

    /// Every unspent output of the wallet and its imports, with its owner.
    pub(super) fn unspent(&self) -> Vec<(LocalOutput, Owner)> {
        let mut out: Vec<(LocalOutput, Owner)> = self
            .wallet
            .list_unspent()
            .filter(|_| self.own_keychains)
            .map(|o| {
                let owner = Owner::Wallet(o.keychain, o.derivation_index);
                (o, owner)
            })
            .collect();
        if self.imports.is_empty() {
            return out;
        }
        let own: HashSet<OutPoint> = out.iter().map(|(o, _)| o.outpoint).collect();
        let chain = self.wallet.local_chain();
        let imported = self.wallet.tx_graph().filter_chain_unspents(
            chain,
            chain.tip().block_id(),
            CanonicalizationParams::default(),
            self.imports.outpoints(),
        );
        for ((part, index), txo) in imported {
            if own.contains(&txo.outpoint) {
                continue;
            }
            let owner = Owner::Import(part, index);
            out.push((
                LocalOutput {
                    outpoint: txo.outpoint,
                    txout: txo.txout,
                    keychain: self.keychain_of(owner),
                    is_spent: txo.spent_by.is_some(),
                    derivation_index: index,
                    chain_position: txo.chain_position,
                },
                owner,
            ));
        }
        out
    }
}
