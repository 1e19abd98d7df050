//! The mempool: entry rules with Bitcoin Core's reject reasons, block templates, eviction, and
//! notifications through `NodeState`.

mod common;

use std::sync::{Arc, Mutex};

use bitcoin::{Amount, Transaction};
use common::*;
use interfaces::{BlockInfo, ChainNotifications, MempoolRemovalReason};
use node::{Mempool, MempoolError, NodeState};

fn reason(r: Result<(bitcoin::Txid, Amount), MempoolError>) -> String {
    r.err().map(|e| e.reject_reason()).unwrap_or_default()
}

#[test]
fn entry_rules() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    mine(&mut chain, 3, &key.p2wpkh());
    let mut pool = Mempool::new();
    let prev = coinbase_of(&chain, 1);
    let tx = spend(&prev, &key, key.p2wpkh(), 10_000);

    let (txid, fee) = pool.accept(&chain, tx.clone(), None).unwrap();
    assert_eq!((txid, fee), (tx.compute_txid(), Amount::from_sat(10_000)));
    assert!(pool.contains(&txid));
    assert_eq!(reason(pool.accept(&chain, tx.clone(), None)), "txn-already-in-mempool");

    let double = spend(&prev, &key, key.p2pkh(), 20_000);
    assert_eq!(reason(pool.accept(&chain, double, None)), "txn-mempool-conflict");

    let coinbase = chain.block(&chain.tip()).unwrap().txdata[0].clone();
    assert_eq!(reason(pool.accept(&chain, coinbase, None)), "coinbase");

    let cheap = spend(&coinbase_of(&chain, 2), &key, key.p2wpkh(), 5);
    assert!(reason(pool.accept(&chain, cheap, None)).starts_with("min relay fee not met"));

    let pricey = spend(&coinbase_of(&chain, 3), &key, key.p2wpkh(), 1_000_000);
    assert_eq!(reason(pool.accept(&chain, pricey, Some(Amount::from_sat(999_999)))), "max-fee-exceeded");

    let immature = spend(&coinbase_of(&chain, 50), &key, key.p2wpkh(), 10_000);
    assert_eq!(reason(pool.accept(&chain, immature, None)), "bad-txns-premature-spend-of-coinbase");

    let wrong_key = spend(&coinbase_of(&chain, 4), &Key::new(2), key.p2wpkh(), 10_000);
    assert_eq!(reason(pool.accept(&chain, wrong_key, None)), "mandatory-script-verify-flag-failed");

    // A child of an in-mempool parent is accepted.
    let child = spend(&(outpoint(&tx, 0), tx.output[0].clone()), &key, key.p2wpkh(), 10_000);
    pool.accept(&chain, child.clone(), None).unwrap();
    assert_eq!(pool.txids(), &[tx.compute_txid(), child.compute_txid()]);
    assert_eq!(pool.len(), 2);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ChainNotifications for Recorder {
    fn transaction_added_to_mempool(&self, tx: Vec<u8>) -> interfaces::Result<()> {
        let tx: Transaction = bitcoin::consensus::deserialize(&tx).unwrap();
        self.0.lock().unwrap().push(format!("added {}", tx.compute_txid()));
        Ok(())
    }
    fn transaction_removed_from_mempool(
        &self,
        txid: [u8; 32],
        reason: MempoolRemovalReason,
    ) -> interfaces::Result<()> {
        let txid = <bitcoin::Txid as bitcoin::hashes::Hash>::from_byte_array(txid);
        self.0.lock().unwrap().push(format!("removed {txid} {reason:?}"));
        Ok(())
    }
    fn block_connected(&self, block: BlockInfo) -> interfaces::Result<()> {
        self.0.lock().unwrap().push(format!("connected {}", block.height));
        Ok(())
    }
    fn block_disconnected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        Ok(())
    }
    fn updated_block_tip(&self) -> interfaces::Result<()> {
        self.0.lock().unwrap().push("tip".into());
        Ok(())
    }
}

