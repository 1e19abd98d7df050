//! The JSON-RPC server's HTTP side, built to be used by any client and broken by none.
//!
//! # Threads
//! * `http`: one thread running a single-threaded tokio runtime: it accepts connections, parses
//!   HTTP (hyper), checks the client's network and credentials, and reads request bodies. It
//!   never runs a request and never blocks.
//! * `httpworker.N` (`-rpcthreads`): execute complete, authenticated requests taken from a queue
//!   of `-rpcworkqueue` places ([`work_queue`]); a request that finds it full is answered 503 at
//!   once.
//!
//! # Limits (each a clear refusal, never growth)
//! * Open connections: [`Limits::MAX_CONNECTIONS`]; one more is answered 503 and closed.
//! * Headers: [`Limits::MAX_HEADER_SIZE`] bytes, request line included, answered 400 as bitcoind
//!   does; hyper itself stops reading a head at [`Limits::MAX_HEAD_READ`] (431). Read within the
//!   server timeout.
//! * Body: [`Limits::MAX_BODY`] bytes, checked against the declared `Content-Length` before any
//!   of it is read or allocated (413), read within the server timeout (408).
//! * Silence (`-rpcservertimeout`): a connection idle between requests, or not reading its
//!   reply, is closed ([`timed_io`]); time spent executing its request does not count.
//! * Pipelining: one request per connection at a time; the next is read only after the reply
//!   is written, so a client that never reads its replies stalls itself, then times out.
//! * Accept errors (out of file descriptors) back off and keep listening.
//! * Lines about misbehaving clients are rate-limited ([`log_limit`]).
//!
//! Every reply carries `Content-Length` (never chunked): clients such as the `bitcoincore-rpc`
//! crate accept nothing else.
//!
//! # Stop
//! [`RpcServer::stop`]: listeners close, each connection finishes the request it is serving
//! (a client gets its reply to `stop`) and closes, connections still open after
//! [`Limits::DRAIN_TIMEOUT`] are dropped, the `http` thread is joined, then the workers finish
//! what was queued and are joined, and the cookie is removed.

mod auth;
mod connection;
mod log_limit;
mod timed_io;
mod work_queue;

use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use config::{RpcServerSettings, Subnet};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use auth::Credentials;
pub use auth::COOKIE_USER;
use connection::Shared;
use log_limit::LogLimit;
use work_queue::WorkQueue;

use super::Dispatcher;

/// How clients authenticate: the configuration's own type (cookie file or user/password).
pub use config::RpcAuth;

/// The server's fixed limits, and the settings bitcoind makes options of.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `-rpcservertimeout`; `None` disables the silence timeout.
    pub(crate) server_timeout: Option<Duration>,
}

impl Limits {
    /// Largest request body (bitcoind's `MAX_BODY_SIZE`, 32 MiB).
    pub const MAX_BODY: usize = 32 * 1024 * 1024;
    /// Largest request head: request line and headers (bitcoind's `MAX_HEADERS_SIZE`); a larger
    /// one is answered 400, as bitcoind's.
    pub const MAX_HEADER_SIZE: usize = 8192;
    /// The most of a request head hyper reads before it answers 431 itself: room above
    /// [`Limits::MAX_HEADER_SIZE`] so that the heads bitcoind refuses reach our 400.
    pub const MAX_HEAD_READ: usize = 32 * 1024;
    /// Most header lines in a request (hyper's default, 100, is far below what 8 KiB holds).
    pub const MAX_HEADER_LINES: usize = 2048;
    /// hyper's read buffer per connection: bounds what a pipelining client can park in memory.
    pub const MAX_BUFFER: usize = 64 * 1024;
    /// Open connections at once. Well above what local clients use (bitcoind's test framework
    /// opens a handful), well below the usual 1024 file descriptors.
    pub const MAX_CONNECTIONS: usize = 256;
    /// How long request headers may take when `-rpcservertimeout=0` disables the timeout.
    pub const HEADER_TIMEOUT_WITHOUT_SERVER_TIMEOUT: Duration = Duration::from_secs(30);
    /// How long a stop waits for connections to finish their requests.
    pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
    /// Pause before accepting again after the process ran out of file descriptors.
    pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
}

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct RpcServerConfig {
    /// Addresses, allowed clients, `-rpcauth`, threads, queue and timeout.
    pub settings: RpcServerSettings,
    /// The cookie or `-rpcuser`/`-rpcpassword`.
    pub auth: RpcAuth,
}

