//! Block acceptance on regtest: the consensus rules, one test per rule or scenario.

mod common;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, ScriptBuf};
use common::*;
use node::BlockError;

#[test]
fn genesis_hash_equals_bitcoin_cores_regtest_genesis() {
    let chain = chain();
    assert_eq!(chain.height(), 0);
    assert_eq!(chain.tip().to_string(), "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    assert_eq!(chain.block_hash(0), Some(chain.tip()));
    assert!(chain.block(&chain.tip()).is_some());
    assert!(chain.utxos().is_empty(), "the genesis coinbase is not spendable");
}

#[test]
fn mined_blocks_extend_the_tip_and_pay_the_subsidy() {
    let key = Key::new(1);
    let mut chain = chain();
    mine(&mut chain, 3, &key.p2wpkh());
    assert_eq!(chain.height(), 3);
    assert_eq!(chain.utxos().len(), 3);
    let (_, output) = coinbase_of(&chain, 3);
    assert_eq!(output.value, Amount::from_int_btc(50));
    assert_eq!(chain.block_height(&chain.tip()), Some(3));
    assert!(chain.is_active(&chain.block_hash(2).unwrap()));
}

#[test]
fn coinbase_matures_after_100_blocks() {
    let key = Key::new(1);
    let mut chain = chain();
    mine(&mut chain, 99, &key.p2wpkh());
    let prev = coinbase_of(&chain, 1);
    let tx = spend(&prev, &key, Key::new(2).p2wpkh(), 1000);

    // At height 100 the coinbase of block 1 has depth 99.
    let err = chain.create_block(&key.p2wpkh(), vec![tx.clone()]).unwrap_err();
    assert!(matches!(err, BlockError::PrematureCoinbaseSpend { depth: 99, .. }), "{err}");
    assert_eq!(err.reject_reason(), "bad-txns-premature-spend-of-coinbase");

    // Also when a miner builds the block by hand.
    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.txdata.push(tx.clone());
    recommit(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-txns-premature-spend-of-coinbase"));

    mine(&mut chain, 1, &key.p2wpkh());
    assert_eq!(chain.height(), 100);
    chain.mine_block(&key.p2wpkh(), vec![tx.clone()]).unwrap();
    assert_eq!(chain.height(), 101);
    assert!(chain.utxos().get(&prev.0).is_none());
    let coin = chain.utxos().get(&outpoint(&tx, 0)).unwrap();
    assert_eq!(coin.height, 101);
    assert!(!coin.is_coinbase);
    // The miner collected the fee.
    assert_eq!(coinbase_of(&chain, 101).1.value, Amount::from_int_btc(50) + Amount::from_sat(1000));
}

#[test]
fn p2wpkh_spend_is_accepted_and_chained_spend_in_same_block() {
    let key = Key::new(1);
    let other = Key::new(2);
    let mut chain = mature_chain(&key);
    let first = spend(&coinbase_of(&chain, 1), &key, other.p2wpkh(), 500);
    let second = spend(&(outpoint(&first, 0), first.output[0].clone()), &other, key.p2wpkh(), 500);
    chain.mine_block(&key.p2wpkh(), vec![first.clone(), second.clone()]).unwrap();
    assert!(chain.utxos().get(&outpoint(&first, 0)).is_none());
    assert!(chain.utxos().get(&outpoint(&second, 0)).is_some());
}

#[test]
fn p2pkh_spend_is_accepted() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let to_p2pkh = spend(&coinbase_of(&chain, 1), &key, key.p2pkh(), 1000);
    chain.mine_block(&key.p2wpkh(), vec![to_p2pkh.clone()]).unwrap();

    let prev = to_p2pkh.output[0].clone();
    let mut tx = unsigned(&[outpoint(&to_p2pkh, 0)], vec![out(prev.value.to_sat() - 1000, key.p2wpkh())]);
    sign_p2pkh(&mut tx, std::slice::from_ref(&prev), &key);
    chain.mine_block(&key.p2wpkh(), vec![tx.clone()]).unwrap();
    assert!(chain.utxos().get(&outpoint(&tx, 0)).is_some());

    // A P2PKH signature by another key fails.
    let mut bad = unsigned(&[outpoint(&tx, 0)], vec![out(1000, key.p2wpkh())]);
    sign_p2pkh(&mut bad, &[tx.output[0].clone()], &Key::new(3));
    let err = chain.create_block(&key.p2wpkh(), vec![bad]).unwrap_err();
    assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed", "{err}");
}

#[test]
fn double_spend_within_a_block_is_rejected() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let prev = coinbase_of(&chain, 1);
    let a = spend(&prev, &key, Key::new(2).p2wpkh(), 1000);
    let b = spend(&prev, &key, Key::new(3).p2wpkh(), 2000);
    let err = chain.create_block(&key.p2wpkh(), vec![a.clone(), b.clone()]).unwrap_err();
    assert!(matches!(err, BlockError::MissingOrSpent { outpoint, .. } if outpoint == prev.0), "{err}");

    // A hand-built block with both is rejected too, and the chain is unchanged.
    let mut block = chain.create_block(&key.p2wpkh(), vec![a.clone()]).unwrap();
    block.txdata.push(b.clone());
    recommit(&mut block);
    let tip = chain.tip();
    let err = chain.accept_block(block).unwrap_err();
    assert_eq!(err.reject_reason(), "bad-txns-inputs-missingorspent", "{err}");
    assert_eq!(chain.tip(), tip);
    assert!(chain.utxos().get(&prev.0).is_some());
}

