//! Reading Cap'n Proto stream-framed messages without trusting the sizes
//! the peer declares.
//!
//! A message starts with a segment table: the segment count and each
//! segment's size in words. A peer may declare up to the connection's
//! message limit and then send nothing, so the declared size is never
//! allocated up front. The body buffer is sized at twice what has arrived
//! (what is already buffered plus what the kernel holds; at least
//! [`FIRST_CHUNK`] bytes, at most the declared size) and grown the same way
//! only when it is full, so it is never more than twice the bytes received
//! (or `FIRST_CHUNK`), and a message that is mostly there when its reading
//! starts is read without regrowing. The bytes are read straight into it, with no zeroing and
//! no staging copy; small messages are taken from a per-connection staging
//! buffer that holds whatever one read returned.

use std::mem::MaybeUninit;

use capnp::message::ReaderSegments;
use capnp::Word;
use futures::future::poll_fn;

use crate::event_loop::stream::ReadHalf;

/// Size of the staging buffer; also the first body allocation of a message
/// that has not fully arrived.
pub(crate) const FIRST_CHUNK: usize = 64 * 1024;

/// Most segments in a message (the limit capnp itself applies).
const MAX_SEGMENTS: usize = 512;

/// A received message's segments, in one word-aligned buffer.
pub(crate) struct Segments {
    words: Vec<Word>,
    /// Word offset where each segment ends.
    ends: Vec<usize>,
}

impl Segments {
    /// Bytes allocated for the message.
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

impl ReaderSegments for Segments {
    fn get_segment(&self, idx: u32) -> Option<&[u8]> {
        let idx = idx as usize;
        let end = *self.ends.get(idx)?;
        let start = if idx == 0 { 0 } else { self.ends[idx - 1] };
        Some(Word::words_to_bytes(&self.words[start..end]))
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

pub(crate) struct MessageReader {
    stream: ReadHalf,
    /// Received bytes; `staging[start..]` are not consumed yet.
    staging: Vec<u8>,
    start: usize,
    max_words: usize,
}

fn premature_end() -> capnp::Error {
    capnp::Error::disconnected("the peer closed the connection in the middle of a message".into())
}

/// The spare capacity of `words` as bytes.
fn spare_bytes(words: &mut Vec<Word>) -> &mut [MaybeUninit<u8>] {
    let spare = words.spare_capacity_mut();
    let len = spare.len() * 8;
    // SAFETY: the region is `len` bytes of `words`' allocation, borrowed
    // mutably from it for the returned lifetime; `MaybeUninit<u8>` has
    // alignment 1 and accepts any contents, so viewing uninitialised words
    // as uninitialised bytes is sound.
    unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<MaybeUninit<u8>>(), len) }
}

impl MessageReader {
    /// Reads from `stream`; messages over `max_bytes` are an error.
    pub(crate) fn new(stream: ReadHalf, max_bytes: usize) -> Self {
        Self { stream, staging: Vec::with_capacity(FIRST_CHUNK), start: 0, max_words: max_bytes / 8 }
    }

    /// Ready once the peer has hung up (see [`ReadHalf::poll_hangup`]).
    pub(crate) fn poll_hangup(&self, cx: &std::task::Context<'_>) -> std::task::Poll<()> {
        self.stream.poll_hangup(cx)
    }

    fn buffered(&self) -> &[u8] {
        &self.staging[self.start..]
    }

    /// Reads until at least `n` (at most `FIRST_CHUNK`) bytes are buffered;
    /// false at end of stream.
    async fn fill(&mut self, n: usize) -> capnp::Result<bool> {
        while self.buffered().len() < n {
            if self.staging.capacity() - self.start < n {
                self.staging.drain(..self.start);
                self.start = 0;
            }
            let stream = &self.stream;
            let staging = &mut self.staging;
            let got = poll_fn(|cx| stream.poll_read(cx, staging.spare_capacity_mut())).await?;
            if got == 0 {
                return Ok(false);
            }
            // SAFETY: recv initialised the first `got` spare bytes.
            unsafe { staging.set_len(staging.len() + got) };
        }
        Ok(true)
    }

    /// The next message, or `None` at a clean end of stream.
    pub(crate) async fn read(&mut self) -> capnp::Result<Option<Segments>> {
        if !self.fill(8).await? {
            return if self.buffered().is_empty() { Ok(None) } else { Err(premature_end()) };
        }
        let first = self.buffered();
        let count = u32::from_le_bytes([first[0], first[1], first[2], first[3]]).wrapping_add(1) as usize;
        if count == 0 || count >= MAX_SEGMENTS {
            return Err(capnp::Error::failed(format!("invalid message: {count} segments")));
        }
        let table_bytes = (count / 2 + 1) * 8;
        if !self.fill(table_bytes).await? {
            return Err(premature_end());
        }
        let table = &self.buffered()[4..table_bytes];
        let mut ends = Vec::with_capacity(count);
        let mut total_words = 0usize;
        for size in table.chunks_exact(4).take(count) {
            total_words =
                total_words.saturating_add(u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize);
            ends.push(total_words);
        }
        if total_words > self.max_words {
            return Err(capnp::Error::failed(format!(
                "incoming message of {} bytes exceeds the {}-byte limit (LoopConfig::max_message_bytes)",
                total_words * 8,
                self.max_words * 8
            )));
        }
        self.start += table_bytes;

        let total = total_words * 8;
        let buffered = self.buffered().len().min(total);
        let first_allocation = if buffered == total {
            total
        } else {
            (2 * (buffered + self.stream.pending_bytes())).max(FIRST_CHUNK).min(total)
        };
        let mut words: Vec<Word> = Vec::with_capacity(first_allocation.div_ceil(8));
        let from = &self.staging[self.start..self.start + buffered];
        // SAFETY: `words` has room for `first_allocation >= buffered` bytes;
        // the source is another allocation.
        unsafe {
            std::ptr::copy_nonoverlapping(
                from.as_ptr(),
                spare_bytes(&mut words).as_mut_ptr().cast(),
                buffered,
            );
            words.set_len(buffered / 8);
        }
        self.start += buffered;
        if self.start == self.staging.len() {
            self.staging.clear();
            self.start = 0;
        }
        let mut filled = buffered;
        while filled < total {
            if filled == words.capacity() * 8 {
                // Full (so `filled` is a whole number of words, all in `len`).
                let grown = (2 * (filled + self.stream.pending_bytes())).min(total);
                words.reserve_exact((grown - filled).div_ceil(8));
            }
            let room = (words.capacity() * 8).min(total) - filled;
            let partial = filled % 8;
            let stream = &self.stream;
            let target = &mut spare_bytes(&mut words)[partial..partial + room];
            let got = poll_fn(|cx| stream.poll_read(cx, target)).await?;
            if got == 0 {
                return Err(premature_end());
            }
            filled += got;
            // SAFETY: every byte below `filled` has been copied or received.
            unsafe { words.set_len(filled / 8) };
        }
        Ok(Some(Segments { words, ends }))
    }
}
