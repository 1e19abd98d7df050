//! What one connection holds on its peer's behalf, and when to stop reading
//! from that peer.
//!
//! Three things grow with what a peer sends and are counted here:
//! - **queued**: replies and other messages waiting for the peer to read
//!   them (a peer that never reads would otherwise grow this without end);
//!   each message counts as its size plus [`MESSAGE_OVERHEAD`];
//! - **held**: bytes of received messages still alive (calls queued behind
//!   a promise keep theirs);
//! - **pending calls**: the peer's questions (`Call`, `Bootstrap`) not yet
//!   answered, or answered with capabilities and not yet finished by the
//!   peer: each holds an answer-table entry and often a queued job.
//!
//! On connections this process serves, the transport asks [`Backlog::poll_may_read`]
//! before it reads each message: while any count is over its limit, the peer
//! is not read, so it waits (its writes block once the kernel buffers are
//! full) and loses nothing. Each count falls without the peer sending
//! anything more, except a pending call that waits for a callback's answer:
//! see [`LoopConfig::max_pending_calls`](crate::LoopConfig::max_pending_calls).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use capnp_rpc::rpc_capnp::message;

/// Bookkeeping charged per queued message on top of its bytes: the message
/// builder's first segment is allocated at about this size even for a
/// short reply, and capnp-rpc and the queue keep a few words per message.
pub(crate) const MESSAGE_OVERHEAD: usize = 1024;

/// The limits of one connection (from [`LoopConfig`](crate::LoopConfig)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_queued_bytes: usize,
    pub(crate) max_held_bytes: usize,
    pub(crate) max_pending_calls: usize,
    /// Stop reading while over a limit (connections this process serves);
    /// otherwise only count.
    pub(crate) pause: bool,
}

/// Why reading is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Queued,
    Held,
    Calls,
}

/// A question of the peer that is not finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    Bootstrap,
    Call,
}

pub(crate) struct Backlog {
    limits: Limits,
    queued: Cell<usize>,
    held: Cell<usize>,
    pending: RefCell<HashMap<u32, Question>>,
    last_received: Cell<Instant>,
    /// The reader, while it waits for a count to fall.
    paused: RefCell<Option<Waker>>,
    /// Nothing more can be written: never pause again (the peer's end of
    /// stream must be read for the connection to close).
    write_failed: Cell<bool>,
    /// The reason the peer gave when it closed the connection (`Abort`).
    peer_abort: RefCell<Option<capnp::Error>>,
    /// For log lines.
    pub(crate) conn_id: Cell<u64>,
}

