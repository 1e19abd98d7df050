//! The block assembler and the node's `Mining` / `BlockTemplate`, driven through the traits as a
//! mining client in this process would: selection by ancestor fee rate, limits, a coinbase built
//! from `getCoinbaseTx`, `submitSolution` with Core's reasons, and the waits.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version;
use bitcoin::{absolute, Block, OutPoint, Sequence, Transaction, TxIn, TxOut, Witness};
use common::*;
use interfaces::{
    BlockCheckOptions, BlockCreateOptions, BlockTemplate, BlockWaitOptions, CoinbaseTx, Mining, MAX_MONEY_SAT,
};
use node::mining::{assemble, AssembleOptions, NodeMining};
use node::{Mempool, NodeState};

/// A node whose block 1..=`spendable` coinbases can be spent, and `key` owning them.
fn node_with_coins(key: &Key, spendable: u32) -> Arc<NodeState> {
    let mut chain = mature_chain(key);
    mine(&mut chain, spendable, &key.p2wpkh());
    Arc::new(NodeState::new(chain))
}

fn coin(node: &NodeState, height: u32) -> (OutPoint, TxOut) {
    coinbase_of(&node.lock().chain, height)
}

/// The client's coinbase from a template's `CoinbaseTx`: the height prefix plus an extranonce,
/// the whole reward to `key`, then the required outputs.
fn client_coinbase(ct: &CoinbaseTx, key: &Key, extranonce: u32) -> Transaction {
    let mut script = ct.script_sig_prefix.clone();
    let push = PushBytesBuf::try_from(extranonce.to_le_bytes().to_vec()).unwrap();
    script.extend_from_slice(Builder::new().push_slice(push).as_bytes());
    let mut output = vec![out(u64::try_from(ct.block_reward_remaining).unwrap(), key.p2wpkh())];
    output.extend(ct.required_outputs.iter().map(|o| deserialize::<TxOut>(o).unwrap()));
    Transaction {
        version: Version(i32::try_from(ct.version).unwrap()),
        lock_time: absolute::LockTime::from_consensus(ct.lock_time),
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: script.into(),
            sequence: Sequence(ct.sequence),
            witness: Witness::from_slice(std::slice::from_ref(&ct.witness)),
        }],
        output,
    }
}

/// Version, time and a nonce that meet the regtest target for `template` with `coinbase`.
fn solve(template: &dyn BlockTemplate, coinbase: &Transaction) -> (u32, u32, u32) {
    let mut block: Block = deserialize(&template.get_block().unwrap()).unwrap();
    block.txdata[0] = coinbase.clone();
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    grind(&mut block);
    let version = u32::from_ne_bytes(block.header.version.to_consensus().to_ne_bytes());
    (version, block.header.time, block.header.nonce)
}

fn fold_path(coinbase: &Transaction, path: &[Vec<u8>]) -> [u8; 32] {
    let mut hash = coinbase.compute_txid().to_byte_array();
    for sibling in path {
        let mut both = hash.to_vec();
        both.extend_from_slice(sibling);
        hash = bitcoin::hashes::sha256d::Hash::hash(&both).to_byte_array();
    }
    hash
}

#[test]
fn selection_by_ancestor_fee_rate_parents_first() {
    let key = Key::new(1);
    let node = node_with_coins(&key, 4);
    let low = spend(&coin(&node, 1), &key, key.p2wpkh(), 1_000);
    let mid = spend(&coin(&node, 2), &key, key.p2wpkh(), 5_000);
    let parent = spend(&coin(&node, 3), &key, key.p2wpkh(), 200);
    // The child pays for its parent: the package's rate beats `mid`.
    let child = spend(&(outpoint(&parent, 0), parent.output[0].clone()), &key, key.p2wpkh(), 20_000);
    for tx in [&low, &mid, &parent, &child] {
        node.submit_transaction((*tx).clone(), None).unwrap();
    }
    let inner = node.lock();
    let t = assemble(&inner.chain, &inner.mempool, &AssembleOptions::paying_to(key.p2wpkh())).unwrap();
    let order: Vec<_> = t.block.txdata.iter().skip(1).map(Transaction::compute_txid).collect();
    assert_eq!(order, [txid(&parent), txid(&child), txid(&mid), txid(&low)]);
    assert_eq!(t.fees, [200, 20_000, 5_000, 1_000]);
    assert_eq!(t.total_fees, 26_200);
    assert!(
        t.sigops.iter().all(|s| *s == 1),
        "a P2WPKH spend costs 1 (witness sigops are not scaled): {:?}",
        t.sigops
    );
    // The coinbase pays subsidy + fees, and the block is valid as built.
    let reward = t.coinbase.block_reward_remaining;
    assert_eq!(reward, 5_000_000_000 + 26_200, "regtest halves at 150");
    let mut block = t.block.clone();
    drop(inner);
    grind(&mut block);
    node.submit_block(block).unwrap();
    assert!(node.lock().mempool.is_empty());
}

