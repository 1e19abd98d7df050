//! Persistence: restart resumes the same tip and UTXO set; torn writes and kill -9 are survived;
//! a damaged block file refuses to open and changes nothing; `-reindex` rebuilds from the intact
//! blocks and keeps the damaged file aside.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use node::{
    BlockStore, ChainParams, ChainState, OpenMode, StorageError, BLOCK_FILE_NAME, CORRUPT_FILE_PREFIX,
};

fn open(dir: &Path) -> ChainState {
    ChainState::open(dir, ChainParams::regtest()).unwrap()
}

/// Mines 100 blocks to `key`, then a block spending block 1's coinbase, then 4 more.
fn build_chain(dir: &Path, key: &Key) -> ChainState {
    let mut chain = open(dir);
    mine(&mut chain, 100, &key.p2wpkh());
    let tx = spend(&coinbase_of(&chain, 1), key, Key::new(2).p2wpkh(), 1000);
    chain.mine_block(&key.p2wpkh(), vec![tx]).unwrap();
    mine(&mut chain, 4, &key.p2wpkh());
    chain
}

#[test]
fn restart_resumes_same_tip_and_utxo_set() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    let chain = build_chain(dir.path(), &key);
    let (tip, height, utxos) = (chain.tip(), chain.height(), chain.utxos().clone());
    assert_eq!(height, 105);
    drop(chain);

    let mut reopened = open(dir.path());
    assert_eq!(reopened.tip(), tip);
    assert_eq!(reopened.height(), height);
    assert_eq!(*reopened.utxos(), utxos);
    assert_eq!(reopened.block_hash(0), Some(ChainParams::regtest().genesis.block_hash()));

    // And it keeps going from there.
    let next = reopened.mine_block(&key.p2wpkh(), vec![]).unwrap();
    drop(reopened);
    let again = open(dir.path());
    assert_eq!((again.tip(), again.height()), (next, 106));
}

#[test]
fn opening_an_empty_directory_creates_it_at_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(&dir.path().join("regtest"));
    assert_eq!(chain.height(), 0);
    assert!(dir.path().join("regtest").join(BLOCK_FILE_NAME).exists());
}

/// Offsets of the records in the block file `data` (records follow each other: magic, length,
/// checksum, payload).
fn record_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 0usize;
    while pos + 12 <= data.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 12 + len;
    }
    offsets
}

fn open_err(dir: &Path) -> StorageError {
    ChainState::open(dir, ChainParams::regtest()).unwrap_err()
}

/// Asserts `err` is a `Corrupt` naming `path` and `offset` with a reason containing `reason`, and
/// that its line says how to get out.
fn assert_corrupt(err: &StorageError, path: &Path, offset: usize, reason: &str) {
    let StorageError::Corrupt { path: named, offset: at, reason: why } = err else {
        panic!("expected Corrupt, got {err}");
    };
    assert_eq!((named.as_path(), *at), (path, offset as u64), "{err}");
    assert!(why.contains(reason), "{err}");
    let line = err.to_string();
    assert!(line.starts_with("Corrupted block database detected: "), "{line}");
    assert!(line.contains(&format!("{} at byte offset {offset}", path.display())), "{line}");
    assert!(line.contains("-reindex") && !line.contains('\n'), "{line}");
}

/// Names in `dir` of block files kept aside by a reindex.
fn set_aside_files(dir: &Path) -> Vec<std::path::PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(CORRUPT_FILE_PREFIX))
        .collect()
}

