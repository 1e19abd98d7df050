//! Crash-safe block storage: one append-only file of checksummed records.
//!
//! # File format
//!
//! `<dir>/blocks.dat` is a sequence of records, one per block of the active chain after genesis,
//! in height order:
//!
//! ```text
//! magic (4 bytes, regtest network magic) | length (u32 LE) | checksum (first 4 bytes of
//! SHA256d(payload)) | payload (the consensus-encoded block, `length` bytes)
//! ```
//!
//! # Crash safety
//!
//! 1. [`BlockStore::append`] writes the whole record and then `fsync`s the file; only when that
//!    returns is the block part of the chain (the caller commits its in-memory state after it).
//!    If the write or the sync fails, the file is cut back to its previous length.
//! 2. [`BlockStore::open`] reads records until the end of the file or the first record that is
//!    torn (short), has a wrong magic, a wrong checksum, or does not decode; the file is truncated
//!    there (and synced). A `kill -9` can only ever leave such a torn record at the end, so the
//!    file always holds a prefix of the blocks that were acknowledged, plus perhaps the one being
//!    written.
//! 3. `<dir>/.lock` is held with an exclusive `flock` while the store is open, so a second
//!    process cannot append to the same file; the kernel releases it when the process dies.
//! 4. The caller rebuilds the UTXO set by re-validating every block (see
//!    [`ChainState::open`](crate::ChainState::open)); a block that fails is cut off with
//!    [`BlockStore::truncate`] the same way.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{Block, Network};
use nix::fcntl::{Flock, FlockArg};

/// Name of the block file inside the storage directory.
pub const BLOCK_FILE_NAME: &str = "blocks.dat";
/// Name of the lock file that keeps a second process out of the storage directory.
pub const LOCK_FILE_NAME: &str = ".lock";

/// Record header: magic, length, checksum.
const RECORD_HEADER_LEN: usize = 12;
/// No valid block is larger than its weight limit; anything above is corruption.
const MAX_RECORD_LEN: u32 = 4_000_000;

/// Storage failed: an I/O error on one file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An I/O operation on `path` failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done ("open", "write", "sync", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A block does not fit in one record.
    #[error("block of {0} bytes is too large for a record")]
    TooLarge(usize),
    /// Another process (or another `BlockStore` in this one) has the directory open.
    #[error("cannot lock {0}: the data directory is in use by another process")]
    Locked(PathBuf),
}

/// One block read back from the file, with the offset its record starts at.
#[derive(Debug)]
pub struct StoredBlock {
    /// Offset of the record in the file; [`BlockStore::truncate`] to it to drop this block and all later ones.
    pub offset: u64,
    /// The block.
    pub block: Block,
}

/// The append-only block file of one chain directory.
#[derive(Debug)]
pub struct BlockStore {
    path: PathBuf,
    file: File,
    magic: [u8; 4],
    len: u64,
    /// Held (an exclusive `flock`) for as long as the store is open; released on drop.
    _lock: Flock<File>,
}

impl BlockStore {
    /// Opens (creating if needed) the block file under `dir`, reads every complete record, and
    /// truncates the file after the last one. Returns the store and the blocks in file order.
    pub fn open(dir: &Path, network: Network) -> Result<(BlockStore, Vec<StoredBlock>), StorageError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let lock = lock_dir(dir)?;
        let path = dir.join(BLOCK_FILE_NAME);
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open", &path))?;
        if !existed {
            // Make the new directory entry itself durable.
            sync_dir(dir)?;
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(io_err("read", &path))?;

        let magic = network.magic().to_bytes();
        let mut blocks = Vec::new();
        let mut pos = 0usize;
        while let Some((block, next)) = read_record(&data, pos, magic) {
            blocks.push(StoredBlock { offset: pos as u64, block });
            pos = next;
        }
        let mut store = BlockStore { path, file, magic, len: data.len() as u64, _lock: lock };
        if pos < data.len() {
            tracing::warn!(
                target: "blockstorage",
                path = %store.path.display(),
                offset = pos,
                dropped = data.len() - pos,
                "block file ends in a torn or corrupt record; truncating"
            );
            store.truncate(pos as u64)?;
        }
        Ok((store, blocks))
    }

