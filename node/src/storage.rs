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
//! There is no other file: the block index and the UTXO set are rebuilt in memory from the
//! records at every start, so there is no index that could disagree with the blocks.
//!
//! # Crash safety
//!
//! 1. [`BlockStore::append`] writes the whole record with one `write` and then `fsync`s the file;
//!    only when that returns is the block part of the chain (the caller commits its in-memory
//!    state after it). If the write or the sync fails, the file is cut back to its previous
//!    length.
//! 2. `<dir>/.lock` is held with an exclusive `flock` while the store is open, so a second
//!    process cannot append to the same file; the kernel releases it when the process dies.
//! 3. The caller rebuilds the UTXO set by re-validating every block (see
//!    [`ChainState::open`](crate::ChainState::open)).
//!
//! # Torn tail or corruption
//!
//! A crash can damage one place only: the record being appended, at the end of the file. Every
//! record before it was synced when its `append` returned. A `kill -9` during the write leaves a
//! prefix of the new record (the kernel keeps what was written); a power loss on a filesystem
//! that extends the file before its data reaches the disk can leave the new length reading as
//! zeros. [`BlockStore::open`] reads the records in order and, at the first one that is not
//! intact, decides about everything from there to the end of the file (the *rest*):
//!
//! * The rest is a **torn tail** when no intact record starts anywhere in it (every later byte
//!   offset holding the magic is tried) and it is one of
//!   - shorter than a record header (12 bytes);
//!   - a header with the right magic and a length within the limit whose payload runs past the
//!     end of the file, and whose bytes up to the end do not match the header's checksum (if they
//!     did, the record is complete and only its length field is damaged);
//!   - zeros only.
//!
//!   A torn tail holds no acknowledged block. It is cut off (one WARN line, then `fsync`) and the
//!   node starts.
//! * Anything else is **corruption**, and [`BlockStore::open`] refuses with
//!   [`StorageError::Corrupt`], which names the file and the byte offset and asks for `-reindex`;
//!   the file is left exactly as it was. That covers a damaged record with an intact record
//!   anywhere after it, a wrong magic or an impossible length, and a **last record that is
//!   complete** (its length fits in the file) but fails its checksum or does not decode.
//!
//! Why the last complete record is not cut: a crash leaves a short record or zeros, not a
//! full-length record with wrong bytes, while one flipped bit in the tip block looks exactly like
//! that, and the tip was acknowledged to whoever mined or submitted it. Cutting it would drop an
//! acknowledged block with only a log line; refusing costs one restart with `-reindex`. (A
//! filesystem that extends the file and then loses only part of the data in a power cut can leave
//! such a record too; it is refused the same way, and `-reindex` recovers everything else.)
//!
//! [`ChainState::open`](crate::ChainState::open) applies the same rule one level up: a stored block
//! whose record is intact but that fails re-validation is corruption, wherever it is.
//!
//! # Reindex
//!
//! [`BlockStore::reindex`] (`-reindex`) reads every intact record, skipping damaged stretches, and
//! hands each block to the caller, which keeps it if it connects to the chain rebuilt so far.
//! When every record is intact and kept, the file stays as it is (a torn tail is cut as above).
//! Otherwise nothing is deleted:
//!
//! 1. the kept records are written, in file order, to `blocks.dat.reindex-tmp`, which is synced;
//! 2. the original file gets a second name, `blocks.dat.corrupt-<unix time>` (a hard link), and
//!    the directory is synced: the damaged stretches and the intact blocks that no longer connect
//!    stay there for inspection;
//! 3. the new file is renamed over `blocks.dat` and the directory is synced again.
//!
//! At every moment `blocks.dat` is either the complete old file or the complete new one; a crash
//! in between leaves at most a stray temporary file (the next reindex overwrites it) or a second
//! name for the old file. `-reindex` on an intact file costs no more than a normal start, so it
//! may stay in a config file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{Block, Network};
use nix::fcntl::{Flock, FlockArg};

