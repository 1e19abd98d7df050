//! A fake bitcoind: a JSON-RPC-over-HTTP server on 127.0.0.1 answering with
//! canned bitcoind-shaped replies, and helpers to run the real binaries.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use base64::Engine as _;
use serde_json::{json, Value};

pub const CLI: &str = env!("CARGO_BIN_EXE_mpx-cli");
pub const MPX: &str = env!("CARGO_BIN_EXE_mpx");

pub const COOKIE: &str = "__cookie__:0123456789abcdef";
pub const BEST_HASH: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A reply: status, body, and whether to send it chunked.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub chunked: bool,
}

/// A fake node: a temp datadir holding a cookie, and a server that accepts
/// `credentials` (`user:password`).
pub struct Node {
    pub datadir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub calls: Arc<AtomicUsize>,
}

impl Node {
    /// Starts a server accepting the cookie written to a fresh datadir.
    pub fn start() -> Node {
        Node::start_with(COOKIE, 0)
    }

    /// As [`Node::start`], accepting `credentials`; `-28` (warm-up) for the
    /// first `warmup` calls.
    pub fn start_with(credentials: &str, warmup: usize) -> Node {
        let datadir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(datadir.path().join("regtest")).expect("mkdir");
        std::fs::write(datadir.path().join("regtest/.cookie"), COOKIE).expect("cookie");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let calls = Arc::new(AtomicUsize::new(0));
        serve(listener, credentials.to_string(), warmup, calls.clone());
        Node { datadir, addr, calls }
    }

    pub fn datadir_arg(&self) -> String {
        format!("-datadir={}", self.datadir.path().display())
    }

    pub fn port_arg(&self) -> String {
        format!("-rpcport={}", self.addr.port())
    }

    /// `mpx-cli -datadir=... -rpcport=... <args>`.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut all = vec![self.datadir_arg(), self.port_arg()];
        all.extend(args.iter().map(|arg| arg.to_string()));
        run(CLI, &all)
    }
}

/// Serves on `listener` in a background thread, forever.
pub fn serve(listener: TcpListener, credentials: String, warmup: usize, calls: Arc<AtomicUsize>) {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let n = calls.fetch_add(1, Ordering::SeqCst);
            handle(stream, &expected, n < warmup);
        }
    });
}

fn handle(mut stream: TcpStream, expected: &str, warming_up: bool) {
    let Some(request) = read_request(&mut stream) else { return };
    let reply = if request.authorization.as_deref() != Some(expected) {
        Reply { status: 401, body: String::new(), chunked: false }
    } else if warming_up {
        rpc_error(500, -28, "Loading block index…")
    } else {
        bitcoind(&request)
    };
    let reason = match reply.status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\n", reply.status);
    if reply.chunked {
        out.push_str("Transfer-Encoding: chunked\r\n\r\n");
        for chunk in reply.body.as_bytes().chunks(1000) {
            out.push_str(&format!("{:x}\r\n{}\r\n", chunk.len(), String::from_utf8_lossy(chunk)));
        }
        out.push_str("0\r\n\r\n");
    } else {
        out.push_str(&format!("Content-Length: {}\r\n\r\n{}", reply.body.len(), reply.body));
    }
    let _ = stream.write_all(out.as_bytes());
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut authorization = None;
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = serde_json::from_slice(&body).ok()?;
    Some(Request { path, authorization, body })
}

fn rpc_error(status: u16, code: i64, message: &str) -> Reply {
    let body = json!({"result": null, "error": {"code": code, "message": message}, "id": 1});
    Reply { status, body: body.to_string(), chunked: false }
}

fn result(result: Value) -> Reply {
    let body = json!({"result": result, "error": null, "id": 1});
    Reply { status: 200, body: body.to_string(), chunked: false }
}

/// The canned answers.
fn bitcoind(request: &Request) -> Reply {
    let params = request.body.get("params").cloned().unwrap_or(Value::Null);
    match request.body.get("method").and_then(Value::as_str).unwrap_or_default() {
        "getbestblockhash" => result(json!(BEST_HASH)),
        "getblockcount" => result(json!(0)),
        "getblockchaininfo" => {
            result(json!({"chain": "regtest", "blocks": 0, "bestblockhash": BEST_HASH, "warnings": []}))
        }
        "echo" | "echojson" => result(params),
        "path" => result(json!(request.path)),
        "nothing" => result(Value::Null),
        "big" => Reply { chunked: true, ..result(json!("x".repeat(5000))) },
        "needwallet" => rpc_error(
            500,
            -19,
            "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
        ),
        _ => rpc_error(404, -32601, "Method not found"),
    }
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

pub fn run<S: AsRef<std::ffi::OsStr>>(program: impl AsRef<Path>, args: &[S]) -> Output {
    Command::new(program.as_ref()).args(args).output().expect("run")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// A copy of `mpx` alone in a fresh directory.
pub fn lone_mpx() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mpx = dir.path().join("mpx");
    // Copied by `cp`, not in this multi-threaded process: a file open for
    // writing here could leak into a concurrent fork (ETXTBSY on exec).
    let status = Command::new("cp").arg(MPX).arg(&mpx).status().expect("run cp");
    assert!(status.success(), "cp mpx");
    (dir, mpx)
}