#[test]
fn limits_and_prioritisation() {
    let key = Key::new(2);
    let node = node_with_coins(&key, 3);
    let a = spend(&coin(&node, 1), &key, key.p2wpkh(), 1_000);
    let b = spend(&coin(&node, 2), &key, key.p2wpkh(), 2_000);
    node.submit_transaction(a.clone(), None).unwrap();
    node.submit_transaction(b.clone(), None).unwrap();
    let options = |reserved: u64, sigops: u64| AssembleOptions {
        block_reserved_weight: reserved,
        coinbase_output_max_additional_sigops: sigops,
        ..AssembleOptions::paying_to(key.p2wpkh())
    };
    let txids = |o: AssembleOptions| {
        let inner = node.lock();
        let t = assemble(&inner.chain, &inner.mempool, &o).unwrap();
        t.block.txdata.iter().skip(1).map(Transaction::compute_txid).collect::<Vec<_>>()
    };
    assert_eq!(txids(options(8000, 400)), [txid(&b), txid(&a)]);
    // Room for exactly one of the two (each weighs under 600).
    let one = a.weight().to_wu();
    assert_eq!(txids(options(4_000_000 - one - 1, 400)), [txid(&b)]);
    assert_eq!(txids(options(4_000_000, 400)), Vec::<bitcoin::Txid>::new());
    // Sigops: the coinbase reserve leaves room for one 1-cost spend (the limit is exclusive).
    assert_eq!(txids(options(8000, 80_000 - 2)), [txid(&b)]);
    // prioritisetransaction moves `a` first; a negative delta below the floor drops it.
    node.lock().mempool.prioritise(txid(&a), 10_000);
    assert_eq!(txids(options(8000, 400)), [txid(&a), txid(&b)]);
    node.lock().mempool.prioritise(txid(&a), -20_000);
    assert_eq!(txids(options(8000, 400)), [txid(&b)]);
    // No mempool.
    let none = AssembleOptions { use_mempool: false, ..AssembleOptions::paying_to(key.p2wpkh()) };
    assert!(txids(none).is_empty());
    assert!(Mempool::new().is_empty());
}

