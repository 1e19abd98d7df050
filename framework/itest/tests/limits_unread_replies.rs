//! A peer that sends calls but does not read the replies (or never
//! finishes its calls) is made to wait: the server stops reading it, so its
//! writes block, instead of queueing replies without bound. Clients that
//! read, however hard they pipeline, get every reply; framework clients are
//! never stalled; and everyone else is served meanwhile and afterwards.
mod common;
mod hostile;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use capnp_rpc::rpc_capnp::{message, return_};
use framework::{EventLoop, SpawnOptions};
use framework_itest::foo_capnp::foo_init;
use framework_itest::{Foo, FooCallback, FooInit, TestResult};
use hostile::{
    bootstrap, fds, process_id_call, read_message, rss_kib, settle_rss_below, threads, wait_for_fds,
    wait_for_threads, write_patiently, ListenServer,
};

/// Sends `message(i)` for i in 1..=count in batches, until all are sent or
/// the server has not read anything for `patience`; returns how many went.
fn flood(stream: &UnixStream, count: u32, patience: Duration, message: impl Fn(u32) -> Vec<u8>) -> u32 {
    const BATCH: u32 = 1000;
    let mut sent = 0;
    while sent < count {
        let batch: Vec<u8> = (sent + 1..=(sent + BATCH).min(count)).flat_map(&message).collect();
        let n = (sent + BATCH).min(count) - sent;
        if write_patiently(stream, &batch, patience) < batch.len() {
            return sent;
        }
        sent += n;
    }
    sent
}

/// A well-behaved client of `server`, its Foo, and the server's baseline
/// (threads, rss) measured after warming up with it.
fn client_and_baseline(
    server: &ListenServer,
    event_loop: &EventLoop,
) -> (Box<dyn FooInit>, Box<dyn Foo>, Baseline) {
    let (init, conn) = server.connect(event_loop).unwrap();
    let foo = init.make_foo().unwrap();
    for i in 0..100 {
        assert_eq!(foo.add(i, 1).unwrap(), i + 1);
    }
    std::thread::sleep(Duration::from_millis(100));
    let pid = server.pid();
    (init, foo, Baseline { _conn: conn, threads: threads(pid), fds: fds(pid), rss: rss_kib(pid) })
}

/// The server before the hostile peer came.
struct Baseline {
    _conn: framework::Connection,
    threads: usize,
    fds: usize,
    rss: usize,
}

impl Baseline {
    /// Waits until the server is back to its threads and descriptors, and
    /// returns its rss once under `slack` KiB above the baseline (or after
    /// 5 s).
    fn settle(&self, pid: u32, slack: usize) -> usize {
        wait_for_threads(pid, self.threads);
        wait_for_fds(pid, self.fds);
        settle_rss_below(pid, self.rss + slack, Duration::from_secs(5))
    }
}

/// Issue 7 (b): replies the peer never reads cost ~1 KB each without bound
/// (600k calls: +654 MB, all still held after the peer left). Now the server
/// stops reading such a peer once 8 MiB of replies wait: its writes block,
/// the server's memory stays put, other clients are served, and when it
/// leaves everything is released.
#[test]
fn a_peer_that_never_reads_its_replies_is_made_to_wait() {
    let server = ListenServer::start(0, &[]);
    let pid = server.pid();
    let event_loop = EventLoop::new().unwrap();
    let (_init, foo, base) = client_and_baseline(&server, &event_loop);
    let baseline = base.rss;

    const CALLS: u32 = 300_000;
    let hostile = server.raw();
    (&hostile).write_all(&bootstrap(0)).unwrap();
    let sent = flood(&hostile, CALLS, Duration::from_secs(1), |q| process_id_call(q, 0));
    let with_hostile = rss_kib(pid);
    println!("the server took {sent} of {CALLS} unread calls; rss {baseline} KiB -> {with_hostile} KiB");
    assert!(sent < CALLS, "the server kept reading a peer that never reads");
    assert!(
        with_hostile < baseline + 32 * 1024,
        "unread replies cost {} KiB (baseline {baseline} KiB)",
        with_hostile - baseline
    );
    // Served meanwhile.
    for i in 0..100 {
        assert_eq!(foo.add(i, 2).unwrap(), i + 2);
    }

    drop(hostile);
    let after = base.settle(pid, 16 * 1024);
    println!("rss after it left: {after} KiB");
    assert!(after < baseline + 16 * 1024, "rss {after} KiB after the peer left (baseline {baseline} KiB)");
    assert_eq!(foo.add(40, 2).unwrap(), 42);
}

