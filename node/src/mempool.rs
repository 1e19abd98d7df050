//! The mempool: valid unconfirmed transactions waiting for a block.
//!
//! A transaction enters only if it would be valid in the next block on top of the chain tip and
//! the transactions already in the pool ([`ChainState::check_transaction_on_tip`], the same rules
//! as blocks), and if it passes the pool's own policy: standard ([`crate::policy`]: version,
//! sizes, output and input script types, dust, bare multisig under `-permitbaremultisig=0`),
//! not a coinbase, not already present, no input spent by another pool transaction (no
//! replacement), a fee rate of at least [`MIN_RELAY_FEE_SAT_PER_KVB`], and a cluster (the
//! transactions connected to it through in-pool parents and children, itself included) of at
//! most `-limitclustercount` transactions and `-limitclustersize` virtual bytes (Core's
//! `too-large-cluster`). Transactions are kept in the order they were accepted, which is a
//! dependency order (a parent is always accepted before its child), so a block template is simply
//! the pool in order.

use std::collections::{HashMap, HashSet};

use bitcoin::{Amount, Block, OutPoint, Transaction, TxOut, Txid};
use config::MempoolPolicy;

use crate::chain::{BlockError, ChainState};
use crate::policy::{
    check_inputs_standard, check_standard, dust_outputs, PolicyError, PolicyOptions,
    MAX_STANDARD_TX_SIGOPS_COST,
};

/// The minimum relay fee rate, satoshis per 1000 virtual bytes (Bitcoin Core's default).
pub const MIN_RELAY_FEE_SAT_PER_KVB: u64 = 1000;

