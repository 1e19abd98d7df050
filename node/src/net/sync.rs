//! Headers-first block sync and block announcements.
//!
//! Asking: after the handshake, and whenever a peer announces a block we lack by `inv` or a
//! header that does not connect, we send `getheaders` with a locator of our active chain. On
//! `headers`, the blocks we lack on a branch with more work than our tip are requested with
//! `getdata` (witness blocks), in order, so each arrives after its parent; a full batch (2000)
//! asks for the next one. Each block received goes to [`NodeState::submit_block`], which stores
//! side branches and reorganises to the most work.
//!
//! Answering: `getheaders` with up to 2000 headers of our active chain after the first locator
//! hash on it; `getdata` with blocks (stripped for `MSG_BLOCK`) and mempool transactions,
//! `notfound` for transactions we lack. A reader answering waits while its peer's send queue is
//! full, so a peer that asks without reading stalls only its own connection.
//!
//! [`NodeState::submit_block`]: crate::NodeState::submit_block

use std::sync::Arc;

use bitcoin::block::Header;
use bitcoin::hashes::Hash;
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::{GetHeadersMessage, Inventory};
use bitcoin::{Block, BlockHash};

use super::{peer::unix_now, Peer, Shared, PROTOCOL_VERSION};
use crate::chain::{BlockError, ChainState};

/// Core's `MAX_HEADERS_RESULTS`.
pub(crate) const MAX_HEADERS_RESULTS: usize = 2000;
/// Core's `MAX_INV_SZ`.
pub(crate) const MAX_INV_SZ: usize = 50_000;
/// Core's `MAX_LOCATOR_SZ`.
const MAX_LOCATOR_SZ: usize = 101;

/// Our active chain's locator: the tip, then back with doubling steps, and genesis.
pub(crate) fn locator(chain: &ChainState) -> Vec<BlockHash> {
    let mut hashes = Vec::new();
    let mut height = i64::from(chain.height());
    let mut step = 1i64;
    while height > 0 {
        if let Some(hash) = u32::try_from(height).ok().and_then(|h| chain.block_hash(h)) {
            hashes.push(hash);
        }
        if hashes.len() >= 10 {
            step *= 2;
        }
        height -= step;
    }
    if let Some(genesis) = chain.block_hash(0) {
        hashes.push(genesis);
    }
    hashes
}

/// Sends `getheaders` from our tip (`first`: a hash to put before our locator, the last header
/// of a full batch).
pub(crate) fn send_getheaders(shared: &Shared, peer: &Peer, first: Option<BlockHash>) {
    let mut hashes = locator(&shared.node.lock().chain);
    if let Some(first) = first {
        hashes.insert(0, first);
    }
    peer.send(NetworkMessage::GetHeaders(GetHeadersMessage::new(hashes, BlockHash::all_zeros())));
}

pub(crate) fn on_getheaders(shared: &Shared, peer: &Peer, request: &GetHeadersMessage) {
    if request.locator_hashes.len() > MAX_LOCATOR_SZ {
        tracing::debug!(target: "net", "getheaders locator size {} > {MAX_LOCATOR_SZ}, disconnect peer={}", request.locator_hashes.len(), peer.id);
        peer.disconnect();
        return;
    }
    let headers: Vec<Header> = {
        let inner = shared.node.lock();
        let chain = &inner.chain;
        if request.locator_hashes.is_empty() {
            // Only the stop block's header, if we have it.
            chain.header(&request.stop_hash).copied().into_iter().collect()
        } else {
            let fork = request
                .locator_hashes
                .iter()
                .find(|hash| chain.is_active(hash))
                .and_then(|hash| chain.block_height(hash))
                .unwrap_or(0);
            let mut headers = Vec::new();
            for height in fork.saturating_add(1)..=chain.height() {
                let Some(hash) = chain.block_hash(height) else { break };
                let Some(header) = chain.header(&hash) else { break };
                headers.push(*header);
                if headers.len() >= MAX_HEADERS_RESULTS || hash == request.stop_hash {
                    break;
                }
            }
            headers
        }
    };
    tracing::debug!(target: "net", "getheaders {} to end from peer={}", headers.len(), peer.id);
    {
        let mut info = peer.info();
        for header in &headers {
            info.add_known_block(header.block_hash());
        }
    }
    peer.send(NetworkMessage::Headers(headers));
}

