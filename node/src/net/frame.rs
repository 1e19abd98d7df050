//! The v1 transport's framing: a 24-byte header (network magic, message type padded with NULs,
//! payload length, first four bytes of the payload's double SHA-256) and the payload.
//!
//! [`FrameReader`] cuts a byte stream into messages without trusting the peer: the header is
//! checked as soon as its 24 bytes are in (wrong magic or a declared length over
//! [`MAX_PROTOCOL_MESSAGE_LENGTH`] end the connection before any payload is read), a payload is
//! never allocated ahead of the bytes that arrive, and a wrong checksum or an invalid message
//! type drops that message only (as Core's `V1Transport` does). Decoding the payload is
//! rust-bitcoin's; a payload that does not decode is reported, never a panic.

use bitcoin::consensus::{deserialize_partial, serialize};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::Magic;

/// Bytes in a message header.
pub(crate) const HEADER_LEN: usize = 24;
/// Core's `MAX_PROTOCOL_MESSAGE_LENGTH`: the largest payload a peer may send (4,000,000 bytes).
pub(crate) const MAX_PROTOCOL_MESSAGE_LENGTH: usize = 4_000_000;

/// A header that ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    /// The message does not start with this network's magic (garbage, another network, or a
    /// v2 transport handshake).
    #[error("Header error: Wrong MessageStart {0} received")]
    BadMagic(String),
    /// The declared payload is larger than any valid message.
    #[error("Header error: Size too large ({command}, {length} bytes)")]
    Oversized {
        /// The message type as sent (sanitised).
        command: String,
        /// The declared length.
        length: usize,
    },
}

/// What one complete message turned out to be.
#[derive(Debug)]
pub(crate) enum Payload {
    /// A message rust-bitcoin decoded (`NetworkMessage::Unknown` for types it does not know).
    Message(NetworkMessage),
    /// The checksum does not match the payload: dropped.
    BadChecksum {
        /// The message type's printable characters, for the log.
        shown: String,
        /// The payload's checksum.
        expected: [u8; 4],
        /// The header's.
        received: [u8; 4],
    },
    /// The message type is not printable ASCII followed by NULs: dropped (its printable part).
    BadCommand(String),
    /// The payload does not decode as its type says: dropped.
    Malformed(String),
}

/// One message cut from the stream.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The message type as sent, for logs and the per-type byte counts.
    pub(crate) command: String,
    /// Header plus payload, the bytes it took on the wire (Core counts both).
    pub(crate) wire_len: usize,
    /// The decoded message or why it was dropped.
    pub(crate) payload: Payload,
}

/// The message type in a header: `None` unless printable ASCII up to the first NUL and only
/// NULs after it (Core's `IsMessageTypeValid`).
fn parse_command(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
    let (name, padding) = raw.split_at(end);
    let printable = name.iter().all(|b| (0x20..=0x7e).contains(b));
    if printable && padding.iter().all(|b| *b == 0) {
        Some(String::from_utf8_lossy(name).into_owned())
    } else {
        None
    }
}

