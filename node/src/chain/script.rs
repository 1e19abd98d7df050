//! Script verification: every input of a transaction against the output it spends, by Bitcoin
//! Core's own consensus interpreter (libbitcoinconsensus, through the `bitcoinconsensus` crate).
//!
//! Why Core's interpreter and not ours: the node must accept exactly what bitcoind accepts for
//! every output type (P2PK, P2PKH, bare multisig, P2SH, P2WPKH, P2WSH, P2TR key and script path,
//! unknown witness versions), and a second implementation of the script language would be a
//! second set of consensus bugs. The library is built from Core's sources by the crate's build
//! script, with its own secp256k1 (no clash with rust-secp256k1's prefixed symbols).
//!
//! What it cannot do: libbitcoinconsensus takes only the consensus flags, so the relay-policy
//! flags Core adds for its mempool (low-S, minimal pushes, clean stack, ...) are not checked, and
//! a failure says only that the script failed, not which script error Core would name. Both are
//! written down in node/README.md.

use bitcoin::consensus::serialize;
use bitcoin::{Transaction, TxOut, Txid};
use bitcoinconsensus::Utxo;

use super::BlockError;

/// The script rules in force: on regtest every soft fork is active from height 1 (BIP16, BIP66,
/// BIP65, BIP112, BIP141/143/147, BIP341/342), and blocks at height 0 spend nothing. So one set of
/// flags serves every height; a chain with later activations would pick flags by height here.
const CONSENSUS_FLAGS: u32 = bitcoinconsensus::VERIFY_P2SH
    | bitcoinconsensus::VERIFY_DERSIG
    | bitcoinconsensus::VERIFY_NULLDUMMY
    | bitcoinconsensus::VERIFY_CHECKLOCKTIMEVERIFY
    | bitcoinconsensus::VERIFY_CHECKSEQUENCEVERIFY
    | bitcoinconsensus::VERIFY_WITNESS
    | bitcoinconsensus::VERIFY_TAPROOT;

/// Verifies every input of `tx` (whose txid is `txid`) against `spent`, the outputs its inputs
/// spend, in input order.
pub(crate) fn verify_inputs(tx: &Transaction, txid: Txid, spent: &[TxOut]) -> Result<(), BlockError> {
    let fail = |input: usize, reason: String| BlockError::ScriptFailed { txid, input, reason };
    if spent.len() != tx.input.len() {
        return Err(fail(0, format!("{} spent outputs for {} inputs", spent.len(), tx.input.len())));
    }
    // Serialised once; the library parses it again per input (its interface takes bytes).
    let tx_bytes = serialize(tx);
    // Taproot signatures commit to every spent output, so the library needs all of them. The
    // `Utxo` records point into `spent`, which outlives every call below.
    let spent_outputs: Vec<Utxo> = spent
        .iter()
        .map(|output| Utxo {
            script_pubkey: output.script_pubkey.as_bytes().as_ptr(),
            script_pubkey_len: script_len(output),
            value: i64::try_from(output.value.to_sat()).unwrap_or(i64::MAX),
        })
        .collect();
    for (input, output) in spent.iter().enumerate() {
        bitcoinconsensus::verify_with_flags(
            output.script_pubkey.as_bytes(),
            output.value.to_sat(),
            &tx_bytes,
            Some(&spent_outputs),
            input,
            CONSENSUS_FLAGS,
        )
        .map_err(|error| fail(input, describe(error)))?;
    }
    Ok(())
}

/// A script's length as the library's `unsigned int`. Scripts are bounded by the transaction's
/// size, itself bounded by the block weight, so this never saturates for a valid transaction.
fn script_len(output: &TxOut) -> u32 {
    u32::try_from(output.script_pubkey.len()).unwrap_or(u32::MAX)
}

