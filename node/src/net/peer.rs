//! [`Peer`]: one connection's shared state: who the peer said it is (its `version`), what the
//! handshake has reached, the counters `getpeerinfo` reports, and the bounded queue of messages
//! waiting to be written.
//!
//! Any thread may queue a message ([`Peer::send`]): it never blocks. The queue is bounded: a
//! reader thread answering requests waits for room ([`Peer::wait_send_room`], so a peer that
//! asks and does not read stalls only itself), and a queue past [`SEND_QUEUE_HARD_LIMIT`]
//! disconnects the peer.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::Magic;
use bitcoin::BlockHash;

use super::frame;

/// Queued bytes above which a reader answering requests waits for the writer.
pub(crate) const SEND_QUEUE_SOFT_LIMIT: usize = 8 << 20;
/// Queued bytes above which the peer is disconnected (it does not read what it asked for).
pub(crate) const SEND_QUEUE_HARD_LIMIT: usize = 64 << 20;
/// Entries kept in a peer's known-inventory sets before they are forgotten (only an echo
/// announcement is lost by forgetting).
const KNOWN_LIMIT: usize = 50_000;

/// Seconds since the UNIX epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Why a connection exists (`getpeerinfo`'s `connection_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionType {
    /// The peer connected to us.
    Inbound,
    /// We connected because of `-connect`, `-addnode` or the `addnode` RPC.
    Manual,
}

impl ConnectionType {
    /// Core's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ConnectionType::Inbound => "inbound",
            ConnectionType::Manual => "manual",
        }
    }
}

/// What the handshake and the conversation so far told us; all under one lock, held briefly.
#[derive(Debug)]
pub(crate) struct PeerInfo {
    /// The peer's protocol version (0 until its `version`).
    pub(crate) version: u32,
    pub(crate) services: u64,
    pub(crate) subver: String,
    pub(crate) starting_height: i32,
    /// The peer's relay flag: whether it wants transactions announced.
    pub(crate) relay_txs: bool,
    pub(crate) time_offset: i64,
    /// Our `verack` sent (after its `version`).
    pub(crate) version_received: bool,
    /// Its `verack` received after our version: Core's `fSuccessfullyConnected`.
    pub(crate) handshake_done: bool,
    pub(crate) wtxid_relay: bool,
    pub(crate) send_headers: bool,
    pub(crate) fee_filter_sat_per_kvb: i64,
    pub(crate) last_send: u64,
    pub(crate) last_recv: u64,
    pub(crate) last_block: u64,
    pub(crate) last_transaction: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_recv: u64,
    pub(crate) sent_per_msg: BTreeMap<String, u64>,
    pub(crate) recv_per_msg: BTreeMap<String, u64>,
    /// When the connection was made, on the node's (mockable) clock: the handshake timeout
    /// and the ping times run on it, as Core's do, so its tests can move them with
    /// `setmocktime`.
    pub(crate) connected_clock: f64,
    /// The nonce and clock time of the ping awaiting its pong.
    pub(crate) ping_sent: Option<(u64, f64)>,
    pub(crate) ping_queued: bool,
    pub(crate) last_ping: Option<f64>,
    /// Round trips, seconds.
    pub(crate) ping_time: Option<f64>,
    pub(crate) min_ping: Option<f64>,
    /// Height of the last header we have in common with the peer (-1: none known).
    pub(crate) synced_headers: i64,
    /// Height of the last block we have in common with the peer (-1: none known).
    pub(crate) synced_blocks: i64,
    /// Blocks requested from this peer: hash and height.
    pub(crate) in_flight: HashMap<BlockHash, u32>,
    /// Blocks the peer has (it announced or sent them, or we announced them to it).
    pub(crate) known_blocks: HashSet<BlockHash>,
    /// Transactions (txid or wtxid bytes) the peer has or was told about.
    pub(crate) known_txs: HashSet<[u8; 32]>,
    /// Transaction announcements waiting for the trickle (`relay.rs`).
    pub(crate) tx_invs: Vec<bitcoin::p2p::message_blockdata::Inventory>,
    /// When the next trickle is due, in the node's (mockable) seconds.
    pub(crate) next_inv_send: f64,
    /// The mempool sequence at the last trickle: transactions that entered before it may be
    /// requested (Core's `m_last_inv_sequence`).
    pub(crate) last_inv_sequence: u64,
    /// Transactions (txid or wtxid bytes) announced to the peer: it may request them.
    pub(crate) announced: HashSet<[u8; 32]>,
}

