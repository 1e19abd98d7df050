//! Keys, signing and block helpers shared by the integration tests.
#![allow(dead_code)]

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, Block, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use node::{ChainParams, ChainState};

/// A deterministic key pair.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub secret: SecretKey,
    pub public: PublicKey,
}

impl Key {
    pub fn new(n: u8) -> Key {
        let secret = SecretKey::from_slice(&[n.max(1); 32]).unwrap();
        Key { secret, public: secret.public_key(&Secp256k1::new()) }
    }

    pub fn p2wpkh(&self) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&CompressedPublicKey(self.public).wpubkey_hash())
    }

    pub fn p2pkh(&self) -> ScriptBuf {
        ScriptBuf::new_p2pkh(&bitcoin::PublicKey::new(self.public).pubkey_hash())
    }
}

/// An unsigned transaction spending `prevouts` into `outputs`.
pub fn unsigned(prevouts: &[OutPoint], outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: prevouts
            .iter()
            .map(|p| TxIn {
                previous_output: *p,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    }
}

pub fn out(value_sat: u64, script_pubkey: ScriptBuf) -> TxOut {
    TxOut { value: Amount::from_sat(value_sat), script_pubkey }
}

/// Signs every input of `tx` as a P2WPKH spend by `key` of the matching `spent` output.
pub fn sign_p2wpkh(tx: &mut Transaction, spent: &[TxOut], key: &Key) {
    let secp = Secp256k1::new();
    let mut witnesses = Vec::new();
    {
        let mut cache = SighashCache::new(&*tx);
        for (i, prev) in spent.iter().enumerate() {
            let sighash = cache
                .p2wpkh_signature_hash(i, &prev.script_pubkey, prev.value, EcdsaSighashType::All)
                .unwrap();
            let signature = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &key.secret);
            let sig = bitcoin::ecdsa::Signature { signature, sighash_type: EcdsaSighashType::All };
            witnesses.push(Witness::p2wpkh(&sig, &key.public));
        }
    }
    for (input, witness) in tx.input.iter_mut().zip(witnesses) {
        input.witness = witness;
    }
}

/// Signs every input of `tx` as a P2PKH spend by `key` of the matching `spent` output.
pub fn sign_p2pkh(tx: &mut Transaction, spent: &[TxOut], key: &Key) {
    let secp = Secp256k1::new();
    let mut script_sigs = Vec::new();
    {
        let cache = SighashCache::new(&*tx);
        for (i, prev) in spent.iter().enumerate() {
            let sighash =
                cache.legacy_signature_hash(i, &prev.script_pubkey, EcdsaSighashType::All.to_u32()).unwrap();
            let signature = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &key.secret);
            let sig = bitcoin::ecdsa::Signature { signature, sighash_type: EcdsaSighashType::All };
            let sig_push = PushBytesBuf::try_from(sig.to_vec()).unwrap();
            script_sigs
                .push(Builder::new().push_slice(sig_push).push_slice(key.public.serialize()).into_script());
        }
    }
    for (input, script_sig) in tx.input.iter_mut().zip(script_sigs) {
        input.script_sig = script_sig;
    }
}

/// A fresh in-memory regtest chain.
pub fn chain() -> ChainState {
    ChainState::new(ChainParams::regtest())
}

/// Mines `n` empty blocks paying `script_pubkey`.
pub fn mine(chain: &mut ChainState, n: u32, script_pubkey: &ScriptBuf) {
    for _ in 0..n {
        chain.mine_block(script_pubkey, vec![]).unwrap();
    }
}

/// The coinbase output of the active block at `height`.
pub fn coinbase_of(chain: &ChainState, height: u32) -> (OutPoint, TxOut) {
    let hash = chain.block_hash(height).unwrap();
    let cb = &chain.block(&hash).unwrap().txdata[0];
    (OutPoint { txid: cb.compute_txid(), vout: 0 }, cb.output[0].clone())
}

/// A signed P2WPKH transaction spending `prev` (owned by `key`) to `to`, leaving `fee_sat` as fee.
pub fn spend(prev: &(OutPoint, TxOut), key: &Key, to: ScriptBuf, fee_sat: u64) -> Transaction {
    let mut tx = unsigned(&[prev.0], vec![out(prev.1.value.to_sat() - fee_sat, to)]);
    sign_p2wpkh(&mut tx, std::slice::from_ref(&prev.1), key);
    tx
}

pub fn outpoint(tx: &Transaction, vout: u32) -> OutPoint {
    OutPoint { txid: tx.compute_txid(), vout }
}

pub fn txid(tx: &Transaction) -> Txid {
    tx.compute_txid()
}

/// Recomputes the merkle root after a test tampered with the transactions, and grinds the nonce.
pub fn regrind(block: &mut Block) {
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    grind(block);
}

/// Grinds the nonce until the proof of work holds.
pub fn grind(block: &mut Block) {
    while !block.header.target().is_met_by(block.block_hash()) {
        block.header.nonce += 1;
    }
}

/// A chain with 100 blocks mined to `key` (so block 1's coinbase is spendable in block 101).
pub fn mature_chain(key: &Key) -> ChainState {
    let mut chain = chain();
    mine(&mut chain, 100, &key.p2wpkh());
    chain
}

/// The reject reason of accepting `block`, or `None` when it was accepted.
pub fn reject_reason(chain: &mut ChainState, block: Block) -> Option<&'static str> {
    chain.accept_block(block).err().map(|e| e.reject_reason())
}

/// Recomputes the witness commitment (last coinbase output) and the merkle root after a test
/// changed the transactions, then grinds the nonce.
pub fn recommit(block: &mut Block) {
    let root = block.witness_root().unwrap();
    let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
    let output = block.txdata[0].output.last_mut().unwrap();
    let mut bytes = output.script_pubkey.to_bytes();
    bytes[6..38].copy_from_slice(commitment.as_byte_array());
    output.script_pubkey = ScriptBuf::from_bytes(bytes);
    regrind(block);
}
