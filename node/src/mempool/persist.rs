//! `mempool.dat`: the pool written at shutdown and read back at start (`-persistmempool`, on by
//! default), and by `savemempool` / `importmempool`, in Bitcoin Core's file format so a file
//! moves between our node and bitcoind either way.
//!
//! The format (Core's `MEMPOOL_DUMP_VERSION` 2): version `u64` = 2, then an 8-byte obfuscation
//! key (as a length-prefixed byte vector), then, each byte XORed with `key[position % 8]`
//! (its absolute position in the file): the transaction count `u64`, per transaction the
//! transaction (with witness), its entry time `i64` and its fee delta `i64`; the fee deltas of
//! transactions not in the pool (a map: count, then txid and `i64` each, by txid); and the
//! unbroadcast txid set (count, txids). Version 1 is the same without key. All integers little
//! endian, counts as Bitcoin's compact size.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use bitcoin::consensus::encode::{Decodable, Encodable, VarInt};
use bitcoin::{Transaction, Txid};

/// Core's `MEMPOOL_DUMP_VERSION_NO_XOR_KEY` and `MEMPOOL_DUMP_VERSION`.
const VERSION_NO_KEY: u64 = 1;
const VERSION: u64 = 2;
/// Core's obfuscation key size.
const KEY_SIZE: usize = 8;
/// A bound on the transaction count read, against a damaged file asking for an absurd
/// allocation (a pool of 300 MB holds far fewer).
const MAX_TRANSACTIONS: u64 = 10_000_000;

/// One saved pool entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedEntry {
    /// The transaction.
    pub tx: Transaction,
    /// When it entered the pool (seconds since the epoch).
    pub time: i64,
    /// Its `prioritisetransaction` fee delta, satoshis.
    pub fee_delta: i64,
}

/// What a `mempool.dat` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedMempool {
    /// The pool's transactions, in pool (dependency) order.
    pub entries: Vec<SavedEntry>,
    /// Fee deltas of transactions that were not in the pool.
    pub deltas: BTreeMap<Txid, i64>,
    /// Transactions not yet announced to a peer.
    pub unbroadcast: Vec<Txid>,
}

/// Writes `pool` to `path` (through `<path>.new`, synced, then renamed), returning the bytes
/// written.
pub fn save(pool: &SavedMempool, path: &Path) -> io::Result<u64> {
    let mut key = [0u8; KEY_SIZE];
    fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key))?;
    let mut bytes = Vec::new();
    VERSION.consensus_encode(&mut bytes)?;
    key.to_vec().consensus_encode(&mut bytes)?;
    let body_start = bytes.len();
    (pool.entries.len() as u64).consensus_encode(&mut bytes)?;
    for entry in &pool.entries {
        entry.tx.consensus_encode(&mut bytes)?;
        entry.time.consensus_encode(&mut bytes)?;
        entry.fee_delta.consensus_encode(&mut bytes)?;
    }
    VarInt(pool.deltas.len() as u64).consensus_encode(&mut bytes)?;
    for (txid, delta) in &pool.deltas {
        txid.consensus_encode(&mut bytes)?;
        delta.consensus_encode(&mut bytes)?;
    }
    VarInt(pool.unbroadcast.len() as u64).consensus_encode(&mut bytes)?;
    for txid in &pool.unbroadcast {
        txid.consensus_encode(&mut bytes)?;
    }
    xor(&mut bytes, body_start, &key);
    let temp = with_suffix(path, ".new");
    {
        let mut file = fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temp, path)?;
    Ok(bytes.len() as u64)
}

