//! Imported descriptors: what `importdescriptors` adds beside the BDK wallet's two keychains.
//!
//! **Design.** Bitcoin Core gives every descriptor a ScriptPubKeyMan of its own. A
//! `bdk_wallet::Wallet` is built with exactly two descriptors and takes no more, so the wallet
//! keeps its imports here, in a key index of its own ([`KeychainTxOutIndex`], one keychain per
//! *part*: `(import id, part number)`, where a `combo()` has up to four parts and any other import
//! one, see [`parse`]). The transactions stay in one place: whatever concerns an import is
//! inserted into the BDK wallet's transaction graph (anchored to its block, or seen in the
//! mempool), so BDK's chain, its canonical view (conflicts, spends, evictions) and its changeset
//! persistence cover imported coins exactly as they cover the wallet's own. What BDK cannot know
//! (which outputs are an import's, how to sign for them) is asked here: [`Imports::owner_of`],
//! [`Imports::outpoints`], [`Imports::psbt_input`], [`Imports::sign`].
//!
//! The wallet file keeps each import's descriptor as given (private keys included, like the
//! wallet's own private descriptors) with its range and flags ([`ImportRecord`]); on load the
//! index is rebuilt from them and every transaction of the graph is indexed again.
//!
//! `raw()` / `addr()` imports have a script and no keys: they live in a plain script index beside
//! the key index, as part `(id, 0)` at index 0.
//!
//! A wallet without descriptors of its own (blank, or private keys disabled) gets a BDK wallet at
//! its first import, over two placeholder keychains whose keys were thrown away
//! (`Keyed::own_keychains` is false): BDK's chain and graph then serve the imports as in any
//! other wallet, while the placeholders never count (no address, no coin, no change).
//!
//! What is not here: active imports (a BDK wallet's two keychains cannot be replaced, so
//! `active: true` is refused unless the descriptor is already one of them).

pub(crate) mod parse;

use std::collections::BTreeMap;

use bdk_wallet::chain::indexer::keychain_txout::KeychainTxOutIndex;
use bdk_wallet::chain::indexer::spk_txout::SpkTxOutIndex;
use bdk_wallet::chain::Indexer;
use bdk_wallet::miniscript::descriptor::{DefiniteDescriptorKey, KeyMap, KeyMapWrapper};
use bdk_wallet::miniscript::psbt::{PsbtInputExt, PsbtInputSatisfier};
use bdk_wallet::miniscript::Descriptor;
use bitcoin::psbt::{self, Psbt};
use bitcoin::secp256k1::{All, Secp256k1};
use bitcoin::{Network, OutPoint, ScriptBuf, Transaction, TxIn, Weight};
use interfaces::{Error, Result, RpcError};

pub(crate) use parse::Parsed;

/// One keychain of the import index: `(import id, part number)`.
pub(crate) type PartId = (u32, u8);

/// Scripts derived ahead of the highest used index of a ranged import, so that payments to the
/// next addresses are recognised (Core tops up a descriptor's keypool the same way).
const LOOKAHEAD: u32 = 25;

/// Core's default range end (exclusive) for a ranged descriptor given without `range`
/// (`-keypool`'s default).
pub(crate) const DEFAULT_RANGE_END: u32 = 1000;

/// What the wallet file keeps of one import.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ImportRecord {
    pub(crate) id: u32,
    /// The descriptor as given, without checksum (private keys included).
    pub(crate) descriptor: String,
    /// First and last index of a ranged descriptor (0, 0 otherwise), inclusive.
    pub(crate) range: (u32, u32),
    pub(crate) next_index: u32,
    pub(crate) internal: bool,
    /// The request's `timestamp` (seconds; the import time for `"now"`).
    pub(crate) timestamp: i64,
}

impl std::fmt::Debug for ImportRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportRecord").field("id", &self.id).finish_non_exhaustive()
    }
}

/// One import: its record and the descriptor read from it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) record: ImportRecord,
    pub(crate) parsed: Parsed,
}

/// What an import request asks for, once checked.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) parsed: Parsed,
    pub(crate) range: (u32, u32),
    pub(crate) next_index: u32,
    pub(crate) internal: bool,
    pub(crate) timestamp: i64,
}

/// The imported descriptors of one wallet and their key index (see the module docs).
pub(crate) struct Imports {
    entries: BTreeMap<u32, Entry>,
    index: KeychainTxOutIndex<PartId>,
    /// The scripts of `raw()` / `addr()` imports (no descriptor to derive them from), as part
    /// `(id, 0)` at index 0.
    scripts: SpkTxOutIndex<(PartId, u32)>,
    /// Records added or changed since the last write.
    pending: Vec<ImportRecord>,
}

impl std::fmt::Debug for Imports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imports").field("count", &self.entries.len()).finish_non_exhaustive()
    }
}

