//! Server threads come and go with client threads: a server thread whose
//! client thread exits at once (even before it served anything) is destroyed
//! and the server stays healthy; a disconnect racing the start or the end of
//! a call ends that call promptly; a spawned child runs the server's code
//! only, with none of the parent's descriptors.
mod common;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framework::{EventLoop, LoopConfig, SpawnOptions};
use framework_itest::foo_capnp::foo_init;
use framework_itest::{Foo, FooCallback, FooInit, SpawnedFoo, TestResult};

/// A spawned foo-server whose stderr goes to a file we read afterwards.
struct Server {
    spawned: SpawnedFoo,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

fn spawn_server(event_loop: &EventLoop) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let stderr = dir.path().join("stderr.txt");
    let (child, stream) = SpawnOptions::new()
        .stderr(File::create(&stderr).unwrap())
        .spawn(Path::new(common::FOO_SERVER))
        .unwrap();
    let (init, connection) =
        event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap();
    Server { spawned: SpawnedFoo { init, connection, child }, stderr, _dir: dir }
}

/// Number of threads of process `pid` (Linux `/proc`).
fn thread_count(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no thread count in /proc/{pid}/status:\n{status}"))
}

/// Waits (bounded) until process `pid` has `want` threads.
fn wait_for_thread_count(pid: u32, want: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = thread_count(pid);
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: server has {now} threads, expected {want}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (bounded) for the server to exit by itself and checks it exited
/// cleanly and printed no panic.
fn expect_clean_exit(server: Server) {
    let Server { spawned, stderr, _dir } = server;
    let SpawnedFoo { init, connection, child } = spawned;
    let status = common::within(Duration::from_secs(10), move || {
        drop(init);
        drop(connection);
        child.wait().unwrap()
    });
    let text = std::fs::read_to_string(&stderr).unwrap();
    assert!(status.success(), "server exited with {status:?}; stderr:\n{text}");
    assert!(!text.contains("panicked"), "server stderr:\n{text}");
}

const OVERSIZED: usize = 16 << 10;

/// The client's first Context call on a thread creates that thread's server
/// thread (makeThread); the client thread then exits at once. Half the
/// threads make a call that fails on the client *after* makeThread, before
/// anything is sent (arguments over the client's outgoing message limit), so
/// their server thread is destroyed without ever serving a request. 300
/// threads exceed the server's limit of 256 server threads per connection:
/// had any server thread outlived its client thread, makeThread would fail.
#[test]
fn server_threads_of_exited_client_threads_are_destroyed_even_unused() {
    let config = LoopConfig { max_outgoing_bytes: OVERSIZED / 4, ..LoopConfig::default() };
    let event_loop = EventLoop::with_config(config).unwrap();
    let server = spawn_server(&event_loop);
    let pid = server.spawned.child.pid();
    let foo: Arc<dyn Foo> = Arc::from(server.spawned.init.make_foo().unwrap());
    assert_eq!(foo.add(1, 1).unwrap(), 2);
    let baseline = thread_count(pid);

    // One thread that never gets a request served keeps a server thread
    // while it lives, and loses it when it exits.
    let (made_tx, made_rx) = mpsc::channel();
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    let unused = {
        let foo = foo.clone();
        std::thread::spawn(move || {
            let err = foo.pass_data(vec![7; OVERSIZED]).unwrap_err();
            let _ = made_tx.send(err);
            let _ = exit_rx.recv_timeout(Duration::from_secs(10));
        })
    };
    let err = made_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!err.is_disconnected() && err.message.contains("limit"), "{err:?}");
    wait_for_thread_count(pid, baseline + 1, "while the client thread lives");
    drop(exit_tx);
    unused.join().unwrap();
    wait_for_thread_count(pid, baseline, "after the client thread exited");

    let short_lived = {
        let foo = foo.clone();
        move || {
            for i in 0..300 {
                let foo = foo.clone();
                let outcome = std::thread::spawn(move || -> Result<(), String> {
                    if i % 2 == 0 {
                        match foo.add(i, 1) {
                            Ok(got) if got == i + 1 => Ok(()),
                            other => Err(format!("thread {i}: add({i}, 1) = {other:?}")),
                        }
                    } else {
                        match foo.pass_data(vec![1; OVERSIZED]) {
                            Err(e) if !e.is_disconnected() && e.message.contains("limit") => Ok(()),
                            other => Err(format!("thread {i}: oversized pass_data gave {other:?}")),
                        }
                    }
                })
                .join();
                outcome.unwrap_or_else(|_| Err(format!("thread {i} panicked")))?;
            }
            Ok::<(), String>(())
        }
    };
    common::within(Duration::from_secs(120), short_lived).unwrap();
    wait_for_thread_count(pid, baseline, "after 300 short-lived client threads");

    // Still healthy: the old thread, a new thread, and a new object work.
    assert_eq!(foo.add(2, 3).unwrap(), 5);
    let other = foo.clone();
    assert_eq!(std::thread::spawn(move || other.add(4, 5).unwrap()).join().unwrap(), 9);
    assert_eq!(server.spawned.init.make_foo().unwrap().add(6, 7).unwrap(), 13);
    drop(foo);
    server.spawned.connection.disconnect();
    expect_clean_exit(server);
}

