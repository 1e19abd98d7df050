//! One client connection: hyper's HTTP/1.1 with our limits, and the request handler that turns
//! an HTTP request into a job for the worker pool, with bitcoind's statuses and replies.
//!
//! The order of checks is bitcoind's: client network allowed (403), a known HTTP method (405),
//! a JSON-RPC path (`/` or `/wallet/...`, else 404), POST (405), credentials (401; a wrong
//! password waits 250 ms first), then the body: declared size checked before any byte of it is
//! read (413), read under a deadline (408), queued or refused when the queue is full (503).
//! Everything before the queue runs on the HTTP thread without blocking it, so slow or hostile
//! clients never hold a worker.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use config::{RpcWhitelist, Subnet};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::auth::{forbidden_method, Credentials};
use super::log_limit::LogLimit;
use super::timed_io::{Busy, TimedIo};
use super::work_queue::{Refused, Submitter};
use super::Limits;
use crate::rpc::Dispatcher;

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) dispatcher: Arc<Dispatcher>,
    pub(crate) credentials: Credentials,
    /// `-rpcwhitelist`: the methods each user may call.
    pub(crate) whitelist: RpcWhitelist,
    pub(crate) allow: Vec<Subnet>,
    pub(crate) workers: Submitter,
    pub(crate) limits: Limits,
    pub(crate) stopping: Arc<AtomicBool>,
}

/// bitcoind's brute-force deterrent: a wrong password is answered after this long.
const WRONG_PASSWORD_DELAY: Duration = Duration::from_millis(250);

static BAD_PASSWORD_LOG: LogLimit = LogLimit::new("incorrect password attempts");
static QUEUE_FULL_LOG: LogLimit = LogLimit::new("requests rejected: work queue full");
static REFUSED_LOG: LogLimit = LogLimit::new("requests refused (network, size, timeout)");

type Reply = Response<Full<Bytes>>;

/// Serves `stream` until the client leaves, a limit is hit, or `stop` turns true (then requests
/// in progress finish and the connection closes).
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let busy = Arc::new(Busy::default());
    // A request's headers arrive in bounded time even with -rpcservertimeout=0.
    let header_timeout =
        shared.limits.server_timeout.unwrap_or(Limits::HEADER_TIMEOUT_WITHOUT_SERVER_TIMEOUT);
    let io = TokioIo::new(TimedIo::new(stream, shared.limits.server_timeout, busy.clone()));
    let service = hyper::service::service_fn(move |request| {
        let (shared, busy) = (shared.clone(), busy.clone());
        async move { Ok::<_, Infallible>(handle(&shared, peer, &busy, request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_header_size(Limits::MAX_HEAD_READ)
        .max_headers(Limits::MAX_HEADER_LINES)
        .max_buf_size(Limits::MAX_BUFFER)
        .keep_alive(true)
        // A client may shut down its sending side after the request (`nc -N`, some scripts)
        // and still wait for the reply.
        .half_close(true)
        // Header names as bitcoind writes them (Content-Length, not content-length), for
        // clients that compare them case-sensitively.
        .title_case_headers(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let stopped = async move {
        // The `Ref` it returns holds a lock: drop it before awaiting anything else.
        let _ = stop.wait_for(|stop| *stop).await.map(drop);
    };
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(target: "http", %peer, error = %e, "HTTP connection ended with an error");
    }
}

/// The size of the request's head as sent: request line, header lines, blank line.
fn head_size(request: &Request<Incoming>) -> usize {
    let line = request.method().as_str().len() + 1 + request.uri().to_string().len() + " HTTP/1.1\r\n".len();
    let headers: usize =
        request.headers().iter().map(|(name, value)| name.as_str().len() + 2 + value.len() + 2).sum();
    line + headers + 2
}

async fn handle(shared: &Shared, peer: SocketAddr, busy: &Arc<Busy>, request: Request<Incoming>) -> Reply {
    if !shared.allow.iter().any(|subnet| subnet.contains(peer.ip())) {
        REFUSED_LOG.log(|| {
            tracing::debug!(
                target: "http",
                "HTTP request from {peer} rejected: Client network is not allowed RPC access"
            )
        });
        return plain(StatusCode::FORBIDDEN, "");
    }
    if head_size(&request) > Limits::MAX_HEADER_SIZE {
        REFUSED_LOG.log(|| tracing::debug!(target: "http", "HTTP request head too large from {peer}"));
        return plain(StatusCode::BAD_REQUEST, "");
    }
    if ![Method::GET, Method::POST, Method::HEAD, Method::PUT].contains(request.method()) {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "");
    }
    let uri = request.uri().path_and_query().map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    if uri != "/" && !uri.starts_with("/wallet/") {
        return plain(StatusCode::NOT_FOUND, "");
    }
    if request.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "JSONRPC server handles only POST requests");
    }
    let Some(authorization) = request.headers().get(AUTHORIZATION) else {
        return unauthorized();
    };
    let Some(user) = shared.credentials.check(authorization.as_bytes()) else {
        BAD_PASSWORD_LOG.log(|| tracing::warn!("ThreadRPCServer incorrect password attempt from {peer}"));
        tokio::time::sleep(WRONG_PASSWORD_DELAY).await;
        return unauthorized();
    };
    let body = match read_body(shared, peer, request.into_body()).await {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    // bitcoind's -rpcwhitelist: 403 without a body, for the whole request (a batch included).
    if !shared.whitelist.allows_any(&user) {
        tracing::warn!("RPC User {user} not allowed to call any methods");
        return plain(StatusCode::FORBIDDEN, "");
    }
    if let Some(method) = forbidden_method(&shared.whitelist, &user, &body) {
        tracing::warn!("RPC User {user} not allowed to call method {method}");
        return plain(StatusCode::FORBIDDEN, "");
    }
    if shared.stopping.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "Request rejected during server shutdown");
    }
    execute(shared, busy, body, uri, user).await
}