/// Name of the block file inside the storage directory.
pub const BLOCK_FILE_NAME: &str = "blocks.dat";
/// Name of the lock file that keeps a second process out of the storage directory.
pub const LOCK_FILE_NAME: &str = ".lock";
/// [`BlockStore::reindex`] keeps a block file it replaces under this name followed by the unix
/// time (and `-<n>` if that name is taken).
pub const CORRUPT_FILE_PREFIX: &str = "blocks.dat.corrupt-";
/// The new block file while [`BlockStore::reindex`] writes it.
const REINDEX_TMP_NAME: &str = "blocks.dat.reindex-tmp";

/// Record header: magic, length, checksum.
const RECORD_HEADER_LEN: usize = 12;
/// No valid block is larger than its weight limit; anything above is corruption.
const MAX_RECORD_LEN: u32 = 4_000_000;

/// Storage failed: an I/O error on one file, or a block file that is damaged.
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
    /// The block file is damaged where a crash cannot have damaged it (see the module
    /// documentation); nothing was changed. One line, in the words of Bitcoin Core's message.
    #[error(
        "Corrupted block database detected: {path} at byte offset {offset}: {reason}. \
         Please restart with -reindex to rebuild the chain from the intact blocks \
         (it keeps the damaged file aside and deletes nothing)"
    )]
    Corrupt {
        /// The block file.
        path: PathBuf,
        /// Where the first damaged record starts.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
}

/// One block read back from the file, with the offset its record starts at.
#[derive(Debug)]
pub struct StoredBlock {
    /// Offset of the record in the file.
    pub offset: u64,
    /// The block.
    pub block: Block,
}

/// A stretch of the block file that holds no intact record and is not a torn tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Where it starts.
    pub offset: u64,
    /// Its length: up to the next intact record, or to the end of the file.
    pub len: u64,
    /// What is wrong with the record that should start there.
    pub reason: String,
}