struct Times3;

impl FooCallback for Times3 {
    fn call(&self, arg: i32) -> TestResult<i32> {
        Ok(arg * 3)
    }
}

/// A call and `connection.disconnect()` at delays spread over 0..2 ms, on a
/// fresh server each time; the call is the thread's first (racing its
/// makeThread) or follows a warm-up call (racing the call itself: add,
/// sleep(1) or a callback). Each call must end promptly with its right
/// answer or a disconnected error; later calls fail as disconnected; the
/// server exits cleanly by itself.
#[test]
fn disconnect_racing_the_start_and_end_of_a_call() {
    const ITERATIONS: u32 = 50;
    let event_loop = EventLoop::new().unwrap();
    let (mut answered, mut cut) = (0, 0);
    for i in 0..ITERATIONS {
        let delay = Duration::from_micros(u64::from(i) * 2000 / u64::from(ITERATIONS));
        let kind = i % 4;
        let server = spawn_server(&event_loop);
        let foo: Arc<dyn Foo> = Arc::from(server.spawned.init.make_foo().unwrap());
        let (ready_tx, ready_rx) = mpsc::channel();
        let caller = {
            let foo = foo.clone();
            std::thread::spawn(move || -> Result<bool, String> {
                if kind != 0 {
                    foo.add(0, 0).map_err(|e| format!("warm-up: {e:?}"))?;
                }
                let _ = ready_tx.send(());
                let outcome = match kind {
                    0 | 1 => foo.add(i as i32, 1).map(|got| (got == i as i32 + 1, got)),
                    2 => foo.sleep(1).map(|cancelled| (!cancelled, i32::from(cancelled))),
                    _ => foo.callback(Box::new(Times3), 5).map(|got| (got == 16, got)),
                };
                match outcome {
                    Ok((true, _)) => Ok(true),
                    Ok((false, got)) => Err(format!("kind {kind}: wrong answer {got}")),
                    Err(e) if e.is_disconnected() => Ok(false),
                    Err(e) => Err(format!("kind {kind}: failed but not as disconnected: {e:?}")),
                }
            })
        };
        ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        std::thread::sleep(delay);
        server.spawned.connection.disconnect();
        let outcome = common::within(Duration::from_secs(10), move || caller.join());
        let ok = outcome
            .unwrap_or_else(|_| panic!("iteration {i}: caller panicked"))
            .unwrap_or_else(|e| panic!("iteration {i} (delay {delay:?}): {e}"));
        if ok {
            answered += 1;
        } else {
            cut += 1;
        }
        let after = common::within(Duration::from_secs(10), {
            let foo = foo.clone();
            move || foo.add(1, 1)
        });
        assert!(after.as_ref().is_err_and(|e| e.is_disconnected()), "iteration {i}: {after:?}");
        common::within(Duration::from_secs(10), move || drop(foo));
        expect_clean_exit(server);
    }
    println!("{answered} calls answered, {cut} cut by the disconnect");
    assert_eq!(answered + cut, ITERATIONS);
}

