//! One connection's threads. The reader (the calling thread) reads with a 250 ms timeout so that
//! it also runs the peer's housekeeping (handshake timeout, inactivity, pings), cuts the bytes
//! into messages ([`FrameReader`], never more than one message buffered) and processes each in
//! order. The writer (`p2p-send`) writes the queued messages. Either ends the connection on an
//! error; the reader then waits for the writer, unregisters the peer and logs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::frame::{Frame, FrameReader, Payload};
use super::{handshake, peer::unix_now, Peer, Shared};

/// How long a read waits before the housekeeping runs (a timeout is noticed this late at most).
const READ_TICK: Duration = Duration::from_millis(250);
/// Core's `TIMEOUT_INTERVAL`: no bytes either way for this long (after `-peertimeout`) ends
/// the connection, and so does a write that cannot progress for this long.
pub(crate) const TIMEOUT_INTERVAL: Duration = Duration::from_secs(20 * 60);

/// Core's message types (`ALL_NET_MESSAGE_TYPES`); others are counted as `*other*`.
const KNOWN_TYPES: &[&str] = &[
    "version",
    "verack",
    "addr",
    "addrv2",
    "sendaddrv2",
    "inv",
    "getdata",
    "merkleblock",
    "getblocks",
    "getheaders",
    "tx",
    "headers",
    "block",
    "getaddr",
    "mempool",
    "ping",
    "pong",
    "notfound",
    "filterload",
    "filteradd",
    "filterclear",
    "sendheaders",
    "feefilter",
    "sendcmpct",
    "cmpctblock",
    "getblocktxn",
    "blocktxn",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "getcfcheckpt",
    "cfcheckpt",
    "wtxidrelay",
    "sendtxrcncl",
];

/// The key a message's bytes are counted under in `bytes{sent,recv}_per_msg`.
pub(crate) fn count_key(command: &str) -> String {
    if KNOWN_TYPES.contains(&command) {
        command.to_string()
    } else {
        "*other*".to_string()
    }
}

/// Runs the connection to its end on this thread.
pub(crate) fn run(shared: &Arc<Shared>, peer: &Arc<Peer>, mut stream: TcpStream) {
    let writer = match stream.try_clone() {
        Ok(write_half) => {
            let (s, p) = (shared.clone(), peer.clone());
            std::thread::Builder::new()
                .name("p2p-send".to_string())
                .spawn(move || write_loop(&s, &p, write_half))
        }
        Err(e) => Err(e),
    };
    peer.info().connected_clock = shared.clock();
    tracing::debug!(target: "net", "Added connection peer={}", peer.id);
    match writer {
        Ok(writer) => {
            if !peer.inbound() {
                handshake::send_version(shared, peer);
            }
            read_loop(shared, peer, &mut stream);
            peer.disconnect();
            let _ = writer.join();
        }
        Err(e) => {
            tracing::warn!(target: "net", "cannot start the writer of peer={}: {e}", peer.id);
            peer.disconnect();
        }
    }
    shared.unregister(peer.id);
    tracing::debug!(target: "net", "disconnecting peer={}", peer.id);
}

fn read_loop(shared: &Arc<Shared>, peer: &Arc<Peer>, stream: &mut TcpStream) {
    if let Err(e) = stream.set_read_timeout(Some(READ_TICK)) {
        tracing::debug!(target: "net", "peer={}: {e}", peer.id);
        return;
    }
    let mut reader = FrameReader::new(shared.magic);
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_housekeeping = Instant::now();
    loop {
        if peer.disconnecting() || shared.stopping() {
            return;
        }
        if last_housekeeping.elapsed() >= READ_TICK {
            last_housekeeping = Instant::now();
            if !handshake::housekeeping(shared, peer) {
                return;
            }
        }
        let want = match reader.wanted() {
            Ok(want) => want.min(buf.len()),
            Err(e) => {
                tracing::info!(target: "net", "{e}, peer={}: disconnecting", peer.id);
                return;
            }
        };
        match stream.read(&mut buf[..want]) {
            Ok(0) => {
                tracing::debug!(target: "net", "socket closed for peer={}", peer.id);
                return;
            }
            Ok(n) => {
                reader.push(&buf[..n]);
                shared.total_recv.fetch_add(n as u64, Ordering::Relaxed);
                {
                    let mut info = peer.info();
                    info.bytes_recv += n as u64;
                    info.last_recv = unix_now();
                }
                loop {
                    match reader.next_frame() {
                        Ok(Some(frame)) => {
                            process(shared, peer, frame);
                            if peer.disconnecting() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::info!(target: "net", "{e}, peer={}: disconnecting", peer.id);
                            return;
                        }
                    }
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::debug!(target: "net", "socket recv error for peer={}: {e}", peer.id);
                return;
            }
        }
    }
}

fn hex4(bytes: &[u8; 4]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts a complete message and hands it to the protocol; a panic in the handling (a bug,
/// never expected) ends this connection only.
fn process(shared: &Arc<Shared>, peer: &Arc<Peer>, frame: Frame) {
    *peer.info().recv_per_msg.entry(count_key(&frame.command)).or_insert(0) += frame.wire_len as u64;
    let payload_len = frame.wire_len - super::frame::HEADER_LEN;
    match frame.payload {
        Payload::BadChecksum { shown, expected, received } => {
            tracing::debug!(target: "net", "Header error: Wrong checksum ({shown}, {payload_len} bytes), expected {} was {}, peer={}",
                hex4(&expected), hex4(&received), peer.id);
        }
        Payload::BadCommand(shown) => {
            tracing::debug!(target: "net", "Header error: Invalid message type ({shown}, {payload_len} bytes), peer={}", peer.id);
        }
        Payload::Malformed(_) if frame.command == "pong" && peer.info().handshake_done => {
            handshake::on_short_pong(peer, payload_len);
        }
        Payload::Malformed(e) => {
            tracing::debug!(target: "net", "ProcessMessages({}, {payload_len} bytes): Exception '{e}' caught, peer={}", frame.command, peer.id);
        }
        Payload::Message(message) => {
            tracing::debug!(target: "net", "received: {} ({payload_len} bytes) peer={}", frame.command, peer.id);
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handshake::handle(shared, peer, message);
            }));
            if handled.is_err() {
                tracing::error!(target: "net", "processing {} from peer={} panicked: disconnecting", frame.command, peer.id);
                peer.disconnect();
            }
            // As Core's SendMessages after each message: a due trickle goes out now, not at
            // the next housekeeping tick.
            super::relay::trickle(shared, peer);
        }
    }
}

fn write_loop(shared: &Shared, peer: &Peer, mut stream: TcpStream) {
    if let Err(e) = stream.set_write_timeout(Some(TIMEOUT_INTERVAL)) {
        tracing::debug!(target: "net", "peer={}: {e}", peer.id);
        peer.disconnect();
        return;
    }
    while let Some((command, bytes)) = peer.next_to_write() {
        if let Err(e) = stream.write_all(&bytes) {
            tracing::debug!(target: "net", "socket send error for peer={}: {e}", peer.id);
            peer.disconnect();
            return;
        }
        shared.total_sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let mut info = peer.info();
        info.bytes_sent += bytes.len() as u64;
        info.last_send = unix_now();
        *info.sent_per_msg.entry(count_key(&command)).or_insert(0) += bytes.len() as u64;
    }
}
