//! A non-blocking unix stream as `futures::io` reader and writer halves,
//! driven by the loop's [`Reactor`](super::reactor::Reactor).

use std::cell::RefCell;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

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

impl AsyncRead for ReadHalf {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match (&self.0.stream).read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    register(&self.0, false, cx);
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A reset peer is a disconnect, which the RPC layer reports as such.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Poll::Ready(Ok(0)),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            // send(MSG_NOSIGNAL), not write(2): a vanished peer is an error
            // for this connection, never a SIGPIPE for the host process.
            // SAFETY: `buf` is a live slice of `buf.len()` bytes; the fd is
            // owned by this stream and open while `self` lives.
            let n = unsafe {
                libc::send(self.0.stream.as_raw_fd(), buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL)
            };
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

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.stream.shutdown(std::net::Shutdown::Write) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
