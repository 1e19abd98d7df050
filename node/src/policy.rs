//! Relay policy: which valid transactions the mempool takes (Bitcoin Core's `policy/policy.cpp`:
//! `IsStandardTx`, `AreInputsStandard`, `IsWitnessStandard`, dust), with Core's reject reasons.
//!
//! Consensus validity is the chain's business ([`crate::chain`]); these are the extra rules a
//! node applies before relaying or mining a transaction it did not have to accept.

use bitcoin::blockdata::script::Instruction;
use bitcoin::{Amount, Script, Transaction, TxOut};

/// Core's `TX_MAX_STANDARD_VERSION` (version 3 is TRUC, BIP431).
const MAX_STANDARD_VERSION: i32 = 3;
/// Core's `MAX_STANDARD_TX_WEIGHT`.
const MAX_STANDARD_TX_WEIGHT: u64 = 400_000;
/// Core's `MIN_STANDARD_TX_NONWITNESS_SIZE`: smaller transactions could be confused with a
/// 64-byte merkle tree node.
const MIN_STANDARD_TX_NONWITNESS_SIZE: usize = 65;
/// Core's `MAX_STANDARD_SCRIPTSIG_SIZE`: a 15-of-15 P2SH multisig with compressed keys.
const MAX_STANDARD_SCRIPTSIG_SIZE: usize = 1650;
/// Core's `MAX_STANDARD_TX_SIGOPS_COST`.
pub(crate) const MAX_STANDARD_TX_SIGOPS_COST: usize = 16_000;
/// Core's `MAX_P2SH_SIGOPS`.
const MAX_P2SH_SIGOPS: usize = 15;
/// Core's witness limits: P2WSH script size, stack items and item size; tapscript item size.
const MAX_STANDARD_P2WSH_SCRIPT_SIZE: usize = 3600;
const MAX_STANDARD_P2WSH_STACK_ITEMS: usize = 100;
const MAX_STANDARD_P2WSH_STACK_ITEM_SIZE: usize = 80;
const MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE: usize = 80;
/// Core's `MAX_DUST_OUTPUTS_PER_TX`: one dust output is allowed, in a transaction paying no fee
/// (ephemeral dust, spent by a child in the same package).
const MAX_DUST_OUTPUTS_PER_TX: usize = 1;

/// The policy settings (Core's options of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyOptions {
    /// `-permitbaremultisig`: relay transactions with bare multisig outputs (default true, as
    /// Core's `DEFAULT_PERMIT_BAREMULTISIG`).
    pub permit_bare_multisig: bool,
    /// `-datacarrier`: relay OP_RETURN outputs (default true).
    pub data_carrier: bool,
    /// `-datacarriersize`: the most bytes of OP_RETURN scripts a transaction may carry.
    pub max_data_carrier_bytes: usize,
    /// `-dustrelayfee`, satoshis per 1000 virtual bytes (default 3000).
    pub dust_relay_fee_per_kvb: u64,
}

impl Default for PolicyOptions {
    fn default() -> PolicyOptions {
        PolicyOptions {
            permit_bare_multisig: true,
            data_carrier: true,
            max_data_carrier_bytes: 100_000,
            dust_relay_fee_per_kvb: 3000,
        }
    }
}

/// A policy rule a transaction breaks: Core's reject reason, and a detail for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Core's reject reason (`version`, `tx-size`, `scriptpubkey`, `dust`, ...).
    pub reason: &'static str,
    /// What exactly, for the log and `reject-details`.
    pub detail: String,
}

impl std::error::Error for PolicyError {}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.reason)
        } else {
            write!(f, "{}, {}", self.reason, self.detail)
        }
    }
}

fn reject(reason: &'static str, detail: impl Into<String>) -> PolicyError {
    PolicyError { reason, detail: detail.into() }
}

/// What kind of output script this is, as Core's `Solver` sorts them for policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputKind {
    Standard,
    BareMultisig,
    NullData,
    NonStandard,
    WitnessUnknown,
}

fn output_kind(script: &Script) -> OutputKind {
    if script.is_p2pkh() || script.is_p2sh() || script.is_p2wpkh() || script.is_p2wsh() || script.is_p2tr() {
        return OutputKind::Standard;
    }
    if script.as_bytes() == [0x51, 0x02, 0x4e, 0x73] {
        return OutputKind::Standard; // P2A anchor
    }
    if script.is_p2pk() {
        return OutputKind::Standard;
    }
    if script.is_witness_program() {
        return OutputKind::WitnessUnknown;
    }
    if script.is_op_return()
        && script.instructions().skip(1).all(|i| matches!(i, Ok(Instruction::PushBytes(_))))
    {
        return OutputKind::NullData;
    }
    if let Some((required, total)) = multisig_shape(script) {
        // Core's IsStandard: bare multisig of 1 to 3 keys only.
        if (1..=3).contains(&total) && (1..=total).contains(&required) {
            return OutputKind::BareMultisig;
        }
    }
    OutputKind::NonStandard
}