/// What [`BlockStore::reindex`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reindexed {
    /// Blocks the caller kept: the records of the block file now, in order.
    pub kept: usize,
    /// Intact records whose block the caller did not keep (they do not connect).
    pub refused: usize,
    /// The damaged stretches, in file order.
    pub damaged: Vec<Damage>,
    /// Where the original file was kept, if it had to be replaced.
    pub set_aside: Option<PathBuf>,
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
    /// Opens (creating if needed) the block file under `dir` and reads every record. A torn tail
    /// is cut off; any other damage is [`StorageError::Corrupt`] and leaves the file untouched
    /// (see the module documentation for the rule). Returns the store and the blocks in file
    /// order.
    pub fn open(dir: &Path, network: Network) -> Result<(BlockStore, Vec<StoredBlock>), StorageError> {
        let (mut store, data) = BlockStore::open_file(dir, network)?;
        let scan = scan(&data, store.magic);
        if let Some(damage) = scan.damaged.first() {
            let after = scan.records.iter().filter(|r| r.offset > damage.offset).count();
            return Err(store.corrupt(damage.offset, format!("{}{}", damage.reason, followed_by(after))));
        }
        if let Some(offset) = scan.torn_tail {
            store.cut_torn_tail(offset)?;
        }
        let blocks =
            scan.records.into_iter().map(|r| StoredBlock { offset: r.offset, block: r.block }).collect();
        Ok((store, blocks))
    }

    /// Opens the block file under `dir` for `-reindex`: hands every intact record's block to
    /// `keep`, in file order, skipping damaged stretches; `keep` returns whether the block stays
    /// (it connects to the chain rebuilt so far). If every record is intact and kept, the file
    /// stays as it is, but for a torn tail, which is cut. Otherwise the kept records become the
    /// new block file and the original is kept aside under [`CORRUPT_FILE_PREFIX`]`<unix time>`,
    /// crash-safely (see the module documentation). What was found and done is logged (target
    /// `blockstorage`) and returned.
    pub fn reindex(
        dir: &Path,
        network: Network,
        mut keep: impl FnMut(StoredBlock) -> bool,
    ) -> Result<(BlockStore, Reindexed), StorageError> {
        let (mut store, data) = BlockStore::open_file(dir, network)?;
        let scan = scan(&data, store.magic);
        for damage in &scan.damaged {
            tracing::warn!(
                target: "blockstorage",
                path = %store.path.display(),
                offset = damage.offset,
                len = damage.len,
                "Reindex: damaged stretch in the block file: {}",
                damage.reason
            );
        }
        let mut kept = Vec::new();
        let mut refused = 0;
        for record in scan.records {
            let bytes = record.bytes;
            if keep(StoredBlock { offset: record.offset, block: record.block }) {
                kept.push(bytes);
            } else {
                refused += 1;
            }
        }
        let mut report = Reindexed { kept: kept.len(), refused, damaged: scan.damaged, set_aside: None };
        if report.damaged.is_empty() && refused == 0 {
            if let Some(offset) = scan.torn_tail {
                store.cut_torn_tail(offset)?;
            }
            tracing::info!(
                target: "blockstorage",
                "Reindex: all {} stored blocks are intact and connect; nothing set aside",
                report.kept
            );
            return Ok((store, report));
        }
        let aside = store.replace(&kept)?;
        let damaged_bytes: u64 = report.damaged.iter().map(|d| d.len).sum();
        tracing::warn!(
            target: "blockstorage",
            path = %store.path.display(),
            set_aside = %aside.display(),
            "Reindex: kept {} blocks that connect from genesis; set aside the original file with {} damaged \
             stretch(es) ({} bytes) and {} intact block(s) that no longer connect",
            report.kept,
            report.damaged.len(),
            damaged_bytes,
            refused
        );
        report.set_aside = Some(aside);
        Ok((store, report))
    }

    /// Creates the directory, takes the lock, opens (creating) the file and reads it whole.
    fn open_file(dir: &Path, network: Network) -> Result<(BlockStore, Vec<u8>), StorageError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let lock = lock_dir(dir)?;
        let path = dir.join(BLOCK_FILE_NAME);
        let existed = path.exists();
        let mut file = open_read_write(&path, true)?;
        if !existed {
            // Make the new directory entry itself durable.
            sync_dir(dir)?;
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(io_err("read", &path))?;
        let magic = network.magic().to_bytes();
        let store = BlockStore { path, file, magic, len: data.len() as u64, _lock: lock };
        Ok((store, data))
    }

    /// Appends `block` and syncs it to disk. When this returns `Ok`, the block survives a crash.
    pub fn append(&mut self, block: &Block) -> Result<(), StorageError> {
        let record = encode_record(self.magic, block)?;
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

    /// [`StorageError::Corrupt`] for this file.
    pub(crate) fn corrupt(&self, offset: u64, reason: String) -> StorageError {
        StorageError::Corrupt { path: self.path.clone(), offset, reason }
    }

    /// Cuts the torn tail that starts at `offset` and syncs the file.
    fn cut_torn_tail(&mut self, offset: usize) -> Result<(), StorageError> {
        tracing::warn!(
            target: "blockstorage",
            path = %self.path.display(),
            offset,
            dropped = self.len.saturating_sub(offset as u64),
            "block file ends in a torn record (a write interrupted by a crash); truncating"
        );
        let offset = offset as u64;
        self.file.set_len(offset).map_err(io_err("truncate", &self.path))?;
        self.file.sync_all().map_err(io_err("sync", &self.path))?;
        self.len = offset;
        Ok(())
    }

    /// Replaces the block file by `records` (see "Reindex" in the module documentation); returns
    /// the name the original file is kept under.
    fn replace(&mut self, records: &[&[u8]]) -> Result<PathBuf, StorageError> {
        let dir = self.path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let tmp = dir.join(REINDEX_TMP_NAME);
        let written = write_synced(&tmp, records);
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        let len = written?;
        let aside = link_aside(&self.path, &dir)?;
        sync_dir(&dir)?;
        fs::rename(&tmp, &self.path).map_err(io_err("rename", &tmp))?;
        sync_dir(&dir)?;
        self.file = open_read_write(&self.path, false)?;
        self.len = len;
        Ok(aside)
    }
}

