//! The queue of messages waiting to be written to the peer, and the task
//! that writes them.
//!
//! Messages are written straight from their builders' segments, several at
//! a time with one `sendmsg(2)`. Each queued message is charged to the
//! connection's [`Backlog`] until its last byte is in the socket.
//!
//! Closing (capnp-rpc's `shutdown`, on any disconnect) writes what the
//! socket takes at once, drops the rest and half-closes the socket: a peer
//! that does not read cannot keep a closing connection, or its queue, alive.
//! A write error drops the queue too and refuses later messages.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::IoSlice;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use capnp::message::{Builder, HeapAllocator};
use futures::channel::oneshot;
use futures::future::poll_fn;

use super::backlog::{Backlog, MESSAGE_OVERHEAD};
use crate::event_loop::stream::{WriteHalf, MAX_WRITE_SLICES};

type Message = Rc<Builder<HeapAllocator>>;

struct Queued {
    message: Message,
    /// The stream framing's segment table.
    table: Vec<u8>,
    /// Table plus segments, in bytes.
    size: usize,
    charge: usize,
    sent: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// Write what fits now, then stop.
    Closing,
    /// Nothing is written any more.
    Done,
}

pub(crate) struct WriteQueue {
    items: RefCell<VecDeque<Queued>>,
    /// Bytes of the first item already written.
    offset: Cell<usize>,
    state: Cell<State>,
    writer: RefCell<Option<Waker>>,
    /// The writer waits for the socket (the reactor wakes it): new
    /// messages need not wake it.
    blocked: Cell<bool>,
    backlog: Rc<Backlog>,
}

fn segment_table(segments: &[&[u8]]) -> Vec<u8> {
    let count = segments.len();
    let mut table = Vec::with_capacity((count / 2 + 1) * 8);
    table.extend_from_slice(&(count as u32).wrapping_sub(1).to_le_bytes());
    for segment in segments {
        table.extend_from_slice(&((segment.len() / 8) as u32).to_le_bytes());
    }
    if count % 2 == 0 {
        table.extend_from_slice(&[0; 4]);
    }
    table
}

impl WriteQueue {
    pub(crate) fn new(backlog: Rc<Backlog>) -> Rc<Self> {
        Rc::new(Self {
            items: RefCell::new(VecDeque::new()),
            offset: Cell::new(0),
            state: Cell::new(State::Open),
            writer: RefCell::new(None),
            blocked: Cell::new(false),
            backlog,
        })
    }

    fn wake_writer(&self) {
        if let Some(waker) = self.writer.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Queues `message`; the receiver completes once it is written (and
    /// fails if it is dropped unwritten).
    pub(crate) fn push(&self, message: Message) -> oneshot::Receiver<()> {
        let (sent, receiver) = oneshot::channel();
        if self.state.get() != State::Open {
            return receiver;
        }
        let (table, size) = {
            let segments = message.get_segments_for_output();
            let table = segment_table(&segments);
            let size = table.len() + segments.iter().map(|s| s.len()).sum::<usize>();
            (table, size)
        };
        let charge = size + MESSAGE_OVERHEAD;
        let body = message.get_root_as_reader::<capnp_rpc::rpc_capnp::message::Reader<'_>>().ok();
        self.backlog.queued(charge, body);
        self.items.borrow_mut().push_back(Queued { message, table, size, charge, sent: Some(sent) });
        if !self.blocked.get() {
            self.wake_writer();
        }
        receiver
    }

    /// Stops taking messages: the writer writes what the socket takes now
    /// and finishes.
    pub(crate) fn close(&self) {
        if self.state.get() == State::Open {
            self.state.set(State::Closing);
        }
        self.wake_writer();
    }

    /// Drops every queued message and refuses new ones.
    fn discard(&self) {
        self.state.set(State::Done);
        self.offset.set(0);
        let dropped: Vec<Queued> = self.items.borrow_mut().drain(..).collect();
        let charge: usize = dropped.iter().map(|q| q.charge).sum();
        drop(dropped);
        self.backlog.written(charge);
    }

    /// Marks `n` more bytes written: completes the messages they finish.
    fn advance(&self, mut n: usize) {
        let mut done_charge = 0;
        let mut items = self.items.borrow_mut();
        while n > 0 {
            let Some(front) = items.front_mut() else { break };
            let left = front.size - self.offset.get();
            if n < left {
                self.offset.set(self.offset.get() + n);
                break;
            }
            n -= left;
            self.offset.set(0);
            done_charge += front.charge;
            if let Some(sent) = front.sent.take() {
                let _ = sent.send(());
            }
            items.pop_front();
        }
        drop(items);
        if done_charge > 0 {
            self.backlog.written(done_charge);
        }
    }

    /// Gathers the unwritten bytes of the first queued messages and writes
    /// what the socket takes.
    fn poll_write_some(&self, cx: &Context<'_>, stream: &WriteHalf) -> Poll<std::io::Result<usize>> {
        let items = self.items.borrow();
        let mut slices: [IoSlice<'_>; MAX_WRITE_SLICES] = [IoSlice::new(&[]); MAX_WRITE_SLICES];
        let mut count = 0;
        let mut skip = self.offset.get();
        // Each message gives at least one slice.
        let segment_lists: Vec<_> = items
            .iter()
            .take(MAX_WRITE_SLICES)
            .map(|item| (item, item.message.get_segments_for_output()))
            .collect();
        'gather: for (item, segments) in &segment_lists {
            for piece in std::iter::once(&item.table[..]).chain(segments.iter().copied()) {
                if skip >= piece.len() {
                    skip -= piece.len();
                    continue;
                }
                slices[count] = IoSlice::new(&piece[skip..]);
                skip = 0;
                count += 1;
                if count == MAX_WRITE_SLICES {
                    break 'gather;
                }
            }
        }
        stream.poll_write(cx, &slices[..count])
    }

    /// The writer: runs until the queue is closed and written, or the
    /// stream fails.
    pub(crate) async fn run(self: Rc<Self>, stream: WriteHalf) -> capnp::Result<()> {
        let outcome = poll_fn(|cx| loop {
            self.blocked.set(false);
            if self.items.borrow().is_empty() {
                if self.state.get() == State::Open {
                    *self.writer.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                return Poll::Ready(Ok(()));
            }
            match self.poll_write_some(cx, &stream) {
                Poll::Ready(Ok(n)) => self.advance(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if self.state.get() == State::Closing => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    // Woken by the reactor when the socket is writable, or
                    // by `close`.
                    self.blocked.set(true);
                    *self.writer.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        })
        .await;
        self.discard();
        stream.shutdown();
        match outcome {
            Ok(()) => Ok(()),
            Err(e) => {
                self.backlog.write_failed();
                Err(capnp::Error::disconnected(format!("cannot write to the peer: {e}")))
            }
        }
    }
}