/// The reason a failed verification is given. Only `ERR_SCRIPT` means the script itself failed;
/// the others say the call was wrong, which would be a bug here, and are named as such.
fn describe(error: bitcoinconsensus::Error) -> String {
    match error {
        bitcoinconsensus::Error::ERR_SCRIPT => "Script verification failed".to_owned(),
        other => format!("script check could not run: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::hashes::Hash;
    use bitcoin::key::{Keypair, TapTweak};
    use bitcoin::opcodes::all::{OP_CHECKSIG, OP_PUSHNUM_1};
    use bitcoin::script::Builder;
    use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
    use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
    use bitcoin::taproot::{LeafVersion, TaprootBuilder};
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, TxIn, WScriptHash, Witness};

    fn spending(witness: Witness, script_sig: ScriptBuf) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(Txid::all_zeros(), 0),
                script_sig,
                sequence: Sequence::MAX,
                witness,
            }],
            output: vec![TxOut {
                value: Amount::from_sat(9_000),
                script_pubkey: ScriptBuf::new_op_return([]),
            }],
        }
    }

    fn coin(script_pubkey: ScriptBuf) -> TxOut {
        TxOut { value: Amount::from_sat(10_000), script_pubkey }
    }

    fn check(tx: &Transaction, spent: &TxOut) -> Result<(), BlockError> {
        verify_inputs(tx, tx.compute_txid(), std::slice::from_ref(spent))
    }

    #[test]
    fn p2wsh_of_op_true_spends_with_its_script_and_not_without() {
        // The coin Bitcoin Core's test framework's MiniWallet uses by default.
        let op_true = Builder::new().push_opcode(OP_PUSHNUM_1).into_script();
        let spent = coin(ScriptBuf::new_p2wsh(&WScriptHash::hash(op_true.as_bytes())));
        let mut witness = Witness::new();
        witness.push(op_true.as_bytes());
        assert!(check(&spending(witness, ScriptBuf::new()), &spent).is_ok());

        let mut wrong = Witness::new();
        wrong.push([0x00]);
        let err = check(&spending(wrong, ScriptBuf::new()), &spent).unwrap_err();
        assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed");
        assert!(check(&spending(Witness::new(), ScriptBuf::new()), &spent).is_err());
    }

    #[test]
    fn p2wpkh_needs_a_signature_by_its_key() {
        let secp = Secp256k1::new();
        let secret = SecretKey::from_slice(&[7; 32]).unwrap();
        let public = CompressedPublicKey(secret.public_key(&secp));
        let spent = coin(ScriptBuf::new_p2wpkh(&public.wpubkey_hash()));
        let mut tx = spending(Witness::new(), ScriptBuf::new());
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(0, &spent.script_pubkey, spent.value, bitcoin::EcdsaSighashType::All)
            .unwrap();
        let signature = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &secret);
        let signature = bitcoin::ecdsa::Signature::sighash_all(signature);
        tx.input[0].witness = Witness::p2wpkh(&signature, &public.0);
        assert!(check(&tx, &spent).is_ok());

        // The same signature over a different amount does not verify (BIP143 commits to it).
        let mut dearer = spent.clone();
        dearer.value = Amount::from_sat(10_001);
        assert!(check(&tx, &dearer).is_err());
    }

    #[test]
    fn taproot_key_and_script_paths() {
        let secp = Secp256k1::new();
        let keypair = Keypair::from_seckey_slice(&secp, &[9; 32]).unwrap();
        let (internal, _) = keypair.x_only_public_key();

        // Script path: a leaf `<key> OP_CHECKSIG`-free OP_TRUE, as MiniWallet's P2TR mode.
        let leaf = Builder::new().push_opcode(OP_PUSHNUM_1).into_script();
        let tree =
            TaprootBuilder::new().add_leaf(0, leaf.clone()).unwrap().finalize(&secp, internal).unwrap();
        let spent = coin(ScriptBuf::new_p2tr_tweaked(tree.output_key()));
        let control = tree.control_block(&(leaf.clone(), LeafVersion::TapScript)).unwrap();
        let mut witness = Witness::new();
        witness.push(leaf.as_bytes());
        witness.push(control.serialize());
        assert!(check(&spending(witness, ScriptBuf::new()), &spent).is_ok());

        // Key path: a BIP341 signature by the tweaked key.
        let key_only = coin(ScriptBuf::new_p2tr(&secp, internal, None));
        let mut tx = spending(Witness::new(), ScriptBuf::new());
        let sighash = SighashCache::new(&tx)
            .taproot_key_spend_signature_hash(
                0,
                &Prevouts::All(std::slice::from_ref(&key_only)),
                TapSighashType::Default,
            )
            .unwrap();
        let tweaked = keypair.tap_tweak(&secp, None);
        let signature = secp
            .sign_schnorr_no_aux_rand(&Message::from_digest(sighash.to_byte_array()), &tweaked.to_keypair());
        tx.input[0].witness.push(signature.as_ref());
        assert!(check(&tx, &key_only).is_ok());
        // An untweaked key's signature is not the output key's.
        let mut untweaked = spending(Witness::new(), ScriptBuf::new());
        let plain = secp.sign_schnorr_no_aux_rand(&Message::from_digest(sighash.to_byte_array()), &keypair);
        untweaked.input[0].witness.push(plain.as_ref());
        assert!(check(&untweaked, &key_only).is_err());
    }

    #[test]
    fn bare_scripts_follow_core() {
        // P2PK with a bad signature fails; an anyone-can-spend bare OP_TRUE passes (consensus).
        let secp = Secp256k1::new();
        let key = SecretKey::from_slice(&[3; 32]).unwrap().public_key(&secp);
        let p2pk = coin(Builder::new().push_slice(key.serialize()).push_opcode(OP_CHECKSIG).into_script());
        let sig = Builder::new().push_slice([0x30, 0x01, 0x01]).into_script();
        assert!(check(&spending(Witness::new(), sig), &p2pk).is_err());
        let op_true = coin(Builder::new().push_opcode(OP_PUSHNUM_1).into_script());
        assert!(check(&spending(Witness::new(), ScriptBuf::new()), &op_true).is_ok());
    }

    #[test]
    fn a_count_mismatch_is_an_error_not_a_pass() {
        let tx = spending(Witness::new(), ScriptBuf::new());
        assert!(verify_inputs(&tx, tx.compute_txid(), &[]).is_err());
    }
}