/// ` (N intact records after it)` for an error reason; nothing when there are none.
pub(crate) fn followed_by(records: usize) -> String {
    match records {
        0 => String::new(),
        1 => " (1 intact record after it)".to_string(),
        n => format!(" ({n} intact records after it)"),
    }
}

/// Why the bytes at an offset are not an intact record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// Fewer bytes than a record header are left.
    ShortHeader,
    /// The header does not start with the magic.
    BadMagic,
    /// The length is above [`MAX_RECORD_LEN`].
    TooLong(u32),
    /// The payload runs past the end of the file.
    PastEnd(u32),
    /// The payload runs past the end of the file, but the bytes up to the end match the
    /// checksum: a complete record whose length field is damaged.
    LengthDamaged(u32),
    /// The payload does not match the checksum.
    Checksum,
    /// The payload matches the checksum but is not a block.
    Undecodable,
}

impl std::fmt::Display for Flaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flaw::ShortHeader => write!(f, "record header cut short"),
            Flaw::BadMagic => write!(f, "no record starts here (wrong magic)"),
            Flaw::TooLong(len) => {
                write!(f, "record length {len} is above the limit of {MAX_RECORD_LEN} bytes")
            }
            Flaw::PastEnd(len) => write!(f, "record length {len} runs past the end of the file"),
            Flaw::LengthDamaged(len) => write!(
                f,
                "record length {len} runs past the end of the file, but the bytes up to the end match \
                 the checksum: the length field is damaged"
            ),
            Flaw::Checksum => write!(f, "record checksum mismatch"),
            Flaw::Undecodable => write!(f, "record checksum matches but the payload is not a block"),
        }
    }
}

/// One intact record.
#[derive(Debug)]
struct Record<'a> {
    offset: u64,
    /// The whole record, header included.
    bytes: &'a [u8],
    block: Block,
}

/// A block file taken apart: its intact records and what lies between them.
#[derive(Debug)]
struct Scan<'a> {
    /// The intact records, in file order.
    records: Vec<Record<'a>>,
    /// Stretches that hold no intact record and are not a torn tail, in file order.
    damaged: Vec<Damage>,
    /// Where the torn tail starts, if the file ends in one.
    torn_tail: Option<usize>,
}

/// Reads `data` record by record. At a record that is not intact, the next intact record is
/// searched for at every later offset holding the magic; the stretch up to it is damaged. When
/// there is none, the rest of the file is a torn tail or damaged (see the module documentation).
fn scan(data: &[u8], magic: [u8; 4]) -> Scan<'_> {
    let mut scan = Scan { records: Vec::new(), damaged: Vec::new(), torn_tail: None };
    let mut pos = 0usize;
    while pos < data.len() {
        match read_record(data, pos, magic) {
            Ok((block, end)) => {
                // `read_record` checked that `pos..end` is in `data`.
                scan.records.push(Record { offset: pos as u64, bytes: &data[pos..end], block });
                pos = end;
            }
            Err(flaw) => {
                let next = find_record(data, pos + 1, magic);
                let end = next.unwrap_or(data.len());
                let flaw = if next.is_none() { tail_flaw(data, pos, flaw) } else { Some(flaw) };
                match flaw {
                    Some(flaw) => scan.damaged.push(Damage {
                        offset: pos as u64,
                        len: (end - pos) as u64,
                        reason: flaw.to_string(),
                    }),
                    None => scan.torn_tail = Some(pos),
                }
                pos = end;
            }
        }
    }
    scan
}

