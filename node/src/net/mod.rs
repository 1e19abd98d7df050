//! Peer-to-peer networking: the minimum of Bitcoin Core's P2P protocol that lets nodes connect,
//! sync blocks headers-first and relay transactions (what Core's functional test framework's
//! `connect_nodes` / `sync_blocks` / `sync_mempools` rely on).
//!
//! What it is: the v1 transport (no BIP324), the version handshake as Core does it (protocol
//! 70016, `wtxidrelay`, `sendaddrv2`, `verack`, `sendheaders`, ping/pong), `getheaders` /
//! `headers` / `getdata` / `block` / `inv` / `tx` / `notfound`, manual connections (`-connect`,
//! `-addnode`, the `addnode` RPC) and listening on `-bind` / `-port`. What it is not: address
//! relay and peer discovery (no `addr` handling, no automatic outbound connections), compact
//! blocks, bloom filters, orphan transactions, banning and eviction.
//!
//! Files: `frame.rs` the framing and its limits; `peer.rs` one connection's state and send
//! queue; `conn.rs` a connection's two threads; `handshake.rs` version/verack/ping;
//! `sync.rs` headers and blocks; `relay.rs` transactions and the node's notifications.
//!
//! Threads: `p2p-listen` accepts (non-blocking, polled every 100 ms so that stop is prompt),
//! `p2p-addcon` opens and re-opens the `-connect` / added connections every 2 s, and each peer
//! has a reader (`p2p-recv`, which also processes the messages, one peer's in order) and a
//! writer (`p2p-send`). The node's state lock is taken only around chain and mempool reads and
//! by `submit_block` / `submit_transaction`, never across socket I/O: everything sent goes
//! through the peer's queue, which never blocks the thread that fills it. Stop: the flag is set,
//! every socket is shut down (which ends its reader's `read` and its writer's wait), and all
//! threads are joined.

mod conn;
mod frame;
mod handshake;
mod peer;
mod permissions;
mod relay;
mod sync;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use bitcoin::p2p::{Magic, ServiceFlags};
use bitcoin::{Txid, Wtxid};
use interfaces::Handler;

use crate::NodeState;
pub(crate) use peer::{unix_now, Peer};

/// Core's `PROTOCOL_VERSION`.
pub const PROTOCOL_VERSION: u32 = 70_016;
/// The services this node offers: `NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED`, as a
/// regtest bitcoind without `-peerbloomfilters` and without v2 transport.
pub const LOCAL_SERVICES: u64 = 1 | 8 | 1024;
/// How long an outbound connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Outbound connection attempts under way at once, at most.
const MAX_PENDING_CONNECTS: usize = 32;
/// How often the added connections are checked.
const ADDCON_INTERVAL: Duration = Duration::from_secs(2);

/// Core's names of the service bits (`servicesnames`).
pub fn service_names(services: u64) -> Vec<&'static str> {
    const NAMES: &[(u64, &str)] = &[
        (1, "NETWORK"),
        (2, "GETUTXO"),
        (4, "BLOOM"),
        (8, "WITNESS"),
        (64, "COMPACT_FILTERS"),
        (1024, "NETWORK_LIMITED"),
        (2048, "P2P_V2"),
    ];
    NAMES.iter().filter(|(bit, _)| services & bit != 0).map(|(_, name)| *name).collect()
}

/// The networking options, from the node's [`config::Config`].
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// `-listen`.
    pub listen: bool,
    /// `-bind` values (`addr[:port][=onion]`); empty: all interfaces.
    pub bind: Vec<String>,
    /// `-port`.
    pub port: u16,
    /// `-connect` addresses (only these are connected, kept connected).
    pub connect: Vec<String>,
    /// `-addnode` addresses (kept connected).
    pub addnode: Vec<String>,
    /// `-maxconnections`.
    pub max_connections: usize,
    /// `-v2transport`: accepted; connections are v1 anyway (see the module doc).
    pub v2transport: bool,
    /// `-peertimeout`: how long a peer has to complete the handshake, and the grace period
    /// before inactivity counts.
    pub peer_timeout: Duration,
    /// Our user agent (`/mpx:<version>(<comments>)/`).
    pub subversion: String,
    /// `-whitelist` values.
    pub whitelist: Vec<String>,
}

