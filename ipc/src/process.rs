//! [`Ipc`]: how one executable meets the others (Bitcoin Core's
//! `interfaces::Ipc`). It owns the process's event loop and offers the four
//! ways two processes of the application connect, each ending in an
//! [`interfaces::Init`] on one side and a proxy of it on the other:
//!
//! - [`Ipc::spawn`]: start a sibling executable over a socketpair
//!   (`<exe> -ipcfd <N> ...`) and get its `Init`;
//! - [`Ipc::serve_fd`]: in that child, serve this process's `Init` on the
//!   inherited descriptor;
//! - [`Ipc::listen`]: serve `Init` on a unix socket (`-ipcbind`), the socket
//!   file removed again when the listener is dropped;
//! - [`Ipc::connect`]: join a process that listens (`-ipcconnect`).
//!
//! Addresses follow Bitcoin Core (`unix`, `unix:<path>` relative to the
//! chain's data directory, `auto` for connecting): see
//! [`resolve_unix_address`] and [`resolve_connect_address`].

use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

pub use framework::{
    resolve_connect_address, resolve_unix_address, ChildProcess, ConnectMode, Connection, Error, ErrorKind,
    Result,
};
use framework::{EventLoop, LoopHandle};

/// Most clients a node's `-ipcbind` socket serves at once. Each client costs
/// a connection and the server threads it asks for (bounded per connection
/// and per process by the framework), so this bounds what local clients can
/// make the node hold; past it, a client idle on its bootstrap object makes
/// room or the newcomer is refused at once.
pub const MAX_SOCKET_CLIENTS: usize = 128;

/// This process's IPC: an event loop, and the ways to reach other
/// processes over it. Dropping it closes every connection it made or
/// accepted.
#[derive(Debug)]
pub struct Ipc {
    event_loop: EventLoop,
}

/// A child process started by [`Ipc::spawn`], connected and bootstrapped.
pub struct SpawnedProcess {
    /// The child's `Init` (a proxy: every call goes to the child).
    pub init: Box<dyn interfaces::Init>,
    /// The connection, to notice the child leaving or to close it.
    pub connection: Connection,
    /// The process, to wait for it or kill it.
    pub child: ChildProcess,
}

impl std::fmt::Debug for SpawnedProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnedProcess").field("child", &self.child).finish_non_exhaustive()
    }
}

/// A unix socket served by [`Ipc::listen`]. Dropping it stops accepting and
/// removes the socket file (connections already made stay open).
#[derive(Debug)]
pub struct SocketListener {
    listener: framework::Listener,
    path: PathBuf,
}

impl SocketListener {
    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketListener {
    fn drop(&mut self) {
        self.listener.stop();
        remove_socket_file(&self.path);
    }
}

/// A unix socket bound by [`Ipc::bind`], not served yet. Dropping it removes the socket file.
#[derive(Debug)]
pub struct BoundSocket {
    /// `None` once served.
    socket: Option<std::os::unix::net::UnixListener>,
    path: PathBuf,
}

impl BoundSocket {
    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        if self.socket.take().is_some() {
            remove_socket_file(&self.path);
        }
    }
}

fn remove_socket_file(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(target: "ipc", "cannot remove socket file {}: {e}", path.display());
        }
    }
}

impl Ipc {
    /// Starts the event loop (its `capnp-loop` and `ipc-release` threads).
    pub fn new() -> Result<Ipc> {
        crate::install_cancel_probe();
        Ok(Ipc { event_loop: EventLoop::new()? })
    }

    fn handle(&self) -> LoopHandle {
        self.event_loop.handle()
    }

    /// Starts `exe` as `<exe> -ipcfd <N> <args...>` on a fresh socketpair
    /// and bootstraps its `Init`. The child's stdio is inherited.
    pub fn spawn(&self, exe: &Path, args: &[OsString]) -> Result<SpawnedProcess> {
        let (mut child, stream) = framework::spawn_process(exe, args)?;
        match crate::connect_init(&self.handle(), stream) {
            Ok((init, connection)) => Ok(SpawnedProcess { init, connection, child }),
            Err(e) => {
                // A child we cannot talk to must not outlive this call.
                let _ = child.kill();
                Err(e)
            }
        }
    }