#[test]
fn templates_eviction_and_notifications() {
    let key = Key::new(1);
    let node = NodeState::new(mature_chain(&key));
    let recorder = Arc::new(Recorder::default());
    let handler = node.handle_notifications(recorder.clone());

    let parent = spend(&coinbase_of(&node.lock().chain, 1), &key, key.p2wpkh(), 10_000);
    let child = spend(&(outpoint(&parent, 0), parent.output[0].clone()), &key, key.p2wpkh(), 10_000);
    node.submit_transaction(parent.clone(), None).unwrap();
    node.submit_transaction(child.clone(), None).unwrap();

    // The template takes both, parent first, and pays their fees to the coinbase.
    let hashes = node.generate(&key.p2wpkh(), 1).unwrap();
    {
        let inner = node.lock();
        assert!(inner.mempool.is_empty());
        let block = inner.chain.block(&hashes[0]).unwrap();
        let txids: Vec<_> = block.txdata.iter().skip(1).map(Transaction::compute_txid).collect();
        assert_eq!(txids, vec![parent.compute_txid(), child.compute_txid()]);
        assert_eq!(block.txdata[0].output[0].value, Amount::from_sat(50 * 100_000_000 + 20_000));
    }

    // A block spending what a mempool transaction spends evicts it and its child as conflicts.
    let prev = coinbase_of(&node.lock().chain, 2);
    let in_pool = spend(&prev, &key, key.p2wpkh(), 10_000);
    let pool_child = spend(&(outpoint(&in_pool, 0), in_pool.output[0].clone()), &key, key.p2wpkh(), 10_000);
    node.submit_transaction(in_pool.clone(), None).unwrap();
    node.submit_transaction(pool_child.clone(), None).unwrap();
    let rival = spend(&prev, &key, key.p2pkh(), 20_000);
    node.generate_block(&key.p2wpkh(), vec![rival]).unwrap();
    assert!(node.lock().mempool.is_empty());

    let events = recorder.0.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![
            format!("added {}", parent.compute_txid()),
            format!("added {}", child.compute_txid()),
            "connected 101".to_string(),
            "tip".to_string(),
            format!("added {}", in_pool.compute_txid()),
            format!("added {}", pool_child.compute_txid()),
            format!("removed {} Conflict", in_pool.compute_txid()),
            format!("removed {} Conflict", pool_child.compute_txid()),
            "connected 102".to_string(),
            "tip".to_string(),
        ]
    );

    // Dropping the handler unregisters.
    drop(handler);
    node.generate(&key.p2wpkh(), 1).unwrap();
    assert_eq!(recorder.0.lock().unwrap().len(), events.len());
}

/// `-permitbaremultisig=0` refuses bare multisig outputs; the cluster limits (`-limitclustercount`,
/// `-limitclustersize`) refuse a transaction that would make its cluster too large, with Core's
/// reasons.
#[test]
fn configured_policy() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    mine(&mut chain, 3, &key.p2wpkh());
    let mut pool = Mempool::new();

    let pubkey = bitcoin::PublicKey::new(key.public);
    let multisig = bitcoin::blockdata::script::Builder::new()
        .push_int(1)
        .push_key(&pubkey)
        .push_int(1)
        .push_opcode(bitcoin::opcodes::all::OP_CHECKMULTISIG)
        .into_script();
    let bare = spend(&coinbase_of(&chain, 1), &key, multisig, 10_000);
    let mut strict = config::MempoolPolicy::default();
    strict.permit_bare_multisig = false;
    pool.set_policy(strict);
    assert_eq!(reason(pool.accept(&chain, bare.clone(), None)), "bare-multisig");
    pool.set_policy(config::MempoolPolicy::default());
    pool.accept(&chain, bare, None).unwrap();

    // A chain of three: the third makes a cluster of 3, over a limit of 2.
    let mut limited = config::MempoolPolicy::default();
    limited.cluster_count = 2;
    pool.set_policy(limited);
    let parent = spend(&coinbase_of(&chain, 2), &key, key.p2wpkh(), 10_000);
    pool.accept(&chain, parent.clone(), None).unwrap();
    let child = spend(&(outpoint(&parent, 0), parent.output[0].clone()), &key, key.p2wpkh(), 10_000);
    pool.accept(&chain, child.clone(), None).unwrap();
    let grandchild = spend(&(outpoint(&child, 0), child.output[0].clone()), &key, key.p2wpkh(), 10_000);
    assert_eq!(reason(pool.accept(&chain, grandchild.clone(), None)), "too-large-cluster");

    // The size limit counts the whole cluster's virtual size.
    let mut small = config::MempoolPolicy::default();
    small.cluster_size_vbytes = parent.vsize() as u64 * 2;
    pool.set_policy(small);
    assert_eq!(reason(pool.accept(&chain, grandchild.clone(), None)), "too-large-cluster");
    pool.set_policy(config::MempoolPolicy::default());
    pool.accept(&chain, grandchild, None).unwrap();
}