impl NetConfig {
    /// The networking part of `config`.
    pub fn from_config(config: &config::Config) -> NetConfig {
        let p2p = &config.p2p;
        NetConfig {
            listen: p2p.listen,
            bind: p2p.bind.clone(),
            port: p2p.port,
            connect: p2p.connect.clone(),
            addnode: p2p.addnode.clone(),
            max_connections: usize::try_from(p2p.max_connections).unwrap_or(usize::MAX),
            v2transport: p2p.v2transport,
            peer_timeout: Duration::from_secs(p2p.peer_timeout_secs),
            subversion: config.subversion(),
            whitelist: p2p.whitelist.clone(),
        }
    }
}

/// Why networking could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A `-bind` address could not be bound (Core's message).
    #[error("Unable to bind to {0} on this computer. mpx-node is probably already running.")]
    Bind(String),
    /// No address could be bound.
    #[error("Failed to listen on any port. Use -listen=0 if you want this.")]
    NoListener,
    /// A thread could not be started.
    #[error("cannot start a networking thread: {0}")]
    Thread(std::io::Error),
}

/// `addnode add|remove` refusals (`-23` / `-24` in the RPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddedError {
    AlreadyAdded,
    NotAdded,
}

/// What the threads share.
pub(crate) struct Shared {
    pub(crate) node: Arc<NodeState>,
    pub(crate) config: NetConfig,
    pub(crate) magic: Magic,
    peers: Mutex<BTreeMap<u64, Arc<Peer>>>,
    next_id: AtomicU64,
    added: Mutex<Vec<String>>,
    connecting: Mutex<HashSet<String>>,
    active: AtomicBool,
    stopping: AtomicBool,
    pub(crate) total_sent: AtomicU64,
    pub(crate) total_recv: AtomicU64,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Blocks connected since the last tip announcement.
    pub(crate) pending_blocks: Mutex<Vec<bitcoin::BlockHash>>,
    /// Transactions refused since the last tip (not requested again until a new block).
    pub(crate) recent_rejects: Mutex<HashSet<[u8; 32]>>,
    /// wtxid -> txid of the transactions announced, to answer `getdata` for a wtxid.
    pub(crate) wtxids: Mutex<HashMap<Wtxid, Txid>>,
    /// Each mempool transaction's entry sequence (0: taken back from a disconnected block),
    /// and the next sequence number (Core's mempool sequence, see `relay.rs`).
    pub(crate) tx_sequence: Mutex<HashMap<Txid, u64>>,
    pub(crate) next_sequence: AtomicU64,
    /// Between a `block_disconnected` and its change's `updated_block_tip`: transactions added
    /// then come back from the disconnected blocks.
    pub(crate) in_reorg: AtomicBool,
    nonce_seed: AtomicU64,
    whitelist: Vec<permissions::WhitelistEntry>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Locks `m`, a poisoned lock included (the data stay consistent: every critical section here
/// is a few field updates).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Every connected peer, in id order.
    pub(crate) fn peers(&self) -> Vec<Arc<Peer>> {
        lock(&self.peers).values().cloned().collect()
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The node's clock in seconds: `setmocktime`'s when set, else the system's (fractional).
    pub(crate) fn clock(&self) -> f64 {
        match self.node.lock().chain.mock_time() {
            Some(time) => f64::from(time),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }

    /// The `-whitelist` permissions of a peer at `addr`.
    pub(crate) fn permissions(&self, addr: &SocketAddr, inbound: bool) -> Vec<&'static str> {
        permissions::for_peer(&self.whitelist, addr.ip(), inbound)
    }

    /// A random 64-bit nonce (SipHash of a counter under the process's random keys).
    pub(crate) fn nonce(&self) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(self.nonce_seed.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
        );
        hasher.finish()
    }

    /// Whether `nonce` is the one of a `version` we sent (we connected to ourselves).
    pub(crate) fn is_local_nonce(&self, nonce: u64) -> bool {
        lock(&self.peers).values().any(|p| !p.inbound() && p.local_nonce == nonce)
    }

    fn register(&self, peer: Arc<Peer>) {
        lock(&self.peers).insert(peer.id, peer);
    }

    pub(crate) fn unregister(&self, id: u64) {
        lock(&self.peers).remove(&id);
    }

    fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let handle = std::thread::Builder::new().name(name.to_string()).spawn(f)?;
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        threads.push(handle);
        Ok(())
    }

