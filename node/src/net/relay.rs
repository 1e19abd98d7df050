//! Transaction relay and the node's notifications.
//!
//! Transactions are announced as Core does, in trickles: each peer has a timer that fires after
//! an exponentially distributed delay (mean 5 s inbound, 2 s outbound) on the node's clock (so
//! `setmocktime` holds it), and the announcements queued meanwhile go out together; peers with
//! the `noban` permission (`-whitelist=noban@...`) get them at once, which Core's tests use for
//! quick relay. Blocks are announced at once to everyone.
//!
//! [`Relay`] is subscribed to the node's [`ChainNotifications`] (delivered after the state lock
//! is released, on the thread that made the change): a transaction entering the mempool is
//! announced to every established peer that wants transactions and does not know it yet
//! (`MSG_WTX` to `wtxidrelay` peers, `MSG_TX` to others), at the peer's next trickle; the blocks
//! connected by a change are announced when its tip is: `headers` (up to 8) to peers that sent
//! `sendheaders`, else `inv`. It only queues messages, so it never blocks the notifier.
//!
//! Receiving: announced transactions we lack (and did not refuse since the last block) are
//! requested; each one received goes to [`NodeState::submit_transaction`]. There is no orphan
//! pool: a child that arrives before its parent is refused and fetched again when announced
//! again.
//!
//! [`NodeState::submit_transaction`]: crate::NodeState::submit_transaction

use std::sync::atomic::Ordering;
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
/// Core's average delay between transaction announcements to an inbound peer, and to an
/// outbound one (`INBOUND_INVENTORY_BROADCAST_INTERVAL`, `OUTBOUND_...`).
const INBOUND_TRICKLE_SECS: f64 = 5.0;
const OUTBOUND_TRICKLE_SECS: f64 = 2.0;
/// Announcements queued for one peer at most (a peer that never gets its trickle loses the rest).
const MAX_QUEUED_INVS: usize = 50_000;
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
            // Taken back from a disconnected block: as old as can be (Core gives such entries
            // sequence 0), so any peer may request it.
            let sequence = if shared.in_reorg.load(Ordering::SeqCst) {
                0
            } else {
                shared.next_sequence.fetch_add(1, Ordering::SeqCst)
            };
            let mut sequences = lock(&shared.tx_sequence);
            if sequences.len() >= CACHE_LIMIT {
                sequences.clear();
            }
            sequences.insert(txid, sequence);
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
            if peer.has_permission("noban") {
                info.add_announced(id);
                drop(info);
                peer.send(NetworkMessage::Inv(vec![inv]));
            } else if info.tx_invs.len() < MAX_QUEUED_INVS {
                info.tx_invs.push(inv);
            }
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
        if let Some(shared) = self.shared.upgrade() {
            shared.in_reorg.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    fn updated_block_tip(&self) -> interfaces::Result<()> {
        let Some(shared) = self.shared.upgrade() else { return Ok(()) };
        shared.in_reorg.store(false, Ordering::SeqCst);
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

/// The mempool transaction `peer` requested, if it may have it (Core's `FindTxForGetData`):
/// announced to it, or in the pool since before its last trickle. Anything else would let a
/// peer learn of a transaction before its announcement.
pub(crate) fn tx_for_getdata(shared: &Shared, peer: &Peer, inv: &Inventory) -> Option<Transaction> {
    let tx = mempool_tx(shared, inv)?;
    let txid = tx.compute_txid();
    let sequence = lock(&shared.tx_sequence).get(&txid).copied().unwrap_or(0);
    let info = peer.info();
    let announced = inv_id(inv).is_some_and(|id| info.announced.contains(&id));
    (announced || sequence < info.last_inv_sequence).then_some(tx)
}

/// The mempool transaction an inventory names.
pub(crate) fn mempool_tx(shared: &Shared, inv: &Inventory) -> Option<Transaction> {
    let txid = match inv {
        Inventory::Transaction(txid) | Inventory::WitnessTransaction(txid) => *txid,
        Inventory::WTx(wtxid) => match lock(&shared.wtxids).get(wtxid).copied() {
            Some(txid) => txid,
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

/// Sends `peer`'s queued transaction announcements if its trickle timer has fired (called from
/// the peer's housekeeping, every 250 ms, and after each message).
pub(crate) fn trickle(shared: &Shared, peer: &Peer) {
    let now = shared.clock();
    let mut info = peer.info();
    if !info.handshake_done || now < info.next_inv_send {
        return;
    }
    let mean = if peer.inbound() { INBOUND_TRICKLE_SECS } else { OUTBOUND_TRICKLE_SECS };
    // An exponential delay: -ln(U) * mean, U uniform in (0, 1] from 53 random bits.
    let uniform = ((shared.nonce() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    info.next_inv_send = now - uniform.ln() * mean;
    info.last_inv_sequence = shared.next_sequence.load(Ordering::SeqCst);
    let invs = std::mem::take(&mut info.tx_invs);
    for inv in &invs {
        if let Some(id) = inv_id(inv) {
            info.add_announced(id);
        }
    }
    drop(info);
    for chunk in invs.chunks(super::sync::MAX_INV_SZ) {
        peer.send(NetworkMessage::Inv(chunk.to_vec()));
    }
}
