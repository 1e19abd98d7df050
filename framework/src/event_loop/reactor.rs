//! Readiness of the sockets the loop reads and writes.
//!
//! Futures on the loop register a waker for an fd and a direction when an
//! operation would block; the thread that holds the poller role collects
//! those registrations, sleeps in `poll(2)` without the loop lock, and wakes
//! the registered wakers when the kernel reports readiness.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Waker;

use nix::poll::PollFlags;

#[derive(Default)]
struct Interest {
    read: Option<Waker>,
    write: Option<Waker>,
    /// Woken when the peer hangs up (closes or shuts down its writing side),
    /// even if the fd has unread data: for a reader that is not reading.
    hangup: Option<Waker>,
}

/// `POLLRDHUP` (Linux): the peer closed or shut down its writing side.
/// (nix does not name it.)
const POLLRDHUP: PollFlags = PollFlags::from_bits_retain(libc::POLLRDHUP);

/// What `poll(2)` reports when the peer has hung up (or the fd failed).
const HANGUP: PollFlags =
    POLLRDHUP.union(PollFlags::POLLHUP).union(PollFlags::POLLERR).union(PollFlags::POLLNVAL);

#[derive(Clone, Copy)]
enum Slot {
    Read,
    Write,
    Hangup,
}

/// What the poller sleeps on: `(fd, events)` pairs.
pub(crate) type PollSet = Vec<(RawFd, PollFlags)>;

pub(crate) struct Reactor {
    interests: HashMap<RawFd, Interest>,
    /// The set the sleeping poller waits on, if one sleeps now.
    polled: Option<PollSet>,
    /// Set when a registration arrives that the sleeping poller does not
    /// watch; shared with the loop, which then wakes the poller.
    stale_poll_set: Arc<AtomicBool>,
}

impl Reactor {
    pub(crate) fn new(stale_poll_set: Arc<AtomicBool>) -> Self {
        Self { interests: HashMap::new(), polled: None, stale_poll_set }
    }

    pub(crate) fn register(&mut self, fd: RawFd, write: bool, waker: &Waker) {
        let (flag, slot) =
            if write { (PollFlags::POLLOUT, Slot::Write) } else { (PollFlags::POLLIN, Slot::Read) };
        self.register_slot(fd, slot, flag, waker);
    }

    /// Wakes `waker` when the peer of `fd` hangs up.
    pub(crate) fn register_hangup(&mut self, fd: RawFd, waker: &Waker) {
        self.register_slot(fd, Slot::Hangup, POLLRDHUP, waker);
    }

    fn register_slot(&mut self, fd: RawFd, which: Slot, flag: PollFlags, waker: &Waker) {
        let interest = self.interests.entry(fd).or_default();
        let slot = match which {
            Slot::Read => &mut interest.read,
            Slot::Write => &mut interest.write,
            Slot::Hangup => &mut interest.hangup,
        };
        match slot {
            Some(existing) if existing.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        if let Some(polled) = &self.polled {
            let watched = polled.iter().any(|(f, ev)| *f == fd && ev.contains(flag));
            if !watched {
                self.stale_poll_set.store(true, SeqCst);
            }
        }
    }

    /// Forgets an fd that is being closed, waking whoever waited on it.
    pub(crate) fn deregister(&mut self, fd: RawFd) {
        if let Some(interest) = self.interests.remove(&fd) {
            interest.read.into_iter().chain(interest.write).chain(interest.hangup).for_each(Waker::wake);
        }
        if self.polled.is_some() {
            self.stale_poll_set.store(true, SeqCst);
        }
    }

    /// The set to sleep on; remembered so late registrations can ask for a re-poll.
    pub(crate) fn begin_poll(&mut self) -> PollSet {
        let set: PollSet = self
            .interests
            .iter()
            .filter_map(|(fd, i)| {
                let mut events = PollFlags::empty();
                if i.read.is_some() {
                    events |= PollFlags::POLLIN;
                }
                if i.write.is_some() {
                    events |= PollFlags::POLLOUT;
                }
                if i.hangup.is_some() {
                    events |= POLLRDHUP;
                }
                (!events.is_empty()).then_some((*fd, events))
            })
            .collect();
        self.polled = Some(set.clone());
        self.stale_poll_set.store(false, SeqCst);
        set
    }

    /// Wakes the futures waiting on the fds that `poll(2)` reported.
    pub(crate) fn end_poll(&mut self, ready: &[(RawFd, PollFlags)]) {
        self.polled = None;
        let hangup = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
        for (fd, revents) in ready {
            let Some(interest) = self.interests.get_mut(fd) else { continue };
            if revents.intersects(PollFlags::POLLIN | hangup) {
                if let Some(w) = interest.read.take() {
                    w.wake();
                }
            }
            if revents.intersects(PollFlags::POLLOUT | hangup) {
                if let Some(w) = interest.write.take() {
                    w.wake();
                }
            }
            if revents.intersects(HANGUP) {
                if let Some(w) = interest.hangup.take() {
                    w.wake();
                }
            }
        }
    }
}
