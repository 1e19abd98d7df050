//! The version handshake, keepalive and the dispatch of every message to its handler.
//!
//! As Core: the side that connects sends `version`; on a peer's `version` we answer (inbound:
//! our `version` first) `wtxidrelay` (peer at 70016 or later), `sendaddrv2`, `verack`; on its
//! `verack` the connection is established: `sendheaders`, a first `ping`, and a `getheaders`
//! from our tip. Messages other than the handshake's are ignored until then. A `version`
//! carrying the nonce of one we sent is our own connection coming back: dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_network::VersionMessage;
use bitcoin::p2p::{Address, ServiceFlags};

use super::conn::TIMEOUT_INTERVAL;
use super::{local_services, relay, sync, Peer, Shared, PROTOCOL_VERSION};

/// Core's `MIN_PEER_PROTO_VERSION`.
const MIN_PEER_PROTO_VERSION: u32 = 31_800;
/// Core's `PING_INTERVAL`.
const PING_INTERVAL: Duration = Duration::from_secs(2 * 60);
/// Versions from which a peer understands `sendheaders` and `wtxidrelay`.
const SENDHEADERS_VERSION: u32 = 70_012;
const WTXID_RELAY_VERSION: u32 = 70_016;

/// Sends our `version`.
pub(crate) fn send_version(shared: &Shared, peer: &Peer) {
    let (height, now) = {
        let inner = shared.node.lock();
        (inner.chain.height(), inner.chain.now())
    };
    let unspecified = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    let message = VersionMessage {
        version: PROTOCOL_VERSION,
        services: local_services(),
        timestamp: i64::from(now),
        receiver: Address::new(&peer.addr, ServiceFlags::NONE),
        sender: Address::new(&unspecified, local_services()),
        nonce: peer.local_nonce,
        user_agent: shared.config.subversion.clone(),
        start_height: i32::try_from(height).unwrap_or(i32::MAX),
        relay: true,
    };
    tracing::debug!(target: "net", "send version message: version {PROTOCOL_VERSION}, blocks={height}, them={}, txrelay=1, peer={}", peer.addr, peer.id);
    peer.send(NetworkMessage::Version(message));
}

/// The periodic checks, on the node's clock; `false` ends the connection.
pub(crate) fn housekeeping(shared: &Shared, peer: &Peer) -> bool {
    let now = shared.clock();
    let mut info = peer.info();
    let connected_for = now - info.connected_clock;
    let peer_timeout = shared.config.peer_timeout.as_secs_f64();
    // Core's InactivityCheck, in its order and words, after -peertimeout.
    if connected_for > peer_timeout {
        let (last_send, last_recv) = (info.last_send, info.last_recv);
        if last_send == 0 || last_recv == 0 {
            tracing::debug!(target: "net", "socket no message in first {} seconds{}{}, disconnecting peer={}",
                shared.config.peer_timeout.as_secs(),
                if last_recv == 0 { ", never received from peer" } else { "" },
                if last_send == 0 { ", never sent to peer" } else { "" },
                peer.id);
            return false;
        }
        let wall = super::unix_now();
        let idle = TIMEOUT_INTERVAL.as_secs();
        if wall.saturating_sub(last_send) > idle {
            tracing::debug!(target: "net", "socket sending timeout: {}s, disconnecting peer={}", wall - last_send, peer.id);
            return false;
        }
        if wall.saturating_sub(last_recv) > idle {
            tracing::debug!(target: "net", "socket receive timeout: {}s, disconnecting peer={}", wall - last_recv, peer.id);
            return false;
        }
        if !info.handshake_done {
            tracing::debug!(target: "net", "version handshake timeout, disconnecting peer={}", peer.id);
            return false;
        }
    }
    if !info.handshake_done {
        return true;
    }
    if let Some((_, sent)) = info.ping_sent {
        if now - sent > TIMEOUT_INTERVAL.as_secs_f64() {
            tracing::debug!(target: "net", "ping timeout: {:.6}s, disconnecting peer={}", now - sent, peer.id);
            return false;
        }
    } else if info.ping_queued || info.last_ping.is_none_or(|t| now - t >= PING_INTERVAL.as_secs_f64()) {
        let nonce = loop {
            // Zero means "no ping" in a pong (Core never sends it).
            let nonce = shared.nonce();
            if nonce != 0 {
                break nonce;
            }
        };
        info.ping_sent = Some((nonce, now));
        info.last_ping = Some(now);
        info.ping_queued = false;
        drop(info);
        peer.send(NetworkMessage::Ping(nonce));
    } else {
        drop(info);
    }
    relay::trickle(shared, peer);
    true
}

