//! Why a block was refused, with Bitcoin Core's reject reasons.

use bitcoin::{BlockHash, OutPoint, Txid};

use crate::storage::StorageError;

/// A block was not accepted.
///
/// [`BlockError::reject_reason`] gives the short reason string Bitcoin Core uses for the same rule
/// (for example `"bad-txns-inputs-missingorspent"`) where Core has one; `Display` prints that
/// reason followed by the details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The block is already in the block index.
    #[error("duplicate: block {0} is already known")]
    Duplicate(BlockHash),
    /// The block builds on a block known to be invalid.
    #[error("bad-prevblk: previous block {0} is invalid")]
    BadPrevBlock(BlockHash),
    /// `invalidateblock`/`reconsiderblock` of a block the index does not have.
    #[error("Block not found")]
    UnknownBlock(BlockHash),
    /// `invalidateblock` of the genesis block.
    #[error("The genesis block cannot be invalidated")]
    GenesisInvalidation,
    /// The header's `bits` is not the chain's fixed target.
    #[error("bad-diffbits: incorrect proof of work target {0:#010x}")]
    BadDiffBits(u32),
    /// The header hash does not meet its target.
    #[error("high-hash: proof of work failed")]
    HighHash,
    /// The header's previous block is unknown.
    #[error("prev-blk-not-found: previous block {0} is unknown")]
    PrevBlockNotFound(BlockHash),
    /// The block builds on a known block that is not the tip (only where a block must build on
    /// the tip: a template checked with `test_block_validity`).
    #[error("inconclusive-not-best-prevblk: previous block {0} is not the tip")]
    NotOnTip(BlockHash),
    /// The header version is below what BIP34/65/66 (active from height 1 on regtest) require.
    #[error("bad-version({0:#010x}): rejected nVersion block")]
    BadVersion(i32),
    /// The block time is not after the median time of the previous 11 blocks.
    #[error("time-too-old: block's timestamp {time} is not after median time past {median_time_past}")]
    TimeTooOld {
        /// The header's time.
        time: u32,
        /// The median time past of the previous block.
        median_time_past: u32,
    },
    /// The block time is too far in the future.
    #[error("time-too-new: block timestamp {0} too far in the future")]
    TimeTooNew(u32),
    /// The header's merkle root does not match the transactions.
    #[error("bad-txnmrklroot: hashMerkleRoot mismatch")]
    BadMerkleRoot,
    /// Two transactions of the block have the same txid (merkle tree malleation).
    #[error("bad-txns-duplicate: duplicate transaction {0}")]
    DuplicateTx(Txid),
    /// The witness commitment in the coinbase does not match the witness data.
    #[error("bad-witness-merkle-match: witness merkle commitment mismatch")]
    BadWitnessCommitment,
    /// The coinbase witness is not exactly one 32-byte reserved value although the block commits to witnesses.
    #[error("bad-witness-nonce-size: invalid witness reserved value size")]
    BadWitnessNonceSize,
    /// The block carries witness data but no witness commitment.
    #[error("unexpected-witness: witness data without a witness commitment")]
    UnexpectedWitness,
    /// The block weight is above the limit (or the block is empty).
    #[error("bad-blk-weight: weight limit failed ({0})")]
    BadWeight(u64),
    /// The block's signature operations cost more than 80,000.
    #[error("bad-blk-sigops: out-of-bounds SigOpCount ({0})")]
    TooManySigops(usize),
    /// The first transaction is not a coinbase.
    #[error("bad-cb-missing: first tx is not coinbase")]
    CoinbaseMissing,
    /// A transaction other than the first is a coinbase.
    #[error("bad-cb-multiple: more than one coinbase")]
    CoinbaseMultiple,
    /// The coinbase scriptSig is shorter than 2 or longer than 100 bytes.
    #[error("bad-cb-length: coinbase scriptSig length {0}")]
    CoinbaseLength(usize),
    /// The coinbase scriptSig does not start with the block height (BIP34).
    #[error("bad-cb-height: block height mismatch in coinbase, expected {0}")]
    CoinbaseHeight(u32),
    /// The coinbase pays more than subsidy plus fees.
    #[error("bad-cb-amount: coinbase pays too much (actual={actual_sat} vs limit={limit_sat})")]
    CoinbaseAmount {
        /// What the coinbase outputs add up to, in satoshis.
        actual_sat: u64,
        /// Subsidy plus fees, in satoshis.
        limit_sat: u64,
    },
    /// A transaction has no inputs.
    #[error("bad-txns-vin-empty: transaction {0} has no inputs")]
    NoInputs(Txid),
    /// A transaction has no outputs.
    #[error("bad-txns-vout-empty: transaction {0} has no outputs")]
    NoOutputs(Txid),
    /// An output value, or the sum of the outputs, is above the money supply.
    #[error("bad-txns-txouttotal-toolarge: output values of {0} out of range")]
    OutputTooLarge(Txid),
    /// A transaction spends the same outpoint twice.
    #[error("bad-txns-inputs-duplicate: transaction {0} spends an outpoint twice")]
    DuplicateInputs(Txid),
    /// A non-coinbase transaction has a null prevout.
    #[error("bad-txns-prevout-null: transaction {0} has a null prevout")]
    NullPrevout(Txid),
    /// A transaction's lock time is not yet reached.
    #[error("bad-txns-nonfinal: transaction {0} is not final")]
    NonFinal(Txid),
    /// An input's relative lock time (BIP68 sequence lock) is not yet reached.
    #[error("bad-txns-nonfinal: transaction {0} has an unmet BIP68 sequence lock")]
    SequenceLocked(Txid),
    /// An input's outpoint does not exist or is already spent.
    #[error("bad-txns-inputs-missingorspent: transaction {txid} spends missing or spent {outpoint}")]
    MissingOrSpent {
        /// The spending transaction.
        txid: Txid,
        /// The outpoint it spends.
        outpoint: OutPoint,
    },
    /// An input spends a coinbase output with fewer than 100 confirmations.
    #[error("bad-txns-premature-spend-of-coinbase: tried to spend coinbase at depth {depth}")]
    PrematureCoinbaseSpend {
        /// The spending transaction.
        txid: Txid,
        /// How deep the coinbase was.
        depth: u32,
    },
    /// The sum of the inputs is above the money supply.
    #[error("bad-txns-inputvalues-outofrange: transaction {0}")]
    InputValuesOutOfRange(Txid),
    /// A transaction spends less than it pays out.
    #[error("bad-txns-in-belowout: transaction {txid} value in ({in_sat}) < value out ({out_sat})")]
    InBelowOut {
        /// The transaction.
        txid: Txid,
        /// Sum of its inputs, in satoshis.
        in_sat: u64,
        /// Sum of its outputs, in satoshis.
        out_sat: u64,
    },
    /// An input's script or signature does not verify.
    #[error("mandatory-script-verify-flag-failed ({reason}): transaction {txid} input {input}")]
    ScriptFailed {
        /// The transaction.
        txid: Txid,
        /// Index of the failing input.
        input: usize,
        /// What was wrong.
        reason: String,
    },
    /// The block could not be written to storage; the chain did not advance.
    #[error("storage-error: {0}")]
    Storage(#[from] StorageError),
    /// No block could be found for a template (the nonce space ran out).
    #[error("template-error: {0}")]
    Template(&'static str),
}

impl BlockError {
    /// Bitcoin Core's reject reason for the broken rule (or this node's own name where Core has none).
    pub fn reject_reason(&self) -> &'static str {
        match self {
            BlockError::Duplicate(_) => "duplicate",
            BlockError::BadPrevBlock(_) => "bad-prevblk",
            BlockError::UnknownBlock(_) => "block-not-found",
            BlockError::GenesisInvalidation => "genesis-invalidation",
            BlockError::BadDiffBits(_) => "bad-diffbits",
            BlockError::HighHash => "high-hash",
            BlockError::PrevBlockNotFound(_) => "prev-blk-not-found",
            BlockError::NotOnTip(_) => "inconclusive-not-best-prevblk",
            BlockError::BadVersion(_) => "bad-version",
            BlockError::TimeTooOld { .. } => "time-too-old",
            BlockError::TimeTooNew(_) => "time-too-new",
            BlockError::BadMerkleRoot => "bad-txnmrklroot",
            BlockError::DuplicateTx(_) => "bad-txns-duplicate",
            BlockError::BadWitnessCommitment => "bad-witness-merkle-match",
            BlockError::BadWitnessNonceSize => "bad-witness-nonce-size",
            BlockError::UnexpectedWitness => "unexpected-witness",
            BlockError::BadWeight(_) => "bad-blk-weight",
            BlockError::TooManySigops(_) => "bad-blk-sigops",
            BlockError::CoinbaseMissing => "bad-cb-missing",
            BlockError::CoinbaseMultiple => "bad-cb-multiple",
            BlockError::CoinbaseLength(_) => "bad-cb-length",
            BlockError::CoinbaseHeight(_) => "bad-cb-height",
            BlockError::CoinbaseAmount { .. } => "bad-cb-amount",
            BlockError::NoInputs(_) => "bad-txns-vin-empty",
            BlockError::NoOutputs(_) => "bad-txns-vout-empty",
            BlockError::OutputTooLarge(_) => "bad-txns-txouttotal-toolarge",
            BlockError::DuplicateInputs(_) => "bad-txns-inputs-duplicate",
            BlockError::NullPrevout(_) => "bad-txns-prevout-null",
            BlockError::NonFinal(_) | BlockError::SequenceLocked(_) => "bad-txns-nonfinal",
            BlockError::MissingOrSpent { .. } => "bad-txns-inputs-missingorspent",
            BlockError::PrematureCoinbaseSpend { .. } => "bad-txns-premature-spend-of-coinbase",
            BlockError::InputValuesOutOfRange(_) => "bad-txns-inputvalues-outofrange",
            BlockError::InBelowOut { .. } => "bad-txns-in-belowout",
            BlockError::ScriptFailed { .. } => "mandatory-script-verify-flag-failed",
            BlockError::Storage(_) => "storage-error",
            BlockError::Template(_) => "template-error",
        }
    }
}
