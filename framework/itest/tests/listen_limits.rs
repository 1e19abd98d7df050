//! `listen` with a connection limit, and cancellation of calls whose
//! client left, through a real unix socket.
//!
//! At the limit a newcomer never waits in the backlog: idle connections
//! that use nothing but their bootstrap object are closed for it, and when
//! every connection is in use it is refused at once with a reason.
mod common;
mod hostile;

use std::io::Read;
use std::time::{Duration, Instant};

use framework::{ErrorKind, EventLoop};
use hostile::{connect_path, rss_kib, threads, wait_for_threads, ListenServer};

/// Reads until the server closes `stream` (true), or `limit` passes (false).
fn closed_by_server(stream: &mut std::os::unix::net::UnixStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut sink = Vec::new();
    stream.read_to_end(&mut sink).is_ok()
}

#[test]
fn a_newcomer_is_refused_at_once_while_every_connection_is_in_use() {
    let server = ListenServer::start(1, &[]);
    let event_loop = EventLoop::new().unwrap();
    let (first, first_conn) = server.connect(&event_loop).unwrap();
    let foo = first.make_foo().unwrap();
    assert_eq!(foo.add(1, 1).unwrap(), 2);

    let started = Instant::now();
    let refused = common::within(Duration::from_secs(10), {
        let handle = event_loop.handle();
        let path = server.path.clone();
        move || connect_path(&handle, &path).map(|_| ()).unwrap_err()
    });
    println!("refused after {:?}: {refused}", started.elapsed());
    assert_eq!(refused.kind(), ErrorKind::Overloaded, "{refused}");
    assert!(refused.message().contains("connection limit (1)"), "{refused}");

    // The connection in use was not disturbed, and once it leaves the
    // next client is served.
    assert_eq!(foo.add(2, 2).unwrap(), 4);
    drop(foo);
    drop(first);
    first_conn.disconnect();
    let (next, _conn) = common::within(Duration::from_secs(10), {
        let handle = event_loop.handle();
        let path = server.path.clone();
        move || loop {
            // The server notices the first client's departure a moment later.
            match connect_path(&handle, &path) {
                Ok(served) => break served,
                Err(e) if e.kind() == ErrorKind::Overloaded => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("{e}"),
            }
        }
    });
    assert_eq!(next.make_foo().unwrap().add(3, 3).unwrap(), 6);
}

/// Issue 7 (c): `max_connections` idle clients used to keep every other
/// client waiting forever. Idle ones (here raw sockets that never send
/// anything) are now closed for newcomers, once idle for
/// `evict_idle_after`; clients in use are kept and further newcomers are
/// refused at once. Threads and memory come back when clients leave.
#[test]
fn idle_squatters_at_the_limit_make_room_for_newcomers() {
    let server = ListenServer::start(2, &["-evict-idle-ms=200"]);
    let pid = server.pid();
    let event_loop = EventLoop::new().unwrap();
    // Threads with nobody connected; then warm up the server (its first
    // connection allocates what every later one reuses) and measure memory
    // once the warm-up client's threads are gone.
    let baseline_threads = threads(pid);
    {
        let (init, conn) = server.connect(&event_loop).unwrap();
        assert_eq!(init.make_foo().unwrap().add(1, 1).unwrap(), 2);
        drop(init);
        conn.disconnect();
    }
    wait_for_threads(pid, baseline_threads);
    let baseline_rss = rss_kib(pid);

    let mut squatters = [server.raw(), server.raw()];
    std::thread::sleep(Duration::from_millis(300));

    // Each newcomer displaces one squatter and is served.
    let (a, a_conn) = common::within(Duration::from_secs(10), {
        let h = event_loop.handle();
        let path = server.path.clone();
        move || connect_path(&h, &path)
    })
    .unwrap();
    let foo_a = a.make_foo().unwrap();
    assert_eq!(foo_a.add(1, 2).unwrap(), 3);
    let (b, b_conn) = server.connect(&event_loop).unwrap();
    let foo_b = b.make_foo().unwrap();
    assert_eq!(foo_b.add(3, 4).unwrap(), 7);
    for squatter in &mut squatters {
        assert!(closed_by_server(squatter, Duration::from_secs(10)), "a squatter was not closed");
    }

    // Both slots are in use now: a newcomer is refused, promptly.
    let refused = common::within(Duration::from_secs(10), {
        let h = event_loop.handle();
        let path = server.path.clone();
        move || connect_path(&h, &path).map(|_| ()).unwrap_err()
    });
    assert_eq!(refused.kind(), ErrorKind::Overloaded, "{refused}");
    // A raw newcomer is refused too, and the clients in use keep working.
    let mut raw = server.raw();
    assert!(closed_by_server(&mut raw, Duration::from_secs(10)));
    assert_eq!(foo_a.add(5, 6).unwrap(), 11);
    assert_eq!(foo_b.add(7, 8).unwrap(), 15);

    // Everyone leaves: threads and memory come back.
    drop((foo_a, foo_b, a, b));
    a_conn.disconnect();
    b_conn.disconnect();
    wait_for_threads(pid, baseline_threads);
    let rss = rss_kib(pid);
    println!("server rss: baseline {baseline_rss} KiB, after {rss} KiB");
    assert!(rss < baseline_rss + 8 * 1024, "server rss grew from {baseline_rss} KiB to {rss} KiB");
    let (c, _c_conn) = server.connect(&event_loop).unwrap();
    assert_eq!(c.make_foo().unwrap().add(9, 9).unwrap(), 18);
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
    let server = ListenServer::start(4, &[]);
    let event_loop = EventLoop::new().unwrap();
    let (observer_init, _observer_conn) = server.connect(&event_loop).unwrap();
    let observer = observer_init.make_foo().unwrap();
    assert_eq!(observer.cancelled_count().unwrap(), 0);

    let (init, conn) = server.connect(&event_loop).unwrap();
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
