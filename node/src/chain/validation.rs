//! The consensus rules: context-free block and transaction checks, and connecting transactions
//! to a UTXO view.

use std::collections::HashSet;

use bitcoin::absolute::LOCK_TIME_THRESHOLD;
use bitcoin::{Amount, Block, Transaction, Weight};

use super::script::verify_inputs;
use super::utxo::UtxoView;
use super::{BlockError, ChainParams};

/// Bitcoin Core's `MAX_BLOCK_SIGOPS_COST`.
pub(crate) const MAX_BLOCK_SIGOPS_COST: usize = 80_000;

/// The witness commitment output's prefix: OP_RETURN, push 36, 0xaa21a9ed (BIP141).
pub(crate) const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// Which of the optional checks [`check_block`] makes (a mining client checks a template it
/// built before it has ground the proof of work, Core's `TestBlockValidity` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockChecks {
    pub(crate) pow: bool,
    pub(crate) merkle_root: bool,
}

impl BlockChecks {
    pub(crate) const ALL: BlockChecks = BlockChecks { pow: true, merkle_root: true };
}

/// Checks that need nothing but the block: proof of work, merkle root (those two as `checks`
/// says), witness commitment, coinbase placement, weight and every transaction's own checks.
pub(crate) fn check_block(
    block: &Block,
    params: &ChainParams,
    checks: BlockChecks,
) -> Result<(), BlockError> {
    if block.header.bits != params.pow_bits {
        return Err(BlockError::BadDiffBits(block.header.bits.to_consensus()));
    }
    if checks.pow {
        block.header.validate_pow(params.pow_limit).map_err(|_| BlockError::HighHash)?;
    }

    if checks.merkle_root && !block.check_merkle_root() {
        return Err(BlockError::BadMerkleRoot);
    }
    // CVE-2012-2459: a list with a duplicated tail hashes to the same root.
    let mut txids = HashSet::with_capacity(block.txdata.len());
    for tx in &block.txdata {
        let txid = tx.compute_txid();
        if !txids.insert(txid) {
            return Err(BlockError::DuplicateTx(txid));
        }
    }

    let weight = block.weight();
    if block.txdata.is_empty() || weight > Weight::MAX_BLOCK {
        return Err(BlockError::BadWeight(weight.to_wu()));
    }
    match block.txdata.first() {
        Some(coinbase) if coinbase.is_coinbase() => {}
        _ => return Err(BlockError::CoinbaseMissing),
    }
    if block.txdata.iter().skip(1).any(Transaction::is_coinbase) {
        return Err(BlockError::CoinbaseMultiple);
    }
    for tx in &block.txdata {
        check_transaction(tx)?;
    }

    // BIP141, as Bitcoin Core checks it: a commitment, when present, must match (with a 32-byte
    // reserved value as the coinbase witness); without one, no transaction may carry a witness.
    let coinbase = block.txdata.first().ok_or(BlockError::CoinbaseMissing)?;
    let has_commitment = coinbase.output.iter().any(|o| {
        let script = o.script_pubkey.as_bytes();
        script.len() >= 38 && script.starts_with(&WITNESS_COMMITMENT_PREFIX)
    });
    if has_commitment {
        let reserved = coinbase.input.first().map(|i| &i.witness);
        if !reserved.is_some_and(|w| w.len() == 1 && w.nth(0).is_some_and(|v| v.len() == 32)) {
            return Err(BlockError::BadWitnessNonceSize);
        }
        if !block.check_witness_commitment() {
            return Err(BlockError::BadWitnessCommitment);
        }
    } else if block.txdata.iter().any(|tx| tx.input.iter().any(|i| !i.witness.is_empty())) {
        return Err(BlockError::UnexpectedWitness);
    }
    Ok(())
}

