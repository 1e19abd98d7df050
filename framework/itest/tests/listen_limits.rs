//! `listen` with a connection limit, and cancellation of calls whose
//! client left, through a real unix socket.
mod common;
mod hostile;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use framework::EventLoop;
use framework_itest::foo_capnp::foo_init;
use framework_itest::FooInit;

struct Server {
    child: Child,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen_server(max: usize) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foo.sock");
    let child =
        Command::new(common::FOO_SERVER).arg("-listen").arg(&path).arg(max.to_string()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(Instant::now() < deadline, "server did not start listening");
        std::thread::sleep(Duration::from_millis(10));
    }
    Server { child, path, _dir: dir }
}

fn connect(event_loop: &EventLoop, path: &Path) -> (Box<dyn FooInit>, framework::Connection) {
    let stream = framework::connect_unix(path).unwrap();
    event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap()
}

#[test]
fn the_second_client_waits_until_the_first_leaves() {
    let server = listen_server(1);
    let event_loop = EventLoop::new().unwrap();
    let (first, first_conn) = connect(&event_loop, &server.path);
    assert_eq!(first.make_foo().unwrap().add(1, 1).unwrap(), 2);

    let (tx, rx) = mpsc::channel();
    let path = server.path.clone();
    let handle = event_loop.handle();
    std::thread::spawn(move || {
        let stream = framework::connect_unix(&path).unwrap();
        let (second, _conn) = handle.connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap();
        let answer = second.make_foo().unwrap().add(2, 2).unwrap();
        let _ = tx.send(answer);
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "second client served while the first is connected"
    );
    drop(first);
    first_conn.disconnect();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 4);
}

#[test]
fn a_client_that_left_before_being_accepted_frees_its_slot() {
    let server = listen_server(1);
    let event_loop = EventLoop::new().unwrap();
    let (first, first_conn) = connect(&event_loop, &server.path);
    assert_eq!(first.make_foo().unwrap().add(1, 1).unwrap(), 2);
    // Queued in the backlog, then gone.
    drop(framework::connect_unix(&server.path).unwrap());
    drop(first);
    first_conn.disconnect();
    let (third, _conn) = common::within(Duration::from_secs(10), {
        let handle = event_loop.handle();
        let path = server.path.clone();
        move || {
            let stream = framework::connect_unix(&path).unwrap();
            handle.connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap()
        }
    });
    assert_eq!(third.make_foo().unwrap().add(3, 3).unwrap(), 6);
}

/// Every connection's state goes when it closes. (It used to stay: the
/// connection held the peer's bootstrap capability, which held capnp-rpc's
/// connection state, which held our bootstrap object, which held the
/// connection; about 3.5 KiB per connection ever made.)
#[test]
fn closed_connections_leave_nothing_behind() {
    let server = hostile::ListenServer::start(0, &[]);
    let pid = server.pid();
    let round = || {
        let streams: Vec<_> = (0..10)
            .map(|_| {
                let mut s = server.raw();
                std::io::Write::write_all(&mut s, &hostile::bootstrap(0)).unwrap();
                s
            })
            .collect();
        // The server answers every bootstrap request: all are served.
        for mut s in streams {
            assert!(hostile::read_message(&mut s).is_some());
        }
    };
    // Warm up: the allocator settles after a few hundred connections.
    for _ in 0..100 {
        round();
    }
    std::thread::sleep(Duration::from_millis(100));
    let warm = hostile::rss_kib(pid);
    for _ in 0..100 {
        round();
    }
    std::thread::sleep(Duration::from_millis(100));
    let after = hostile::rss_kib(pid);
    println!("server rss after 1000 connections {warm} KiB, after 1000 more {after} KiB");
    assert!(after < warm + 1024, "1000 closed connections left {} KiB behind", after - warm);
}

#[test]
fn a_call_whose_client_disconnects_is_cancelled_on_the_server() {
    let server = listen_server(4);
    let event_loop = EventLoop::new().unwrap();
    let (observer_init, _observer_conn) = connect(&event_loop, &server.path);
    let observer = observer_init.make_foo().unwrap();
    assert_eq!(observer.cancelled_count().unwrap(), 0);

    let (init, conn) = connect(&event_loop, &server.path);
    let foo: std::sync::Arc<dyn framework_itest::Foo> = std::sync::Arc::from(init.make_foo().unwrap());
    let sleeper = {
        let foo = foo.clone();
        std::thread::spawn(move || foo.sleep(60_000))
    };
    std::thread::sleep(Duration::from_millis(300));
    conn.disconnect();
    let outcome = common::within(Duration::from_secs(10), move || sleeper.join().unwrap());
    assert!(outcome.unwrap_err().is_disconnected());
    let deadline = Instant::now() + Duration::from_secs(10);
    while observer.cancelled_count().unwrap() == 0 {
        assert!(Instant::now() < deadline, "the server never saw the cancellation");
        std::thread::sleep(Duration::from_millis(20));
    }
}
