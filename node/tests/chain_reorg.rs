//! Side branches, reorganisations, `invalidateblock` and `reconsiderblock`, in memory and across a
//! restart of the stored chain.

mod common;

use bitcoin::{Block, BlockHash};
use common::*;
use node::{ChainParams, ChainState};

/// A copy of `chain`'s first `height` blocks, to grow a rival branch on.
fn fork_at(chain: &ChainState, height: u32) -> ChainState {
    let mut rival = common::chain();
    for h in 1..=height {
        let hash = chain.block_hash(h).unwrap();
        rival.accept_block(chain.block(&hash).unwrap().clone()).unwrap();
    }
    rival
}

/// The blocks of `chain` above `height`, oldest first.
fn blocks_above(chain: &ChainState, height: u32) -> Vec<Block> {
    (height + 1..=chain.height())
        .map(|h| chain.block(&chain.block_hash(h).unwrap()).unwrap().clone())
        .collect()
}

#[test]
fn a_branch_with_more_work_takes_over_and_the_coins_follow() {
    let ours = Key::new(1);
    let theirs = Key::new(2);
    let mut chain = chain();
    mine(&mut chain, 5, &ours.p2wpkh());
    let mut rival = fork_at(&chain, 3);
    mine(&mut rival, 3, &theirs.p2wpkh());
    let old_tip = chain.tip();

    // Two rival blocks: less work than ours (5 > 3 + 1) then equal (5 = 3 + 2): kept, not active.
    let rival_blocks = blocks_above(&rival, 3);
    for block in &rival_blocks[..2] {
        let change = chain.accept_block(block.clone()).unwrap();
        assert!(change.connected.is_empty() && change.disconnected.is_empty());
        assert_eq!(chain.tip(), old_tip, "equal work keeps the block seen first");
    }
    let tips = chain.chain_tips();
    assert_eq!(tips.len(), 2);
    assert_eq!(tips[0].status, "active");
    assert_eq!((tips[1].status, tips[1].branch_len), ("valid-headers", 2));

    // The third gives the rival branch more work: a reorganisation to it.
    let change = chain.accept_block(rival_blocks[2].clone()).unwrap();
    assert_eq!(change.disconnected.len(), 2);
    assert_eq!(change.connected.len(), 3);
    assert_eq!(chain.tip(), rival.tip());
    assert_eq!(chain.height(), 6);
    // The UTXO set is the rival chain's, exactly.
    assert_eq!(chain.utxos(), rival.utxos());
    assert_eq!(chain.chain_tips()[1].status, "valid-fork", "our old branch was validated once");
}

#[test]
fn a_heavier_branch_with_an_invalid_block_is_refused_and_the_old_chain_stays() {
    let ours = Key::new(1);
    let mut chain = mature_chain(&ours);
    let height = chain.height();
    let rival = fork_at(&chain, height - 1);
    // A rival block spending a coin that does not exist is valid in every way but its inputs.
    let mut bad = rival.create_block(&ours.p2wpkh(), vec![]).unwrap();
    let spend_missing = unsigned(
        &[bitcoin::OutPoint::new(bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros()), 3)],
        vec![out(1, ours.p2wpkh())],
    );
    bad.txdata.push(spend_missing);
    recommit(&mut bad);
    let bad_hash = bad.block_hash();
    let old_tip = chain.tip();
    chain.accept_block(bad.clone()).unwrap(); // equal work: stored, not validated
    assert_eq!(chain.tip(), old_tip);

    // A child gives that branch more work; connecting it fails at the bad block.
    let mut child = bad.clone();
    child.header.prev_blockhash = bad_hash;
    child.header.time += 1;
    child.txdata.truncate(1);
    child.txdata[0].input[0].script_sig =
        bitcoin::script::Builder::new().push_int(i64::from(height + 1)).into_script();
    recommit(&mut child);
    let change = chain.accept_block(child.clone()).unwrap();
    assert_eq!(chain.tip(), old_tip, "the old chain is reconnected");
    assert_eq!(change.failed.len(), 1);
    assert_eq!(change.failed[0].0, bad_hash);
    assert_eq!(change.failed[0].1.reject_reason(), "bad-txns-inputs-missingorspent");
    assert!(chain.is_invalid(&bad_hash) && chain.is_invalid(&child.block_hash()));
    let statuses: Vec<&str> = chain.chain_tips().iter().map(|t| t.status).collect();
    assert_eq!(statuses, ["active", "invalid"]);
}

#[test]
fn invalidate_and_reconsider_move_the_tip_and_survive_a_restart() {
    let ours = Key::new(1);
    let dir = tempfile::tempdir().unwrap();
    let (tip, third);
    {
        let mut chain = ChainState::open(dir.path(), ChainParams::regtest()).unwrap();
        mine(&mut chain, 5, &ours.p2wpkh());
        tip = chain.tip();
        third = chain.block_hash(3).unwrap();
        let change = chain.invalidate_block(&third).unwrap();
        assert_eq!(change.disconnected.len(), 3);
        assert_eq!(chain.height(), 2);
        // A new block on the parent is accepted (paying elsewhere: the same coinbase and time
        // would make the very block that was invalidated).
        mine(&mut chain, 1, &Key::new(9).p2wpkh());
        assert_eq!(chain.height(), 3);
        assert!(chain
            .invalidate_block(&BlockHash::from_raw_hash(bitcoin::hashes::Hash::all_zeros()))
            .is_err());
    }
    {
        // Reopened: the invalidation holds, the new block is the tip, the old branch is known.
        let mut chain = ChainState::open(dir.path(), ChainParams::regtest()).unwrap();
        assert_eq!(chain.height(), 3);
        assert_ne!(chain.block_hash(3), Some(third));
        assert!(chain.is_invalid(&tip));
        // Reconsidering brings the longer branch back.
        let change = chain.reconsider_block(&third).unwrap();
        assert_eq!(change.connected.len(), 3);
        assert_eq!(chain.tip(), tip);
    }
    let chain = ChainState::open(dir.path(), ChainParams::regtest()).unwrap();
    assert_eq!(chain.tip(), tip, "the reconsideration holds across a restart too");
}
