//! Behaving like a C++ libmultiprocess peer at the edges (found by running
//! our processes against C++ ones), checked with pycapnp (C++ KJ under
//! Python) as the peer: `tests/pycapnp_edges.py`.
//!
//! - A client lets its `destroy` calls be answered before it disconnects
//!   (a C++ server deadlocks when its client leaves during one).
//! - A `destroy` from a thread with no server thread on the connection
//!   still names a thread (a C++ server refuses one without).
//! - A server's `destroy` releases the object at once: what it holds goes
//!   too (chained destroys), while the peer still holds its reference.
//! - A `Context.thread` that is a pipelined `makeThread` result is waited
//!   for, not refused as `invalid thread handle`.
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use framework::EventLoop;
use framework_itest::foo_capnp::foo_init;
use framework_itest::FooInit;

fn require_pycapnp() {
    let has_pycapnp = Command::new("python3")
        .args(["-c", "import capnp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(has_pycapnp, "pycapnp is missing: python3 -m pip install pycapnp==2.2.4 (what .ci/run does)");
}

/// A temp dir with the socket path and the import dir pycapnp needs.
struct Dirs {
    dir: tempfile::TempDir,
    imports: PathBuf,
}

fn dirs() -> Dirs {
    let dir = tempfile::tempdir().unwrap();
    let imports = dir.path().join("imports");
    std::fs::create_dir_all(imports.join("mp")).unwrap();
    std::fs::copy(manifest().join("../schema/proxy.capnp"), imports.join("mp/proxy.capnp")).unwrap();
    Dirs { dir, imports }
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn script(mode: &str, sock: &Path, dirs: &Dirs) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(manifest().join("tests/pycapnp_edges.py"))
        .arg(mode)
        .arg(sock)
        .arg(manifest().join("schema"))
        .arg(&dirs.imports);
    command
}

/// The pycapnp server of `pycapnp_edges.py`, listening.
struct PyServer {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    sock: PathBuf,
}

impl PyServer {
    fn start(dirs: &Dirs) -> Self {
        require_pycapnp();
        let sock = dirs.dir.path().join("py.sock");
        let mut child = script("server", &sock, dirs).stdout(Stdio::piped()).spawn().unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Self { child, lines, sock };
        assert_eq!(server.next_line(), "listening");
        server
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(10)).expect("the pycapnp server said nothing")
    }

    /// Every line until the server exits (after its client disconnected).
    fn rest(mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            lines.push(line);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        lines
    }

    fn connect(&self, event_loop: &EventLoop) -> Box<dyn FooInit> {
        let stream = framework::connect_unix(&self.sock).unwrap();
        event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap().0
    }
}

#[test]
fn dropping_the_loop_waits_for_the_answer_to_a_destroy() {
    let dirs = dirs();
    let server = PyServer::start(&dirs);
    let event_loop = EventLoop::new().unwrap();
    let init = server.connect(&event_loop);
    let foo = init.make_foo().unwrap();
    drop(foo);
    drop(init);
    let started = Instant::now();
    drop(event_loop);
    let took = started.elapsed();
    let lines = server.rest();
    let answered = lines.iter().position(|l| l == "destroy answered");
    let disconnected = lines.iter().position(|l| l == "disconnected");
    assert!(
        answered.is_some() && answered < disconnected,
        "the client left in the middle of the destroy: {lines:?}"
    );
    assert!(took < Duration::from_secs(2), "the wait is bounded, and was not needed for long: {took:?}");
}

#[test]
fn a_destroy_from_a_thread_with_no_server_thread_names_one() {
    let dirs = dirs();
    let server = PyServer::start(&dirs);
    let event_loop = EventLoop::new().unwrap();
    let init = server.connect(&event_loop);
    let foo = init.make_foo().unwrap();
    // This thread never called on the connection: it has no server thread there.
    std::thread::spawn(move || drop(foo)).join().unwrap();
    drop(init);
    drop(event_loop);
    let lines = server.rest();
    let destroy = lines.iter().find(|l| l.starts_with("destroy")).cloned().unwrap_or_default();
    assert!(destroy.starts_with("destroy thread=") && destroy.ends_with("known=True"), "{lines:?}");
    assert!(lines.iter().any(|l| l == "destroy answered"), "{lines:?}");
}

/// Runs `pycapnp_edges.py <mode>` against a foo-server.
fn drive_foo_server(mode: &str) {
    require_pycapnp();
    let dirs = dirs();
    let sock = dirs.dir.path().join("foo.sock");
    let mut server = Command::new(common::FOO_SERVER).arg("-listen").arg(&sock).arg("8").spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "foo-server did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = script(mode, &sock, &dirs).output().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pycapnp client failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[test]
fn a_destroy_releases_the_object_at_once() {
    drive_foo_server("chained");
}

#[test]
fn a_pipelined_make_thread_result_is_awaited_as_the_thread() {
    drive_foo_server("pipelined");
}

/// The error kind that crosses to framework peers rides where pycapnp does
/// not look: it sees `remote exception: std::exception: <message>` exactly.
#[test]
fn an_error_with_a_kind_reads_exactly_as_before_to_pycapnp() {
    drive_foo_server("errors");
}