impl Default for Imports {
    fn default() -> Imports {
        Imports {
            entries: BTreeMap::new(),
            index: KeychainTxOutIndex::new(LOOKAHEAD, false),
            scripts: SpkTxOutIndex::default(),
            pending: Vec::new(),
        }
    }
}

impl Imports {
    /// The imports the wallet file holds, indexed over the transactions `txs` (the BDK graph's).
    pub(crate) fn load<'a>(
        records: Vec<ImportRecord>,
        txs: impl Iterator<Item = &'a Transaction>,
        network: Network,
    ) -> Result<Imports> {
        let mut imports = Imports::default();
        for record in records {
            let parsed = parse::parse_body(&record.descriptor, network)
                .map_err(|e| Error::failed(format!("stored import {}: {}", record.id, e.message)))?;
            imports.insert(record, parsed)?;
        }
        for tx in txs {
            imports.index_tx(tx);
        }
        Ok(imports)
    }

    /// Whether the wallet has no imports.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The imports, by id.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The import whose public descriptor is `public`, if any.
    pub(crate) fn find(&self, public: &str) -> Option<&Entry> {
        self.entries.values().find(|e| e.parsed.public == public)
    }

    /// Adds `request`, or updates the import of the same descriptor (its range may only grow, as
    /// in Core). Returns the import's id.
    pub(crate) fn add(&mut self, request: Request) -> std::result::Result<u32, RpcError> {
        if let Some(existing) = self.find(&request.parsed.public) {
            let (start, end) = existing.record.range;
            if request.parsed.ranged && (request.range.0 > start || request.range.1 < end) {
                return Err(RpcError::new(
                    RpcError::WALLET_ERROR,
                    format!(
                        "Could not add descriptor '{}': new range must include current range = [{start},{end}]",
                        request.parsed.public
                    ),
                ));
            }
            let mut record = existing.record.clone();
            record.range = request.range;
            record.next_index = request.next_index.max(record.next_index);
            record.internal = request.internal;
            record.timestamp = record.timestamp.min(request.timestamp);
            let id = record.id;
            for part in 0..request.parsed.parts.len() {
                let _ = self.index.reveal_to_target(part_id(id, part), record.range.1);
            }
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.record = record.clone();
            }
            self.pending.push(record);
            return Ok(id);
        }
        let id = self.entries.keys().next_back().map_or(0, |last| last.saturating_add(1));
        let record = ImportRecord {
            id,
            descriptor: request.parsed.text.clone(),
            range: request.range,
            next_index: request.next_index,
            internal: request.internal,
            timestamp: request.timestamp,
        };
        self.insert(record.clone(), request.parsed)
            .map_err(|e| RpcError::new(RpcError::WALLET_ERROR, e.message()))?;
        self.pending.push(record);
        Ok(id)
    }

    fn insert(&mut self, record: ImportRecord, parsed: Parsed) -> Result<()> {
        if let Some(script) = &parsed.script {
            self.scripts.insert_spk((part_id(record.id, 0), 0), script.clone());
        }
        for (n, part) in parsed.parts.iter().enumerate() {
            let keychain = part_id(record.id, n);
            self.index
                .insert_descriptor(keychain, part.clone())
                .map_err(|e| Error::failed(format!("Could not add descriptor '{}': {e}", parsed.public)))?;
            let _ = self.index.reveal_to_target(keychain, record.range.1);
        }
        self.entries.insert(record.id, Entry { record, parsed });
        Ok(())
    }

    /// The records added or changed since the last call (for the wallet file).
    pub(crate) fn take_pending(&mut self) -> Vec<ImportRecord> {
        std::mem::take(&mut self.pending)
    }

    /// Puts back records whose write failed, so that the next write retries them.
    pub(crate) fn restore_pending(&mut self, records: Vec<ImportRecord>) {
        let mut records = records;
        records.append(&mut self.pending);
        self.pending = records;
    }

    /// Indexes `tx` and says whether it pays to or spends from an import.
    pub(crate) fn index_tx(&mut self, tx: &Transaction) -> bool {
        let _ = self.index.index_tx(tx);
        let _ = self.scripts.scan(tx);
        self.is_relevant(tx)
    }

    /// Whether `tx` pays to or spends from an import (as indexed so far).
    pub(crate) fn is_relevant(&self, tx: &Transaction) -> bool {
        self.index.is_tx_relevant(tx) || self.scripts.is_relevant(tx)
    }

    /// The part and derivation index of `spk`, if an import's.
    pub(crate) fn owner_of(&self, spk: &ScriptBuf) -> Option<(PartId, u32)> {
        self.index.index_of_spk(spk.clone()).or_else(|| self.scripts.index_of_spk(spk.clone())).copied()
    }

    /// Whether the import `id` was marked `internal` (change).
    pub(crate) fn is_internal(&self, id: u32) -> bool {
        self.entries.get(&id).is_some_and(|e| e.record.internal)
    }

    /// The outputs to imported scripts the graph has seen, spent or not.
    pub(crate) fn outpoints(&self) -> impl Iterator<Item = ((PartId, u32), OutPoint)> + '_ {
        self.index.outpoints().iter().chain(self.scripts.outpoints()).copied()
    }

    /// The descriptor of `part` at `index` (a single script).
    pub(crate) fn definite(&self, part: PartId, index: u32) -> Option<Descriptor<DefiniteDescriptorKey>> {
        self.part(part)?.at_derivation_index(index).ok()
    }

    /// The request's `timestamp` of import `id`.
    pub(crate) fn timestamp(&self, id: u32) -> Option<i64> {
        self.entries.get(&id).map(|e| e.record.timestamp)
    }

    /// The public descriptor of the import `id` as `listdescriptors` shows it (a combo whole).
    pub(crate) fn public(&self, id: u32) -> Option<&str> {
        self.entries.get(&id).map(|e| e.parsed.public.as_str())
    }

    /// The public descriptor of `part` (ranged if the import is).
    pub(crate) fn part(&self, part: PartId) -> Option<&parse::PartDescriptor> {
        self.entries.get(&part.0)?.parsed.parts.get(usize::from(part.1))
    }

    /// Whether the wallet holds the private keys of `part`.
    pub(crate) fn can_sign(&self, part: PartId) -> bool {
        self.entries.get(&part.0).is_some_and(|e| !e.parsed.keys.is_empty())
    }

    /// The scripts of a non-ranged import `id` (those its label names).
    pub(crate) fn scripts(&self, id: u32) -> Vec<ScriptBuf> {
        let Some(entry) = self.entries.get(&id) else { return Vec::new() };
        if let Some(script) = &entry.parsed.script {
            return vec![script.clone()];
        }
        (0..entry.parsed.parts.len()).filter_map(|n| self.index.spk_at_index(part_id(id, n), 0)).collect()
    }

    /// What spending the imported output `outpoint` of `prev_tx` needs in a PSBT, and the
    /// weight of its satisfaction (for coin selection).
    pub(crate) fn psbt_input(
        &self,
        part: PartId,
        index: u32,
        prev_tx: &Transaction,
        vout: u32,
    ) -> Result<(psbt::Input, Weight)> {
        let descriptor = self
            .definite(part, index)
            .ok_or_else(|| Error::failed("an imported coin's descriptor cannot be derived"))?;
        let weight = descriptor
            .max_weight_to_satisfy()
            .map_err(|e| Error::failed(format!("an imported coin cannot be satisfied: {e}")))?;
        let txout = prev_tx
            .output
            .get(usize::try_from(vout).unwrap_or(usize::MAX))
            .ok_or_else(|| Error::failed("an imported coin's output is missing"))?;
        let mut input = psbt::Input::default();
        input
            .update_with_descriptor_unchecked(&descriptor)
            .map_err(|e| Error::failed(format!("an imported coin's descriptor: {e}")))?;
        // The previous transaction always (the signer checks amounts against it), the output
        // alone too for segwit and taproot.
        if descriptor.desc_type().segwit_version().is_some() {
            input.witness_utxo = Some(txout.clone());
        }
        input.non_witness_utxo = Some(prev_tx.clone());
        Ok((input, weight))
    }

    /// Signs and finalizes the inputs of `psbt` listed in `inputs` (input number, part, index),
    /// with the imports' private keys. An error if one cannot be completed.
    pub(crate) fn sign(
        &self,
        psbt: &mut Psbt,
        inputs: &[(usize, PartId, u32)],
        secp: &Secp256k1<All>,
    ) -> Result<()> {
        if inputs.is_empty() {
            return Ok(());
        }
        let keys: KeyMap = self.entries.values().flat_map(|e| e.parsed.keys.clone()).collect();
        let keys = KeyMapWrapper::from(keys);
        // Signs every input whose key origins name one of these keys (the wallet's own inputs are
        // final already and carry none); per-input errors are looked at below.
        let _ = psbt.sign(&keys, secp);
        for &(n, part, index) in inputs {
            let descriptor = self
                .definite(part, index)
                .ok_or_else(|| Error::failed("an imported coin's descriptor cannot be derived"))?;
            let mut txin = TxIn::default();
            descriptor
                .satisfy(&mut txin, PsbtInputSatisfier::new(psbt, n))
                .map_err(|e| Error::failed(format!("Signing transaction failed: input {n}: {e}")))?;
            let input = psbt.inputs.get_mut(n).ok_or_else(|| Error::failed("input out of range"))?;
            let original = std::mem::take(input);
            *input = psbt::Input {
                non_witness_utxo: original.non_witness_utxo,
                witness_utxo: original.witness_utxo,
                final_script_sig: (!txin.script_sig.is_empty()).then_some(txin.script_sig),
                final_script_witness: (!txin.witness.is_empty()).then_some(txin.witness),
                ..Default::default()
            };
        }
        Ok(())
    }
}

fn part_id(id: u32, part: usize) -> PartId {
    (id, u8::try_from(part).unwrap_or(u8::MAX))
}
