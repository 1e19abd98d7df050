//! Hostile peers written by hand on raw unix sockets, a `foo-server`
//! listening on a socket, and what `/proc` says about its memory and threads.
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use capnp::traits::HasTypeId;
use capnp_rpc::rpc_capnp::{message, promised_answer};
use framework::EventLoop;
use framework_itest::foo_capnp::foo_init;
use framework_itest::FooInit;

pub const FOO_SERVER: &str = env!("CARGO_BIN_EXE_foo-server");

/// A `foo-server -listen` child, killed when dropped.
pub struct ListenServer {
    pub child: Child,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for ListenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ListenServer {
    /// Starts `foo-server -listen <path> <max> <extra...>` and waits until it listens.
    pub fn start(max: usize, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("foo.sock");
        let child = Command::new(FOO_SERVER)
            .arg("-listen")
            .arg(&path)
            .arg(max.to_string())
            .args(extra)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(Instant::now() < deadline, "server did not start listening");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self { child, path, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A framework client of this server.
    pub fn connect(
        &self,
        event_loop: &EventLoop,
    ) -> framework::Result<(Box<dyn FooInit>, framework::Connection)> {
        connect_path(&event_loop.handle(), &self.path)
    }

    /// A raw socket to this server.
    pub fn raw(&self) -> UnixStream {
        UnixStream::connect(&self.path).unwrap()
    }
}

/// A framework client of the server listening at `path`.
pub fn connect_path(
    handle: &framework::LoopHandle,
    path: &Path,
) -> framework::Result<(Box<dyn FooInit>, framework::Connection)> {
    let stream = framework::connect_unix(path)?;
    handle.connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream)
}

fn status_field(pid: u32, field: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status:\n{status}"))
}

/// Resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> usize {
    status_field(pid, "VmRSS:")
}

/// Threads of process `pid`.
pub fn threads(pid: u32) -> usize {
    status_field(pid, "Threads:")
}

/// Open descriptors of process `pid`.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// Waits (bounded) until process `pid` has at most `want` descriptors open
/// (its connections to peers that left are closed).
pub fn wait_for_fds(pid: u32, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = fds(pid);
        if now <= want {
            return;
        }
        assert!(Instant::now() < deadline, "server has {now} descriptors open, expected {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until `cond` holds, polling every 20 ms; panics naming `what`.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until process `pid` has `want` threads.
pub fn wait_for_threads(pid: u32, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = threads(pid);
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "server has {now} threads, expected {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until `pid`'s resident memory is at most `kib`; returns
/// the last reading either way.
pub fn settle_rss_below(pid: u32, kib: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let now = rss_kib(pid);
        if now <= kib || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The 8-byte stream header of a one-segment message of `words` words.
pub fn header(words: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[4..].copy_from_slice(&words.to_le_bytes());
    h
}

fn serialize(build: impl FnOnce(message::Builder<'_>)) -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    build(m.init_root());
    capnp::serialize::write_message_to_words(&m)
}

/// `Bootstrap` with question id `q`.
pub fn bootstrap(q: u32) -> Vec<u8> {
    serialize(|m| m.init_bootstrap().set_question_id(q))
}

/// `Finish` of question `q`.
pub fn finish(q: u32) -> Vec<u8> {
    serialize(|m| {
        let mut f = m.init_finish();
        f.set_question_id(q);
        f.set_release_result_caps(true);
    })
}

/// `FooInit.processId()` as question `q`, sent to the answer of question
/// `target` (a Bootstrap): a pipelined call that runs on the server's loop.
pub fn process_id_call(q: u32, target: u32) -> Vec<u8> {
    serialize(|m| {
        let mut call = m.init_call();
        call.set_question_id(q);
        call.set_interface_id(foo_init::Client::TYPE_ID);
        call.set_method_id(2);
        let mut answer: promised_answer::Builder<'_> = call.reborrow().init_target().init_promised_answer();
        answer.set_question_id(target);
        answer.init_transform(0);
        // Null content reads as an empty params struct.
        call.init_params();
    })
}

/// Writes `bytes` without blocking for more than `patience` at a time;
/// returns how many were written (fewer when the peer stopped reading).
pub fn write_patiently(stream: &UnixStream, bytes: &[u8], patience: Duration) -> usize {
    stream.set_write_timeout(Some(patience)).unwrap();
    let mut written = 0;
    let mut s = stream;
    while written < bytes.len() {
        match s.write(&bytes[written..]) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    written
}

/// Reads one message's words from a blocking stream (returns None at EOF or error).
pub fn read_message(
    stream: &mut UnixStream,
) -> Option<capnp::message::Reader<capnp::serialize::OwnedSegments>> {
    let mut options = capnp::message::ReaderOptions::new();
    options.traversal_limit_in_words(None);
    capnp::serialize::read_message(stream, options).ok()
}

/// Path of the server's socket, for error messages.
pub fn show(path: &Path) -> String {
    path.display().to_string()
}
