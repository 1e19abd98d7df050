//! The HTTP side: `tiny_http`, Basic authentication, the cookie file, worker threads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::Dispatcher;

/// Largest request body read (bitcoind's `MAX_SIZE` is 32 MB).
const MAX_BODY: u64 = 32 * 1024 * 1024;
/// Threads answering requests (bitcoind's `-rpcthreads` default is 4).
const WORKERS: usize = 4;
/// The cookie's user name, as in bitcoind.
pub const COOKIE_USER: &str = "__cookie__";

/// How clients authenticate: the configuration's own type (cookie file or user/password).
pub use config::RpcAuth;

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct RpcServerConfig {
    /// Address to bind (`127.0.0.1:18443` on regtest; port 0 picks a free one).
    pub bind: SocketAddr,
    /// Authentication.
    pub auth: RpcAuth,
}

impl RpcServerConfig {
    /// The server settings of a validated node configuration: `rpc_bind`, and `rpc_auth` (cookie
    /// at `<chain datadir>/.cookie` or `-rpcuser`/`-rpcpassword`).
    pub fn from_config(config: &config::Config) -> RpcServerConfig {
        RpcServerConfig { bind: config.rpc_bind, auth: config.rpc_auth.clone() }
    }
}

/// A running JSON-RPC server; [`RpcServer::stop`] (or drop) stops it and removes the cookie.
pub struct RpcServer {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    cookie: Option<PathBuf>,
}

struct Credentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcServer")
            .field("addr", &self.addr)
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl RpcServer {
    /// Binds `config.bind`, writes the cookie if cookie auth is used, and starts the workers.
    pub fn start(dispatcher: Arc<Dispatcher>, config: &RpcServerConfig) -> std::io::Result<RpcServer> {
        let listener = TcpListener::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let (credentials, cookie) = match &config.auth {
            RpcAuth::Cookie { path } => {
                let password = random_hex(32)?;
                write_cookie(path, &password)?;
                (Credentials { user: COOKIE_USER.into(), password }, Some(path.clone()))
            }
            RpcAuth::UserPassword { user, password } => {
                (Credentials { user: user.clone(), password: password.clone() }, None)
            }
        };
        let server = match tiny_http::Server::from_listener(listener, None) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                if let Some(path) = &cookie {
                    let _ = std::fs::remove_file(path);
                }
                return Err(std::io::Error::other(e.to_string()));
            }
        };
        let credentials = Arc::new(credentials);
        let stopping = Arc::new(AtomicBool::new(false));
        let workers = (0..WORKERS)
            .map(|_| {
                let (server, dispatcher, credentials, stopping) =
                    (server.clone(), dispatcher.clone(), credentials.clone(), stopping.clone());
                std::thread::spawn(move || worker(&server, &dispatcher, &credentials, &stopping))
            })
            .collect();
        tracing::info!("Binding RPC on address {addr}");
        Ok(RpcServer { addr, server, stopping, workers, cookie })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests, waits for the workers, removes the cookie file.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
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

fn worker(
    server: &tiny_http::Server,
    dispatcher: &Dispatcher,
    credentials: &Credentials,
    stopping: &AtomicBool,
) {
    while !stopping.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(request)) => handle(request, dispatcher, credentials),
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(target: "http", error = %e, "receive failed");
            }
        }
    }
}

fn header(name: &'static str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn respond(request: tiny_http::Request, status: u16, body: String, headers: Vec<Option<tiny_http::Header>>) {
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    for h in headers.into_iter().flatten() {
        response.add_header(h);
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(target: "http", error = %e, "writing the response failed");
    }
}

fn handle(mut request: tiny_http::Request, dispatcher: &Dispatcher, credentials: &Credentials) {
    let auth = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let Some(user) = auth.as_deref().and_then(|a| check_auth(a, credentials)) else {
        tracing::warn!(remote = ?request.remote_addr(), "ThreadRPCServer incorrect password attempt");
        respond(request, 401, String::new(), vec![header("WWW-Authenticate", "Basic realm=\"jsonrpc\"")]);
        return;
    };
    if *request.method() != tiny_http::Method::Post {
        respond(request, 405, String::new(), vec![]);
        return;
    }
    let uri = request.url().to_string();
    let mut body = Vec::new();
    if request.as_reader().take(MAX_BODY).read_to_end(&mut body).is_err() {
        respond(request, 400, String::new(), vec![]);
        return;
    }
    let body = String::from_utf8_lossy(&body);
    // Dispatcher::execute answers a panicking method with -32603 itself.
    let reply = dispatcher.execute(&body, &uri, &user);
    respond(request, reply.status, reply.body, vec![header("Content-Type", "application/json")]);
}

/// Checks a `Basic <base64(user:password)>` header in constant time; returns the user.
fn check_auth(header: &str, credentials: &Credentials) -> Option<String> {
    let encoded = header.trim().strip_prefix("Basic ")?;
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    let user_ok = constant_time_eq(user.as_bytes(), credentials.user.as_bytes());
    let password_ok = constant_time_eq(password.as_bytes(), credentials.password.as_bytes());
    (user_ok & password_ok).then(|| user.to_string())
}

/// Compares without an early exit on the first difference (length is not hidden).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in bytes {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn random_hex(len: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `__cookie__:<password>` with mode 0600 (through a temporary file and a rename, so a
/// reader never sees a partial cookie).
fn write_cookie(path: &std::path::Path, password: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("cookie.tmp");
    {
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(format!("{COOKIE_USER}:{password}").as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_auth() {
        assert_eq!(base64_decode("dXNlcjpwYXNz").as_deref(), Some(&b"user:pass"[..]));
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("!!"), None);
        let c = Credentials { user: "user".into(), password: "pass".into() };
        assert_eq!(check_auth("Basic dXNlcjpwYXNz", &c).as_deref(), Some("user"));
        assert_eq!(check_auth("Basic dXNlcjpwYXN0", &c), None);
        assert_eq!(check_auth("Bearer x", &c), None);
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