/// What a `headers` message means for us, worked out under the node's lock.
enum HeadersOutcome {
    /// The first header's parent is unknown: ask again from our locator.
    Unconnected,
    /// The peer sent something invalid: disconnect, with the reason.
    Invalid(&'static str),
    /// Headers that connect: the blocks to request (hash, height) and the last header's height.
    Connected { request: Vec<(BlockHash, u32)>, last_height: u32, last_in_chain: Option<u32> },
}

pub(crate) fn on_headers(shared: &Shared, peer: &Peer, headers: &[Header]) {
    if headers.len() > MAX_HEADERS_RESULTS {
        super::handshake::misbehaving(peer, &format!("headers message size = {}", headers.len()));
        return;
    }
    let Some(first) = headers.first() else { return };
    // A batch continuing one whose blocks are still on their way connects to a requested block.
    let parent_in_flight = peer.info().in_flight.get(&first.prev_blockhash).copied();
    let outcome = {
        let inner = shared.node.lock();
        classify(&inner.chain, headers, parent_in_flight)
    };
    match outcome {
        HeadersOutcome::Unconnected => {
            tracing::debug!(target: "net", "received header {}: missing prev block {}, sending getheaders to peer={}", first.block_hash(), first.prev_blockhash, peer.id);
            send_getheaders(shared, peer, None);
        }
        HeadersOutcome::Invalid(reason) => super::handshake::misbehaving(peer, reason),
        HeadersOutcome::Connected { request, last_height, last_in_chain } => {
            let wanted: Vec<Inventory> = {
                let mut info = peer.info();
                for header in headers {
                    info.add_known_block(header.block_hash());
                }
                info.synced_headers = info.synced_headers.max(i64::from(last_height));
                if let Some(height) = last_in_chain {
                    info.synced_blocks = info.synced_blocks.max(i64::from(height));
                }
                request
                    .into_iter()
                    .filter(|(hash, height)| info.in_flight.insert(*hash, *height).is_none())
                    .map(|(hash, _)| Inventory::WitnessBlock(hash))
                    .collect()
            };
            if !wanted.is_empty() {
                tracing::debug!(target: "net", "Requesting {} blocks up to height {last_height} from peer={}", wanted.len(), peer.id);
                peer.send(NetworkMessage::GetData(wanted));
            }
            if headers.len() == MAX_HEADERS_RESULTS {
                send_getheaders(shared, peer, headers.last().map(Header::block_hash));
            }
        }
    }
}

fn classify(chain: &ChainState, headers: &[Header], parent_in_flight: Option<u32>) -> HeadersOutcome {
    let Some(first) = headers.first() else { return HeadersOutcome::Unconnected };
    // As Core: proof of work and continuity before anything else.
    let pow_limit = chain.params().pow_limit;
    for (i, header) in headers.iter().enumerate() {
        if header.target() > pow_limit || header.validate_pow(header.target()).is_err() {
            return HeadersOutcome::Invalid("header with invalid proof of work");
        }
        if i > 0 && header.prev_blockhash != headers[i - 1].block_hash() {
            return HeadersOutcome::Invalid("non-continuous headers sequence");
        }
    }
    let (parent_height, parent_work) = match (chain.block_height(&first.prev_blockhash), parent_in_flight) {
        (Some(height), _) => (height, chain.block_chain_work(&first.prev_blockhash)),
        // Continues a branch already found to have more work.
        (None, Some(height)) => (height, None),
        (None, None) => return HeadersOutcome::Unconnected,
    };
    let work = parent_work.map(|w| headers.iter().fold(w, |w, h| w + h.work()));
    let more_work = work.is_none_or(|w| w > chain.chain_work());
    let mut request = Vec::new();
    let mut last_in_chain = None;
    let mut height = parent_height;
    for header in headers {
        height = height.saturating_add(1);
        let hash = header.block_hash();
        if chain.block(&hash).is_some() {
            last_in_chain = Some(height);
        } else if more_work && !chain.is_invalid(&hash) {
            request.push((hash, height));
        }
    }
    HeadersOutcome::Connected { request, last_height: height, last_in_chain }
}

/// `inv` of blocks: for one we lack, `getheaders` up to it (the headers then bring the rest).
pub(crate) fn on_block_inv(shared: &Shared, peer: &Peer, inventory: &[Inventory]) {
    let hashes: Vec<BlockHash> = inventory
        .iter()
        .filter_map(|inv| match inv {
            Inventory::Block(hash) | Inventory::WitnessBlock(hash) => Some(*hash),
            _ => None,
        })
        .collect();
    if hashes.is_empty() {
        return;
    }
    let unknown = {
        let inner = shared.node.lock();
        hashes.iter().rev().find(|hash| inner.chain.block(hash).is_none()).copied()
    };
    {
        let mut info = peer.info();
        for hash in &hashes {
            info.add_known_block(*hash);
        }
    }
    if let Some(hash) = unknown {
        tracing::debug!(target: "net", "getheaders to {hash} from peer={}", peer.id);
        let hashes = locator(&shared.node.lock().chain);
        peer.send(NetworkMessage::GetHeaders(GetHeadersMessage {
            version: PROTOCOL_VERSION,
            locator_hashes: hashes,
            stop_hash: hash,
        }));
    }
}

pub(crate) fn on_getdata(shared: &Shared, peer: &Peer, inventory: &[Inventory]) {
    if inventory.len() > MAX_INV_SZ {
        super::handshake::misbehaving(peer, &format!("getdata message size = {}", inventory.len()));
        return;
    }
    let mut not_found = Vec::new();
    for inv in inventory {
        if peer.disconnecting() {
            return;
        }
        peer.wait_send_room();
        match inv {
            Inventory::Block(hash) | Inventory::WitnessBlock(hash) | Inventory::CompactBlock(hash) => {
                let block = shared.node.lock().chain.block(hash).cloned();
                match block {
                    Some(mut block) => {
                        if matches!(inv, Inventory::Block(_)) {
                            strip_witness(&mut block);
                        }
                        peer.info().add_known_block(*hash);
                        peer.send(NetworkMessage::Block(block));
                    }
                    None => tracing::debug!(target: "net", "peer={} requested unknown block {hash}", peer.id),
                }
            }
            Inventory::Transaction(_) | Inventory::WitnessTransaction(_) | Inventory::WTx(_) => {
                match super::relay::tx_for_getdata(shared, peer, inv) {
                    Some(mut tx) => {
                        if matches!(inv, Inventory::Transaction(_)) {
                            tx.input.iter_mut().for_each(|input| input.witness.clear());
                        }
                        peer.send(NetworkMessage::Tx(tx));
                    }
                    None => not_found.push(*inv),
                }
            }
            _ => {}
        }
    }
    if !not_found.is_empty() {
        peer.send(NetworkMessage::NotFound(not_found));
    }
}

fn strip_witness(block: &mut Block) {
    for tx in &mut block.txdata {
        tx.input.iter_mut().for_each(|input| input.witness.clear());
    }
}

pub(crate) fn on_notfound(peer: &Peer, inventory: &[Inventory]) {
    let mut info = peer.info();
    for inv in inventory {
        if let Inventory::Block(hash) | Inventory::WitnessBlock(hash) = inv {
            info.in_flight.remove(hash);
        }
    }
}

pub(crate) fn on_block(shared: &Arc<Shared>, peer: &Peer, block: Block) {
    let hash = block.block_hash();
    let requested = {
        let mut info = peer.info();
        info.add_known_block(hash);
        info.in_flight.remove(&hash).is_some()
    };
    match shared.node.submit_block(block) {
        Ok(_) => {
            let height = shared.node.lock().chain.block_height(&hash);
            let mut info = peer.info();
            info.last_block = unix_now();
            if let Some(height) = height {
                info.synced_blocks = info.synced_blocks.max(i64::from(height));
            }
            tracing::debug!(target: "net", "received block {hash} peer={}", peer.id);
        }
        Err(BlockError::Duplicate(_)) => {}
        Err(BlockError::PrevBlockNotFound(_)) => {
            // Out of order (or unrequested): ask for the headers again once nothing is on its
            // way from this peer.
            if peer.info().in_flight.is_empty() {
                send_getheaders(shared, peer, None);
            }
        }
        Err(e) => {
            // Core would punish the peer; its manual peers are never punished, and ours all are.
            tracing::info!(target: "net", "received invalid block {hash} from peer={} (requested: {requested}): {}", peer.id, e.reject_reason());
        }
    }
}
