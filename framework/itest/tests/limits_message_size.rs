//! A peer cannot make the server allocate a message it has not sent: the
//! declared size is only a promise, and the buffer grows with the bytes that
//! actually arrive. Memory comes back when such peers leave, and
//! well-behaved clients are served meanwhile and afterwards.
mod common;
mod hostile;

use std::io::Write;
use std::time::Duration;

use framework::EventLoop;
use hostile::{
    fds, header, rss_kib, settle_rss_below, threads, wait_for_fds, wait_for_threads, ListenServer,
};

const MIB: usize = 1 << 20;

/// What the well-behaved client does: small calls and 4 MiB arguments.
fn serve_client(foo: &dyn framework_itest::Foo) {
    for i in 0..4 {
        assert_eq!(foo.add(i, 1).unwrap(), i + 1);
        assert_eq!(foo.pass_data(vec![2; 4 * MIB]).unwrap().len(), 4 * MIB);
    }
}

/// Issue 7 (a): 8 connections that each sent only an 8-byte header
/// declaring a 63 MiB message used to pin ~64 MB each (520 MB in all, most
/// of it still held after they closed). Now they cost next to nothing; two
/// more that send 1 MiB of their 63 MiB cost what they sent; a header over
/// the limit closes its connection; a client passing 4 MiB arguments is
/// served meanwhile; and everything comes back when they leave.
#[test]
fn a_declared_size_is_not_allocated_before_its_bytes_arrive() {
    let server = ListenServer::start(0, &[]);
    let pid = server.pid();
    let event_loop = EventLoop::new().unwrap();
    let (init, _conn) = server.connect(&event_loop).unwrap();
    let foo = init.make_foo().unwrap();
    // Warm up with what the client does below: the server's allocator and
    // threads reach their steady state for it.
    serve_client(&*foo);
    let baseline_threads = threads(pid);
    let baseline_fds = fds(pid);
    let baseline = rss_kib(pid);

    let hostile = stall_declared_messages(&server);
    // Served meanwhile, large arguments included.
    serve_client(&*foo);
    std::thread::sleep(Duration::from_millis(300));
    let with_hostile = rss_kib(pid);
    drop(hostile);
    wait_for_threads(pid, baseline_threads);
    wait_for_fds(pid, baseline_fds);
    let after = settle_rss_below(pid, baseline + 4 * 1024, Duration::from_secs(2));
    println!(
        "server rss: baseline {baseline} KiB, with 10 stalled 63 MiB messages {with_hostile} KiB, \
         after they left {after} KiB"
    );
    // Before the fix: +516 MB with them, +65 MB after they left.
    assert!(
        with_hostile < baseline + 16 * 1024,
        "stalled declared messages cost {} KiB (baseline {baseline} KiB)",
        with_hostile - baseline
    );
    assert!(after < baseline + 16 * 1024, "rss {after} KiB after they left (baseline {baseline} KiB)");
    assert_eq!(foo.add(20, 22).unwrap(), 42);
}

/// 8 connections that declare 63 MiB and send nothing more, 2 that send
/// 1 MiB of it, and one over the limit, which must be closed.
fn stall_declared_messages(server: &ListenServer) -> Vec<std::os::unix::net::UnixStream> {
    let declared = (63 * MIB / 8) as u32;
    let mut hostile = Vec::new();
    for _ in 0..8 {
        let mut s = server.raw();
        s.write_all(&header(declared)).unwrap();
        hostile.push(s);
    }
    for _ in 0..2 {
        let mut s = server.raw();
        s.write_all(&header(declared)).unwrap();
        s.write_all(&vec![0u8; MIB]).unwrap();
        hostile.push(s);
    }
    // Over the limit (64 MiB): refused by closing the connection.
    let mut too_big = server.raw();
    too_big.write_all(&header((100 * MIB / 8) as u32)).unwrap();
    too_big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut sink = Vec::new();
    assert!(std::io::Read::read_to_end(&mut too_big, &mut sink).is_ok(), "oversized message not refused");
    hostile
}

/// Peers that do send large messages (complete 32 MiB ones, then leave)
/// do not leave the server holding their memory: the buffers are freed
/// and the allocator settings of `foo-server` (see `tune_allocator`) do not
/// keep them.
#[test]
fn memory_of_large_messages_returns_after_their_peers_leave() {
    let server = ListenServer::start(0, &[]);
    let pid = server.pid();
    let event_loop = EventLoop::new().unwrap();
    let (init, _conn) = server.connect(&event_loop).unwrap();
    let foo = init.make_foo().unwrap();
    assert_eq!(foo.pass_data(vec![1; 4 * MIB]).unwrap().len(), 4 * MIB);
    let baseline = rss_kib(pid);

    let senders: Vec<_> = (0..4)
        .map(|_| {
            let mut s = server.raw();
            std::thread::spawn(move || {
                // A null root: not a valid RPC message, so the server closes
                // the connection once it has read it all.
                let _ = s.write_all(&header((32 * MIB / 8) as u32));
                let _ = s.write_all(&vec![0u8; 32 * MIB]);
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut sink = Vec::new();
                std::io::Read::read_to_end(&mut s, &mut sink).is_ok()
            })
        })
        .collect();
    for sender in senders {
        assert!(common::within(Duration::from_secs(20), move || sender.join().unwrap()), "not closed");
    }
    assert_eq!(foo.add(1, 2).unwrap(), 3);
    let after = settle_rss_below(pid, baseline + 16 * 1024, Duration::from_secs(5));
    println!("server rss: baseline {baseline} KiB, after 4 x 32 MiB messages {after} KiB");
    assert!(after < baseline + 16 * 1024, "rss {after} KiB after the peers left (baseline {baseline} KiB)");
}