/// Core's `NULL_DATA` output: OP_RETURN followed by pushes only (small numbers count as pushes,
/// as in `IsPushOnly`).
pub fn is_null_data(script: &Script) -> bool {
    script.is_op_return()
        && script.instructions().skip(1).all(|i| match i {
            Ok(Instruction::PushBytes(_)) => true,
            Ok(Instruction::Op(op)) => op.to_u8() <= 0x60,
            Err(_) => false,
        })
}

/// `(m, n)` of a `m <keys> n OP_CHECKMULTISIG` script.
fn multisig_shape(script: &Script) -> Option<(usize, usize)> {
    if !script.is_multisig() {
        return None;
    }
    let bytes = script.as_bytes();
    let small = |b: u8| (0x51..=0x60).contains(&b).then(|| usize::from(b - 0x50));
    let required = small(*bytes.first()?)?;
    let total = small(*bytes.get(bytes.len().checked_sub(2)?)?)?;
    Some((required, total))
}

/// Core's `GetDustThreshold`: the value below which spending the output would cost more than a
/// third of it at the dust relay fee. Unspendable outputs are never dust.
pub fn dust_threshold(output: &TxOut, dust_relay_fee_per_kvb: u64) -> Amount {
    if output.script_pubkey.is_op_return() {
        return Amount::ZERO;
    }
    let output_size = bitcoin::consensus::serialize(output).len() as u64;
    // The input that would spend it: outpoint 36, sequence 4, script length 1, plus a typical
    // signature and key (107 bytes, a quarter of that for witness programs).
    let spend_size = if output.script_pubkey.is_witness_program() {
        32 + 4 + 1 + 107 / 4 + 4
    } else {
        32 + 4 + 1 + 107 + 4
    };
    Amount::from_sat(dust_relay_fee_per_kvb.saturating_mul(output_size + spend_size) / 1000)
}

/// Core's `IsStandardTx` plus the size floor of `PreChecks`: rules on the transaction alone.
pub fn check_standard(tx: &Transaction, options: &PolicyOptions) -> Result<(), PolicyError> {
    if tx.version.0 < 1 || tx.version.0 > MAX_STANDARD_VERSION {
        return Err(reject("version", ""));
    }
    if tx.weight().to_wu() > MAX_STANDARD_TX_WEIGHT {
        return Err(reject("tx-size", ""));
    }
    for input in &tx.input {
        if input.script_sig.len() > MAX_STANDARD_SCRIPTSIG_SIZE {
            return Err(reject("scriptsig-size", ""));
        }
        if !input.script_sig.is_push_only() {
            return Err(reject("scriptsig-not-pushonly", ""));
        }
    }
    let mut data_bytes = 0usize;
    for output in &tx.output {
        match output_kind(&output.script_pubkey) {
            OutputKind::NonStandard => return Err(reject("scriptpubkey", "")),
            OutputKind::BareMultisig if !options.permit_bare_multisig => {
                return Err(reject("bare-multisig", ""));
            }
            OutputKind::NullData => data_bytes = data_bytes.saturating_add(output.script_pubkey.len()),
            _ => {}
        }
    }
    if data_bytes > 0 && (!options.data_carrier || data_bytes > options.max_data_carrier_bytes) {
        return Err(reject("datacarrier", ""));
    }
    if dust_outputs(tx, options) > MAX_DUST_OUTPUTS_PER_TX {
        return Err(reject("dust", ""));
    }
    let non_witness_size = tx.base_size();
    if non_witness_size < MIN_STANDARD_TX_NONWITNESS_SIZE {
        return Err(reject("tx-size-small", ""));
    }
    Ok(())
}

/// The number of dust outputs of `tx` (Core's ephemeral-dust rule needs a zero fee with one).
pub fn dust_outputs(tx: &Transaction, options: &PolicyOptions) -> usize {
    tx.output.iter().filter(|o| o.value < dust_threshold(o, options.dust_relay_fee_per_kvb)).count()
}