/// Reads a `mempool.dat` (version 1 or 2).
pub fn load(path: &Path) -> io::Result<SavedMempool> {
    let mut bytes = fs::read(path)?;
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut reader = &bytes[..];
    let version = u64::consensus_decode(&mut reader).map_err(|_| invalid("no version"))?;
    let key: Vec<u8> = match version {
        VERSION_NO_KEY => vec![0; KEY_SIZE],
        VERSION => Vec::<u8>::consensus_decode(&mut reader).map_err(|_| invalid("no obfuscation key"))?,
        other => return Err(invalid(&format!("unknown mempool file version {other}"))),
    };
    if key.len() != KEY_SIZE {
        return Err(invalid(&format!("Obfuscation key size should be exactly {KEY_SIZE} bytes long")));
    }
    let body_start = bytes.len() - reader.len();
    xor(&mut bytes, body_start, &key);
    let mut reader = &bytes[body_start..];
    let decode_error = |e: bitcoin::consensus::encode::Error| invalid(&e.to_string());
    let count = u64::consensus_decode(&mut reader).map_err(decode_error)?;
    if count > MAX_TRANSACTIONS {
        return Err(invalid(&format!("{count} transactions is more than a pool can hold")));
    }
    let mut saved = SavedMempool::default();
    for _ in 0..count {
        let tx = Transaction::consensus_decode(&mut reader).map_err(decode_error)?;
        let time = i64::consensus_decode(&mut reader).map_err(decode_error)?;
        let fee_delta = i64::consensus_decode(&mut reader).map_err(decode_error)?;
        saved.entries.push(SavedEntry { tx, time, fee_delta });
    }
    let deltas = VarInt::consensus_decode(&mut reader).map_err(decode_error)?.0;
    for _ in 0..deltas.min(MAX_TRANSACTIONS) {
        let txid = Txid::consensus_decode(&mut reader).map_err(decode_error)?;
        let delta = i64::consensus_decode(&mut reader).map_err(decode_error)?;
        saved.deltas.insert(txid, delta);
    }
    let unbroadcast = VarInt::consensus_decode(&mut reader).map_err(decode_error)?.0;
    for _ in 0..unbroadcast.min(MAX_TRANSACTIONS) {
        saved.unbroadcast.push(Txid::consensus_decode(&mut reader).map_err(decode_error)?);
    }
    Ok(saved)
}

/// Core's obfuscation: each byte from `start` on XORed with the key byte of its file position.
fn xor(bytes: &mut [u8], start: usize, key: &[u8]) {
    if key.iter().all(|b| *b == 0) {
        return;
    }
    for (position, byte) in bytes.iter_mut().enumerate().skip(start) {
        *byte ^= key[position % key.len()];
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::hashes::Hash;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, TxIn, TxOut, Witness};

    fn txid_from_bytes(bytes: [u8; 32]) -> Txid {
        Txid::from_byte_array(bytes)
    }

    fn tx(n: u8) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(txid_from_bytes([n; 32]), 1),
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::from_slice(&[vec![n; 3]]),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(1000 + u64::from(n)),
                script_pubkey: ScriptBuf::new(),
            }],
        }
    }

    #[test]
    fn a_saved_pool_reads_back_and_is_obfuscated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mempool.dat");
        let pool = SavedMempool {
            entries: vec![
                SavedEntry { tx: tx(1), time: 1_700_000_000, fee_delta: 0 },
                SavedEntry { tx: tx(2), time: 1_700_000_001, fee_delta: -5 },
            ],
            deltas: BTreeMap::from([(txid_from_bytes([9; 32]), 1234)]),
            unbroadcast: vec![tx(2).compute_txid()],
        };
        save(&pool, &path).unwrap();
        assert_eq!(load(&path).unwrap(), pool);
        let raw = fs::read(&path).unwrap();
        assert_eq!(&raw[..8], &2u64.to_le_bytes(), "version 2 first, in the clear");
        assert_eq!(raw[8], 8, "then an 8-byte key");
        let plain = bitcoin::consensus::serialize(&pool.entries[0].tx);
        assert!(!raw.windows(plain.len()).any(|w| w == plain.as_slice()), "transactions are obfuscated");
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mempool.dat");
        for bytes in [vec![], vec![2, 0, 0, 0, 0, 0, 0, 0], vec![3, 0, 0, 0, 0, 0, 0, 0, 8], {
            let mut v = vec![1, 0, 0, 0, 0, 0, 0, 0];
            v.extend_from_slice(&u64::MAX.to_le_bytes());
            v
        }] {
            fs::write(&path, bytes).unwrap();
            assert!(load(&path).is_err());
        }
    }
}