/// The whole body, checked against the limit before anything is read and read under the
/// request deadline.
async fn read_body(shared: &Shared, peer: SocketAddr, body: Incoming) -> Result<Bytes, Reply> {
    let too_large = || {
        REFUSED_LOG.log(|| tracing::debug!(target: "http", "HTTP request body too large from {peer}"));
        closing(plain(StatusCode::PAYLOAD_TOO_LARGE, ""))
    };
    if body.size_hint().lower() > Limits::MAX_BODY as u64 {
        return Err(too_large());
    }
    let collect = Limited::new(body, Limits::MAX_BODY).collect();
    let collected = match shared.limits.server_timeout {
        Some(timeout) => match tokio::time::timeout(timeout, collect).await {
            Ok(collected) => collected,
            Err(_elapsed) => {
                REFUSED_LOG
                    .log(|| tracing::debug!(target: "http", "HTTP request body from {peer} timed out"));
                return Err(closing(plain(StatusCode::REQUEST_TIMEOUT, "")));
            }
        },
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) if caused_by_silence(&*e) => {
            REFUSED_LOG.log(|| tracing::debug!(target: "http", "HTTP request body from {peer} timed out"));
            Err(closing(plain(StatusCode::REQUEST_TIMEOUT, "")))
        }
        Err(e) => {
            tracing::debug!(target: "http", "Error reading HTTP request body from {peer}: {e}");
            Err(closing(plain(StatusCode::BAD_REQUEST, "")))
        }
    }
}

/// Whether `error` comes from the connection's silence timeout ([`TimedIo`]).
fn caused_by_silence(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Runs the request on a worker; the connection counts as busy (not silent) meanwhile.
async fn execute(shared: &Shared, busy: &Arc<Busy>, body: Bytes, uri: String, user: String) -> Reply {
    let (reply_sender, reply) = tokio::sync::oneshot::channel();
    let dispatcher = shared.dispatcher.clone();
    let job = move || {
        let body = String::from_utf8_lossy(&body);
        // Dispatcher::execute answers a panicking method with -32603 itself.
        let _ = reply_sender.send(dispatcher.execute(&body, &uri, &user));
    };
    let _busy = busy.enter();
    match shared.workers.submit(job) {
        Ok(()) => {}
        Err(Refused::Full) => {
            QUEUE_FULL_LOG.log(|| {
                tracing::warn!(
                    "Request rejected because http work queue depth exceeded, it can be increased with \
                     the -rpcworkqueue= setting"
                )
            });
            return plain(StatusCode::SERVICE_UNAVAILABLE, "Work queue depth exceeded");
        }
        Err(Refused::Stopping) => {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "Request rejected during server shutdown")
        }
    }
    let Ok(reply) = reply.await else {
        return closing(plain(StatusCode::INTERNAL_SERVER_ERROR, "request dropped"));
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NO_CONTENT {
        return response(status, Bytes::new(), None);
    }
    // bitcoind ends each JSON reply with a newline.
    let mut body = reply.body.into_bytes();
    body.push(b'\n');
    response(status, Bytes::from(body), Some("application/json"))
}

fn response(status: StatusCode, body: Bytes, content_type: Option<&'static str>) -> Reply {
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = status;
    if let Some(content_type) = content_type {
        reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    reply
}

/// A non-JSON reply, with the content type bitcoind's server gives those.
fn plain(status: StatusCode, body: &'static str) -> Reply {
    response(status, Bytes::from_static(body.as_bytes()), Some("text/html; charset=ISO-8859-1"))
}

fn unauthorized() -> Reply {
    let mut reply = plain(StatusCode::UNAUTHORIZED, "");
    reply.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"jsonrpc\""));
    reply
}

/// `reply`, after which the connection closes (the rest of the request was not read).
fn closing(mut reply: Reply) -> Reply {
    reply.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    reply
}