/// Core's `AreInputsStandard` and `IsWitnessStandard`: rules on the outputs `tx` spends
/// (`spent`, in input order) and its witnesses.
pub fn check_inputs_standard(tx: &Transaction, spent: &[TxOut]) -> Result<(), PolicyError> {
    for (input, prev) in tx.input.iter().zip(spent) {
        let script = &prev.script_pubkey;
        match output_kind(script) {
            OutputKind::NonStandard | OutputKind::WitnessUnknown => {
                return Err(reject("bad-txns-nonstandard-inputs", ""));
            }
            _ => {}
        }
        let mut redeem: Option<bitcoin::ScriptBuf> = None;
        if script.is_p2sh() {
            let last_push =
                input.script_sig.instructions().filter_map(Result::ok).last().and_then(|i| match i {
                    Instruction::PushBytes(b) => Some(bitcoin::ScriptBuf::from_bytes(b.as_bytes().to_vec())),
                    Instruction::Op(_) => None,
                });
            let Some(script) = last_push else { return Err(reject("bad-txns-nonstandard-inputs", "")) };
            if script.count_sigops() > MAX_P2SH_SIGOPS {
                return Err(reject("bad-txns-nonstandard-inputs", ""));
            }
            redeem = Some(script);
        }
        if input.witness.is_empty() {
            continue;
        }
        // IsWitnessStandard: the witness program is the output's, or a P2SH redeem script's.
        let program = redeem.as_deref().unwrap_or(script.as_script());
        if program.is_p2wsh() {
            let items = input.witness.len();
            let witness_script = input.witness.last().map_or(0, <[u8]>::len);
            if witness_script > MAX_STANDARD_P2WSH_SCRIPT_SIZE
                || items.saturating_sub(1) > MAX_STANDARD_P2WSH_STACK_ITEMS
                || input
                    .witness
                    .iter()
                    .take(items.saturating_sub(1))
                    .any(|i| i.len() > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE)
            {
                return Err(reject("bad-witness-nonstandard", ""));
            }
        } else if program.is_p2tr() && redeem.is_none() {
            let mut items: Vec<&[u8]> = input.witness.iter().collect();
            if items.len() >= 2 && items.last().is_some_and(|a| a.first() == Some(&0x50)) {
                return Err(reject("bad-witness-nonstandard", "annex"));
            }
            if items.len() >= 2 {
                // Script path: control block and script, then the script's stack.
                let control = items.pop().unwrap_or_default();
                let _script = items.pop();
                let tapscript = control.first().is_some_and(|b| b & 0xfe == 0xc0);
                if tapscript && items.iter().any(|i| i.len() > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE) {
                    return Err(reject("bad-witness-nonstandard", ""));
                }
            }
        } else if !program.is_witness_program() {
            return Err(reject("bad-witness-nonstandard", "witness for a non-witness script"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::hashes::Hash;
    use bitcoin::transaction::Version;
    use bitcoin::{OutPoint, ScriptBuf, Sequence, TxIn, Txid, WPubkeyHash, Witness};

    fn tx(outputs: Vec<TxOut>) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(Txid::all_zeros(), 0),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: outputs,
        }
    }

    fn p2wpkh(value: u64) -> TxOut {
        TxOut {
            value: Amount::from_sat(value),
            script_pubkey: ScriptBuf::new_p2wpkh(&WPubkeyHash::all_zeros()),
        }
    }

    #[test]
    fn dust_thresholds_are_cores() {
        // Core's figures at 3000 sat/kvB: 294 for P2WPKH, 546 for P2PKH.
        assert_eq!(dust_threshold(&p2wpkh(0), 3000), Amount::from_sat(294));
        let p2pkh = TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::new_p2pkh(&bitcoin::PubkeyHash::all_zeros()),
        };
        assert_eq!(dust_threshold(&p2pkh, 3000), Amount::from_sat(546));
    }

    #[test]
    fn standard_rules_name_cores_reasons() {
        let options = PolicyOptions::default();
        let good = tx(vec![p2wpkh(10_000), p2wpkh(20_000)]);
        assert_eq!(check_standard(&good, &options), Ok(()));

        let mut version = good.clone();
        version.version = Version(4);
        assert_eq!(check_standard(&version, &options).unwrap_err().reason, "version");

        let mut nonstandard = good.clone();
        nonstandard.output[0].script_pubkey = ScriptBuf::from_bytes(vec![0x51, 0x51]);
        assert_eq!(check_standard(&nonstandard, &options).unwrap_err().reason, "scriptpubkey");

        let two_dust = tx(vec![p2wpkh(1), p2wpkh(2)]);
        assert_eq!(check_standard(&two_dust, &options).unwrap_err().reason, "dust");

        let mut not_push_only = good.clone();
        not_push_only.input[0].script_sig = ScriptBuf::from_bytes(vec![0x76]);
        assert_eq!(check_standard(&not_push_only, &options).unwrap_err().reason, "scriptsig-not-pushonly");

        let small = tx(vec![TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return([]) }]);
        assert_eq!(check_standard(&small, &options).unwrap_err().reason, "tx-size-small");
    }

    #[test]
    fn bare_multisig_follows_the_option() {
        let key: bitcoin::PublicKey =
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798".parse().unwrap();
        let script = bitcoin::script::Builder::new()
            .push_int(1)
            .push_key(&key)
            .push_int(1)
            .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
            .into_script();
        let with_multisig =
            tx(vec![TxOut { value: Amount::from_sat(10_000), script_pubkey: script }, p2wpkh(10_000)]);
        assert_eq!(check_standard(&with_multisig, &PolicyOptions::default()), Ok(()), "permitted by default");
        let refused = PolicyOptions { permit_bare_multisig: false, ..PolicyOptions::default() };
        assert_eq!(check_standard(&with_multisig, &refused).unwrap_err().reason, "bare-multisig");
    }
}