#[test]
fn torn_write_recovers_to_last_complete_record() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    let chain = build_chain(dir.path(), &key);
    let tip_before_last = chain.block_hash(chain.height() - 1).unwrap();
    let tip = chain.tip();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let data = fs::read(&path).unwrap();
    let full_len = data.len() as u64;
    let last = *record_offsets(&data).last().unwrap();

    // A crash while appending another record: a prefix of it after the last one. Everything
    // stays, the prefix goes.
    OpenOptions::new().append(true).open(&path).unwrap().write_all(&data[last..last + 100]).unwrap();
    let chain = open(dir.path());
    assert_eq!(chain.tip(), tip);
    drop(chain);
    assert_eq!(fs::metadata(&path).unwrap().len(), full_len);

    // Zeros where the data never reached the disk: the same.
    OpenOptions::new().append(true).open(&path).unwrap().write_all(&[0; 300]).unwrap();
    let chain = open(dir.path());
    assert_eq!(chain.tip(), tip);
    drop(chain);
    assert_eq!(fs::metadata(&path).unwrap().len(), full_len);

    // The last record cut in the middle: the chain ends one block earlier.
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(full_len - 50).unwrap();
    drop(file);
    let mut chain = open(dir.path());
    assert_eq!(chain.tip(), tip_before_last);
    assert_eq!(chain.height(), 104);

    // Mining continues after recovery, and the next open agrees.
    let next = chain.mine_block(&key.p2wpkh(), vec![]).unwrap();
    drop(chain);
    let chain = open(dir.path());
    assert_eq!((chain.tip(), chain.height()), (next, 105));
}

#[test]
fn corrupt_record_in_the_middle_refuses_to_open_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build_chain(dir.path(), &Key::new(1));
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let mut data = fs::read(&path).unwrap();
    // The 51st record holds the block at height 51.
    let at = record_offsets(&data)[50];
    data[at + 20] ^= 0x55;
    fs::write(&path, &data).unwrap();

    for _ in 0..2 {
        let err = open_err(dir.path());
        assert_corrupt(&err, &path, at, "record checksum mismatch (54 intact records after it)");
        assert_eq!(fs::read(&path).unwrap(), data, "the file is unchanged byte for byte");
    }
    assert!(set_aside_files(dir.path()).is_empty());
}

#[test]
fn a_flipped_byte_in_the_tip_record_is_corruption_too() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build_chain(dir.path(), &Key::new(1));
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let mut data = fs::read(&path).unwrap();
    let last = *record_offsets(&data).last().unwrap();
    data[last + 40] ^= 0x01;
    fs::write(&path, &data).unwrap();

    // A complete record with wrong bytes is not what a crash leaves: the tip was acknowledged.
    let err = open_err(dir.path());
    assert_corrupt(&err, &path, last, "record checksum mismatch");
    assert_eq!(fs::read(&path).unwrap(), data);
}

#[test]
fn an_intact_record_that_fails_revalidation_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build_chain(dir.path(), &Key::new(1));
    let hash_51 = chain.block_hash(51).unwrap();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let data = fs::read(&path).unwrap();
    let offsets = record_offsets(&data);
    // Swap the records of heights 50 and 51: both intact, in the wrong order.
    let (a, b, c) = (offsets[49], offsets[50], offsets[51]);
    let mut swapped = data[..a].to_vec();
    swapped.extend_from_slice(&data[b..c]);
    swapped.extend_from_slice(&data[a..b]);
    swapped.extend_from_slice(&data[c..]);
    fs::write(&path, &swapped).unwrap();

    let err = open_err(dir.path());
    let reason = format!("stored block {hash_51} (height 50) fails re-validation: prev-blk-not-found");
    assert_corrupt(&err, &path, a, &reason);
    assert!(err.to_string().contains("(55 intact records after it)"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), swapped);
}

