//! Transaction relay and the node's notifications.
//!
//! [`Relay`] is subscribed to the node's [`ChainNotifications`] (delivered after the state lock
//! is released, on the thread that made the change): a transaction entering the mempool is
//! announced to every established peer that wants transactions and does not know it yet
//! (`MSG_WTX` to `wtxidrelay` peers, `MSG_TX` to others), at once (no trickling); the blocks
//! connected by a change are announced when its tip is: `headers` (up to 8) to peers that sent
//! `sendheaders`, else `inv`. It only queues messages, so it never blocks the notifier.
//!
//! Receiving: announced transactions we lack (and did not refuse since the last block) are
//! requested; each one received goes to [`NodeState::submit_transaction`]. There is no orphan
//! pool: a child that arrives before its parent is refused and fetched again when announced
//! again.
//!
//! [`NodeState::submit_transaction`]: crate::NodeState::submit_transaction

use std::sync::{Arc, Weak};

use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::Inventory;
use bitcoin::{BlockHash, Transaction, Txid, Wtxid};
use interfaces::{BlockInfo, ChainNotifications, MempoolRemovalReason};

use super::{lock, peer::unix_now, Peer, Shared};

/// Up to this many new blocks are announced as headers; more as an `inv` of the tip.
const MAX_BLOCKS_TO_ANNOUNCE: usize = 8;
/// Size at which the wtxid map and the reject filter are cleared (they only save work).
const CACHE_LIMIT: usize = 100_000;

/// The networking's subscription to the node.
pub(crate) struct Relay {
    shared: Weak<Shared>,
}

impl Relay {
    pub(crate) fn new(shared: &Arc<Shared>) -> Arc<Relay> {
        Arc::new(Relay { shared: Arc::downgrade(shared) })
    }
}

impl ChainNotifications for Relay {
    fn transaction_added_to_mempool(&self, tx: Vec<u8>) -> interfaces::Result<()> {
        let Some(shared) = self.shared.upgrade() else { return Ok(()) };
        let Ok(tx) = deserialize::<Transaction>(&tx) else { return Ok(()) };
        let (txid, wtxid) = (tx.compute_txid(), tx.compute_wtxid());
        {
            let mut wtxids = lock(&shared.wtxids);
            if wtxids.len() >= CACHE_LIMIT {
                wtxids.clear();
            }
            wtxids.insert(wtxid, txid);
        }
        for peer in shared.peers() {
            let mut info = peer.info();
            if !info.handshake_done || !info.relay_txs {
                continue;
            }
            let (id, inv) = if info.wtxid_relay {
                (wtxid.to_byte_array(), Inventory::WTx(wtxid))
            } else {
                (txid.to_byte_array(), Inventory::Transaction(txid))
            };
            if info.known_txs.contains(&id) {
                continue;
            }
            info.add_known_tx(id);
            drop(info);
            peer.send(NetworkMessage::Inv(vec![inv]));
        }
        Ok(())
    }

    fn transaction_removed_from_mempool(
        &self,
        _txid: [u8; 32],
        _reason: MempoolRemovalReason,
    ) -> interfaces::Result<()> {
        Ok(())
    }

    fn block_connected(&self, block: BlockInfo) -> interfaces::Result<()> {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.pending_blocks).push(BlockHash::from_byte_array(block.hash));
        }
        Ok(())
    }

    fn block_disconnected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        Ok(())
    }

    fn updated_block_tip(&self) -> interfaces::Result<()> {
        let Some(shared) = self.shared.upgrade() else { return Ok(()) };
        lock(&shared.recent_rejects).clear();
        let blocks = std::mem::take(&mut *lock(&shared.pending_blocks));
        if blocks.is_empty() {
            return Ok(());
        }
        announce_blocks(&shared, &blocks);
        Ok(())
    }
}

