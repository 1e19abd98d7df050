//! The JSON-RPC server of the real `mpx-node` against clients that misbehave, on purpose or not:
//! each test asserts both halves, that the hostile client is refused or bounded, and that a
//! well-behaved client is served meanwhile and afterwards, with the node's memory and threads
//! back near where they started.
//!
//! The nodes run with `-rpcservertimeout=2` so the silence timeout is seen within the test.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine as _;
use functional_tests::{TestFramework, TestNode};
use serde_json::json;

const SERVER_TIMEOUT: &str = "-rpcservertimeout=2";
/// Longer than the server's silence timeout, with room for a loaded machine.
const PAST_TIMEOUT: Duration = Duration::from_secs(6);

fn addr(node: &TestNode) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], node.rpc_port()))
}

fn connect(node: &TestNode) -> TcpStream {
    let stream = TcpStream::connect(addr(node)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    stream.set_write_timeout(Some(Duration::from_secs(20))).expect("write timeout");
    stream
}

/// `Authorization` with the node's cookie.
fn cookie_auth(node: &TestNode) -> String {
    let cookie = std::fs::read_to_string(node.cookie_file()).expect("cookie");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(cookie.trim()))
}

/// A complete request for `method` with the cookie.
fn request(node: &TestNode, method: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": []}).to_string();
    format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        cookie_auth(node),
        body.len()
    )
    .into_bytes()
}

/// A connection that has sent an authenticated request head with `framing` (how the body is
/// delimited) and no body yet.
fn announce_body(node: &TestNode, framing: &str) -> TcpStream {
    let mut stream = connect(node);
    let head = format!("POST / HTTP/1.1\r\nAuthorization: {}\r\n{framing}\r\n\r\n", cookie_auth(node));
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// One response read from `stream`: status, head (lower-cased), body. Reads exactly the
/// `Content-Length` bytes; `None` when the connection closed or failed first.
fn read_response(stream: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(Some(0), |value| value.trim().parse().ok())?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some((status, head, body))
}

/// Whether the server closed `stream` (EOF or reset) within `within`, reading and discarding
/// whatever it sent before.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(200))).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// The node process's resident memory in KiB and its thread count.
fn rss_and_threads(node: &TestNode) -> (u64, u64) {
    let pid = node.pid().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("field")
    };
    (field("VmRSS:"), field("Threads:"))
}

/// The well-behaved half: a fresh client gets its answer.
fn served(node: &TestNode) {
    assert_eq!(node.call("getblockcount", json!([])), json!(0));
}

fn start(name: &str, args: &[&str]) -> TestFramework {
    let mut test = TestFramework::new(name, 1);
    test.nodes[0].start(args);
    test
}

#[test]
fn a_huge_declared_body_is_refused_before_anything_is_allocated() {
    let test = start("rpc_huge_body", &[SERVER_TIMEOUT]);
    let node = &test.nodes[0];
    let (rss_before, _) = rss_and_threads(node);

    // Without credentials: 401, the body never read.
    let mut stream = connect(node);
    stream.write_all(b"POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n").unwrap();
    let (status, head, _) = read_response(&mut stream).expect("a reply");
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: basic realm=\"jsonrpc\""), "{head}");

    // With credentials: 413 from the declared length alone, and the connection is closed.
    let mut stream = announce_body(node, "Content-Length: 1000000000000000000");
    let (status, head, _) = read_response(&mut stream).expect("a reply");
    assert_eq!(status, 413, "{head}");
    assert!(closed_by_server(&mut stream, PAST_TIMEOUT));

    // A chunked body that grows past the limit: 413 as soon as it does.
    let mut stream = announce_body(node, "Transfer-Encoding: chunked");
    let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "x".repeat(1 << 20));
    let mut refused = false;
    for _ in 0..40 {
        if stream.write_all(chunk.as_bytes()).is_err() {
            refused = true;
            break;
        }
    }
    if !refused {
        let reply = read_response(&mut stream);
        assert_eq!(reply.map(|r| r.0), Some(413));
    }

    served(node);
    let (rss_after, _) = rss_and_threads(node);
    assert!(rss_after < rss_before + 64 * 1024, "RSS {rss_before} KiB -> {rss_after} KiB");
}

