//! Shared setup: two event loops (one per "process") over a socketpair,
//! the server side serving a test `Init`.
#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use framework::{Connection, EventLoop};
use interfaces::{Echo, Init, Mining, Result, Rpc};

/// Both ends of one IPC connection inside this test process.
pub struct Pair {
    /// The client's proxy of the server's Init.
    pub init: Box<dyn Init>,
    pub client_connection: Connection,
    pub server_connection: Connection,
    // Dropped last: the loops outlive the objects above.
    pub client_loop: EventLoop,
    pub server_loop: EventLoop,
}

/// Serves `init` on one loop and connects to it from another.
pub fn connect(init: Box<dyn Init>) -> Pair {
    let (a, b) = UnixStream::pair().expect("socketpair");
    let server_loop = EventLoop::new().expect("server loop");
    let client_loop = EventLoop::new().expect("client loop");
    let server_connection = ipc::serve_init(&server_loop.handle(), a, init).expect("serve_init");
    let (init, client_connection) = ipc::connect_init(&client_loop.handle(), b).expect("connect_init");
    Pair { init, client_connection, server_connection, client_loop, server_loop }
}

/// Polls `done` until it holds, failing the test after 10 s.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A hash whose bytes are all different, so byte order mistakes show.
pub fn hash(seed: u8) -> [u8; 32] {
    let mut h = [0u8; 32];
    for (i, b) in h.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    h
}

/// An `Init` providing the Bitcoin Core methods: echo, mining, rpc (whose
/// answer is `request|uri|user`).
struct EchoImpl;
impl Echo for EchoImpl {
    fn echo(&self, echo: String) -> Result<String> {
        Ok(echo)
    }
}

struct MiningImpl;
impl Mining for MiningImpl {
    fn is_test_chain(&self) -> Result<bool> {
        Ok(true)
    }
}

struct RpcImpl;
impl Rpc for RpcImpl {
    fn execute_rpc(&self, request: String, uri: String, user: String) -> Result<String> {
        Ok(format!("{request}|{uri}|{user}"))
    }
}

pub struct TestInit;
impl Init for TestInit {
    fn make_echo(&self) -> Result<Box<dyn Echo>> {
        Ok(Box::new(EchoImpl))
    }
    fn make_mining(&self) -> Result<Box<dyn Mining>> {
        Ok(Box::new(MiningImpl))
    }
    fn make_rpc(&self) -> Result<Box<dyn Rpc>> {
        Ok(Box::new(RpcImpl))
    }
}