/// Core's `MAX_SUBVERSION_LENGTH`: a longer user agent is cut.
const MAX_SUBVERSION_LENGTH: usize = 256;

/// Keeps the characters Core's `SanitizeString` keeps, of the first 256 (what `getpeerinfo`
/// shows of a user agent).
fn sanitize(s: &str) -> String {
    s.chars()
        .take(MAX_SUBVERSION_LENGTH)
        .filter(|c| c.is_ascii_alphanumeric() || " .,;-_/:?@()".contains(*c))
        .collect()
}

/// Handles one message from `peer`.
pub(crate) fn handle(shared: &Arc<Shared>, peer: &Arc<Peer>, message: NetworkMessage) {
    match message {
        NetworkMessage::Version(version) => return on_version(shared, peer, version),
        NetworkMessage::Verack => return on_verack(shared, peer),
        _ => {}
    }
    let (version_received, handshake_done) = {
        let info = peer.info();
        (info.version_received, info.handshake_done)
    };
    if !version_received {
        tracing::debug!(target: "net", "non-version message before version handshake. Message \"{}\" from peer={}", message.command(), peer.id);
        return;
    }
    match message {
        NetworkMessage::WtxidRelay => {
            if handshake_done {
                tracing::debug!(target: "net", "wtxidrelay received after verack from peer={}; disconnecting", peer.id);
                peer.disconnect();
            } else {
                peer.info().wtxid_relay = true;
            }
            return;
        }
        NetworkMessage::SendAddrV2 => return,
        _ => {}
    }
    if !handshake_done {
        tracing::debug!(target: "net", "Unsupported message \"{}\" prior to verack from peer={}", message.command(), peer.id);
        return;
    }
    match message {
        NetworkMessage::SendHeaders => peer.info().send_headers = true,
        NetworkMessage::Ping(nonce) => peer.send(NetworkMessage::Pong(nonce)),
        NetworkMessage::Pong(nonce) => on_pong(shared, peer, nonce),
        NetworkMessage::FeeFilter(rate) => peer.info().fee_filter_sat_per_kvb = rate,
        NetworkMessage::GetHeaders(request) => sync::on_getheaders(shared, peer, &request),
        NetworkMessage::Headers(headers) => sync::on_headers(shared, peer, &headers),
        NetworkMessage::Inv(inventory) => {
            if inventory.len() > sync::MAX_INV_SZ {
                misbehaving(peer, &format!("inv message size = {}", inventory.len()));
                return;
            }
            sync::on_block_inv(shared, peer, &inventory);
            relay::on_tx_inv(shared, peer, &inventory);
        }
        NetworkMessage::GetData(inventory) => sync::on_getdata(shared, peer, &inventory),
        NetworkMessage::Block(block) => sync::on_block(shared, peer, block),
        NetworkMessage::Tx(tx) => relay::on_tx(shared, peer, tx),
        NetworkMessage::NotFound(inventory) => sync::on_notfound(peer, &inventory),
        // Address relay, compact blocks, filters, mempool requests: not supported, ignored.
        _ => {}
    }
}

fn on_version(shared: &Shared, peer: &Peer, version: VersionMessage) {
    if peer.info().version_received {
        tracing::debug!(target: "net", "redundant version message from peer={}", peer.id);
        return;
    }
    if version.version < MIN_PEER_PROTO_VERSION {
        tracing::debug!(target: "net", "using obsolete version {}, disconnecting peer={}", version.version, peer.id);
        peer.disconnect();
        return;
    }
    if peer.inbound() && shared.is_local_nonce(version.nonce) {
        tracing::info!(target: "net", "connected to self at {}, disconnecting", peer.addr);
        peer.disconnect();
        return;
    }
    let now = i64::from(shared.node.lock().chain.now());
    let subver = sanitize(&version.user_agent);
    {
        let mut info = peer.info();
        info.version = version.version;
        info.services = version.services.to_u64();
        info.subver = subver.clone();
        info.starting_height = version.start_height;
        info.relay_txs = version.relay;
        info.time_offset = version.timestamp.saturating_sub(now);
        info.version_received = true;
    }
    tracing::debug!(target: "net", "receive version message: {subver}: version {}, blocks={}, us={}, txrelay={}, peer={}",
        version.version, version.start_height, version.receiver.socket_addr().map_or_else(|_| "?".to_string(), |a| a.to_string()),
        u8::from(version.relay), peer.id);
    if peer.inbound() {
        send_version(shared, peer);
    }
    // Both only to peers at 70016 or later, as Core (older ones may refuse unknown messages).
    if version.version >= WTXID_RELAY_VERSION {
        peer.send(NetworkMessage::WtxidRelay);
        peer.send(NetworkMessage::SendAddrV2);
    }
    peer.send(NetworkMessage::Verack);
}