#[test]
fn silent_and_trickling_clients_never_hold_a_worker() {
    let test = start("rpc_slow_clients", &[SERVER_TIMEOUT, "-rpcthreads=2"]);
    let node = &test.nodes[0];
    // More silent bodies than workers, and two bodies sent a byte at a time.
    let mut silent: Vec<TcpStream> = (0..6).map(|_| announce_body(node, "Content-Length: 100")).collect();
    let tricklers: Vec<_> = (0..2)
        .map(|_| {
            let mut stream = announce_body(node, "Content-Length: 100");
            std::thread::spawn(move || {
                // One byte every 300 ms: never silent for the timeout, never done in time.
                for _ in 0..100 {
                    if stream.write_all(b" ").is_err() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                false
            })
        })
        .collect();

    // Meanwhile every request of a well-behaved client is answered.
    for _ in 0..15 {
        served(node);
    }
    // The silent ones get 408 once the server timeout passes, and are closed.
    for stream in &mut silent {
        let (status, _, _) = read_response(stream).expect("a 408 reply");
        assert_eq!(status, 408);
        assert!(closed_by_server(stream, PAST_TIMEOUT));
    }
    // The tricklers are cut off too (their writes start failing).
    for trickler in tricklers {
        assert!(trickler.join().unwrap(), "a trickling body is not read forever");
    }
    served(node);
}

#[test]
fn pipelined_requests_whose_replies_are_never_read_stay_bounded() {
    let test = start("rpc_pipelining", &[SERVER_TIMEOUT]);
    let node = &test.nodes[0];
    let (rss_before, threads_before) = rss_and_threads(node);

    // Write requests as fast as the server takes them, never reading a reply.
    let mut flooder = connect(node);
    flooder.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    let one = request(node, "getblockcount");
    let batch: Vec<u8> = one.iter().copied().cycle().take(one.len() * 100).collect();
    let mut sent = 0usize;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match flooder.write(&batch) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(Instant::now() < deadline, "the server kept reading requests whose replies nobody reads");
    assert!(sent > one.len(), "some requests were sent");

    // The server stopped reading; it serves others meanwhile and has not grown.
    served(node);
    let (rss_during, _) = rss_and_threads(node);
    assert!(rss_during < rss_before + 32 * 1024, "RSS {rss_before} KiB -> {rss_during} KiB while flooded");

    // The flooder is dropped once it has not read for the server timeout.
    assert!(closed_by_server(&mut flooder, PAST_TIMEOUT + Duration::from_secs(10)));
    served(node);
    let (rss_after, threads_after) = rss_and_threads(node);
    assert!(rss_after < rss_before + 32 * 1024, "RSS {rss_before} KiB -> {rss_after} KiB");
    assert_eq!(threads_after, threads_before);
}

#[test]
fn an_endless_request_line_is_cut_off() {
    let test = start("rpc_endless_line", &[SERVER_TIMEOUT]);
    let node = &test.nodes[0];
    let (rss_before, _) = rss_and_threads(node);
    let mut stream = connect(node);
    stream.write_all(b"POST /").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut written = 0usize;
    while written < 128 << 20 {
        match stream.write(&chunk) {
            Ok(n) => written += n,
            Err(_) => break,
        }
    }
    assert!(written < 128 << 20, "the server read 128 MiB of one request line");
    served(node);
    let (rss_after, _) = rss_and_threads(node);
    assert!(rss_after < rss_before + 32 * 1024, "RSS {rss_before} KiB -> {rss_after} KiB");
}

#[test]
fn idle_connections_cost_no_thread_are_capped_and_time_out() {
    let test = start("rpc_idle", &[SERVER_TIMEOUT]);
    let node = &test.nodes[0];
    let (_, threads_before) = rss_and_threads(node);

    let mut idle: Vec<TcpStream> = (0..256).map(|_| connect(node)).collect();
    // Every connection is accepted (the server counts them) before the next one is judged.
    std::thread::sleep(Duration::from_millis(500));
    let (_, threads_idle) = rss_and_threads(node);
    assert_eq!(threads_idle, threads_before, "a connection costs no thread");

    // One more than the cap is refused with a 503 and closed.
    let mut extra = connect(node);
    extra.write_all(&request(node, "getblockcount")).unwrap();
    // (No reply at all means a reset before it could be read: refused all the same.)
    if let Some((status, _, body)) = read_response(&mut extra) {
        assert_eq!(status, 503);
        assert_eq!(body, b"Too many open connections");
    }
    assert!(node.rpc("getblockcount", json!([])).is_err(), "at the cap, a new client is refused");

    // The idle ones are closed after the server timeout; then clients are served again.
    for stream in &mut idle {
        assert!(closed_by_server(stream, PAST_TIMEOUT));
    }
    drop(idle);
    served(node);
    let (_, threads_after) = rss_and_threads(node);
    assert_eq!(threads_after, threads_before);
}

#[test]
fn running_out_of_file_descriptors_is_survived() {
    let test = start("rpc_emfile", &[SERVER_TIMEOUT]);
    let node = &test.nodes[0];
    let pid = node.pid().expect("running") as i32;
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count() as u64;
    // Room for 20 more files in the node, no more.
    let limit = libc::rlimit { rlim_cur: open_fds + 20, rlim_max: open_fds + 20 };
    // SAFETY: prlimit reads `limit` and writes nothing (the old-limit pointer is null).
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &limit, std::ptr::null_mut()) };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());

    let hogs: Vec<TcpStream> = (0..60).filter_map(|_| TcpStream::connect(addr(node)).ok()).collect();
    std::thread::sleep(Duration::from_millis(500));
    assert!(node.debug_log().contains("Error accepting new RPC client"), "the node ran out of descriptors");
    drop(hogs);
    // The listener lives on: once descriptors are free again, clients are served.
    let deadline = Instant::now() + PAST_TIMEOUT;
    while node.rpc("getblockcount", json!([])).is_err() {
        assert!(Instant::now() < deadline, "the listener did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
    served(node);
}

#[test]
fn credentials_statuses_and_the_queue() {
    // bob:secret as bitcoind's share/rpcauth would write it (HMAC computed with Python).
    let rpcauth = "-rpcauth=bob:cb77f0957de88ff388cf817ddbc7273$\
                   c9ce7cb2de2ad5aadae1449ad1e62baa38d98fced30a7cd2eae656cab574b678";
    let test = start("rpc_statuses", &[SERVER_TIMEOUT, rpcauth]);
    let node = &test.nodes[0];
    let exchange = |head: &str, body: &str| {
        let mut stream = connect(node);
        let started = Instant::now();
        stream.write_all(format!("{head}Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes()).unwrap();
        let (status, head, body) = read_response(&mut stream).expect("a reply");
        (status, head, String::from_utf8_lossy(&body).into_owned(), started.elapsed())
    };
    let basic = |user_password: &str| base64::engine::general_purpose::STANDARD.encode(user_password);
    let call = r#"{"method":"getblockcount","id":1}"#;

    // -rpcauth works beside the cookie.
    let (status, head, body, _) =
        exchange(&format!("POST / HTTP/1.1\r\nAuthorization: Basic {}\r\n", basic("bob:secret")), call);
    assert_eq!((status, body.as_str()), (200, "{\"result\":0,\"error\":null,\"id\":1}\n"));
    assert!(head.contains("content-type: application/json"), "{head}");
    // A wrong password waits 250 ms (brute-force deterrent); a missing one does not need to.
    let (status, _, _, elapsed) =
        exchange(&format!("POST / HTTP/1.1\r\nAuthorization: Basic {}\r\n", basic("bob:wrong")), call);
    assert_eq!(status, 401);
    assert!(elapsed >= Duration::from_millis(250), "answered after {elapsed:?}");
    assert_eq!(exchange("POST / HTTP/1.1\r\n", call).0, 401);
    // Paths and methods as bitcoind answers them.
    let auth = format!("Authorization: {}\r\n", cookie_auth(node));
    assert_eq!(exchange(&format!("POST /nosuch HTTP/1.1\r\n{auth}"), call).0, 404);
    let (status, _, body, _) = exchange(&format!("GET / HTTP/1.1\r\n{auth}"), "");
    assert_eq!((status, body.as_str()), (405, "JSONRPC server handles only POST requests"));
    assert_eq!(exchange(&format!("BREW / HTTP/1.1\r\n{auth}"), "").0, 405);
    // HTTP/1.0 gets a Content-Length too, and the connection closes after the reply.
    let (status, head, _, _) = exchange(&format!("POST / HTTP/1.0\r\n{auth}"), call);
    assert_eq!(status, 200);
    assert!(head.starts_with("http/1.0 200") && head.contains("content-length:"), "{head}");
    served(node);
}

#[test]
fn rpcbind_needs_rpcallowip_and_a_bad_subnet_stops_start() {
    let mut test = TestFramework::new("rpc_bind_rules", 1);
    let node = &mut test.nodes[0];
    node.start(&["-rpcbind=0.0.0.0"]);
    assert!(
        node.debug_log().contains("Option -rpcbind was ignored because -rpcallowip was not specified"),
        "{}",
        node.debug_log()
    );
    // Listening on loopback only: no socket of the node is bound to the wildcard address.
    let pid = node.pid().expect("running");
    let port = format!("{:04X}", node.rpc_port());
    let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap();
    let listening: Vec<&str> = tcp
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter(|local| local.ends_with(&format!(":{port}")))
        .collect();
    assert!(listening.contains(&format!("0100007F:{port}").as_str()), "{listening:?}");
    assert!(!listening.contains(&format!("00000000:{port}").as_str()), "{listening:?}");
    served(node);
    node.stop();

    let error = node.try_start(&["-rpcallowip=10.0.0.0/33"]).unwrap_err();
    assert!(error.contains("Invalid -rpcallowip subnet specification"), "{error}");
    node.start(&["-rpcallowip=10.0.0.0/8", "-rpcbind=127.0.0.1"]);
    served(node);
}

#[test]
fn a_half_closed_client_still_gets_its_reply() {
    let test = start("rpc_half_close", &[]);
    let node = &test.nodes[0];
    let mut stream = connect(node);
    stream.write_all(&request(node, "getblockcount")).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let (status, _, body) = read_response(&mut stream).expect("a reply");
    assert_eq!((status, String::from_utf8_lossy(&body).contains("\"result\":0")), (200, true));
}