/// Bitcoin Core's `CheckTransaction`: the checks that need nothing but the transaction.
pub(crate) fn check_transaction(tx: &Transaction) -> Result<(), BlockError> {
    let txid = tx.compute_txid();
    if tx.input.is_empty() {
        return Err(BlockError::NoInputs(txid));
    }
    if tx.output.is_empty() {
        return Err(BlockError::NoOutputs(txid));
    }
    let mut total = Amount::ZERO;
    for output in &tx.output {
        total = total
            .checked_add(output.value)
            .filter(|t| output.value <= Amount::MAX_MONEY && *t <= Amount::MAX_MONEY)
            .ok_or(BlockError::OutputTooLarge(txid))?;
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    if !tx.input.iter().all(|i| seen.insert(i.previous_output)) {
        return Err(BlockError::DuplicateInputs(txid));
    }
    if tx.is_coinbase() {
        let len = tx.input.first().map_or(0, |i| i.script_sig.len());
        if !(2..=100).contains(&len) {
            return Err(BlockError::CoinbaseLength(len));
        }
    } else if tx.input.iter().any(|i| i.previous_output.is_null()) {
        return Err(BlockError::NullPrevout(txid));
    }
    Ok(())
}

/// Bitcoin Core's `IsFinalTx` with BIP113: a time lock is compared with the median time past.
pub(crate) fn is_final(tx: &Transaction, height: u32, median_time_past: u32) -> bool {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return true;
    }
    let cutoff = if lock < LOCK_TIME_THRESHOLD { height } else { median_time_past };
    lock < cutoff || !tx.is_lock_time_enabled()
}

/// Where a block connects: its height, and the median time past of any active-chain height at
/// or below its parent (`median_time_past(height - 1)` is the block's own lock-time clock).
pub(crate) struct BlockContext<'a> {
    pub(crate) height: u32,
    pub(crate) median_time_past: &'a dyn Fn(u32) -> u32,
}

/// BIP68: the sequence field's "relative lock disabled" bit, "time-based" bit and value mask;
/// a time-based value counts units of 512 seconds.
const SEQUENCE_DISABLE_FLAG: u32 = 1 << 31;
const SEQUENCE_TYPE_FLAG: u32 = 1 << 22;
const SEQUENCE_MASK: u32 = 0x0000_ffff;
const SEQUENCE_GRANULARITY: u32 = 9;

/// Whether `tx`'s relative lock times (BIP68) allow it in a block at `at.height`, its inputs having
/// been created at `coin_heights`. Only version 2+ transactions have them; on regtest CSV is
/// active from height 1.
pub(crate) fn sequence_locks_met(tx: &Transaction, coin_heights: &[u32], at: &BlockContext<'_>) -> bool {
    if tx.version.0 < 2 {
        return true;
    }
    let mut min_height: i64 = -1;
    let mut min_time: i64 = -1;
    for (txin, &coin_height) in tx.input.iter().zip(coin_heights) {
        let sequence = txin.sequence.0;
        if sequence & SEQUENCE_DISABLE_FLAG != 0 {
            continue;
        }
        let value = i64::from(sequence & SEQUENCE_MASK);
        if sequence & SEQUENCE_TYPE_FLAG != 0 {
            // Measured from the median time past of the block before the coin's block.
            let coin_time = i64::from((at.median_time_past)(coin_height.saturating_sub(1)));
            min_time = min_time.max(coin_time + (value << SEQUENCE_GRANULARITY) - 1);
        } else {
            min_height = min_height.max(i64::from(coin_height) + value - 1);
        }
    }
    let block_time = i64::from((at.median_time_past)(at.height.saturating_sub(1)));
    min_height < i64::from(at.height) && min_time < block_time
}

/// Connects the non-coinbase transactions `txs` of a block at `at.height` to `view`: lock times
/// (absolute and BIP68 relative), inputs exist and are unspent, coinbase maturity, value ranges,
/// scripts. Adds their outputs and returns the fees they pay and their signature-operation cost
/// (BIP141 weighting).
pub(crate) fn connect_transactions(
    view: &mut UtxoView<'_>,
    txs: &[Transaction],
    at: &BlockContext<'_>,
    params: &ChainParams,
) -> Result<(Amount, usize), BlockError> {
    let height = at.height;
    let median_time_past = (at.median_time_past)(height.saturating_sub(1));
    let mut fees = Amount::ZERO;
    let mut sigop_cost = 0usize;
    for tx in txs {
        let txid = tx.compute_txid();
        // Counted before the inputs are spent from the view (P2SH and witness sigops need them).
        sigop_cost = sigop_cost
            .saturating_add(tx.total_sigop_cost(|outpoint| view.get(outpoint).map(|c| c.output.clone())));
        if !is_final(tx, height, median_time_past) {
            return Err(BlockError::NonFinal(txid));
        }
        let mut spent = Vec::with_capacity(tx.input.len());
        let mut coin_heights = Vec::with_capacity(tx.input.len());
        let mut value_in = Amount::ZERO;
        for txin in &tx.input {
            let outpoint = txin.previous_output;
            let coin = view.spend(&outpoint).ok_or(BlockError::MissingOrSpent { txid, outpoint })?;
            if coin.is_coinbase {
                let depth = height.saturating_sub(coin.height);
                if depth < params.coinbase_maturity {
                    return Err(BlockError::PrematureCoinbaseSpend { txid, depth });
                }
            }
            value_in = value_in
                .checked_add(coin.output.value)
                .filter(|v| coin.output.value <= Amount::MAX_MONEY && *v <= Amount::MAX_MONEY)
                .ok_or(BlockError::InputValuesOutOfRange(txid))?;
            coin_heights.push(coin.height);
            spent.push(coin.output);
        }
        if !sequence_locks_met(tx, &coin_heights, at) {
            return Err(BlockError::SequenceLocked(txid));
        }
        // check_transaction already bounded every output and their sum.
        let value_out = tx.output.iter().map(|o| o.value).fold(Amount::ZERO, |a, v| a + v);
        let fee = value_in.checked_sub(value_out).ok_or(BlockError::InBelowOut {
            txid,
            in_sat: value_in.to_sat(),
            out_sat: value_out.to_sat(),
        })?;
        fees = fees.checked_add(fee).ok_or(BlockError::InputValuesOutOfRange(txid))?;

        verify_inputs(tx, txid, &spent)?;
        view.add_outputs(tx, height);
    }
    Ok((fees, sigop_cost))
}

