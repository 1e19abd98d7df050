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
        let interest = self.interests.entry(fd).or_default();
        let slot = if write { &mut interest.write } else { &mut interest.read };
        match slot {
            Some(existing) if existing.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        if let Some(polled) = &self.polled {
            let flag = if write { PollFlags::POLLOUT } else { PollFlags::POLLIN };
            let watched = polled.iter().any(|(f, ev)| *f == fd && ev.contains(flag));
            if !watched {
                self.stale_poll_set.store(true, SeqCst);
            }
        }
    }

    /// Forgets an fd that is being closed, waking whoever waited on it.
    pub(crate) fn deregister(&mut self, fd: RawFd) {
        if let Some(interest) = self.interests.remove(&fd) {
            interest.read.into_iter().chain(interest.write).for_each(Waker::wake);
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
        }
    }
}