/// The rest of the file from `pos` holds no intact record and starts with `flaw`: `None` if it
/// is a torn tail, else what makes it damage.
fn tail_flaw(data: &[u8], pos: usize, flaw: Flaw) -> Option<Flaw> {
    let rest = data.get(pos..).unwrap_or_default();
    match flaw {
        Flaw::ShortHeader => None,
        Flaw::BadMagic if rest.iter().all(|b| *b == 0) => None,
        Flaw::PastEnd(len) => {
            // `PastEnd` means the header is there.
            let header = record_header(data, pos)?;
            let payload = rest.get(RECORD_HEADER_LEN..).unwrap_or_default();
            (checksum(payload) == header.checksum).then_some(Flaw::LengthDamaged(len))
        }
        other => Some(other),
    }
}

/// The first offset at or after `from` where an intact record starts.
fn find_record(data: &[u8], from: usize, magic: [u8; 4]) -> Option<usize> {
    let last = data.len().checked_sub(RECORD_HEADER_LEN)?;
    (from..=last)
        .find(|&pos| data.get(pos..pos + 4) == Some(&magic[..]) && read_record(data, pos, magic).is_ok())
}

/// A record header as it is on disk.
#[derive(Debug)]
struct RecordHeader {
    magic: [u8; 4],
    len: u32,
    checksum: [u8; 4],
}

fn record_header(data: &[u8], pos: usize) -> Option<RecordHeader> {
    let header = data.get(pos..)?.first_chunk::<RECORD_HEADER_LEN>()?;
    let (magic, rest) = header.split_first_chunk::<4>()?;
    let (len, rest) = rest.split_first_chunk::<4>()?;
    let checksum = rest.first_chunk::<4>()?;
    Some(RecordHeader { magic: *magic, len: u32::from_le_bytes(*len), checksum: *checksum })
}

/// Parses the record at `pos`: its block and where the next record starts, or its flaw.
fn read_record(data: &[u8], pos: usize, magic: [u8; 4]) -> Result<(Block, usize), Flaw> {
    let header = record_header(data, pos).ok_or(Flaw::ShortHeader)?;
    if header.magic != magic {
        return Err(Flaw::BadMagic);
    }
    if header.len > MAX_RECORD_LEN {
        return Err(Flaw::TooLong(header.len));
    }
    // Both fit: `pos` is in `data` and the length is at most 4 MB.
    let start = pos + RECORD_HEADER_LEN;
    let end = start + header.len as usize;
    let payload = data.get(start..end).ok_or(Flaw::PastEnd(header.len))?;
    if checksum(payload) != header.checksum {
        return Err(Flaw::Checksum);
    }
    let block: Block = deserialize(payload).map_err(|_| Flaw::Undecodable)?;
    Ok((block, end))
}

/// The first 4 bytes of SHA256d(`payload`).
fn checksum(payload: &[u8]) -> [u8; 4] {
    let hash = sha256d::Hash::hash(payload);
    let mut out = [0u8; 4];
    out.copy_from_slice(&hash.as_byte_array()[..4]);
    out
}

/// The record of `block`: header and payload.
fn encode_record(magic: [u8; 4], block: &Block) -> Result<Vec<u8>, StorageError> {
    let payload = serialize(block);
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_RECORD_LEN)
        .ok_or(StorageError::TooLarge(payload.len()))?;
    let mut record = Vec::with_capacity(RECORD_HEADER_LEN + payload.len());
    record.extend_from_slice(&magic);
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&checksum(&payload));
    record.extend_from_slice(&payload);
    Ok(record)
}

fn open_read_write(path: &Path, create: bool) -> Result<File, StorageError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(io_err("open", path))
}

/// Writes `records` to a new file at `path` (replacing any) and syncs it; returns its length.
fn write_synced(path: &Path, records: &[&[u8]]) -> Result<u64, StorageError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_err("create", path))?;
    let mut len = 0u64;
    for record in records {
        file.write_all(record).map_err(io_err("write", path))?;
        len += record.len() as u64;
    }
    file.sync_all().map_err(io_err("sync", path))?;
    Ok(len)
}