impl RpcServerConfig {
    /// The server settings of a validated node configuration.
    pub fn from_config(config: &config::Config) -> RpcServerConfig {
        RpcServerConfig { settings: config.rpc_server.clone(), auth: config.rpc_auth.clone() }
    }

    /// A server on `bind` alone, for loopback clients, with bitcoind's default sizes (tests and
    /// embedders).
    pub fn local(bind: SocketAddr, auth: RpcAuth) -> RpcServerConfig {
        RpcServerConfig {
            settings: RpcServerSettings {
                bind: vec![bind],
                bind_warnings: Vec::new(),
                allow: Subnet::loopback().to_vec(),
                auth_hashes: Vec::new(),
                whitelist: config::RpcWhitelist::default(),
                threads: config::DEFAULT_RPC_THREADS,
                work_queue: config::DEFAULT_RPC_WORK_QUEUE,
                server_timeout: Some(Duration::from_secs(config::DEFAULT_RPC_SERVER_TIMEOUT_SECS)),
            },
            auth,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcServerError {
    /// No address could be bound (each failure was logged).
    #[error("Unable to bind any endpoint for RPC server ({0})")]
    Bind(String),
    /// The cookie, a thread or the runtime could not be made.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running JSON-RPC server; [`RpcServer::stop`] (or drop) stops it and removes the cookie.
pub struct RpcServer {
    addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    http_thread: Option<JoinHandle<()>>,
    workers: WorkQueue,
    cookie: Option<PathBuf>,
    /// Shared with the connections (which hold the only [`Shared`], and so the only submitters:
    /// they are gone once the `http` thread is joined, and then the workers can stop).
    stopping: Arc<AtomicBool>,
}

impl std::fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcServer")
            .field("addrs", &self.addrs)
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

static ACCEPT_LOG: LogLimit = LogLimit::new("accept errors");
static FULL_LOG: LogLimit = LogLimit::new("connections refused: too many open");

impl RpcServer {
    /// Binds the configured addresses (a failing one is logged and skipped, as bitcoind does;
    /// none bound is an error), writes the cookie if cookie auth is used, and starts the threads.
    pub fn start(dispatcher: Arc<Dispatcher>, config: &RpcServerConfig) -> Result<RpcServer, RpcServerError> {
        let settings = &config.settings;
        for warning in &settings.bind_warnings {
            tracing::warn!("{warning}");
        }
        let allowed: Vec<String> = settings.allow.iter().map(Subnet::to_string).collect();
        tracing::debug!(target: "http", "Allowing HTTP connections from: {}", allowed.join(" "));
        let listeners = bind_all(&settings.bind)?;
        let addrs = listeners.iter().map(StdTcpListener::local_addr).collect::<std::io::Result<Vec<_>>>()?;

        let (plain, cookie) = match &config.auth {
            RpcAuth::Cookie { path } => {
                let password = auth::random_password()?;
                auth::write_cookie(path, &password)?;
                tracing::info!("Using random cookie authentication.");
                (Some((COOKIE_USER.to_string(), password)), Some(path.clone()))
            }
            RpcAuth::UserPassword { user, password } => (Some((user.clone(), password.clone())), None),
        };
        let remove_cookie = |cookie: &Option<PathBuf>| {
            if let Some(path) = cookie {
                let _ = std::fs::remove_file(path);
            }
        };
        let workers = match WorkQueue::start(settings.threads, settings.work_queue) {
            Ok(workers) => workers,
            Err(e) => {
                remove_cookie(&cookie);
                return Err(e.into());
            }
        };
        let stopping = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            dispatcher,
            credentials: Credentials::new(plain, settings.auth_hashes.clone()),
            whitelist: settings.whitelist.clone(),
            allow: settings.allow.clone(),
            workers: workers.submitter(),
            limits: Limits { server_timeout: settings.server_timeout },
            stopping: stopping.clone(),
        });
        let (stop, stop_receiver) = watch::channel(false);
        let spawned = std::thread::Builder::new()
            .name("http".to_string())
            .spawn(move || run_http_thread(listeners, shared, stop_receiver));
        let http_thread = match spawned {
            Ok(thread) => thread,
            Err(e) => {
                remove_cookie(&cookie);
                return Err(e.into());
            }
        };
        Ok(RpcServer { addrs, stop, http_thread: Some(http_thread), workers, cookie, stopping })
    }

    /// The first bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every bound address.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops accepting, lets requests in progress finish, joins every thread, removes the
    /// cookie file.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        if let Some(thread) = self.http_thread.take() {
            let _ = thread.join();
        }
        self.workers.stop();
        if let Some(path) = self.cookie.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds each address; logs and skips those that fail (bitcoind's behaviour, so a host without
/// IPv6 still serves on 127.0.0.1), fails when none is bound.
fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<StdTcpListener>, RpcServerError> {
    let mut listeners = Vec::new();
    let mut failures = Vec::new();
    for addr in addrs {
        tracing::info!("Binding RPC on address {} port {}", addr.ip(), addr.port());
        match StdTcpListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(listener) => listeners.push(listener),
            Err(e) => {
                tracing::warn!("Binding RPC on address {addr} failed: {e}");
                failures.push(format!("{addr}: {e}"));
            }
        }
    }
    if listeners.is_empty() {
        return Err(RpcServerError::Bind(failures.join("; ")));
    }
    Ok(listeners)
}

/// The `http` thread: accepts on every listener until the stop, then drains the connections.
fn run_http_thread(listeners: Vec<StdTcpListener>, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the RPC server's runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let connections = Arc::new(Semaphore::new(Limits::MAX_CONNECTIONS));
        let mut accepting = tokio::task::JoinSet::new();
        for listener in listeners {
            match TcpListener::from_std(listener) {
                Ok(listener) => {
                    accepting.spawn(accept_loop(listener, shared.clone(), connections.clone(), stop.clone()));
                }
                Err(e) => tracing::error!("cannot watch an RPC listener: {e}"),
            }
        }
        while accepting.join_next().await.is_some() {}
        // Every connection holds a permit until it closes: all permits back means all closed.
        let all = u32::try_from(Limits::MAX_CONNECTIONS).unwrap_or(u32::MAX);
        if tokio::time::timeout(Limits::DRAIN_TIMEOUT, connections.acquire_many(all)).await.is_err() {
            tracing::warn!("Timeout waiting for HTTP clients to disconnect gracefully, continuing shutdown");
        }
    });
    // Dropping the runtime drops connections still open after the drain timeout.
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            stopped = stop.wait_for(|stop| *stop) => {
                drop(stopped);
                return;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    refuse_over_capacity(&stream, peer);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tracing::debug!(target: "http", "HTTP Connection accepted from {peer}");
                let (shared, stop) = (shared.clone(), stop.clone());
                tokio::spawn(async move {
                    connection::serve(stream, peer, shared, stop).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory: the pending connection
                // stays in the backlog; pause so connections can close, then keep listening.
                // Anything else (a peer that reset before we accepted) concerns one peer only.
                let exhausted =
                    matches!(e.raw_os_error(), Some(libc_code) if is_resource_exhaustion(libc_code));
                ACCEPT_LOG.log(|| tracing::warn!(target: "http", "Error accepting new RPC client: {e}"));
                if exhausted {
                    tokio::time::sleep(Limits::ACCEPT_BACKOFF).await;
                }
            }
        }
    }
}

fn is_resource_exhaustion(code: i32) -> bool {
    use nix::errno::Errno;
    [Errno::EMFILE, Errno::ENFILE, Errno::ENOBUFS, Errno::ENOMEM].contains(&Errno::from_raw(code))
}

/// Answers a connection beyond [`Limits::MAX_CONNECTIONS`] with a 503 (best effort, without
/// waiting) and closes it.
fn refuse_over_capacity(stream: &tokio::net::TcpStream, peer: SocketAddr) {
    FULL_LOG.log(|| tracing::warn!(target: "http", "Too many open RPC connections; refusing {peer}"));
    let _ = stream.try_write(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\
          Content-Length: 25\r\nConnection: close\r\n\r\nToo many open connections",
    );
}