impl PeerInfo {
    fn new() -> PeerInfo {
        PeerInfo {
            version: 0,
            services: 0,
            subver: String::new(),
            starting_height: -1,
            relay_txs: false,
            time_offset: 0,
            version_received: false,
            handshake_done: false,
            wtxid_relay: false,
            send_headers: false,
            fee_filter_sat_per_kvb: 0,
            last_send: 0,
            last_recv: 0,
            last_block: 0,
            last_transaction: 0,
            bytes_sent: 0,
            bytes_recv: 0,
            sent_per_msg: BTreeMap::new(),
            recv_per_msg: BTreeMap::new(),
            connected_clock: 0.0,
            ping_sent: None,
            ping_queued: false,
            last_ping: None,
            ping_time: None,
            min_ping: None,
            synced_headers: -1,
            synced_blocks: -1,
            in_flight: HashMap::new(),
            known_blocks: HashSet::new(),
            known_txs: HashSet::new(),
            tx_invs: Vec::new(),
            next_inv_send: 0.0,
            last_inv_sequence: 0,
            announced: HashSet::new(),
        }
    }

    /// Remembers that the peer has `hash`.
    pub(crate) fn add_known_block(&mut self, hash: BlockHash) {
        if self.known_blocks.len() >= KNOWN_LIMIT {
            self.known_blocks.clear();
        }
        self.known_blocks.insert(hash);
    }

    /// Remembers that the transaction `id` was announced to the peer.
    pub(crate) fn add_announced(&mut self, id: [u8; 32]) {
        if self.announced.len() >= KNOWN_LIMIT {
            self.announced.clear();
        }
        self.announced.insert(id);
    }

    /// Remembers that the peer has (or was told of) the transaction `id`.
    pub(crate) fn add_known_tx(&mut self, id: [u8; 32]) {
        if self.known_txs.len() >= KNOWN_LIMIT {
            self.known_txs.clear();
        }
        self.known_txs.insert(id);
    }
}

#[derive(Debug, Default)]
struct SendQueue {
    messages: VecDeque<(String, Vec<u8>)>,
    bytes: usize,
}

/// Who is at the other end and why.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The peer's address.
    pub(crate) addr: SocketAddr,
    /// The name it was connected by (manual connections), else the address.
    pub(crate) addr_name: String,
    pub(crate) conn_type: ConnectionType,
}

/// One connection.
#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) id: u64,
    /// The peer's address (`addr`).
    pub(crate) addr: SocketAddr,
    /// The address as given to `addnode`/`-connect` for manual connections, else `addr`.
    pub(crate) addr_name: String,
    /// Our end of the socket (`addrbind`).
    pub(crate) addr_bind: Option<SocketAddr>,
    pub(crate) conn_type: ConnectionType,
    /// When the connection was made, seconds since the epoch (`conntime`).
    pub(crate) conn_time: u64,
    /// The nonce of the `version` we sent (self-connection detection).
    pub(crate) local_nonce: u64,
    /// `-whitelist` permissions (`noban`: transactions announced without delay).
    pub(crate) permissions: Vec<&'static str>,
    magic: Magic,
    stream: TcpStream,
    disconnect: AtomicBool,
    info: Mutex<PeerInfo>,
    queue: Mutex<SendQueue>,
    queue_cv: Condvar,
}

impl Peer {
    /// A new connection on `stream` (a clone: the caller keeps one for reading and writing).
    pub(crate) fn new(
        id: u64,
        stream: TcpStream,
        endpoint: Endpoint,
        local_nonce: u64,
        magic: Magic,
        permissions: Vec<&'static str>,
    ) -> Peer {
        let Endpoint { addr, addr_name, conn_type } = endpoint;
        Peer {
            id,
            addr,
            addr_name,
            addr_bind: stream.local_addr().ok(),
            conn_type,
            conn_time: unix_now(),
            local_nonce,
            permissions,
            magic,
            stream,
            disconnect: AtomicBool::new(false),
            info: Mutex::new(PeerInfo::new()),
            queue: Mutex::new(SendQueue::default()),
            queue_cv: Condvar::new(),
        }
    }

    /// Whether the peer has `-whitelist` permission `name`.
    pub(crate) fn has_permission(&self, name: &str) -> bool {
        self.permissions.contains(&name)
    }

    /// Whether the peer connected to us.
    pub(crate) fn inbound(&self) -> bool {
        self.conn_type == ConnectionType::Inbound
    }