#[test]
fn template_provider_flow_with_core_reasons() {
    let key = Key::new(3);
    let node = node_with_coins(&key, 2);
    let tx = spend(&coin(&node, 1), &key, key.p2wpkh(), 3_000);
    node.submit_transaction(tx.clone(), None).unwrap();
    let mining = NodeMining::new(node.clone());
    assert!(mining.is_test_chain().unwrap());
    assert!(!mining.is_initial_block_download().unwrap());
    let tip = mining.get_tip().unwrap().unwrap();
    assert_eq!(tip.height, 102);

    let template = mining.create_new_block(BlockCreateOptions::default(), false).unwrap().unwrap();
    let header: bitcoin::block::Header = deserialize(&template.get_block_header().unwrap()).unwrap();
    assert_eq!(header.prev_blockhash.to_byte_array(), tip.hash);
    assert_eq!(template.get_tx_fees().unwrap(), [3_000]);
    assert_eq!(template.get_tx_sigops().unwrap(), [1]);
    let ct = template.get_coinbase_tx().unwrap();
    assert_eq!(ct.script_sig_prefix, Builder::new().push_int(103).into_script().into_bytes());
    assert_eq!((ct.version, ct.sequence, ct.lock_time), (2, 0xffff_fffe, 102));
    assert_eq!(ct.witness, vec![0u8; 32]);
    assert_eq!(ct.block_reward_remaining, 5_000_000_000 + 3_000);
    assert_eq!(ct.required_outputs.len(), 1, "the witness commitment");

    let coinbase = client_coinbase(&ct, &key, 7);
    // The merkle path folds the client's coinbase into the root of the block it submits.
    let path = template.get_coinbase_merkle_path().unwrap();
    assert_eq!(path, [tx.compute_txid().to_byte_array().to_vec()]);
    let mut expect: Block = deserialize(&template.get_block().unwrap()).unwrap();
    expect.txdata[0] = coinbase.clone();
    assert_eq!(fold_path(&coinbase, &path), expect.compute_merkle_root().unwrap().to_byte_array());

    let (version, time, nonce) = solve(template.as_ref(), &coinbase);
    let (mut reason, mut debug) = (String::new(), String::new());
    // A nonce that misses the target first (the regtest target is met by about half of them).
    let bad_nonce = (0..).find(|n| {
        let mut b = expect.clone();
        b.header.merkle_root = b.compute_merkle_root().unwrap();
        b.header.nonce = *n;
        !b.header.target().is_met_by(b.block_hash())
    });
    let ok = template
        .submit_solution(version, time, bad_nonce.unwrap(), serialize(&coinbase), &mut reason, &mut debug)
        .unwrap();
    assert!(!ok);
    assert_eq!(reason, "high-hash");
    // A coinbase that pays too much.
    let mut greedy = coinbase.clone();
    greedy.output[0].value += bitcoin::Amount::from_sat(1);
    let (gv, gt, gn) = solve(template.as_ref(), &greedy);
    assert!(!template.submit_solution(gv, gt, gn, serialize(&greedy), &mut reason, &mut debug).unwrap());
    assert_eq!(reason, "bad-cb-amount");

    reason.clear();
    assert!(template
        .submit_solution(version, time, nonce, serialize(&coinbase), &mut reason, &mut debug)
        .unwrap());
    assert_eq!(reason, "");
    assert_eq!(mining.get_tip().unwrap().unwrap().height, 103);
    assert!(node.lock().mempool.is_empty());
    // Submitted again: Core's duplicate-as-success.
    assert!(template
        .submit_solution(version, time, nonce, serialize(&coinbase), &mut reason, &mut debug)
        .unwrap());
    assert_eq!(reason, "duplicate");
    // The same template with another coinbase is stale now: Core stores it on a side branch,
    // answers true (accepted) and says "inconclusive" (not connected).
    let other = client_coinbase(&ct, &key, 8);
    let (ov, ot, on) = solve(template.as_ref(), &other);
    assert!(template.submit_solution(ov, ot, on, serialize(&other), &mut reason, &mut debug).unwrap());
    assert_eq!(reason, "inconclusive");
    assert_eq!(mining.get_tip().unwrap().unwrap().height, 103, "the tip stays");
    assert!(template
        .submit_solution_old7(ov, ot, on, serialize(&other))
        .unwrap_err()
        .to_string()
        .contains("Old submitSolution (@7) not supported. Please update your client!"));
    // A coinbase that does not decode fails the call.
    assert!(template.submit_solution(ov, ot, on, vec![1, 2, 3], &mut reason, &mut debug).is_err());
}

#[test]
fn check_block_submit_block_and_lookups() {
    let key = Key::new(4);
    let node = node_with_coins(&key, 2);
    let tx = spend(&coin(&node, 1), &key, key.p2wpkh(), 3_000);
    node.submit_transaction(tx.clone(), None).unwrap();
    let mining = NodeMining::new(node.clone());
    let template = mining.create_new_block(BlockCreateOptions::default(), false).unwrap().unwrap();
    let unsolved = template.get_block().unwrap();
    let (mut reason, mut debug) = (String::new(), String::new());
    let no_pow = BlockCheckOptions { check_merkle_root: true, check_pow: false };
    assert!(
        mining.check_block(unsolved.clone(), no_pow, &mut reason, &mut debug).unwrap(),
        "{reason} {debug}"
    );
    let mut block: Block = deserialize(&unsolved).unwrap();
    block.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    let options = BlockCheckOptions { check_merkle_root: true, check_pow: false };
    assert!(!mining.check_block(serialize(&block), options, &mut reason, &mut debug).unwrap());
    assert_eq!(reason, "bad-txnmrklroot");
    let lax = BlockCheckOptions { check_merkle_root: false, check_pow: false };
    assert!(mining.check_block(serialize(&block), lax, &mut reason, &mut debug).unwrap());

    let lookups = mining
        .get_transactions_by_tx_id(vec![tx.compute_txid().to_byte_array().to_vec(), vec![0; 32], vec![1]])
        .unwrap();
    assert_eq!(lookups, [serialize(&tx), vec![], vec![]]);
    let by_wtxid =
        mining.get_transactions_by_witness_id(vec![tx.compute_wtxid().to_byte_array().to_vec()]).unwrap();
    assert_eq!(by_wtxid, [serialize(&tx)]);

    let mut solved: Block = deserialize(&unsolved).unwrap();
    grind(&mut solved);
    assert!(mining.submit_block(serialize(&solved), &mut reason, &mut debug).unwrap());
    assert!(!mining.submit_block(serialize(&solved), &mut reason, &mut debug).unwrap());
    assert_eq!(reason, "duplicate");
    assert!(!mining
        .check_block(serialize(&solved), BlockCheckOptions::default(), &mut reason, &mut debug)
        .unwrap());
    assert_eq!(reason, "inconclusive-not-best-prevblk");
    // Core's option checks.
    let small = BlockCreateOptions { block_reserved_weight: 1999, ..BlockCreateOptions::default() };
    let err = mining.create_new_block(small, false).err().unwrap().to_string();
    assert!(
        err.contains("block_reserved_weight (1999) is lower than minimum safety value of (2000)"),
        "{err}"
    );
}