#[test]
fn reindex_after_a_middle_flip_keeps_the_blocks_before_it_and_the_file_aside() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    let chain = build_chain(dir.path(), &key);
    let hash_at_50 = chain.block_hash(50).unwrap();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let mut data = fs::read(&path).unwrap();
    let at = record_offsets(&data)[50];
    data[at + 20] ^= 0x55;
    fs::write(&path, &data).unwrap();

    let mut chain = ChainState::open_with(dir.path(), ChainParams::regtest(), OpenMode::Reindex).unwrap();
    assert_eq!((chain.tip(), chain.height()), (hash_at_50, 50));
    assert_eq!(chain.utxos().len(), 50, "one coinbase output per block");
    let aside = set_aside_files(dir.path());
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(fs::read(&aside[0]).unwrap(), data, "the original is kept aside intact");
    assert_eq!(fs::read(&path).unwrap(), data[..at], "the new file holds the blocks before the damage");

    // The chain goes on; a normal open afterwards agrees, and a second reindex changes nothing.
    let next = chain.mine_block(&key.p2wpkh(), vec![]).unwrap();
    drop(chain);
    let chain = open(dir.path());
    assert_eq!((chain.tip(), chain.height()), (next, 51));
    drop(chain);
    let chain = ChainState::open_with(dir.path(), ChainParams::regtest(), OpenMode::Reindex).unwrap();
    assert_eq!((chain.tip(), chain.height()), (next, 51));
    assert_eq!(set_aside_files(dir.path()).len(), 1);
}

#[test]
fn reindex_keeps_intact_blocks_after_damage_that_holds_no_block() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build_chain(dir.path(), &Key::new(1));
    let tip = chain.tip();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let data = fs::read(&path).unwrap();
    // Garbage between two records: no block is lost, so every block still connects.
    let at = record_offsets(&data)[30];
    let mut damaged = data[..at].to_vec();
    damaged.extend_from_slice(b"some bytes no append wrote");
    damaged.extend_from_slice(&data[at..]);
    fs::write(&path, &damaged).unwrap();

    assert_corrupt(&open_err(dir.path()), &path, at, "wrong magic");
    let chain = ChainState::open_with(dir.path(), ChainParams::regtest(), OpenMode::Reindex).unwrap();
    assert_eq!((chain.tip(), chain.height()), (tip, 105));
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(fs::read(&set_aside_files(dir.path())[0]).unwrap(), damaged);
}

#[test]
fn a_stored_block_from_the_future_still_loads_after_the_clock_went_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    // Mined while the clock was three hours ahead: now it is too far in the future to accept.
    let ahead =
        u32::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap()
            + 3 * 3600;
    let block = chain().create_block_at(&key.p2wpkh(), vec![], ahead).unwrap();
    assert_eq!(reject_reason(&mut chain(), block.clone()), Some("time-too-new"));
    let (mut store, _) = BlockStore::open(dir.path(), bitcoin::Network::Regtest).unwrap();
    store.append(&block).unwrap();
    drop(store);

    let chain = open(dir.path());
    assert_eq!((chain.tip(), chain.height()), (block.block_hash(), 1));
}

const CHILD_DIR_ENV: &str = "MPX_NODE_TEST_KILL9_DIR";

/// Not a test on its own: the child process of `kill_nine_while_mining_never_corrupts`.
#[test]
fn kill_nine_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else { return };
    let key = Key::new(1);
    let mut chain = open(Path::new(&dir));
    for _ in 0..100_000 {
        chain.mine_block(&key.p2wpkh(), vec![]).unwrap();
    }
}

#[test]
fn kill_nine_while_mining_never_corrupts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(BLOCK_FILE_NAME);
    let exe = std::env::current_exe().unwrap();
    for round in 0..3u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "kill_nine_child", "--test-threads=1"])
            .env(CHILD_DIR_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Let it mine for a while (at least until the file grows), then SIGKILL it.
        let start_len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(20);
        while fs::metadata(&path).map(|m| m.len()).unwrap_or(0) <= start_len + 20_000 * (round + 1) {
            assert!(Instant::now() < deadline, "child made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(37 * round));
        assert!(child.try_wait().unwrap().is_none(), "the child must still be mining when killed");
        child.kill().unwrap();
        child.wait().unwrap();

        let chain = open(dir.path());
        assert!(chain.height() > 0);
        let (tip, height, utxos) = (chain.tip(), chain.height(), chain.utxos().clone());
        assert_eq!(utxos.len() as u32, height, "one coinbase output per block");
        drop(chain);
        // Recovery is stable: a second open sees exactly the same state.
        let chain = open(dir.path());
        assert_eq!((chain.tip(), chain.height()), (tip, height));
        assert_eq!(*chain.utxos(), utxos);
    }
}