/// The first four bytes of the double SHA-256 of `payload`.
pub(crate) fn checksum(payload: &[u8]) -> [u8; 4] {
    let hash = sha256d::Hash::hash(payload).to_byte_array();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Serialises `message` for `magic`: its type name and the bytes to send.
pub(crate) fn encode(magic: Magic, message: NetworkMessage) -> (String, Vec<u8>) {
    let command = message.command().to_string();
    (command, serialize(&RawNetworkMessage::new(magic, message)))
}

/// Cuts messages out of the bytes received, holding at most one header and one payload.
#[derive(Debug)]
pub(crate) struct FrameReader {
    magic: Magic,
    buf: Vec<u8>,
}

impl FrameReader {
    /// A reader for `magic`'s network.
    pub(crate) fn new(magic: Magic) -> FrameReader {
        FrameReader { magic, buf: Vec::new() }
    }

    /// Bytes received and not yet part of a complete message.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// How many more bytes the message being read needs (at least 1): a caller reads no more
    /// than this, so the buffer never holds more than one message.
    pub(crate) fn wanted(&self) -> Result<usize, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(HEADER_LEN - self.buf.len());
        }
        let total = HEADER_LEN + self.check_header()?;
        Ok(total.saturating_sub(self.buf.len()).max(1))
    }

    /// Appends received bytes.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Checks the buffered header; the declared payload length.
    fn check_header(&self) -> Result<usize, FrameError> {
        let header = &self.buf[..HEADER_LEN];
        if header[..4] != self.magic.to_bytes() {
            return Err(FrameError::BadMagic(header[..4].iter().map(|b| format!("{b:02x}")).collect()));
        }
        let mut length = [0u8; 4];
        length.copy_from_slice(&header[16..20]);
        let length = usize::try_from(u32::from_le_bytes(length)).unwrap_or(usize::MAX);
        if length > MAX_PROTOCOL_MESSAGE_LENGTH {
            let command = String::from_utf8_lossy(&header[4..16])
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>();
            return Err(FrameError::Oversized { command, length });
        }
        Ok(length)
    }

    /// The next complete message, `None` until its bytes are all in, an error when the header
    /// is one that ends the connection.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let length = self.check_header()?;
        let total = HEADER_LEN + length;
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let (header, payload_bytes) = bytes.split_at(HEADER_LEN);
        // Core's order: the checksum first (reported with the type's printable characters),
        // then the type itself.
        let shown: String =
            String::from_utf8_lossy(&header[4..16]).chars().filter(|c| !c.is_control()).collect();
        let expected = checksum(payload_bytes);
        if header[20..24] != expected {
            let mut received = [0u8; 4];
            received.copy_from_slice(&header[20..24]);
            let payload = Payload::BadChecksum { shown, expected, received };
            let command = parse_command(&header[4..16]).unwrap_or_else(|| "*other*".to_string());
            return Ok(Some(Frame { command, wire_len: total, payload }));
        }
        let Some(command) = parse_command(&header[4..16]) else {
            return Ok(Some(Frame {
                command: "*other*".to_string(),
                wire_len: total,
                payload: Payload::BadCommand(shown),
            }));
        };
        let payload = match deserialize_partial::<RawNetworkMessage>(&bytes) {
            Ok((raw, _)) => Payload::Message(raw.into_payload()),
            Err(e) => Payload::Malformed(e.to_string()),
        };
        Ok(Some(Frame { command, wire_len: total, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> FrameReader {
        FrameReader::new(Magic::REGTEST)
    }

    fn message(command: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut out = Magic::REGTEST.to_bytes().to_vec();
        let mut name = [0u8; 12];
        name[..command.len()].copy_from_slice(command);
        out.extend_from_slice(&name);
        out.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&checksum(payload));
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn round_trip_byte_by_byte() {
        let (command, bytes) = encode(Magic::REGTEST, NetworkMessage::Ping(42));
        assert_eq!(command, "ping");
        assert_eq!(bytes.len(), 32);
        let mut r = reader();
        for (i, byte) in bytes.iter().enumerate() {
            assert!(r.wanted().expect("valid header") >= 1);
            r.push(&[*byte]);
            let frame = r.next_frame().expect("valid");
            if i + 1 < bytes.len() {
                assert!(frame.is_none());
            } else {
                let frame = frame.expect("complete");
                assert_eq!(frame.command, "ping");
                assert_eq!(frame.wire_len, 32);
                assert!(matches!(frame.payload, Payload::Message(NetworkMessage::Ping(42))));
            }
        }
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn two_messages_in_one_read() {
        let mut bytes = encode(Magic::REGTEST, NetworkMessage::Verack).1;
        bytes.extend(encode(Magic::REGTEST, NetworkMessage::Pong(7)).1);
        let mut r = reader();
        r.push(&bytes);
        assert!(matches!(
            r.next_frame(),
            Ok(Some(Frame { payload: Payload::Message(NetworkMessage::Verack), .. }))
        ));
        assert!(matches!(
            r.next_frame(),
            Ok(Some(Frame { payload: Payload::Message(NetworkMessage::Pong(7)), .. }))
        ));
        assert!(matches!(r.next_frame(), Ok(None)));
    }

    #[test]
    fn wrong_magic_ends_the_connection_at_the_header() {
        let mut bytes = encode(Magic::BITCOIN, NetworkMessage::Verack).1;
        let mut r = reader();
        r.push(&bytes[..HEADER_LEN]);
        assert!(matches!(r.next_frame(), Err(FrameError::BadMagic(m)) if m == "f9beb4d9"));
        bytes.clear();
        let mut r = reader();
        r.push(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(r.wanted(), Err(FrameError::BadMagic(_))));
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload() {
        let mut header = message(b"block", &[]);
        header[16..20].copy_from_slice(&4_000_001u32.to_le_bytes());
        let mut r = reader();
        r.push(&header);
        assert_eq!(
            r.next_frame().err(),
            Some(FrameError::Oversized { command: "block".to_string(), length: 4_000_001 })
        );
        // The largest allowed size is accepted (and waited for, not allocated).
        header[16..20].copy_from_slice(&4_000_000u32.to_le_bytes());
        let mut r = reader();
        r.push(&header);
        assert_eq!(r.wanted(), Ok(4_000_000));
        assert!(matches!(r.next_frame(), Ok(None)));
        assert_eq!(r.buffered(), HEADER_LEN);
    }

    #[test]
    fn bad_checksum_drops_the_message_only() {
        let mut bytes = message(b"ping", &5u64.to_le_bytes());
        bytes[20] ^= 0xff;
        bytes.extend(encode(Magic::REGTEST, NetworkMessage::Ping(6)).1);
        let mut r = reader();
        r.push(&bytes);
        assert!(matches!(r.next_frame(), Ok(Some(Frame { payload: Payload::BadChecksum { .. }, .. }))));
        assert!(matches!(
            r.next_frame(),
            Ok(Some(Frame { payload: Payload::Message(NetworkMessage::Ping(6)), .. }))
        ));
    }

    #[test]
    fn bad_checksum_of_an_unknown_type_is_reported_with_both_sums() {
        // Core's test type: not a valid one, yet the checksum is what is reported.
        let mut bytes = message(b"badmsg\x01", b"\x01d");
        bytes[20..24].copy_from_slice(&[0xff; 4]);
        let mut r = reader();
        r.push(&bytes);
        let frame = r.next_frame().expect("valid").expect("complete");
        assert_eq!(frame.command, "*other*");
        assert!(
            matches!(&frame.payload, Payload::BadChecksum { shown, expected: [0x78, 0xdf, 0x0a, 0x04], received: [0xff, 0xff, 0xff, 0xff] } if shown == "badmsg"),
            "{frame:?}"
        );
    }

    #[test]
    fn invalid_command_and_malformed_payload_are_dropped() {
        let mut r = reader();
        r.push(&message(b"pi\x01g", &[]));
        assert!(matches!(r.next_frame(), Ok(Some(Frame { payload: Payload::BadCommand(_), .. }))));
        r.push(&message(b"ping\0x", &[]));
        assert!(matches!(r.next_frame(), Ok(Some(Frame { payload: Payload::BadCommand(_), .. }))));
        // A ping needs 8 bytes.
        r.push(&message(b"ping", &[1, 2, 3]));
        assert!(matches!(r.next_frame(), Ok(Some(Frame { payload: Payload::Malformed(_), .. }))));
        // A headers message with an absurd count decodes to an error, not an allocation.
        r.push(&message(b"headers", &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        assert!(matches!(r.next_frame(), Ok(Some(Frame { payload: Payload::Malformed(_), .. }))));
        // An unknown type is a message rust-bitcoin keeps as Unknown.
        r.push(&message(b"sendtxrcncl", &[0; 12]));
        let frame = r.next_frame().expect("valid").expect("complete");
        assert_eq!(frame.command, "sendtxrcncl");
        assert!(matches!(frame.payload, Payload::Message(NetworkMessage::Unknown { .. })));
    }
}
