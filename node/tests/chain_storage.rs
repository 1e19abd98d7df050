//! Persistence: restart resumes the same tip and UTXO set; torn writes and kill -9 are survived.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use node::{ChainParams, ChainState, BLOCK_FILE_NAME};

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

#[test]
fn torn_write_recovers_to_last_complete_record() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    let chain = build_chain(dir.path(), &key);
    let tip_before_last = chain.block_hash(chain.height() - 1).unwrap();
    let tip = chain.tip();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let full_len = fs::metadata(&path).unwrap().len();

    // Garbage after the last record: everything stays, the garbage goes.
    OpenOptions::new().append(true).open(&path).unwrap().write_all(b"\xfa\xbf\xb5\xda garbage").unwrap();
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
fn corrupt_record_in_the_middle_cuts_the_chain_there() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(1);
    let chain = build_chain(dir.path(), &key);
    let hash_at_50 = chain.block_hash(50).unwrap();
    drop(chain);
    let path = dir.path().join(BLOCK_FILE_NAME);
    let data = fs::read(&path).unwrap();
    // All records before the spend are the same size: find the 51st record's start by walking.
    let mut pos = 0usize;
    for _ in 0..50 {
        let len = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 12 + len;
    }
    let mut corrupted = data.clone();
    corrupted[pos + 20] ^= 0x55;
    fs::write(&path, &corrupted).unwrap();

    let chain = open(dir.path());
    assert_eq!((chain.tip(), chain.height()), (hash_at_50, 50));
    assert_eq!(fs::metadata(&path).unwrap().len(), pos as u64);
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
