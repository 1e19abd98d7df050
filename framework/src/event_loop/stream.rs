//! A non-blocking unix stream as reader and writer halves, driven by the
//! loop's [`Reactor`](super::reactor::Reactor).
//!
//! The halves offer what the connection's transport needs and no more:
//! reading into memory that need not be initialised first (a message buffer
//! is filled straight from the socket), the number of bytes waiting in the
//! kernel, and gathered writes (many queued messages in one system call).

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::reactor::Reactor;

struct Shared {
    stream: UnixStream,
    reactor: Rc<RefCell<Reactor>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.reactor.borrow_mut().deregister(self.stream.as_raw_fd());
    }
}

/// Reading half.
pub(crate) struct ReadHalf(Rc<Shared>);
/// Writing half; shutting it down half-closes the socket.
pub(crate) struct WriteHalf(Rc<Shared>);

/// Kernel buffer size asked for each direction: large messages then cross
/// in fewer wake-ups (the kernel may cap it; a refusal is harmless).
const SOCKET_BUFFER_BYTES: usize = 4 << 20;

/// Most buffers handed to one `sendmsg(2)`.
pub(crate) const MAX_WRITE_SLICES: usize = 64;

pub(crate) fn split(stream: UnixStream, reactor: Rc<RefCell<Reactor>>) -> io::Result<(ReadHalf, WriteHalf)> {
    stream.set_nonblocking(true)?;
    let _ = nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::SndBuf, &SOCKET_BUFFER_BYTES);
    let _ = nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::RcvBuf, &SOCKET_BUFFER_BYTES);
    let shared = Rc::new(Shared { stream, reactor });
    Ok((ReadHalf(shared.clone()), WriteHalf(shared)))
}

fn register(shared: &Shared, write: bool, cx: &Context<'_>) {
    let fd: RawFd = shared.stream.as_raw_fd();
    shared.reactor.borrow_mut().register(fd, write, cx.waker());
}

impl ReadHalf {
    /// Reads into `buf`; `Ready(Ok(n))` means its first `n` bytes are now
    /// initialised, and `n == 0` means end of stream (a reset peer included:
    /// the RPC layer reports either as a disconnect).
    pub(crate) fn poll_read(&self, cx: &Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
        loop {
            // SAFETY: `buf` is a live, writable region of `buf.len()` bytes;
            // recv(2) writes at most that many and never reads from it, so
            // uninitialised contents are fine. The fd is open while `self` lives.
            let n = unsafe { libc::recv(self.0.stream.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Poll::Ready(Ok(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => {
                    register(&self.0, false, cx);
                    return Poll::Pending;
                }
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::ConnectionReset => return Poll::Ready(Ok(0)),
                _ => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Ready once the peer has hung up (closed, or shut down its writing
    /// side), whether or not data is still waiting to be read.
    pub(crate) fn poll_hangup(&self, cx: &Context<'_>) -> Poll<()> {
        let fd = self.0.stream.as_raw_fd();
        let mut pollfd = libc::pollfd { fd, events: libc::POLLRDHUP, revents: 0 };
        // SAFETY: one live pollfd; a zero timeout never blocks.
        let n = unsafe { libc::poll(&mut pollfd, 1, 0) };
        let hangup = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;
        if n > 0 && pollfd.revents & hangup != 0 {
            return Poll::Ready(());
        }
        self.0.reactor.borrow_mut().register_hangup(fd, cx.waker());
        Poll::Pending
    }

    /// Bytes received and waiting in the kernel (0 if unknown).
    pub(crate) fn pending_bytes(&self) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which points
        // to a live local.
        let rc = unsafe { libc::ioctl(self.0.stream.as_raw_fd(), libc::FIONREAD, &mut n) };
        if rc == 0 {
            usize::try_from(n).unwrap_or(0)
        } else {
            0
        }
    }
}

impl WriteHalf {
    /// Writes as much of `bufs` (in order) as the socket takes now.
    pub(crate) fn poll_write(&self, cx: &Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let count = bufs.len().min(MAX_WRITE_SLICES);
        loop {
            // SAFETY: msghdr is plain old data; all zeroes is a valid value.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            // IoSlice is guaranteed ABI-compatible with iovec on unix.
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = count as _;
            // sendmsg(MSG_NOSIGNAL), not writev(2): a vanished peer is an
            // error for this connection, never a SIGPIPE for the process.
            // SAFETY: `msg` points to `count` live iovecs describing readable
            // slices borrowed for this call; the fd is open while `self` lives.
            let n = unsafe { libc::sendmsg(self.0.stream.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
            if n >= 0 {
                return Poll::Ready(Ok(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => {
                    register(&self.0, true, cx);
                    return Poll::Pending;
                }
                io::ErrorKind::Interrupted => continue,
                _ => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Half-closes the socket: the peer reads end of stream.
    pub(crate) fn shutdown(&self) {
        let _ = self.0.stream.shutdown(std::net::Shutdown::Write);
    }
}