#[test]
fn the_size_limit_evicts_the_lowest_fee_rate_and_raises_the_minimum() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    mine(&mut chain, 10, &key.p2wpkh());
    let mut pool = Mempool::new();
    let one = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 1_000);
    let usage_of_one = {
        let mut probe = Mempool::new();
        probe.accept(&chain, one.clone(), None).unwrap();
        probe.usage()
    };
    // Room for two such entries, not three.
    pool.set_limits(node::MempoolLimits {
        max_usage_bytes: usage_of_one * 2 + usage_of_one / 2,
        ..Default::default()
    });
    let cheapest = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 1_000);
    let middle = spend(&coinbase_of(&chain, 2), &key, key.p2wpkh(), 5_000);
    let best = spend(&coinbase_of(&chain, 3), &key, key.p2wpkh(), 9_000);
    pool.accept(&chain, cheapest.clone(), None).unwrap();
    pool.accept(&chain, middle.clone(), None).unwrap();
    pool.accept(&chain, best.clone(), None).unwrap();
    assert!(!pool.contains(&cheapest.compute_txid()), "the lowest fee rate leaves");
    assert!(pool.contains(&middle.compute_txid()) && pool.contains(&best.compute_txid()));
    assert_eq!(pool.take_limit_removals(), [(cheapest.compute_txid(), node::LimitRemoval::SizeLimit)]);

    // The evicted rate plus the incremental fee is the new minimum.
    let now = u64::from(chain.now());
    let rate = 1_000 * 1000 / cheapest.vsize() as u64;
    assert!(pool.min_fee_per_kvb(now) > rate, "{} > {rate}", pool.min_fee_per_kvb(now));
    let again = spend(&coinbase_of(&chain, 4), &key, key.p2wpkh(), 1_000);
    assert!(reason(pool.accept(&chain, again, None)).starts_with("mempool min fee not met"));
    // A transaction that would itself be the one evicted: "mempool full".
    let low_but_enough = spend(
        &coinbase_of(&chain, 5),
        &key,
        key.p2wpkh(),
        (pool.min_fee_per_kvb(now) * 2) * cheapest.vsize() as u64 / 1000,
    );
    let result = reason(pool.accept(&chain, low_but_enough, None));
    assert!(result == "mempool full" || result.is_empty(), "{result}");
}

#[test]
fn old_entries_expire_at_the_next_acceptance() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    mine(&mut chain, 3, &key.p2wpkh());
    let mut pool = Mempool::new();
    pool.set_limits(node::MempoolLimits { expiry_secs: 3600, ..Default::default() });
    let start = chain.now();
    let old = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 10_000);
    pool.accept(&chain, old.clone(), None).unwrap();
    let child = spend(&(outpoint(&old, 0), old.output[0].clone()), &key, key.p2wpkh(), 10_000);
    chain.set_mock_time(Some(start + 3000));
    pool.accept(&chain, child.clone(), None).unwrap();
    chain.set_mock_time(Some(start + 3700));
    let fresh = spend(&coinbase_of(&chain, 2), &key, key.p2wpkh(), 10_000);
    pool.accept(&chain, fresh.clone(), None).unwrap();
    // The parent is too old; its child goes with it.
    assert!(!pool.contains(&old.compute_txid()) && !pool.contains(&child.compute_txid()));
    assert!(pool.contains(&fresh.compute_txid()));
    let removed: Vec<_> = pool.take_limit_removals().into_iter().map(|(_, why)| why).collect();
    assert_eq!(removed, [node::LimitRemoval::Expiry, node::LimitRemoval::Expiry]);
}

#[test]
fn the_pool_is_saved_and_read_back_in_cores_file_format() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    mine(&mut chain, 3, &key.p2wpkh());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mempool.dat");
    let txs: Vec<Transaction> =
        (1..=3).map(|h| spend(&coinbase_of(&chain, h), &key, key.p2wpkh(), 10_000)).collect();
    let mut copy = common::chain();
    for h in 1..=chain.height() {
        copy.accept_block(chain.block(&chain.block_hash(h).unwrap()).unwrap().clone()).unwrap();
    }
    let first = NodeState::new(copy);
    for tx in &txs {
        first.submit_transaction(tx.clone(), None).unwrap();
    }
    first.prioritise_transaction(txs[1].compute_txid(), 777);
    first.save_mempool(&path).unwrap();

    let second = NodeState::new(chain);
    let report = second.import_mempool(&path, &node::MempoolImport::default()).unwrap();
    assert_eq!((report.succeeded, report.failed, report.expired), (3, 0, 0));
    let inner = second.lock();
    assert_eq!(inner.mempool.txids(), first.lock().mempool.txids(), "same transactions, same order");
    assert_eq!(inner.mempool.modified_fee(&txs[1].compute_txid()), Some(10_777));
    let times: Vec<u64> = inner.mempool.entries().map(|(_, e)| e.time).collect();
    let original: Vec<u64> = first.lock().mempool.entries().map(|(_, e)| e.time).collect();
    assert_eq!(times, original, "entry times kept");
}