fn on_verack(shared: &Shared, peer: &Peer) {
    let (version, height) = {
        let mut info = peer.info();
        if !info.version_received {
            tracing::debug!(target: "net", "non-version message before version handshake. Message \"verack\" from peer={}", peer.id);
            return;
        }
        if info.handshake_done {
            tracing::debug!(target: "net", "ignoring redundant verack message from peer={}", peer.id);
            return;
        }
        info.handshake_done = true;
        info.ping_queued = true;
        (info.version, info.starting_height)
    };
    if peer.inbound() {
        tracing::debug!(target: "net", "New inbound peer connected: transport: v1, version: {version}, blocks={height}, peer={}", peer.id);
    } else {
        tracing::info!("New manual peer connected: transport: v1, version: {version}, blocks={height}, peer={}, peeraddr={}", peer.id, peer.addr);
    }
    if version >= SENDHEADERS_VERSION {
        peer.send(NetworkMessage::SendHeaders);
    }
    // The first ping right away (the test framework waits for its pong).
    housekeeping(shared, peer);
    sync::send_getheaders(shared, peer, None);
}

fn on_pong(shared: &Shared, peer: &Peer, nonce: u64) {
    let now = shared.clock();
    let mut info = peer.info();
    let Some((expected, sent)) = info.ping_sent else {
        tracing::debug!(target: "net", "pong peer={}: Unsolicited pong without ping, 0 expected, {nonce:x} received, 8 bytes", peer.id);
        return;
    };
    if nonce == expected {
        let rtt = now - sent;
        if rtt >= 0.0 {
            info.ping_time = Some(rtt);
            info.min_ping = Some(info.min_ping.map_or(rtt, |m| m.min(rtt)));
        } else {
            tracing::debug!(target: "net", "pong peer={}: Timing mishap, {expected:x} expected, {nonce:x} received, 8 bytes", peer.id);
        }
        info.ping_sent = None;
    } else if nonce == 0 {
        // A pong that cancels the ping (Core's rule).
        tracing::debug!(target: "net", "pong peer={}: Nonce zero, {expected:x} expected, {nonce:x} received, 8 bytes", peer.id);
        info.ping_sent = None;
    } else {
        tracing::debug!(target: "net", "pong peer={}: Nonce mismatch, {expected:x} expected, {nonce:x} received, 8 bytes", peer.id);
    }
}

/// A `pong` without its 8-byte nonce cancels the ping, as in Core.
pub(crate) fn on_short_pong(peer: &Peer, length: usize) {
    let mut info = peer.info();
    let expected = info.ping_sent.map_or(0, |(nonce, _)| nonce);
    if info.ping_sent.is_some() {
        tracing::debug!(target: "net", "pong peer={}: Short payload, {expected:x} expected, 0 received, {length} bytes", peer.id);
        info.ping_sent = None;
    }
}

/// Core's `Misbehaving`: logged, and the peer disconnected unless it has `noban` or is a
/// manual connection (Core punishes neither; there is no ban list here).
pub(crate) fn misbehaving(peer: &Peer, reason: &str) {
    tracing::debug!(target: "net", "Misbehaving: peer={}: {reason}", peer.id);
    if peer.has_permission("noban") {
        tracing::info!("Warning: not punishing noban peer {}!", peer.id);
    } else if !peer.inbound() {
        tracing::info!("Warning: not punishing manually connected peer {}!", peer.id);
    } else {
        tracing::debug!(target: "net", "Disconnecting peer={} for misbehavior", peer.id);
        peer.disconnect();
    }
}