/// The block-wide limit on signature operations: `coinbase` plus what the other transactions cost.
pub(crate) fn check_sigops(coinbase: &Transaction, others_cost: usize) -> Result<(), BlockError> {
    let cost = others_cost.saturating_add(coinbase.total_sigop_cost(|_| None));
    if cost > MAX_BLOCK_SIGOPS_COST {
        return Err(BlockError::TooManySigops(cost));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::transaction::Version;
    use bitcoin::{OutPoint, ScriptBuf, Sequence, TxIn, TxOut, Witness};

    fn tx(inputs: Vec<OutPoint>, outputs: Vec<u64>) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: inputs
                .into_iter()
                .map(|previous_output| TxIn {
                    previous_output,
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence::MAX,
                    witness: Witness::new(),
                })
                .collect(),
            output: outputs
                .into_iter()
                .map(|v| TxOut { value: Amount::from_sat(v), script_pubkey: ScriptBuf::new() })
                .collect(),
        }
    }

    fn op(n: u8) -> OutPoint {
        OutPoint { txid: bitcoin::hashes::Hash::from_byte_array([n; 32]), vout: 0 }
    }

    fn check(tx: Transaction, expect: Option<&str>) {
        let got = check_transaction(&tx).err().map(|e| e.reject_reason());
        assert_eq!(got, expect, "{tx:?}");
    }

    #[test]
    fn check_transaction_rules() {
        check(tx(vec![op(1)], vec![1]), None);
        check(tx(vec![], vec![1]), Some("bad-txns-vin-empty"));
        check(tx(vec![op(1)], vec![]), Some("bad-txns-vout-empty"));
        check(tx(vec![op(1), op(1)], vec![1]), Some("bad-txns-inputs-duplicate"));
        check(tx(vec![op(1), OutPoint::null()], vec![1]), Some("bad-txns-prevout-null"));
        check(tx(vec![op(1)], vec![21_000_000 * 100_000_000 + 1]), Some("bad-txns-txouttotal-toolarge"));
        check(tx(vec![op(1)], vec![u64::MAX / 2, u64::MAX / 2]), Some("bad-txns-txouttotal-toolarge"));
        check(tx(vec![OutPoint::null()], vec![1]), Some("bad-cb-length"));
    }

    #[test]
    fn lock_time_finality() {
        let mut t = tx(vec![op(1)], vec![1]);
        assert!(is_final(&t, 10, 1000));
        t.lock_time = LockTime::from_consensus(10);
        assert!(is_final(&t, 10, 1000), "all sequences final");
        t.input[0].sequence = Sequence::ENABLE_LOCKTIME_NO_RBF;
        assert!(!is_final(&t, 10, 1000));
        assert!(is_final(&t, 11, 1000));
        t.lock_time = LockTime::from_consensus(LOCK_TIME_THRESHOLD + 5);
        assert!(!is_final(&t, 11, LOCK_TIME_THRESHOLD + 5));
        assert!(is_final(&t, 11, LOCK_TIME_THRESHOLD + 6));
    }
}