/// Answers that carry a capability stay in the server's answer table until
/// the peer sends `Finish`. A peer that asks for the bootstrap object over
/// and over and never finishes is not read past 1024 unfinished questions.
#[test]
fn a_peer_that_never_finishes_its_calls_is_made_to_wait() {
    let server = ListenServer::start(0, &[]);
    let pid = server.pid();
    let event_loop = EventLoop::new().unwrap();
    let (_init, foo, base) = client_and_baseline(&server, &event_loop);
    let baseline = base.rss;

    const REQUESTS: u32 = 300_000;
    let hostile = server.raw();
    let sent = flood(&hostile, REQUESTS, Duration::from_secs(1), bootstrap);
    let with_hostile = rss_kib(pid);
    println!(
        "the server took {sent} of {REQUESTS} unfinished requests; rss {baseline} KiB -> {with_hostile} KiB"
    );
    assert!(sent < REQUESTS, "the server kept reading a peer that never finishes its calls");
    assert!(with_hostile < baseline + 16 * 1024, "unfinished requests cost {} KiB", with_hostile - baseline);
    assert_eq!(foo.add(1, 2).unwrap(), 3);

    drop(hostile);
    let after = base.settle(pid, 8 * 1024);
    assert!(after < baseline + 8 * 1024, "rss {after} KiB after the peer left (baseline {baseline} KiB)");
    assert_eq!(foo.add(3, 4).unwrap(), 7);
}

/// The other half: a client that pipelines 50 000 calls and reads the
/// replies gets every one, in order, although the server's limits are tiny
/// (so its reading pauses and resumes all along).
#[test]
fn a_client_that_pipelines_and_reads_gets_every_reply() {
    let server = ListenServer::start(0, &["-max-queued-bytes=16384", "-max-pending-calls=64"]);
    let pid = server.pid();
    const CALLS: u32 = 50_000;
    let stream = server.raw();
    let mut replies = stream.try_clone().unwrap();
    let reader = std::thread::spawn(move || -> Result<u32, String> {
        let mut next = 1;
        while next <= CALLS {
            let message =
                read_message(&mut replies).ok_or(format!("connection closed before reply {next}"))?;
            let root: message::Reader<'_> = message.get_root().map_err(|e| e.to_string())?;
            let Ok(message::Return(Ok(ret))) = root.which() else { continue };
            if ret.get_answer_id() == 0 {
                continue; // the bootstrap
            }
            if ret.get_answer_id() != next {
                return Err(format!("reply to {} where {next} was due", ret.get_answer_id()));
            }
            let Ok(return_::Results(Ok(payload))) = ret.which() else {
                return Err(format!("reply {next} is not a result"));
            };
            let result = payload
                .get_content()
                .get_as::<foo_init::process_id_results::Reader<'_>>()
                .map_err(|e| e.to_string())?
                .get_result();
            if result != pid {
                return Err(format!("reply {next} says {result}"));
            }
            next += 1;
        }
        Ok(next - 1)
    });
    (&stream).write_all(&bootstrap(0)).unwrap();
    let sent = flood(&stream, CALLS, Duration::from_secs(30), |q| process_id_call(q, 0));
    assert_eq!(sent, CALLS);
    let got = common::within(Duration::from_secs(60), move || reader.join().unwrap()).unwrap();
    assert_eq!(got, CALLS);
}

struct Times3;

impl FooCallback for Times3 {
    fn call(&self, arg: i32) -> TestResult<i32> {
        Ok(arg * 3)
    }
}

/// Framework clients (which read whatever they are sent) are not stalled
/// by a server with tiny limits: eight threads passing 256 KiB both ways,
/// taking callbacks and making small calls all finish; and a client keeping
/// 200 objects (each answer carries a capability, so it counts against the
/// limit of 16 unfinished calls until the client's `Finish`) gets them all.
#[test]
fn framework_clients_are_not_stalled_by_tiny_limits() {
    let event_loop = EventLoop::new().unwrap();
    let (child, stream) = SpawnOptions::new()
        .args(["-max-queued-bytes=65536", "-max-pending-calls=16"])
        .spawn(Path::new(common::FOO_SERVER))
        .unwrap();
    let (init, _conn) =
        event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream).unwrap();
    let foo: Arc<dyn Foo> = Arc::from(init.make_foo().unwrap());
    let kept = common::within(Duration::from_secs(60), move || {
        let kept: Vec<Box<dyn Foo>> = (0..200).map(|_| init.make_foo().unwrap()).collect();
        for (i, foo) in kept.iter().enumerate() {
            assert_eq!(foo.add(i as i32, 1).unwrap(), i as i32 + 1);
        }
        kept
    });
    let outcomes = common::within(Duration::from_secs(120), move || {
        let workers: Vec<_> = (0..8)
            .map(|t| {
                let foo = foo.clone();
                std::thread::spawn(move || -> Result<(), String> {
                    let data = vec![t as u8; 256 << 10];
                    for i in 0..20 {
                        let back = foo.pass_data(data.clone()).map_err(|e| format!("pass_data: {e}"))?;
                        if back != data {
                            return Err(format!("thread {t} call {i}: wrong data back"));
                        }
                        let got = foo.callback(Box::new(Times3), i).map_err(|e| format!("callback: {e}"))?;
                        if got != i * 3 + 1 {
                            return Err(format!("thread {t}: callback({i}) = {got}"));
                        }
                        for j in 0..10 {
                            if foo.add(i, j).map_err(|e| format!("add: {e}"))? != i + j {
                                return Err(format!("thread {t}: wrong sum"));
                            }
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).collect::<Vec<_>>()
    });
    for (t, outcome) in outcomes.into_iter().enumerate() {
        outcome.unwrap_or_else(|_| panic!("thread {t} panicked")).unwrap();
    }
    common::within(Duration::from_secs(30), move || drop(kept));
    drop(child);
}