    /// Appends `block` and syncs it to disk. When this returns `Ok`, the block survives a crash.
    pub fn append(&mut self, block: &Block) -> Result<(), StorageError> {
        let payload = serialize(block);
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| *l <= MAX_RECORD_LEN)
            .ok_or(StorageError::TooLarge(payload.len()))?;
        let checksum = sha256d::Hash::hash(&payload);
        let mut record = Vec::with_capacity(RECORD_HEADER_LEN + payload.len());
        record.extend_from_slice(&self.magic);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&checksum.as_byte_array()[..4]);
        record.extend_from_slice(&payload);

        let start = self.len;
        let written = self
            .file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.write_all(&record))
            .map_err(io_err("write", &self.path))
            .and_then(|()| self.file.sync_data().map_err(io_err("sync", &self.path)));
        if let Err(e) = written {
            // Best effort: do not leave a record behind that the caller was told failed.
            let _ = self.file.set_len(start).and_then(|()| self.file.sync_data());
            return Err(e);
        }
        self.len = start + record.len() as u64;
        Ok(())
    }

    /// Cuts the file to `offset` bytes (dropping every record from there on) and syncs it.
    pub fn truncate(&mut self, offset: u64) -> Result<(), StorageError> {
        self.file.set_len(offset).map_err(io_err("truncate", &self.path))?;
        self.file.sync_all().map_err(io_err("sync", &self.path))?;
        self.len = offset;
        Ok(())
    }

    /// Current length of the file in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Path of the block file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses the record at `pos`; `None` when it is torn or corrupt.
fn read_record(data: &[u8], pos: usize, magic: [u8; 4]) -> Option<(Block, usize)> {
    let header = data.get(pos..pos.checked_add(RECORD_HEADER_LEN)?)?;
    let (record_magic, rest) = header.split_first_chunk::<4>()?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let checksum = rest.first_chunk::<4>()?;
    if *record_magic != magic {
        return None;
    }
    let len = u32::from_le_bytes(*len);
    if len > MAX_RECORD_LEN {
        return None;
    }
    let start = pos + RECORD_HEADER_LEN;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    let payload = data.get(start..end)?;
    if sha256d::Hash::hash(payload).as_byte_array()[..4] != checksum[..] {
        return None;
    }
    let block: Block = deserialize(payload).ok()?;
    Some((block, end))
}

/// Takes an exclusive, non-blocking `flock` on `<dir>/.lock`. The kernel drops it when the
/// process dies, so a `kill -9` never leaves a stale lock behind.
/// Takes the exclusive `flock` on `<dir>/.lock` (creating it), held until the returned value is
/// dropped; [`StorageError::Locked`] if another process (or another open file here) holds it.
pub(crate) fn lock_dir(dir: &Path) -> Result<Flock<File>, StorageError> {
    let path = dir.join(LOCK_FILE_NAME);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err("open", &path))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| StorageError::Locked(path))
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err("sync directory", dir))
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.to_path_buf();
    move |source| StorageError::Io { op, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::blockdata::constants::genesis_block;

    fn block_with_nonce(nonce: u32) -> Block {
        let mut block = genesis_block(Network::Regtest);
        block.header.nonce = nonce;
        block
    }

    #[test]
    fn records_round_trip_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert!(blocks.is_empty() && store.is_empty());
        for nonce in 0..3 {
            store.append(&block_with_nonce(nonce)).unwrap();
        }
        let full = store.len();
        drop(store);

        // A torn copy of a fourth record.
        let mut file = OpenOptions::new().append(true).open(dir.path().join(BLOCK_FILE_NAME)).unwrap();
        let mut torn = Vec::new();
        torn.extend_from_slice(&Network::Regtest.magic().to_bytes());
        torn.extend_from_slice(&1000u32.to_le_bytes());
        torn.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        file.write_all(&torn).unwrap();
        drop(file);

        let (store, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert_eq!(blocks.iter().map(|b| b.block.header.nonce).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(store.len(), full);
        assert_eq!(fs::metadata(store.path()).unwrap().len(), full);
    }

    #[test]
    fn a_second_open_of_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        let err = BlockStore::open(dir.path(), Network::Regtest).unwrap_err();
        assert!(matches!(err, StorageError::Locked(_)), "{err}");
        drop(store);
        BlockStore::open(dir.path(), Network::Regtest).unwrap();
    }

    #[test]
    fn corrupt_checksum_drops_that_record_and_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        store.append(&block_with_nonce(7)).unwrap();
        let first = store.len();
        store.append(&block_with_nonce(8)).unwrap();
        store.append(&block_with_nonce(9)).unwrap();
        drop(store);

        let path = dir.path().join(BLOCK_FILE_NAME);
        let mut data = fs::read(&path).unwrap();
        let flip = first as usize + RECORD_HEADER_LEN + 10;
        data[flip] ^= 0xff;
        fs::write(&path, &data).unwrap();

        let (store, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].block.header.nonce, 7);
        assert_eq!(store.len(), first);
    }
}