#[test]
fn double_spend_across_blocks_is_rejected() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let prev = coinbase_of(&chain, 1);
    chain.mine_block(&key.p2wpkh(), vec![spend(&prev, &key, Key::new(2).p2wpkh(), 1000)]).unwrap();
    let again = spend(&prev, &key, Key::new(3).p2wpkh(), 2000);
    let err = chain.create_block(&key.p2wpkh(), vec![again]).unwrap_err();
    assert_eq!(err.reject_reason(), "bad-txns-inputs-missingorspent");
}

#[test]
fn spending_a_missing_output_is_rejected() {
    let key = Key::new(1);
    let chain = mature_chain(&key);
    let mut prev = coinbase_of(&chain, 1);
    prev.0.vout = 7;
    let err = chain.create_block(&key.p2wpkh(), vec![spend(&prev, &key, key.p2wpkh(), 1)]).unwrap_err();
    assert_eq!(err.reject_reason(), "bad-txns-inputs-missingorspent");
}

#[test]
fn outputs_above_inputs_are_rejected() {
    let key = Key::new(1);
    let chain = mature_chain(&key);
    let prev = coinbase_of(&chain, 1);
    let mut tx = unsigned(&[prev.0], vec![out(prev.1.value.to_sat() + 1, key.p2wpkh())]);
    sign_p2wpkh(&mut tx, std::slice::from_ref(&prev.1), &key);
    let err = chain.create_block(&key.p2wpkh(), vec![tx]).unwrap_err();
    assert_eq!(err.reject_reason(), "bad-txns-in-belowout");
}

#[test]
fn wrong_key_and_tampered_witness_fail_script_checks() {
    let key = Key::new(1);
    let chain = mature_chain(&key);
    let prev = coinbase_of(&chain, 1);

    // Signed by a key whose hash is not in the output.
    let wrong = spend(&prev, &Key::new(9), key.p2wpkh(), 1000);
    let err = chain.create_block(&key.p2wpkh(), vec![wrong]).unwrap_err();
    assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed", "{err}");

    // Right key, but the transaction changed after signing.
    let mut changed = spend(&prev, &key, key.p2wpkh(), 1000);
    changed.output[0].value = Amount::from_sat(changed.output[0].value.to_sat() - 1);
    let err = chain.create_block(&key.p2wpkh(), vec![changed]).unwrap_err();
    assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed", "{err}");

    // No witness at all.
    let mut bare = spend(&prev, &key, key.p2wpkh(), 1000);
    bare.input[0].witness = bitcoin::Witness::new();
    let err = chain.create_block(&key.p2wpkh(), vec![bare]).unwrap_err();
    assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed", "{err}");
}