impl Backlog {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            queued: Cell::new(0),
            held: Cell::new(0),
            pending: RefCell::new(HashMap::new()),
            last_received: Cell::new(Instant::now()),
            paused: RefCell::new(None),
            write_failed: Cell::new(false),
            peer_abort: RefCell::new(None),
            conn_id: Cell::new(0),
        }
    }

    fn over(&self) -> Option<Over> {
        if !self.limits.pause || self.write_failed.get() {
            return None;
        }
        if self.queued.get() > self.limits.max_queued_bytes {
            Some(Over::Queued)
        } else if self.held.get() > self.limits.max_held_bytes {
            Some(Over::Held)
        } else if self.pending.borrow().len() >= self.limits.max_pending_calls {
            Some(Over::Calls)
        } else {
            None
        }
    }

    /// Ready when the next message may be read; otherwise the reader waits
    /// until a count falls under its limit.
    pub(crate) fn poll_may_read(&self, cx: &Context<'_>) -> Poll<()> {
        let Some(over) = self.over() else {
            return Poll::Ready(());
        };
        let mut paused = self.paused.borrow_mut();
        if paused.is_none() {
            crate::logging::ipc_debug!(
                "IPC server: connection #{}: not reading new requests until the peer catches up ({})",
                self.conn_id.get(),
                self.describe(over)
            );
        }
        *paused = Some(cx.waker().clone());
        Poll::Pending
    }

    fn describe(&self, over: Over) -> String {
        match over {
            Over::Queued => format!(
                "{} bytes of replies wait for it to read them, limit {}",
                self.queued.get(),
                self.limits.max_queued_bytes
            ),
            Over::Held => format!(
                "{} bytes of its messages are held, limit {}",
                self.held.get(),
                self.limits.max_held_bytes
            ),
            Over::Calls => format!(
                "{} of its calls are unfinished, limit {}",
                self.pending.borrow().len(),
                self.limits.max_pending_calls
            ),
        }
    }

    /// Wakes a paused reader once nothing is over its limit.
    fn maybe_resume(&self) {
        if self.paused.borrow().is_none() || self.over().is_some() {
            return;
        }
        if let Some(waker) = self.paused.borrow_mut().take() {
            crate::logging::ipc_debug!(
                "IPC server: connection #{}: reading requests again",
                self.conn_id.get()
            );
            waker.wake();
        }
    }

    /// A message of `bytes` arrived (and is now held).
    pub(crate) fn received(&self, bytes: usize, body: Option<message::Reader<'_>>) {
        self.last_received.set(Instant::now());
        self.held.set(self.held.get() + bytes);
        let Some(which) = body.and_then(|m| m.which().ok()) else { return };
        if let message::Abort(Ok(abort)) = &which {
            let reason = abort.get_reason().ok().and_then(|r| r.to_str().ok()).unwrap_or("no reason given");
            let kind = match abort.get_type() {
                Ok(capnp_rpc::rpc_capnp::exception::Type::Overloaded) => capnp::ErrorKind::Overloaded,
                _ => capnp::ErrorKind::Disconnected,
            };
            *self.peer_abort.borrow_mut() = Some(capnp::Error { kind, extra: reason.to_string() });
        }
        if !self.limits.pause {
            return;
        }
        let mut pending = self.pending.borrow_mut();
        match which {
            message::Call(Ok(call)) => {
                pending.insert(call.get_question_id(), Question::Call);
            }
            message::Bootstrap(Ok(bootstrap)) => {
                pending.insert(bootstrap.get_question_id(), Question::Bootstrap);
            }
            message::Finish(Ok(finish)) => {
                pending.remove(&finish.get_question_id());
            }
            _ => {}
        }
    }

    /// A received message of `bytes` was dropped.
    pub(crate) fn released(&self, bytes: usize) {
        self.held.set(self.held.get().saturating_sub(bytes));
        self.maybe_resume();
    }

    /// An outgoing message is queued; `body` tells whether it answers one
    /// of the peer's questions.
    pub(crate) fn queued(&self, charge: usize, body: Option<message::Reader<'_>>) {
        self.queued.set(self.queued.get() + charge);
        if !self.limits.pause {
            return;
        }
        if let Some(message::Return(Ok(ret))) = body.and_then(|m| m.which().ok()) {
            // Results with capabilities stay in the answer table until the
            // peer's Finish; the others are done.
            if ret.get_no_finish_needed() && self.pending.borrow_mut().remove(&ret.get_answer_id()).is_some()
            {
                self.maybe_resume();
            }
        }
    }

    /// Queued messages charged `charge` in all left the process (or were dropped).
    pub(crate) fn written(&self, charge: usize) {
        self.queued.set(self.queued.get().saturating_sub(charge));
        self.maybe_resume();
    }

    /// The stream cannot be written any more: stop pausing, so that the
    /// peer's end of stream is seen and the connection closes.
    pub(crate) fn write_failed(&self) {
        self.write_failed.set(true);
        if let Some(waker) = self.paused.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Whether the peer has a call (not a bootstrap request) unfinished.
    pub(crate) fn has_pending_calls(&self) -> bool {
        self.pending.borrow().values().any(|q| *q == Question::Call)
    }

    /// The reason the peer gave for closing the connection, if it gave one.
    pub(crate) fn peer_abort(&self) -> Option<capnp::Error> {
        self.peer_abort.borrow().clone()
    }

    /// When the last message from the peer arrived (or the connection started).
    pub(crate) fn last_received(&self) -> Instant {
        self.last_received.get()
    }
}
