//! The set of unspent transaction outputs, and a layered view used while connecting a block.

use std::collections::{HashMap, HashSet};

use bitcoin::{OutPoint, Transaction, TxOut};

/// An unspent output together with where it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// The output itself.
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether a coinbase created it (it then matures after 100 blocks).
    pub is_coinbase: bool,
}

/// All unspent outputs of the active chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UtxoSet {
    coins: HashMap<OutPoint, Coin>,
}

impl UtxoSet {
    /// An empty set.
    pub fn new() -> UtxoSet {
        UtxoSet::default()
    }

    /// The coin at `outpoint`, if it is unspent.
    pub fn get(&self, outpoint: &OutPoint) -> Option<&Coin> {
        self.coins.get(outpoint)
    }

    /// Number of unspent outputs.
    pub fn len(&self) -> usize {
        self.coins.len()
    }

    /// Whether there is no unspent output at all.
    pub fn is_empty(&self) -> bool {
        self.coins.is_empty()
    }

    /// Every unspent output, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&OutPoint, &Coin)> {
        self.coins.iter()
    }

    /// Undoes a connected block: removes the outputs it created (those spent inside the block
    /// are not in the set) and puts back the coins it spent from the set (`undo`).
    pub(crate) fn disconnect(&mut self, block: &bitcoin::Block, undo: Vec<(OutPoint, Coin)>) {
        for tx in &block.txdata {
            let txid = tx.compute_txid();
            for vout in 0..tx.output.len() {
                if let Ok(vout) = u32::try_from(vout) {
                    self.coins.remove(&OutPoint { txid, vout });
                }
            }
        }
        self.coins.extend(undo);
    }

    /// Applies the changes a connected block made.
    pub(crate) fn apply(&mut self, delta: UtxoDelta) {
        for outpoint in &delta.spent {
            self.coins.remove(outpoint);
        }
        self.coins.extend(delta.added);
    }
}

/// Changes of one block (or template) to the UTXO set, kept apart until the block is accepted.
#[derive(Debug, Default)]
pub(crate) struct UtxoDelta {
    /// Outputs created and still unspent.
    pub(crate) added: HashMap<OutPoint, Coin>,
    /// Outputs of the base set that were spent.
    pub(crate) spent: HashSet<OutPoint>,
    /// The coins that were spent, in spending order: the undo data a reorg will need.
    pub(crate) undo: Vec<(OutPoint, Coin)>,
}

/// The base set seen through the changes made so far.
#[derive(Debug)]
pub(crate) struct UtxoView<'a> {
    base: &'a UtxoSet,
    delta: UtxoDelta,
}

impl<'a> UtxoView<'a> {
    pub(crate) fn new(base: &'a UtxoSet) -> UtxoView<'a> {
        UtxoView { base, delta: UtxoDelta::default() }
    }

    pub(crate) fn get(&self, outpoint: &OutPoint) -> Option<&Coin> {
        if let Some(coin) = self.delta.added.get(outpoint) {
            return Some(coin);
        }
        if self.delta.spent.contains(outpoint) {
            return None;
        }
        self.base.get(outpoint)
    }

    /// Removes the coin at `outpoint`, returning it, or `None` when it is missing or spent.
    pub(crate) fn spend(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        if let Some(coin) = self.delta.added.remove(outpoint) {
            self.delta.undo.push((*outpoint, coin.clone()));
            return Some(coin);
        }
        if self.delta.spent.contains(outpoint) {
            return None;
        }
        let coin = self.base.get(outpoint)?.clone();
        self.delta.spent.insert(*outpoint);
        self.delta.undo.push((*outpoint, coin.clone()));
        Some(coin)
    }

    /// Adds every output of `tx` (provably unspendable OP_RETURN outputs are left out, like Core).
    pub(crate) fn add_outputs(&mut self, tx: &Transaction, height: u32) {
        let txid = tx.compute_txid();
        let is_coinbase = tx.is_coinbase();
        for (vout, output) in tx.output.iter().enumerate() {
            if output.script_pubkey.is_op_return() {
                continue;
            }
            let Ok(vout) = u32::try_from(vout) else { continue };
            self.delta
                .added
                .insert(OutPoint { txid, vout }, Coin { output: output.clone(), height, is_coinbase });
        }
    }

    pub(crate) fn into_delta(self) -> UtxoDelta {
        self.delta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, ScriptBuf, Sequence, TxIn, Witness};

    fn tx(prev: OutPoint, values: &[u64]) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: prev,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: values
                .iter()
                .map(|v| TxOut { value: Amount::from_sat(*v), script_pubkey: ScriptBuf::new() })
                .collect(),
        }
    }

    #[test]
    fn view_spends_base_and_own_outputs_once() {
        let mut base = UtxoSet::new();
        let funding = tx(OutPoint::null(), &[10, 20]);
        let mut view = UtxoView::new(&base);
        view.add_outputs(&funding, 1);
        base.apply(view.into_delta());
        assert_eq!(base.len(), 2);

        let a = OutPoint { txid: funding.compute_txid(), vout: 0 };
        let spender = tx(a, &[5]);
        let b = OutPoint { txid: spender.compute_txid(), vout: 0 };
        let mut view = UtxoView::new(&base);
        assert!(view.spend(&a).is_some());
        assert!(view.spend(&a).is_none(), "double spend in one view");
        view.add_outputs(&spender, 2);
        assert!(view.get(&b).is_some());
        assert!(view.spend(&b).is_some(), "chained spend inside the view");
        assert!(view.get(&b).is_none());
        let delta = view.into_delta();
        assert_eq!(delta.undo.len(), 2);
        base.apply(delta);
        assert_eq!(base.len(), 1);
        assert!(base.get(&a).is_none());
        assert!(base.get(&b).is_none());
    }
}