fn announce_blocks(shared: &Shared, blocks: &[BlockHash]) {
    let headers: Vec<_> = {
        let inner = shared.node.lock();
        blocks.iter().filter_map(|hash| inner.chain.header(hash).copied()).collect()
    };
    for peer in shared.peers() {
        let mut info = peer.info();
        if !info.handshake_done {
            continue;
        }
        let new: Vec<_> =
            headers.iter().filter(|h| !info.known_blocks.contains(&h.block_hash())).copied().collect();
        let Some(tip) = new.last().map(|h| h.block_hash()) else { continue };
        for header in &new {
            info.add_known_block(header.block_hash());
        }
        let send_headers = info.send_headers;
        drop(info);
        if send_headers && new.len() <= MAX_BLOCKS_TO_ANNOUNCE {
            peer.send(NetworkMessage::Headers(new));
        } else if new.len() <= MAX_BLOCKS_TO_ANNOUNCE {
            peer.send(NetworkMessage::Inv(new.iter().map(|h| Inventory::Block(h.block_hash())).collect()));
        } else {
            peer.send(NetworkMessage::Inv(vec![Inventory::Block(tip)]));
        }
    }
}

/// The mempool transaction an inventory names.
pub(crate) fn mempool_tx(shared: &Shared, inv: &Inventory) -> Option<Transaction> {
    let txid = match inv {
        Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid) => *txid,
        Inventory::WTx(wtxid) => match lock(&shared.wtxids).get(wtxid) {
            Some(txid) => *txid,
            None => {
                let inner = shared.node.lock();
                return inner
                    .mempool
                    .entries()
                    .map(|(_, e)| &e.tx)
                    .find(|tx| tx.compute_wtxid() == *wtxid)
                    .cloned();
            }
        },
        _ => return None,
    };
    let inner = shared.node.lock();
    let tx = inner.mempool.get(&txid).map(|e| e.tx.clone())?;
    match inv {
        Inventory::WTx(wtxid) if tx.compute_wtxid() != *wtxid => None,
        _ => Some(tx),
    }
}

fn in_mempool(shared: &Shared, inv: &Inventory) -> bool {
    match inv {
        Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid) => {
            shared.node.lock().mempool.contains(txid)
        }
        Inventory::WTx(_) => mempool_tx(shared, inv).is_some(),
        _ => false,
    }
}

fn inv_id(inv: &Inventory) -> Option<[u8; 32]> {
    match inv {
        Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid) => Some(txid.to_byte_array()),
        Inventory::WTx(wtxid) => Some(wtxid.to_byte_array()),
        _ => None,
    }
}

/// `inv` of transactions: request the ones we lack.
pub(crate) fn on_tx_inv(shared: &Shared, peer: &Peer, inventory: &[Inventory]) {
    let mut wanted = Vec::new();
    for inv in inventory {
        let Some(id) = inv_id(inv) else { continue };
        peer.info().add_known_tx(id);
        if lock(&shared.recent_rejects).contains(&id) || in_mempool(shared, inv) {
            continue;
        }
        wanted.push(match inv {
            Inventory::Transaction(txid) => Inventory::WitnessTransaction(*txid),
            other => *other,
        });
    }
    if !wanted.is_empty() {
        peer.send(NetworkMessage::GetData(wanted));
    }
}

/// A transaction from `peer`: into the mempool if it fits.
pub(crate) fn on_tx(shared: &Shared, peer: &Peer, tx: Transaction) {
    let (txid, wtxid): (Txid, Wtxid) = (tx.compute_txid(), tx.compute_wtxid());
    {
        let mut info = peer.info();
        info.add_known_tx(txid.to_byte_array());
        info.add_known_tx(wtxid.to_byte_array());
    }
    if shared.node.lock().mempool.contains(&txid) {
        return;
    }
    match shared.node.submit_transaction(tx, None) {
        Ok(_) => {
            peer.info().last_transaction = unix_now();
            tracing::debug!(target: "mempool", "AcceptToMemoryPool: peer={}: accepted {txid} (wtxid={wtxid})", peer.id);
        }
        Err(e) => {
            tracing::debug!(target: "mempoolrej", "{txid} (wtxid={wtxid}) from peer={} was not accepted: {}", peer.id, e.reject_reason());
            // A missing parent may come later; anything else is not worth fetching again.
            if !e.reject_reason().contains("missing") {
                let mut rejects = lock(&shared.recent_rejects);
                if rejects.len() >= CACHE_LIMIT {
                    rejects.clear();
                }
                rejects.insert(wtxid.to_byte_array());
                rejects.insert(txid.to_byte_array());
            }
        }
    }
}