/// Gives `path` a second name in `dir`, [`CORRUPT_FILE_PREFIX`]`<unix time>` (with `-<n>` added
/// while that is taken), and returns it.
fn link_aside(path: &Path, dir: &Path) -> Result<PathBuf, StorageError> {
    let time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let base = format!("{CORRUPT_FILE_PREFIX}{time}");
    for n in 0..1000u32 {
        let name = if n == 0 { base.clone() } else { format!("{base}-{n}") };
        let aside = dir.join(name);
        match fs::hard_link(path, &aside) {
            Ok(()) => return Ok(aside),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(StorageError::Io { op: "keep aside", path: aside, source }),
        }
    }
    let source = io::Error::new(io::ErrorKind::AlreadyExists, "a thousand such names are taken");
    Err(StorageError::Io { op: "keep aside", path: dir.join(base), source })
}

/// Takes the exclusive `flock` on `<dir>/.lock` (creating it), held until the returned value is
/// dropped; [`StorageError::Locked`] if another process (or another open file here) holds it.
/// The kernel drops it when the process dies, so a `kill -9` never leaves a stale lock behind.
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

    /// Writes `count` records (nonces 0, 1, ...) under `dir`; returns their offsets.
    fn write_records(dir: &Path, count: u32) -> Vec<usize> {
        let (mut store, _) = BlockStore::open(dir, Network::Regtest).unwrap();
        let mut offsets = Vec::new();
        for nonce in 0..count {
            offsets.push(store.len() as usize);
            store.append(&block_with_nonce(nonce)).unwrap();
        }
        offsets
    }

    fn nonces(blocks: &[StoredBlock]) -> String {
        blocks.iter().map(|b| b.block.header.nonce.to_string()).collect::<Vec<_>>().join(" ")
    }

    /// Writes three records (nonces 0, 1, 2), lets `damage` change the file's bytes (it gets them
    /// and the records' offsets), opens the store and describes the outcome: `blocks 0 1 2` (with
    /// `, tail cut` when the file was truncated) or `corrupt at <offset>: <reason>`, where an
    /// offset at which a record started is written `#<record>`. A refused open must leave the
    /// file byte for byte as it was.
    fn check(damage: impl FnOnce(&mut Vec<u8>, &[usize]), expect: &str) {
        let dir = tempfile::tempdir().unwrap();
        let offsets = write_records(dir.path(), 3);
        let path = dir.path().join(BLOCK_FILE_NAME);
        let mut data = fs::read(&path).unwrap();
        damage(&mut data, &offsets);
        fs::write(&path, &data).unwrap();
        let got = match BlockStore::open(dir.path(), Network::Regtest) {
            Ok((store, blocks)) => {
                assert_eq!(fs::metadata(&path).unwrap().len(), store.len());
                let cut = if store.len() < data.len() as u64 { ", tail cut" } else { "" };
                format!("blocks {}{cut}", nonces(&blocks))
            }
            Err(StorageError::Corrupt { path: named, offset, reason }) => {
                assert_eq!(named, path);
                assert_eq!(fs::read(&path).unwrap(), data, "a refused open changes nothing");
                let at = offsets
                    .iter()
                    .position(|o| *o as u64 == offset)
                    .map_or(offset.to_string(), |i| format!("#{i}"));
                format!("corrupt at {at}: {reason}")
            }
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect);
    }

    /// A record whose checksum matches `payload`.
    fn record_of(payload: &[u8]) -> Vec<u8> {
        let mut record = Network::Regtest.magic().to_bytes().to_vec();
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&checksum(payload));
        record.extend_from_slice(payload);
        record
    }

    #[test]
    fn intact_file() {
        check(|_, _| {}, "blocks 0 1 2");
    }

    #[test]
    fn torn_tails_are_cut() {
        // A kill -9 in the middle of an append: a prefix of the record.
        check(|d, o| d.truncate(o[2] + 5), "blocks 0 1, tail cut");
        check(|d, o| d.truncate(o[2] + RECORD_HEADER_LEN), "blocks 0 1, tail cut");
        check(|d, _| d.truncate(d.len() - 1), "blocks 0 1, tail cut");
        let fourth = encode_record(Network::Regtest.magic().to_bytes(), &block_with_nonce(3)).unwrap();
        check(|d, _| d.extend_from_slice(&fourth[..fourth.len() - 40]), "blocks 0 1 2, tail cut");
        check(|d, _| d.extend_from_slice(&fourth[..3]), "blocks 0 1 2, tail cut");
        // Fewer bytes than a header hold no block, whatever they are.
        check(|d, _| d.extend_from_slice(b"junk"), "blocks 0 1 2, tail cut");
        // A power cut on a filesystem that extended the file before writing its data: zeros.
        check(|d, _| d.extend_from_slice(&[0; 400]), "blocks 0 1 2, tail cut");
        check(|d, o| d[o[2]..].fill(0), "blocks 0 1, tail cut");
    }

    #[test]
    fn damage_in_the_middle_is_corruption() {
        check(
            |d, o| d[o[1] + 30] ^= 0x01,
            "corrupt at #1: record checksum mismatch (1 intact record after it)",
        );
        check(
            |d, o| d[o[0] + 30] ^= 0x01,
            "corrupt at #0: record checksum mismatch (2 intact records after it)",
        );
        check(
            |d, o| d[o[1]] ^= 0x01,
            "corrupt at #1: no record starts here (wrong magic) (1 intact record after it)",
        );
        check(
            |d, o| d[o[1]..o[2]].fill(0),
            "corrupt at #1: no record starts here (wrong magic) (1 intact record after it)",
        );
        // A length made larger: it runs past the end of the file, but a record follows.
        let len = 285 + 0x10_0000;
        check(
            |d, o| d[o[1] + 6] = 0x10,
            &format!(
                "corrupt at #1: record length {len} runs past the end of the file (1 intact record after it)"
            ),
        );
        // A length made smaller: the checksum no longer matches.
        check(
            |d, o| d[o[1] + 4] = 0x10,
            "corrupt at #1: record checksum mismatch (1 intact record after it)",
        );
        check(
            |d, o| d[o[1] + 7] = 0xff,
            &format!("corrupt at #1: record length {} is above the limit of 4000000 bytes (1 intact record after it)", 285u32 + (0xffu32 << 24)),
        );
    }

    #[test]
    fn a_complete_last_record_that_is_wrong_is_corruption() {
        check(|d, o| d[o[2] + 30] ^= 0x01, "corrupt at #2: record checksum mismatch");
        check(|d, o| d[o[2] + 10] ^= 0x01, "corrupt at #2: record checksum mismatch");
        check(|d, o| d[o[2]] ^= 0x01, "corrupt at #2: no record starts here (wrong magic)");
        check(
            |d, o| d[o[2] + 6] = 0x10,
            &format!(
                "corrupt at #2: record length {} runs past the end of the file, but the bytes up to the end \
                 match the checksum: the length field is damaged",
                285 + 0x10_0000
            ),
        );
        let undecodable = record_of(b"not a block");
        let end = 3 * (RECORD_HEADER_LEN + 285);
        check(
            |d, _| d.extend_from_slice(&undecodable),
            &format!("corrupt at {end}: record checksum matches but the payload is not a block"),
        );
        // Bytes after the last record that no append can have written.
        check(
            |d, _| d.extend_from_slice(b"this is not a record"),
            &format!("corrupt at {end}: no record starts here (wrong magic)"),
        );
        check(
            |d, _| d.extend_from_slice(b"\xfa\xbf\xb5\xda garbage"),
            &format!("corrupt at {end}: record length 1918986016 is above the limit of 4000000 bytes"),
        );
    }

    #[test]
    fn records_round_trip_and_appends_follow_a_cut_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 2);
        let path = dir.path().join(BLOCK_FILE_NAME);
        OpenOptions::new().append(true).open(&path).unwrap().write_all(&[0xfa, 0xbf, 0xb5]).unwrap();
        let (mut store, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert_eq!(nonces(&blocks), "0 1");
        store.append(&block_with_nonce(7)).unwrap();
        drop(store);
        let (_, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert_eq!(nonces(&blocks), "0 1 7");
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

    /// The names in `dir` starting with `prefix`.
    fn files_starting_with(dir: &Path, prefix: &str) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn reindex_keeps_the_intact_records_that_connect_and_sets_the_file_aside() {
        let dir = tempfile::tempdir().unwrap();
        let offsets = write_records(dir.path(), 5);
        let path = dir.path().join(BLOCK_FILE_NAME);
        let mut data = fs::read(&path).unwrap();
        data[offsets[2] + 30] ^= 0x01;
        fs::write(&path, &data).unwrap();

        // The caller refuses the block with nonce 3, as a chain refuses one that does not connect.
        let mut seen = Vec::new();
        let (mut store, report) = BlockStore::reindex(dir.path(), Network::Regtest, |stored| {
            seen.push((stored.offset as usize, stored.block.header.nonce));
            stored.block.header.nonce != 3
        })
        .unwrap();
        assert_eq!(seen, [(offsets[0], 0), (offsets[1], 1), (offsets[3], 3), (offsets[4], 4)]);
        assert_eq!((report.kept, report.refused), (3, 1));
        let damage = Damage {
            offset: offsets[2] as u64,
            len: (offsets[3] - offsets[2]) as u64,
            reason: "record checksum mismatch".to_string(),
        };
        assert_eq!(report.damaged, [damage]);

        // The original, damage and all, is kept aside; the new file holds the kept records.
        let aside = report.set_aside.unwrap();
        assert_eq!(files_starting_with(dir.path(), CORRUPT_FILE_PREFIX), std::slice::from_ref(&aside));
        assert_eq!(fs::read(&aside).unwrap(), data);
        let mut expect = data[offsets[0]..offsets[2]].to_vec();
        expect.extend_from_slice(&data[offsets[4]..]);
        assert_eq!(fs::read(&path).unwrap(), expect);
        assert!(!dir.path().join(REINDEX_TMP_NAME).exists());

        // The store goes on with the new file.
        assert_eq!(store.len(), expect.len() as u64);
        store.append(&block_with_nonce(9)).unwrap();
        drop(store);
        let (_, blocks) = BlockStore::open(dir.path(), Network::Regtest).unwrap();
        assert_eq!(nonces(&blocks), "0 1 4 9");
        assert_eq!(fs::read(&aside).unwrap(), data, "the set-aside file is not touched again");
    }

    #[test]
    fn reindex_of_an_intact_file_only_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 3);
        let path = dir.path().join(BLOCK_FILE_NAME);
        let full = fs::metadata(&path).unwrap().len();
        OpenOptions::new().append(true).open(&path).unwrap().write_all(&[0xfa, 0xbf]).unwrap();
        let (store, report) = BlockStore::reindex(dir.path(), Network::Regtest, |_| true).unwrap();
        assert_eq!(report, Reindexed { kept: 3, refused: 0, damaged: vec![], set_aside: None });
        assert_eq!((store.len(), fs::metadata(&path).unwrap().len()), (full, full));
        assert!(files_starting_with(dir.path(), CORRUPT_FILE_PREFIX).is_empty());
    }

    #[test]
    fn a_second_reindex_in_the_same_second_keeps_both_originals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BLOCK_FILE_NAME);
        write_records(dir.path(), 2);
        let first = fs::read(&path).unwrap();
        let (_, report) =
            BlockStore::reindex(dir.path(), Network::Regtest, |s| s.block.header.nonce == 0).unwrap();
        let second = fs::read(&path).unwrap();
        let (_, again) = BlockStore::reindex(dir.path(), Network::Regtest, |_| false).unwrap();
        let (one, two) = (report.set_aside.unwrap(), again.set_aside.unwrap());
        assert_ne!(one, two);
        assert_eq!((fs::read(&one).unwrap(), fs::read(&two).unwrap()), (first, second));
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    }
}
