//! Signature checks for the output types this node can verify: P2WPKH (BIP143) and P2PKH.
//!
//! Anything else is refused with [`BlockError::UnsupportedScript`] rather than accepted blindly.
//! Signatures are normalised to low-S before verification, as Bitcoin Core's consensus code does
//! (low-S is only a relay policy there). Unlike Core's consensus rules, a signature must use one of
//! the standard sighash types; our wallet never produces others.

use bitcoin::hashes::Hash;
use bitcoin::script::Instruction;
use bitcoin::secp256k1::{ecdsa, Message, PublicKey, Secp256k1, VerifyOnly};
use bitcoin::sighash::SighashCache;
use bitcoin::{PubkeyHash, ScriptBuf, Transaction, TxOut, Txid, WPubkeyHash};

use super::BlockError;

/// Verifies input `input` of `tx`, which spends `spent`.
pub(crate) fn verify_input(
    secp: &Secp256k1<VerifyOnly>,
    tx: &Transaction,
    txid: Txid,
    cache: &mut SighashCache<&Transaction>,
    input: usize,
    spent: &TxOut,
) -> Result<(), BlockError> {
    let fail = |reason: &str| BlockError::ScriptFailed { txid, input, reason: reason.to_owned() };
    let txin = tx.input.get(input).ok_or_else(|| fail("input index out of range"))?;
    let script_pubkey = &spent.script_pubkey;

    if script_pubkey.is_p2wpkh() {
        if !txin.script_sig.is_empty() {
            return Err(fail("Witness requires empty scriptSig"));
        }
        if txin.witness.len() != 2 {
            return Err(fail("Witness program hash mismatch"));
        }
        let (Some(sig), Some(pubkey)) = (txin.witness.nth(0), txin.witness.nth(1)) else {
            return Err(fail("Witness program hash mismatch"));
        };
        if ScriptBuf::new_p2wpkh(&WPubkeyHash::hash(pubkey)) != *script_pubkey {
            return Err(fail("Script failed an OP_EQUALVERIFY operation"));
        }
        let sig = bitcoin::ecdsa::Signature::from_slice(sig)
            .map_err(|_| fail("Non-canonical DER signature or unknown sighash type"))?;
        let sighash = cache
            .p2wpkh_signature_hash(input, script_pubkey, spent.value, sig.sighash_type)
            .map_err(|_| fail("cannot compute BIP143 sighash"))?;
        let message = Message::from_digest(sighash.to_byte_array());
        check_ecdsa(secp, sig.signature, pubkey, &message).map_err(fail)
    } else if script_pubkey.is_p2pkh() {
        if !txin.witness.is_empty() {
            return Err(fail("Witness provided for non-witness script"));
        }
        let mut pushes = Vec::with_capacity(2);
        for instruction in txin.script_sig.instructions() {
            match instruction {
                Ok(Instruction::PushBytes(bytes)) => pushes.push(bytes.as_bytes()),
                _ => return Err(fail("Only push operators allowed in signatures")),
            }
        }
        let [sig, pubkey] = pushes[..] else {
            return Err(fail("Operation not valid with the current stack size"));
        };
        if ScriptBuf::new_p2pkh(&PubkeyHash::hash(pubkey)) != *script_pubkey {
            return Err(fail("Script failed an OP_EQUALVERIFY operation"));
        }
        let Some((&hash_type, der)) = sig.split_last() else {
            return Err(fail(
                "Script evaluated without error but finished with a false/empty top stack element",
            ));
        };
        let signature = ecdsa::Signature::from_der(der).map_err(|_| fail("Non-canonical DER signature"))?;
        let sighash = cache
            .legacy_signature_hash(input, script_pubkey, u32::from(hash_type))
            .map_err(|_| fail("cannot compute legacy sighash"))?;
        let message = Message::from_digest(sighash.to_byte_array());
        check_ecdsa(secp, signature, pubkey, &message).map_err(fail)
    } else {
        Err(BlockError::UnsupportedScript { txid, input, kind: script_kind(script_pubkey) })
    }
}

fn check_ecdsa(
    secp: &Secp256k1<VerifyOnly>,
    mut signature: ecdsa::Signature,
    pubkey: &[u8],
    message: &Message,
) -> Result<(), &'static str> {
    let pubkey =
        PublicKey::from_slice(pubkey).map_err(|_| "Public key is neither compressed or uncompressed")?;
    signature.normalize_s();
    secp.verify_ecdsa(message, &signature, &pubkey)
        .map_err(|_| "Script evaluated without error but finished with a false/empty top stack element")
}

fn script_kind(script: &bitcoin::Script) -> &'static str {
    if script.is_p2sh() {
        "P2SH"
    } else if script.is_p2wsh() {
        "P2WSH"
    } else if script.is_p2tr() {
        "P2TR"
    } else if script.is_p2pk() {
        "P2PK"
    } else if script.is_multisig() {
        "bare multisig"
    } else if script.is_op_return() {
        "OP_RETURN"
    } else if script.is_witness_program() {
        "unknown witness program"
    } else {
        "non-standard"
    }
}