    /// Whether an outbound connection to `name` exists or is being made.
    fn connected_to(&self, name: &str) -> bool {
        let resolved = resolve(name, self.config.port);
        lock(&self.connecting).contains(name)
            || lock(&self.peers).values().any(|p| {
                !p.inbound() && (p.addr_name == name || resolved.as_ref().is_some_and(|a| *a == p.addr))
            })
    }
}

/// `host[:port]`, `ip`, `[ipv6]:port` to a socket address (the first the resolver gives).
pub(crate) fn resolve(name: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(addr) = name.parse::<SocketAddr>() {
        return Some(addr);
    }
    if let Ok(ip) = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, default_port));
    }
    let with_port = match name.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => name.to_string(),
        _ => format!("{name}:{default_port}"),
    };
    with_port.to_socket_addrs().ok()?.next()
}

/// `getpeerinfo`'s `network` for an address.
pub(crate) fn network_name(addr: &SocketAddr) -> &'static str {
    match addr.ip() {
        IpAddr::V4(ip)
            if ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() =>
        {
            "not_publicly_routable"
        }
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(ip) if ip.is_loopback() || ip.is_unspecified() => "not_publicly_routable",
        IpAddr::V6(_) => "ipv6",
    }
}

/// The running P2P subsystem. [`Connman::stop`] (or drop) ends every thread.
pub struct Connman {
    shared: Arc<Shared>,
    subscription: Mutex<Option<Box<dyn Handler>>>,
    listen_addrs: Vec<SocketAddr>,
}

impl std::fmt::Debug for Connman {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connman").field("listen_addrs", &self.listen_addrs).finish_non_exhaustive()
    }
}

impl Connman {
    /// Binds the listening sockets, subscribes to the node's notifications and starts the
    /// threads; the `-connect` / `-addnode` connections are opened right away.
    pub fn start(node: Arc<NodeState>, config: NetConfig) -> Result<Connman, NetError> {
        let listeners = if config.listen { bind(&config)? } else { Vec::new() };
        let listen_addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let added = config.addnode.clone();
        let config_whitelist = config.whitelist.clone();
        let shared = Arc::new(Shared {
            node: node.clone(),
            config,
            magic: Magic::REGTEST,
            peers: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            added: Mutex::new(added),
            connecting: Mutex::new(HashSet::new()),
            active: AtomicBool::new(true),
            stopping: AtomicBool::new(false),
            total_sent: AtomicU64::new(0),
            total_recv: AtomicU64::new(0),
            threads: Mutex::new(Vec::new()),
            pending_blocks: Mutex::new(Vec::new()),
            recent_rejects: Mutex::new(HashSet::new()),
            wtxids: Mutex::new(HashMap::new()),
            tx_sequence: Mutex::new(HashMap::new()),
            next_sequence: AtomicU64::new(1),
            in_reorg: AtomicBool::new(false),
            nonce_seed: AtomicU64::new(0),
            whitelist: permissions::parse(&config_whitelist),
        });
        let connman = Connman {
            subscription: Mutex::new(Some(node.handle_notifications(relay::Relay::new(&shared)))),
            shared: shared.clone(),
            listen_addrs,
        };
        for (i, listener) in listeners.into_iter().enumerate() {
            let s = shared.clone();
            shared
                .spawn("p2p-listen", move || {
                    // Core's line for its socket thread (its tests and users grep for it).
                    if i == 0 {
                        tracing::info!("net thread start");
                    }
                    accept_loop(&s, &listener);
                })
                .map_err(NetError::Thread)?;
        }
        let s = shared.clone();
        shared
            .spawn("p2p-addcon", move || {
                tracing::info!("addcon thread start");
                added_connections_loop(&s);
            })
            .map_err(NetError::Thread)?;
        Ok(connman)
    }