    /// The peer's state (locked briefly; never held across I/O or the node's lock).
    pub(crate) fn info(&self) -> MutexGuard<'_, PeerInfo> {
        self.info.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn queue(&self) -> MutexGuard<'_, SendQueue> {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the connection for closing and wakes both its threads.
    pub(crate) fn disconnect(&self) {
        if !self.disconnect.swap(true, Ordering::SeqCst) {
            let _ = self.stream.shutdown(std::net::Shutdown::Both);
        }
        self.queue_cv.notify_all();
    }

    /// Whether the connection is closing.
    pub(crate) fn disconnecting(&self) -> bool {
        self.disconnect.load(Ordering::SeqCst)
    }

    /// Queues `message` for writing; never blocks. Past the hard limit the peer is dropped.
    pub(crate) fn send(&self, message: NetworkMessage) {
        if self.disconnecting() {
            return;
        }
        let (command, bytes) = frame::encode(self.magic, message);
        tracing::debug!(target: "net", "sending {command} ({} bytes) peer={}", bytes.len() - frame::HEADER_LEN, self.id);
        let mut queue = self.queue();
        queue.bytes += bytes.len();
        let over = queue.bytes > SEND_QUEUE_HARD_LIMIT;
        queue.messages.push_back((command, bytes));
        drop(queue);
        if over {
            tracing::info!(target: "net", "send buffer of peer={} over {} bytes: disconnecting", self.id, SEND_QUEUE_HARD_LIMIT);
            self.disconnect();
        } else {
            self.queue_cv.notify_all();
        }
    }

    /// Waits until the send queue is under the soft limit (or the peer is closing): a reader
    /// answering `getdata` calls this so that a peer that does not read stops being served.
    pub(crate) fn wait_send_room(&self) {
        let mut queue = self.queue();
        while queue.bytes > SEND_QUEUE_SOFT_LIMIT && !self.disconnecting() {
            queue = self
                .queue_cv
                .wait_timeout(queue, Duration::from_millis(200))
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// The next message to write, waiting for one; `None` once the peer is closing.
    pub(crate) fn next_to_write(&self) -> Option<(String, Vec<u8>)> {
        let mut queue = self.queue();
        loop {
            if self.disconnecting() {
                return None;
            }
            if let Some((command, bytes)) = queue.messages.pop_front() {
                queue.bytes -= bytes.len();
                drop(queue);
                self.queue_cv.notify_all();
                return Some((command, bytes));
            }
            queue = self
                .queue_cv
                .wait_timeout(queue, Duration::from_millis(500))
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> (Peer, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let stream = TcpStream::connect(addr).expect("connect");
        let (other, _) = listener.accept().expect("accept");
        let endpoint = Endpoint { addr, addr_name: addr.to_string(), conn_type: ConnectionType::Manual };
        (Peer::new(0, stream, endpoint, 1, Magic::REGTEST, Vec::new()), other)
    }

    #[test]
    fn a_peer_that_does_not_read_is_dropped_at_the_hard_limit() {
        let (peer, _other) = peer();
        // Nobody writes the queue out: it grows until the peer is dropped.
        let big = NetworkMessage::Unknown {
            command: bitcoin::p2p::message::CommandString::try_from_static("blob").expect("a command"),
            payload: vec![0; 1 << 20],
        };
        let mut sent = 0usize;
        while !peer.disconnecting() {
            peer.send(big.clone());
            sent += 1;
            assert!(sent <= 70, "still connected after {sent} MiB queued");
        }
        // 64 messages of 1 MiB + 24 bytes of header: just over 64 MiB.
        assert_eq!(sent, 64);
        // A reader waiting for room is released by the disconnect, and nothing is queued any more.
        peer.wait_send_room();
        assert!(peer.next_to_write().is_none());
    }

    #[test]
    fn the_writer_takes_messages_in_order_and_room_comes_back() {
        let (peer, _other) = peer();
        peer.send(NetworkMessage::Ping(1));
        peer.send(NetworkMessage::Verack);
        assert_eq!(peer.next_to_write().map(|(command, _)| command), Some("ping".to_string()));
        assert_eq!(
            peer.next_to_write().map(|(command, bytes)| (command, bytes.len())),
            Some(("verack".to_string(), 24))
        );
        peer.wait_send_room();
        peer.disconnect();
        assert!(peer.next_to_write().is_none());
    }
}