    /// In a spawned child: serves `init` on the socket [`take_ipc_fd`] found.
    pub fn serve_parent(&self, stream: UnixStream, init: Box<dyn interfaces::Init>) -> Result<Connection> {
        crate::serve_init(&self.handle(), stream, init)
    }

    /// Binds the unix socket at `path` (see [`framework::bind_unix`]: missing directories
    /// created, a stale socket replaced, owner-only, Bitcoin Core's log line). Nobody is
    /// served until [`serve`](Self::serve): a daemon binds before it loads anything, so a bad
    /// address fails the start at once.
    pub fn bind(&self, path: &Path) -> Result<BoundSocket> {
        Ok(BoundSocket { socket: Some(framework::bind_unix(path)?), path: path.to_owned() })
    }

    /// Serves a fresh `make_init()` to each client of `bound`, at most [`MAX_SOCKET_CLIENTS`] at
    /// once.
    pub fn serve<F>(&self, mut bound: BoundSocket, make_init: F) -> Result<SocketListener>
    where
        F: Fn() -> Box<dyn interfaces::Init> + Send + 'static,
    {
        let Some(socket) = bound.socket.take() else {
            return Err(Error::usage("socket already served"));
        };
        let path = std::mem::take(&mut bound.path);
        crate::register_error_kinds();
        let listener = self.handle().listen::<crate::init_capnp::init::Client, _, _>(
            socket,
            MAX_SOCKET_CLIENTS,
            make_init,
        );
        match listener {
            Ok(listener) => Ok(SocketListener { listener, path }),
            Err(e) => {
                remove_socket_file(&path);
                Err(e)
            }
        }
    }

    /// [`bind`](Self::bind) and [`serve`](Self::serve) at once.
    pub fn listen<F>(&self, path: &Path, make_init: F) -> Result<SocketListener>
    where
        F: Fn() -> Box<dyn interfaces::Init> + Send + 'static,
    {
        let bound = self.bind(path)?;
        self.serve(bound, make_init)
    }

    /// Connects to the process listening at `path` and returns its `Init`.
    /// In [`ConnectMode::Auto`], `Ok(None)` when nothing listens there.
    pub fn connect(
        &self,
        path: &Path,
        mode: ConnectMode,
    ) -> Result<Option<(Box<dyn interfaces::Init>, Connection)>> {
        match framework::try_connect_unix(path, mode)? {
            Some(stream) => self.connect_stream(stream).map(Some),
            None => Ok(None),
        }
    }

    /// Bootstraps the peer's `Init` over an already connected `stream`.
    pub fn connect_stream(&self, stream: UnixStream) -> Result<(Box<dyn interfaces::Init>, Connection)> {
        crate::connect_init(&self.handle(), stream)
    }
}

/// In a spawned child, before its options are parsed: the socket `-ipcfd <N>` (or
/// `-ipcfd=<N>`) hands it, taken over, and the arguments without that option; `None` if
/// the process was not spawned. A descriptor this process opened itself, or one that is not
/// a connected unix stream socket, is refused (see [`framework::ipc_fd_from_args`]).
pub fn take_ipc_fd(args: Vec<OsString>) -> Result<Option<(UnixStream, Vec<OsString>)>> {
    framework::ipc_fd_from_args(args)
}

/// The executable `name` in the directory of the running executable (how a
/// node finds `mpx-wallet`, and the wrapper its commands); `None` if it is
/// not there or not executable.
pub fn sibling_executable(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let own = std::env::current_exe().ok()?;
    let candidate = own.parent()?.join(name);
    let meta = std::fs::metadata(&candidate).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(candidate)
}