    /// Whether `-v2transport` is on (connections are v1 all the same).
    pub fn v2transport_enabled(&self) -> bool {
        self.shared.config.v2transport
    }

    /// Where the node listens.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.listen_addrs
    }

    /// Every connected peer.
    pub(crate) fn peers(&self) -> Vec<Arc<Peer>> {
        self.shared.peers()
    }

    /// (inbound, outbound) connection counts.
    pub fn connection_counts(&self) -> (usize, usize) {
        let peers = self.shared.peers();
        let inbound = peers.iter().filter(|p| p.inbound()).count();
        (inbound, peers.len() - inbound)
    }

    /// `addnode <node> onetry`: one connection attempt, in the background.
    pub fn open_connection(&self, name: &str) {
        open_connection(&self.shared, name.to_string());
    }

    /// `addnode <node> add`.
    pub(crate) fn add_node(&self, name: &str) -> Result<(), AddedError> {
        let mut added = lock(&self.shared.added);
        if added.iter().any(|a| a == name) {
            return Err(AddedError::AlreadyAdded);
        }
        added.push(name.to_string());
        drop(added);
        // Connect now rather than at the next round.
        if !self.shared.connected_to(name) {
            open_connection(&self.shared, name.to_string());
        }
        Ok(())
    }

    /// `addnode <node> remove`.
    pub(crate) fn remove_node(&self, name: &str) -> Result<(), AddedError> {
        let mut added = lock(&self.shared.added);
        let before = added.len();
        added.retain(|a| a != name);
        if added.len() == before {
            Err(AddedError::NotAdded)
        } else {
            Ok(())
        }
    }

    /// The added nodes with the connected peer for each, if any.
    pub(crate) fn added_nodes(&self) -> Vec<(String, Option<Arc<Peer>>)> {
        let added = lock(&self.shared.added).clone();
        let peers = self.shared.peers();
        added
            .into_iter()
            .map(|name| {
                let resolved = resolve(&name, self.shared.config.port);
                let peer = peers
                    .iter()
                    .find(|p| p.addr_name == name || resolved.as_ref().is_some_and(|a| *a == p.addr))
                    .cloned();
                (name, peer)
            })
            .collect()
    }

    /// Disconnects the peers whose address (as connected to, or as given) is `addr`.
    pub fn disconnect_address(&self, addr: &str) -> bool {
        let resolved = addr.parse::<SocketAddr>().ok();
        let mut found = false;
        for peer in self.shared.peers() {
            if peer.addr_name == addr || resolved.is_some_and(|a| a == peer.addr) {
                peer.disconnect();
                found = true;
            }
        }
        found
    }

    /// Disconnects peer `id`.
    pub fn disconnect_id(&self, id: u64) -> bool {
        match lock(&self.shared.peers).get(&id) {
            Some(peer) => {
                peer.disconnect();
                true
            }
            None => false,
        }
    }

    /// The clock ping times are measured on (see [`Shared::clock`]).
    pub(crate) fn clock(&self) -> f64 {
        self.shared.clock()
    }

    /// Bytes (received, sent) over all connections since start.
    pub fn totals(&self) -> (u64, u64) {
        (self.shared.total_recv.load(Ordering::Relaxed), self.shared.total_sent.load(Ordering::Relaxed))
    }

    /// `ping`: every peer gets a ping at its next housekeeping round.
    pub fn ping_all(&self) {
        for peer in self.shared.peers() {
            peer.info().ping_queued = true;
        }
    }

    /// Whether networking is active (`setnetworkactive`).
    pub fn network_active(&self) -> bool {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// `setnetworkactive`: off disconnects every peer and refuses new connections.
    pub fn set_network_active(&self, active: bool) {
        let was = self.shared.active.swap(active, Ordering::SeqCst);
        if was != active {
            tracing::info!("SetNetworkActive: {active}");
        }
        if !active {
            for peer in self.shared.peers() {
                peer.disconnect();
            }
        }
    }

    /// Disconnects everyone, ends and joins every thread. Idempotent.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(handler) = lock(&self.subscription).take() {
            // Dropping unsubscribes too; an error here changes nothing.
            let _ = handler.disconnect();
        }
        for peer in self.shared.peers() {
            peer.disconnect();
        }
        loop {
            let threads: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.shared.threads));
            if threads.is_empty() {
                break;
            }
            for thread in threads {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Connman {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The listening sockets: each `-bind` (an address that cannot be bound is an error, as in
/// Core), else every interface on `-port` (IPv4; IPv6 too where it is a separate socket).
fn bind(config: &NetConfig) -> Result<Vec<TcpListener>, NetError> {
    let mut listeners = Vec::new();
    if config.bind.is_empty() {
        for ip in [IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V6(Ipv6Addr::UNSPECIFIED)] {
            match TcpListener::bind(SocketAddr::new(ip, config.port)) {
                Ok(listener) => listeners.push(listener),
                // On a dual-stack system `[::]` overlaps `0.0.0.0`, already bound.
                Err(e) => tracing::debug!(target: "net", "not listening on {ip} port {}: {e}", config.port),
            }
        }
        if listeners.is_empty() {
            return Err(NetError::NoListener);
        }
    } else {
        let mut bound = HashSet::new();
        for bind in &config.bind {
            let address = bind.strip_suffix("=onion").unwrap_or(bind);
            let addr = resolve(address, config.port).ok_or_else(|| NetError::Bind(address.to_string()))?;
            // The same address from bitcoin.conf and the command line is one listener.
            if !bound.insert(addr) {
                continue;
            }
            let listener = TcpListener::bind(addr).map_err(|_| NetError::Bind(addr.to_string()))?;
            listeners.push(listener);
        }
    }
    for listener in &listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!("Bound to {addr}");
        }
        // Polled, so that the thread sees the stop flag.
        if let Err(e) = listener.set_nonblocking(true) {
            tracing::warn!("cannot make the P2P listener non-blocking: {e}");
        }
    }
    Ok(listeners)
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, addr)) => accept(shared, stream, addr),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => {
                // Out of file descriptors and the like: back off, keep listening.
                tracing::warn!(target: "net", "accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn accept(shared: &Arc<Shared>, stream: TcpStream, addr: SocketAddr) {
    if !shared.active.load(Ordering::SeqCst) {
        tracing::debug!(target: "net", "connection from {addr} dropped: not accepting P2P connections");
        return;
    }
    if shared.peers().len() >= shared.config.max_connections {
        tracing::debug!(target: "net", "connection from {addr} dropped (full)");
        return;
    }
    if let Err(e) = stream.set_nonblocking(false) {
        tracing::debug!(target: "net", "connection from {addr} dropped: {e}");
        return;
    }
    let clone = match stream.try_clone() {
        Ok(clone) => clone,
        Err(e) => {
            tracing::warn!(target: "net", "connection from {addr} dropped: {e}");
            return;
        }
    };
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let nonce = shared.nonce();
    let endpoint =
        peer::Endpoint { addr, addr_name: addr.to_string(), conn_type: peer::ConnectionType::Inbound };
    let peer = Arc::new(Peer::new(id, clone, endpoint, nonce, shared.magic, shared.permissions(&addr, true)));
    tracing::debug!(target: "net", "connection from {addr} accepted, peer={id}");
    start_peer(shared, peer, stream);
}

fn start_peer(shared: &Arc<Shared>, peer: Arc<Peer>, stream: TcpStream) {
    shared.register(peer.clone());
    let s = shared.clone();
    let id = peer.id;
    if let Err(e) = shared.spawn("p2p-recv", move || conn::run(&s, &peer, stream)) {
        tracing::warn!(target: "net", "cannot start a thread for peer={id}: {e}");
        shared.unregister(id);
    }
}

/// Connects to `name` in the background (a `p2p-recv` thread that becomes the peer's reader).
fn open_connection(shared: &Arc<Shared>, name: String) {
    if shared.stopping() || !shared.active.load(Ordering::SeqCst) || shared.connected_to(&name) {
        return;
    }
    {
        // Each attempt is a thread for up to CONNECT_TIMEOUT: a burst of `addnode onetry` to
        // dead addresses must not become a burst of threads.
        let mut connecting = lock(&shared.connecting);
        if connecting.len() >= MAX_PENDING_CONNECTS {
            tracing::info!(target: "net", "not connecting to {name}: {MAX_PENDING_CONNECTS} connection attempts under way");
            return;
        }
        connecting.insert(name.clone());
    }
    let s = shared.clone();
    let spawned = shared.spawn("p2p-recv", move || {
        let stream = connect(&s, &name);
        lock(&s.connecting).remove(&name);
        let Some((stream, addr)) = stream else { return };
        match stream.try_clone() {
            Ok(clone) => {
                let id = s.next_id.fetch_add(1, Ordering::SeqCst);
                let nonce = s.nonce();
                let permissions = s.permissions(&addr, false);
                let endpoint =
                    peer::Endpoint { addr, addr_name: name, conn_type: peer::ConnectionType::Manual };
                let peer = Arc::new(Peer::new(id, clone, endpoint, nonce, s.magic, permissions));
                s.register(peer.clone());
                conn::run(&s, &peer, stream);
            }
            Err(e) => tracing::warn!(target: "net", "connection to {name} dropped: {e}"),
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(target: "net", "cannot start a connection thread: {e}");
    }
}

fn connect(shared: &Shared, name: &str) -> Option<(TcpStream, SocketAddr)> {
    let Some(addr) = resolve(name, shared.config.port) else {
        tracing::info!(target: "net", "cannot resolve {name}");
        return None;
    };
    tracing::debug!(target: "net", "trying v1 connection {name} lastseen=0.0hrs");
    match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
        Ok(stream) => Some((stream, addr)),
        Err(e) => {
            tracing::debug!(target: "net", "connection to {name} failed: {e}");
            None
        }
    }
}

/// Keeps the `-connect` and added nodes connected.
fn added_connections_loop(shared: &Arc<Shared>) {
    let mut first = true;
    while !shared.stopping() {
        if !first {
            let mut slept = Duration::ZERO;
            while slept < ADDCON_INTERVAL && !shared.stopping() {
                std::thread::sleep(Duration::from_millis(100));
                slept += Duration::from_millis(100);
            }
        }
        first = false;
        if !shared.active.load(Ordering::SeqCst) {
            continue;
        }
        let mut names = shared.config.connect.clone();
        names.extend(lock(&shared.added).iter().cloned());
        for name in names {
            if !shared.connected_to(&name) {
                open_connection(shared, name);
            }
        }
    }
}

/// The services we offer, as rust-bitcoin's flags.
pub(crate) fn local_services() -> ServiceFlags {
    ServiceFlags::from(LOCAL_SERVICES)
}