/// Reads `/proc/<pid>/fd`: (descriptor, link target) pairs.
fn open_fds(pid: u32) -> Vec<(i32, PathBuf)> {
    let mut fds: Vec<(i32, PathBuf)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((fd, target))
        })
        .collect();
    fds.sort();
    fds
}

/// The parent holds an inheritable (non-close-on-exec) descriptor of a file
/// only it should see. The spawned child must not have it: it runs
/// `foo-server` from a fresh exec with exactly the command line
/// `<exe> -ipcfd N`, where `N` is its socket, and nothing of the parent but
/// the standard descriptors. The parent's descriptor stays as it was.
#[test]
fn spawn_does_not_run_parent_state_in_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let marker_path = dir.path().join("parent-only");
    let marker = File::create(&marker_path).unwrap();
    let marker_path = marker_path.canonicalize().unwrap();
    // SAFETY: fcntl(2) on a descriptor `marker` owns; no memory is involved.
    let cleared = unsafe { libc::fcntl(marker.as_raw_fd(), libc::F_SETFD, 0) };
    assert_eq!(cleared, 0, "{}", std::io::Error::last_os_error());

    let event_loop = EventLoop::new().unwrap();
    let (child, stream) = framework::spawn_process(Path::new(common::FOO_SERVER), &[]).unwrap();
    let (init, connection) =
        event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap();
    let spawned = SpawnedFoo { init, connection, child };
    // The child answers as foo-server: it is running the server's code.
    let foo = spawned.init.make_foo().unwrap();
    assert_eq!(foo.add(20, 22).unwrap(), 42);
    let pid = spawned.child.pid();
    assert_eq!(spawned.init.process_id().unwrap(), pid);

    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .strip_suffix(b"\0")
        .unwrap_or(&cmdline)
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(args.len(), 3, "{args:?}");
    assert_eq!(args[0], common::FOO_SERVER, "{args:?}");
    assert_eq!(args[1], "-ipcfd", "{args:?}");
    let n: i32 = args[2].parse().unwrap_or_else(|_| panic!("{args:?}"));
    assert!(n >= 3, "{args:?}");

    let fds = open_fds(pid);
    assert!(
        fds.iter().all(|(_, target)| target != &marker_path),
        "the child has the parent's descriptor of {}: {fds:?}",
        marker_path.display()
    );
    let socket = fds.iter().find(|(fd, _)| *fd == n).unwrap_or_else(|| panic!("no fd {n}: {fds:?}"));
    assert!(socket.1.to_string_lossy().starts_with("socket:"), "{fds:?}");
    // Besides its socket, the child may hold only what foo-server opens
    // itself (its event loop's anonymous inodes): no files, no pipes, no
    // other sockets from the parent.
    let foreign: Vec<_> = fds
        .iter()
        .filter(|(fd, target)| *fd > 2 && *fd != n && !target.to_string_lossy().starts_with("anon_inode:"))
        .collect();
    assert!(foreign.is_empty(), "descriptors the child did not open itself: {foreign:?} (all: {fds:?})");

    // The parent's descriptor is untouched: open and still inheritable.
    // SAFETY: as above.
    let flags = unsafe { libc::fcntl(marker.as_raw_fd(), libc::F_GETFD) };
    assert_eq!(flags, 0, "the parent's descriptor flags changed");

    drop(foo);
    let SpawnedFoo { init, connection, child } = spawned;
    drop(init);
    connection.disconnect();
    let status = common::within(Duration::from_secs(10), move || child.wait().unwrap());
    assert!(status.success(), "{status:?}");
}
