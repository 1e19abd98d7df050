//! A connection that fails once it has been silent too long (`-rpcservertimeout`): no byte read
//! while waiting for a request, or no byte written while a reply is pending. Time spent while the
//! node executes the connection's request does not count: a long `generatetoaddress` is not
//! the client's silence.
//!
//! This covers what hyper's own timers do not: an idle keep-alive connection, and a client that
//! never reads its replies (hyper waits on the socket's write readiness forever otherwise).
//! A request sent one byte at a time is bounded separately, by the whole-request deadline in
//! [`super::connection`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Set while the connection's request is being executed: reads may pend then without it
/// counting as silence.
#[derive(Debug, Default)]
pub(crate) struct Busy(AtomicBool);

impl Busy {
    /// Marks the connection busy until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> BusyGuard {
        self.0.store(true, Ordering::Relaxed);
        BusyGuard(self.clone())
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Clears [`Busy`] on drop.
#[derive(Debug)]
pub(crate) struct BusyGuard(Arc<Busy>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        (self.0).0.store(false, Ordering::Relaxed);
    }
}

/// `io` with an inactivity deadline.
#[derive(Debug)]
pub(crate) struct TimedIo<T> {
    io: T,
    timeout: Option<Duration>,
    last_progress: Instant,
    deadline: Pin<Box<Sleep>>,
    busy: Arc<Busy>,
}

impl<T> TimedIo<T> {
    /// Wraps `io`; `None` never times out (`-rpcservertimeout=0`).
    pub(crate) fn new(io: T, timeout: Option<Duration>, busy: Arc<Busy>) -> TimedIo<T> {
        let now = Instant::now();
        let deadline = Box::pin(tokio::time::sleep_until(now + timeout.unwrap_or(Duration::ZERO)));
        TimedIo { io, timeout, last_progress: now, deadline, busy }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
    }

    /// Called when an operation would wait: `Ready(err)` once the silence has lasted too long,
    /// else arms the timer so the task wakes to check again.
    fn check_silence(&mut self, cx: &mut Context<'_>, counts: bool) -> Poll<io::Error> {
        let Some(timeout) = self.timeout else {
            return Poll::Pending;
        };
        if !counts {
            // Busy: the silence starts again when the request is done.
            self.progressed();
            return Poll::Pending;
        }
        let expires = self.last_progress + timeout;
        if self.deadline.deadline() != expires {
            self.deadline.as_mut().reset(expires);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "client silent for too long"))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => {
                let counts = !this.busy.get();
                this.check_silence(cx, counts).map(Err)
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            // A reply the client does not read counts as silence even while busy.
            Poll::Pending => this.check_silence(cx, true).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => this.check_silence(cx, true).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.check_silence(cx, true).map(Err),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_shutdown(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.check_silence(cx, true).map(Err),
        }
    }
}