/// Why a transaction was not accepted, with Bitcoin Core's reject reasons.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// The transaction is a coinbase.
    #[error("coinbase")]
    Coinbase,
    /// The transaction is already in the pool.
    #[error("txn-already-in-mempool")]
    AlreadyInMempool,
    /// An input is already spent by another pool transaction.
    #[error("txn-mempool-conflict")]
    Conflict,
    /// The fee rate is below the relay minimum.
    #[error("min relay fee not met, {fee} < {min}")]
    MinRelayFee {
        /// The fee paid, in satoshis.
        fee: u64,
        /// The minimum for the transaction's size, in satoshis.
        min: u64,
    },
    /// The fee is above the caller's maximum (`sendrawtransaction`'s `maxfeerate`).
    #[error("max-fee-exceeded")]
    MaxFeeExceeded {
        /// The fee paid, in satoshis.
        fee: u64,
        /// The maximum allowed, in satoshis.
        max: u64,
    },
    /// The transaction's cluster would exceed `-limitclustercount` or `-limitclustersize`.
    #[error("too-large-cluster")]
    TooLargeCluster,
    /// A consensus rule is broken (as it would be in a block).
    #[error("{}", .0.reject_reason())]
    Invalid(#[from] BlockError),
    /// Valid, but not standard (relay policy).
    #[error("{0}")]
    Policy(#[from] PolicyError),
}

impl MempoolError {
    /// Bitcoin Core's reject reason (the text `sendrawtransaction` returns).
    pub fn reject_reason(&self) -> String {
        match self {
            MempoolError::Coinbase => "coinbase".into(),
            MempoolError::AlreadyInMempool => "txn-already-in-mempool".into(),
            MempoolError::Conflict => "txn-mempool-conflict".into(),
            MempoolError::TooLargeCluster => "too-large-cluster".into(),
            MempoolError::MinRelayFee { .. } | MempoolError::MaxFeeExceeded { .. } => self.to_string(),
            // The pool names lock-time failures its own way (Core's policy reasons).
            MempoolError::Invalid(BlockError::NonFinal(_)) => "non-final".into(),
            MempoolError::Invalid(BlockError::SequenceLocked(_)) => "non-BIP68-final".into(),
            MempoolError::Invalid(e) => e.reject_reason().into(),
            MempoolError::Policy(e) => e.reason.into(),
        }
    }
}

/// One pool entry.
#[derive(Debug, Clone)]
pub struct MempoolEntry {
    /// The transaction.
    pub tx: Transaction,
    /// Its fee.
    pub fee: Amount,
    /// Its virtual size.
    pub vsize: u64,
    /// When it entered, seconds since the UNIX epoch (the node's clock, so `setmocktime` applies).
    pub time: u64,
    /// The chain height when it entered.
    pub height: u32,
    /// Its sigop cost (BIP141 weighting), what a block template counts for it.
    pub sigop_cost: u64,
    /// Its weight.
    pub weight: u64,
}

/// The pool of unconfirmed transactions.
#[derive(Debug, Default, Clone)]
pub struct Mempool {
    order: Vec<Txid>,
    entries: HashMap<Txid, MempoolEntry>,
    spent: HashMap<OutPoint, Txid>,
    /// `prioritisetransaction`'s fee deltas, satoshis, kept whether or not the transaction is
    /// in the pool (as Core's `mapDeltas`).
    deltas: HashMap<Txid, i64>,
    /// What is standard (`-permitbaremultisig`, `-datacarrier`, `-dustrelayfee`, ...).
    standard: PolicyOptions,
    /// What the configuration adds to the rules (`-permitbaremultisig`, cluster limits).
    policy: MempoolPolicy,
}

impl Mempool {
    /// An empty pool.
    pub fn new() -> Mempool {
        Mempool::default()
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `txid` is in the pool.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid)
    }

    /// The entry for `txid`.
    pub fn get(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.entries.get(txid)
    }

    /// Txids in dependency (acceptance) order.
    pub fn txids(&self) -> &[Txid] {
        &self.order
    }

    /// Entries in dependency order.
    pub fn entries(&self) -> impl Iterator<Item = (&Txid, &MempoolEntry)> {
        self.order.iter().filter_map(|t| self.entries.get_key_value(t))
    }

    /// Transactions in dependency order (a block template's transactions).
    pub fn transactions(&self) -> Vec<Transaction> {
        self.entries().map(|(_, e)| e.tx.clone()).collect()
    }

    /// The pool transaction spending `outpoint`, if any.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spent.get(outpoint).copied()
    }

    /// The pool transactions `txid` spends outputs of, directly or through others (not itself).
    pub fn ancestors(&self, txid: &Txid) -> HashSet<Txid> {
        self.walk(txid, |entry| entry.tx.input.iter().map(|i| i.previous_output.txid).collect())
    }

    /// The pool transactions spending outputs of `txid`, directly or through others (not itself).
    pub fn descendants(&self, txid: &Txid) -> HashSet<Txid> {
        self.walk(txid, |entry| self.children(&entry.tx))
    }

    /// The pool transactions spending an output of `tx`.
    pub fn children(&self, tx: &Transaction) -> Vec<Txid> {
        let txid = tx.compute_txid();
        let mut children: Vec<Txid> = (0..tx.output.len())
            .filter_map(|vout| u32::try_from(vout).ok())
            .filter_map(|vout| self.spender(&OutPoint { txid, vout }))
            .collect();
        children.dedup();
        children
    }

    fn walk(&self, start: &Txid, next: impl Fn(&MempoolEntry) -> Vec<Txid>) -> HashSet<Txid> {
        let mut found = HashSet::new();
        let mut todo = vec![*start];
        while let Some(txid) = todo.pop() {
            let Some(entry) = self.entries.get(&txid) else { continue };
            for other in next(entry) {
                if other != *start && self.entries.contains_key(&other) && found.insert(other) {
                    todo.push(other);
                }
            }
        }
        found
    }

    /// Whether `txid` signals BIP125 replaceability (an input with a sequence below
    /// 0xfffffffe), itself or through an ancestor in the pool: Bitcoin Core's `IsRBFOptIn`, the
    /// one answer `bip125-replaceable` gives wherever it appears. `None` if it is not in the pool.
    pub fn signals_rbf(&self, txid: &Txid) -> Option<bool> {
        let entry = self.entries.get(txid)?;
        let signals = |tx: &Transaction| tx.input.iter().any(|i| i.sequence.is_rbf());
        Some(
            signals(&entry.tx)
                || self.ancestors(txid).iter().filter_map(|a| self.entries.get(a)).any(|e| signals(&e.tx)),
        )
    }

    /// Sum of the virtual sizes.
    pub fn total_vsize(&self) -> u64 {
        self.entries.values().map(|e| e.vsize).sum()
    }

    /// Sum of the fees.
    pub fn total_fee(&self) -> Amount {
        self.entries.values().fold(Amount::ZERO, |a, e| a + e.fee)
    }

    /// Adds `delta` satoshis to the fee block templates count for `txid` (`prioritisetransaction`;
    /// the transaction need not be in the pool). A total of zero removes the entry.
    pub fn prioritise(&mut self, txid: Txid, delta: i64) {
        let total = self.deltas.get(&txid).copied().unwrap_or(0).saturating_add(delta);
        if total == 0 {
            self.deltas.remove(&txid);
        } else {
            self.deltas.insert(txid, total);
        }
    }

    /// The fee deltas set with [`Mempool::prioritise`].
    pub fn deltas(&self) -> &HashMap<Txid, i64> {
        &self.deltas
    }

    /// The fee a block template counts for the pool entry `txid`: its fee plus its delta.
    pub fn modified_fee(&self, txid: &Txid) -> Option<i64> {
        let entry = self.entries.get(txid)?;
        let fee = i64::try_from(entry.fee.to_sat()).unwrap_or(i64::MAX);
        Some(fee.saturating_add(self.deltas.get(txid).copied().unwrap_or(0)))
    }

    /// Empties the pool for a rebuild after a reorganisation, returning its transactions in pool
    /// (dependency) order; fee deltas and policy stay.
    pub fn take_transactions(&mut self) -> Vec<Transaction> {
        let order = std::mem::take(&mut self.order);
        self.spent.clear();
        let mut entries = std::mem::take(&mut self.entries);
        order.iter().filter_map(|txid| entries.remove(txid)).map(|e| e.tx).collect()
    }

    /// The standardness rules in force.
    pub fn standard(&self) -> &PolicyOptions {
        &self.standard
    }

    /// Sets the standardness rules (from the node's options).
    pub fn set_standard(&mut self, standard: PolicyOptions) {
        self.standard = standard;
    }

    /// The output `outpoint` names: unspent in the chain, or created by a pool transaction.
    fn spent_output(&self, chain: &ChainState, outpoint: &OutPoint) -> Option<TxOut> {
        if let Some(coin) = chain.utxos().get(outpoint) {
            return Some(coin.output.clone());
        }
        let parent = self.entries.get(&outpoint.txid)?;
        parent.tx.output.get(usize::try_from(outpoint.vout).ok()?).cloned()
    }

    /// Sets the configured policy; it applies to transactions accepted from now on.
    pub fn set_policy(&mut self, policy: MempoolPolicy) {
        self.standard.permit_bare_multisig = policy.permit_bare_multisig;
        self.policy = policy;
    }

    /// The configured policy.
    pub fn policy(&self) -> &MempoolPolicy {
        &self.policy
    }

    /// The cluster `tx` would join: how many transactions it would have (`tx` included) and the
    /// virtual size of those already in the pool. Only in-pool parents connect a new
    /// transaction (it can have no in-pool children yet).
    fn cluster_with(&self, tx: &Transaction) -> (u64, u64) {
        let mut seen: HashSet<Txid> = HashSet::new();
        let mut todo: Vec<Txid> = tx
            .input
            .iter()
            .map(|i| i.previous_output.txid)
            .filter(|txid| self.entries.contains_key(txid))
            .collect();
        while let Some(txid) = todo.pop() {
            if !seen.insert(txid) {
                continue;
            }
            let Some(entry) = self.entries.get(&txid) else { continue };
            todo.extend(
                entry
                    .tx
                    .input
                    .iter()
                    .map(|i| i.previous_output.txid)
                    .filter(|p| self.entries.contains_key(p)),
            );
            todo.extend(self.children(&entry.tx));
        }
        let vbytes = seen.iter().filter_map(|t| self.entries.get(t)).map(|e| e.vsize).sum();
        (seen.len() as u64 + 1, vbytes)
    }

    /// Validates `tx` against `chain`'s tip plus the pool and adds it. `max_fee` caps the absolute
    /// fee (`None`: no cap). Returns its txid and fee.
    pub fn accept(
        &mut self,
        chain: &ChainState,
        tx: Transaction,
        max_fee: Option<Amount>,
    ) -> Result<(Txid, Amount), MempoolError> {
        if tx.is_coinbase() {
            return Err(MempoolError::Coinbase);
        }
        check_standard(&tx, &self.standard)?;
        let txid = tx.compute_txid();
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::AlreadyInMempool);
        }
        if tx.input.iter().any(|i| self.spent.contains_key(&i.previous_output)) {
            return Err(MempoolError::Conflict);
        }
        let (fee, sigop_cost) =
            chain.check_transaction_on_tip_with_sigops(self.entries().map(|(_, e)| &e.tx), &tx)?;
        let spent: Vec<TxOut> =
            tx.input.iter().filter_map(|i| self.spent_output(chain, &i.previous_output)).collect();
        check_inputs_standard(&tx, &spent)?;
        if sigop_cost > MAX_STANDARD_TX_SIGOPS_COST {
            return Err(
                PolicyError { reason: "bad-txns-too-many-sigops", detail: sigop_cost.to_string() }.into()
            );
        }
        // Core's ephemeral dust: a dust output is allowed only in a transaction paying no fee.
        if dust_outputs(&tx, &self.standard) > 0 && fee > Amount::ZERO {
            return Err(
                PolicyError { reason: "dust", detail: "tx with dust output must be 0-fee".into() }.into()
            );
        }
        let vsize = tx.vsize() as u64;
        let min = MIN_RELAY_FEE_SAT_PER_KVB.saturating_mul(vsize) / 1000;
        if fee.to_sat() < min {
            return Err(MempoolError::MinRelayFee { fee: fee.to_sat(), min });
        }
        if let Some(max) = max_fee {
            if fee > max {
                return Err(MempoolError::MaxFeeExceeded { fee: fee.to_sat(), max: max.to_sat() });
            }
        }
        let (count, vbytes) = self.cluster_with(&tx);
        if count > self.policy.cluster_count || vbytes.saturating_add(vsize) > self.policy.cluster_size_vbytes
        {
            return Err(MempoolError::TooLargeCluster);
        }
        for txin in &tx.input {
            self.spent.insert(txin.previous_output, txid);
        }
        let time = u64::from(chain.now());
        let weight = tx.weight().to_wu();
        let sigop_cost = u64::try_from(sigop_cost).unwrap_or(u64::MAX);
        let entry = MempoolEntry { tx, fee, vsize, time, height: chain.height(), sigop_cost, weight };
        self.entries.insert(txid, entry);
        self.order.push(txid);
        Ok((txid, fee))
    }

    /// After `block` was connected to `chain`: removes the block's transactions, then re-checks
    /// every remaining transaction against the new tip in order and removes those no longer valid
    /// (conflicts with the block and their descendants). Returns the txids mined and the txids
    /// removed as conflicts.
    pub fn block_connected(&mut self, chain: &ChainState, block: &Block) -> (Vec<Txid>, Vec<Txid>) {
        let in_block: HashSet<Txid> = block.txdata.iter().map(Transaction::compute_txid).collect();
        let mined: Vec<Txid> = self.order.iter().filter(|t| in_block.contains(*t)).copied().collect();
        for txid in &mined {
            self.deltas.remove(txid);
        }
        let old = std::mem::take(&mut self.order);
        let mut entries = std::mem::take(&mut self.entries);
        self.spent.clear();
        let rest: Vec<Txid> = old.into_iter().filter(|t| !in_block.contains(t)).collect();
        let valid = {
            let txs: Vec<&Transaction> = rest.iter().filter_map(|t| entries.get(t).map(|e| &e.tx)).collect();
            chain.still_valid_on_tip(&txs)
        };
        let mut conflicts = Vec::new();
        for (txid, ok) in rest.into_iter().zip(valid) {
            let Some(entry) = entries.remove(&txid) else { continue };
            if !ok {
                conflicts.push(txid);
                continue;
            }
            for txin in &entry.tx.input {
                self.spent.insert(txin.previous_output, txid);
            }
            self.entries.insert(txid, entry);
            self.order.push(txid);
        }
        (mined, conflicts)
    }
}