#[test]
fn p2sh_spends_are_verified_by_their_redeem_script() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    // A P2SH coin whose redeem script is OP_TRUE: spendable only by revealing that script.
    let redeem = bitcoin::script::Builder::new().push_opcode(bitcoin::opcodes::OP_TRUE).into_script();
    let p2sh = ScriptBuf::new_p2sh(&redeem.script_hash());
    let fund = spend(&coinbase_of(&chain, 1), &key, p2sh, 2000);
    chain.mine_block(&key.p2wpkh(), vec![fund.clone()]).unwrap();

    let without_script = unsigned(&[outpoint(&fund, 0)], vec![out(1000, key.p2wpkh())]);
    let err = chain.create_block(&key.p2wpkh(), vec![without_script.clone()]).unwrap_err();
    assert_eq!(err.reject_reason(), "mandatory-script-verify-flag-failed", "{err}");

    let mut revealed = without_script;
    let push = <&bitcoin::script::PushBytes>::try_from(redeem.as_bytes()).unwrap();
    revealed.input[0].script_sig = bitcoin::script::Builder::new().push_slice(push).into_script();
    chain.mine_block(&key.p2wpkh(), vec![revealed]).unwrap();
}

#[test]
fn overpaying_coinbase_is_rejected() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let fee_tx = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 5000);

    let mut block = chain.create_block(&key.p2wpkh(), vec![fee_tx.clone()]).unwrap();
    assert_eq!(block.txdata[0].output[0].value, Amount::from_int_btc(50) + Amount::from_sat(5000));
    block.txdata[0].output[0].value += Amount::from_sat(1);
    regrind(&mut block);
    let err = chain.accept_block(block).unwrap_err();
    assert!(
        matches!(err, BlockError::CoinbaseAmount { actual_sat, limit_sat }
            if actual_sat == limit_sat + 1 && limit_sat == 50 * 100_000_000 + 5000),
        "{err}"
    );
    assert_eq!(err.reject_reason(), "bad-cb-amount");

    // Paying less than allowed is fine.
    let mut block = chain.create_block(&key.p2wpkh(), vec![fee_tx]).unwrap();
    block.txdata[0].output[0].value = Amount::from_sat(1);
    regrind(&mut block);
    chain.accept_block(block).unwrap();
}

#[test]
fn bad_proof_of_work_is_rejected() {
    let key = Key::new(1);
    let mut chain = chain();

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    // Find a nonce whose hash misses the target (about every other one on regtest).
    while block.header.target().is_met_by(block.block_hash()) {
        block.header.nonce += 1;
    }
    assert_eq!(reject_reason(&mut chain, block), Some("high-hash"));

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.header.bits = bitcoin::CompactTarget::from_consensus(0x1d00_ffff);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-diffbits"));
    assert_eq!(chain.height(), 0);
}

#[test]
fn bad_merkle_root_is_rejected() {
    let key = Key::new(1);
    let mut chain = chain();
    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    grind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-txnmrklroot"));
}

#[test]
fn duplicated_transactions_are_rejected() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let tx = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 1000);
    let mut block = chain.create_block(&key.p2wpkh(), vec![tx.clone()]).unwrap();
    block.txdata.push(tx);
    // The merkle root of [cb, tx, tx] equals that of [cb, tx, tx] with the odd leaf doubled.
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-txns-duplicate"));
}

#[test]
fn witness_commitment_is_checked() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    let tx = spend(&coinbase_of(&chain, 1), &key, key.p2wpkh(), 1000);

    // Witness changed after the commitment was made.
    let mut block = chain.create_block(&key.p2wpkh(), vec![tx.clone()]).unwrap();
    let mut stack = block.txdata[1].input[0].witness.to_vec();
    stack[0][10] ^= 1;
    block.txdata[1].input[0].witness = bitcoin::Witness::from_slice(&stack);
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-witness-merkle-match"));

    // Witness data without any commitment output.
    let mut block = chain.create_block(&key.p2wpkh(), vec![tx]).unwrap();
    block.txdata[0].output.pop();
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("unexpected-witness"));

    // A commitment without the 32-byte reserved value in the coinbase witness.
    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.txdata[0].input[0].witness = bitcoin::Witness::new();
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-witness-nonce-size"));

    // A block without any witness and without a commitment is fine.
    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.txdata[0].input[0].witness = bitcoin::Witness::new();
    block.txdata[0].output.pop();
    regrind(&mut block);
    chain.accept_block(block).unwrap();
}

#[test]
fn coinbase_must_carry_the_height() {
    let key = Key::new(1);
    let mut chain = chain();
    mine(&mut chain, 20, &key.p2wpkh());
    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.txdata[0].input[0].script_sig =
        bitcoin::script::Builder::new().push_int(20).push_int(0).into_script();
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-cb-height"));
}