#[test]
fn waits_end_on_tip_fees_timeout_and_interrupts() {
    let key = Key::new(5);
    let node = node_with_coins(&key, 3);
    let mining = Arc::new(NodeMining::new(node.clone()));
    let tip = mining.get_tip().unwrap().unwrap();

    // waitTipChanged: timeout answers the current tip; interrupt answers none; a block wakes it.
    let start = Instant::now();
    assert_eq!(mining.wait_tip_changed(tip.hash, 50.0).unwrap(), Some(tip));
    assert!(start.elapsed() >= Duration::from_millis(50));
    mining.interrupt().unwrap();
    assert_eq!(
        mining.wait_tip_changed(tip.hash, 10_000.0).unwrap(),
        None,
        "a pending interrupt ends the next wait"
    );
    let waiter = {
        let mining = mining.clone();
        thread::spawn(move || mining.wait_tip_changed(tip.hash, f64::MAX).unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    node.generate(&key.p2wpkh(), 1).unwrap();
    let new_tip = waiter.join().unwrap().unwrap();
    assert_eq!(new_tip.height, tip.height + 1);
    // An interrupt from another thread ends a wait in progress.
    let waiter = {
        let mining = mining.clone();
        thread::spawn(move || mining.wait_tip_changed(new_tip.hash, f64::MAX).unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    mining.interrupt().unwrap();
    assert_eq!(waiter.join().unwrap(), None);

    // waitNext: none on timeout and interruptWait; a new template on a new tip and on a fee rise.
    let template: Arc<dyn BlockTemplate> =
        Arc::from(mining.create_new_block(BlockCreateOptions::default(), false).unwrap().unwrap());
    let quick = BlockWaitOptions { timeout: 30.0, ..BlockWaitOptions::default() };
    assert!(template.wait_next(quick).unwrap().is_none());
    let waiter = {
        let template = template.clone();
        thread::spawn(move || template.wait_next(BlockWaitOptions::default()).unwrap().is_none())
    };
    thread::sleep(Duration::from_millis(50));
    template.interrupt_wait().unwrap();
    assert!(waiter.join().unwrap());

    let fee_wait = BlockWaitOptions { timeout: 10_000.0, fee_threshold: 5_000 };
    let waiter = {
        let template = template.clone();
        thread::spawn(move || template.wait_next(fee_wait).unwrap().map(|t| t.get_tx_fees().unwrap()))
    };
    thread::sleep(Duration::from_millis(50));
    // Below the threshold: no new template yet.
    node.submit_transaction(spend(&coin(&node, 1), &key, key.p2wpkh(), 1_000), None).unwrap();
    thread::sleep(Duration::from_millis(400));
    assert!(!waiter.is_finished(), "1000 sat is below the 5000 sat threshold");
    node.submit_transaction(spend(&coin(&node, 2), &key, key.p2wpkh(), 6_000), None).unwrap();
    let fees = waiter.join().unwrap().unwrap();
    assert_eq!(fees, [6_000, 1_000]);

    let waiter = {
        let template = template.clone();
        thread::spawn(move || {
            let start = Instant::now();
            let next = template.wait_next(BlockWaitOptions::default()).unwrap().unwrap();
            (start.elapsed(), next.get_block_header().unwrap())
        })
    };
    thread::sleep(Duration::from_millis(50));
    node.generate(&key.p2wpkh(), 1).unwrap();
    let (_, header) = waiter.join().unwrap();
    let header: bitcoin::block::Header = deserialize(&header).unwrap();
    assert_eq!(header.prev_blockhash.to_byte_array(), mining.get_tip().unwrap().unwrap().hash);
    // The default fee threshold never wakes for fees.
    let none = BlockWaitOptions { timeout: 300.0, fee_threshold: MAX_MONEY_SAT };
    let fresh = mining.create_new_block(BlockCreateOptions::default(), false).unwrap().unwrap();
    node.submit_transaction(spend(&coin(&node, 3), &key, key.p2wpkh(), 90_000), None).unwrap();
    assert!(fresh.wait_next(none).unwrap().is_none());
    // Shutdown ends every wait.
    let waiter = {
        let mining = mining.clone();
        let tip = mining.get_tip().unwrap().unwrap();
        thread::spawn(move || mining.wait_tip_changed(tip.hash, f64::MAX).unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    node.request_shutdown();
    assert_eq!(waiter.join().unwrap(), None);
}