#[test]
fn header_context_is_checked() {
    let key = Key::new(1);
    let mut chain = chain();
    mine(&mut chain, 12, &key.p2wpkh());

    let mtp = chain.median_time_past();
    let mut block = chain.create_block_at(&key.p2wpkh(), vec![], mtp).unwrap();
    grind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("time-too-old"));

    let block = chain.create_block_at(&key.p2wpkh(), vec![], u32::MAX).unwrap();
    assert_eq!(reject_reason(&mut chain, block), Some("time-too-new"));

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.header.version = bitcoin::block::Version::ONE;
    grind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-version"));

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.header.prev_blockhash = BlockHash::all_zeros();
    grind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("prev-blk-not-found"));

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.header.prev_blockhash = chain.block_hash(11).unwrap();
    grind(&mut block);
    // Kept as a side branch only if its own header and coinbase fit there: this one claims the
    // tip's next height.
    assert_eq!(reject_reason(&mut chain, block), Some("bad-cb-height"));

    let block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    chain.accept_block(block.clone()).unwrap();
    assert_eq!(reject_reason(&mut chain, block), Some("duplicate"));
    assert_eq!(chain.height(), 13);
}

#[test]
fn subsidy_halves_at_150() {
    let key = Key::new(1);
    let mut chain = chain();
    mine(&mut chain, 150, &key.p2wpkh());
    assert_eq!(coinbase_of(&chain, 149).1.value, Amount::from_int_btc(50));
    assert_eq!(coinbase_of(&chain, 150).1.value, Amount::from_sat(25 * 100_000_000));
}

#[test]
fn too_many_sigops_are_rejected() {
    let key = Key::new(1);
    let mut chain = chain();
    let checksigs = |n: usize| {
        let mut script = ScriptBuf::new();
        for _ in 0..n {
            script.push_opcode(bitcoin::opcodes::all::OP_CHECKSIG);
        }
        script
    };
    // 20,000 legacy sigops cost exactly 80,000: allowed.
    chain.mine_block(&checksigs(20_000), vec![]).unwrap();

    let err = chain.create_block(&checksigs(20_001), vec![]).unwrap_err();
    assert_eq!(err.reject_reason(), "bad-blk-sigops", "{err}");

    let mut block = chain.create_block(&key.p2wpkh(), vec![]).unwrap();
    block.txdata[0].output.insert(0, out(0, checksigs(20_001)));
    regrind(&mut block);
    assert_eq!(reject_reason(&mut chain, block), Some("bad-blk-sigops"));
}

#[test]
fn relative_lock_times_hold_a_spend_until_the_coin_is_old_enough() {
    let key = Key::new(1);
    let mut chain = mature_chain(&key);
    // An anyone-can-spend P2WSH(OP_TRUE) coin, so the test needs no signatures.
    let op_true = bitcoin::script::Builder::new().push_opcode(bitcoin::opcodes::OP_TRUE).into_script();
    let p2wsh = ScriptBuf::new_p2wsh(&op_true.wscript_hash());
    let fund = spend(&coinbase_of(&chain, 1), &key, p2wsh, 2000);
    chain.mine_block(&key.p2wpkh(), vec![fund.clone()]).unwrap();
    let coin_height = chain.height();

    let mut locked = unsigned(&[outpoint(&fund, 0)], vec![out(1000, key.p2wpkh())]);
    locked.version = bitcoin::transaction::Version::TWO;
    locked.input[0].sequence = bitcoin::Sequence::from_height(3);
    locked.input[0].witness.push(op_true.as_bytes());

    // BIP68: a coin mined at height h with a lock of 3 blocks is spendable from height h + 3.
    for _ in 0..2 {
        let err = chain.create_block(&key.p2wpkh(), vec![locked.clone()]).unwrap_err();
        assert!(matches!(err, BlockError::SequenceLocked(_)), "{err}");
        assert_eq!(err.reject_reason(), "bad-txns-nonfinal");
        mine(&mut chain, 1, &key.p2wpkh());
    }
    assert_eq!(chain.height(), coin_height + 2);
    // The same lock in a version 1 transaction means nothing.
    let mut version_one = locked.clone();
    version_one.version = bitcoin::transaction::Version::ONE;
    chain.create_block(&key.p2wpkh(), vec![version_one]).unwrap();
    chain.mine_block(&key.p2wpkh(), vec![locked]).unwrap();
}
