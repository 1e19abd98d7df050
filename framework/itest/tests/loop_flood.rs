//! A peer that keeps the socket full cannot hold the other threads of the
//! process out of the loop (issue 12, item 3).

mod common;
mod hostile;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{within, FOO_SERVER};
use framework::EventLoop;
use framework_itest::foo_capnp::foo_init;
use framework_itest::{spawn_foo, Foo, FooInit, FooInitImpl};
use hostile::{bootstrap, finish, process_id_call};

/// A raw client that sends `FooInit.processId` calls (each followed by its
/// `Finish`) as fast as the socket takes them, and a thread that reads and
/// discards every reply, so nothing ever makes the server pause it.
struct Flood {
    stop: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Flood {
    fn start(stream: UnixStream) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicU64::new(0));
        let mut reader = stream.try_clone().expect("clone flood socket");
        let mut writer = stream;
        // Question ids come round again only long after they were finished.
        let mut batch = Vec::new();
        for q in 1..=4000u32 {
            batch.extend(process_id_call(q, 0));
            batch.extend(finish(q));
        }
        let writing = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                if writer.write_all(&bootstrap(0)).is_err() {
                    return;
                }
                while !stop.load(Ordering::SeqCst) {
                    if writer.write_all(&batch).is_err() {
                        return;
                    }
                }
            })
        };
        let reading = {
            let received = received.clone();
            std::thread::spawn(move || {
                let mut sink = vec![0u8; 1 << 20];
                while let Ok(n) = reader.read(&mut sink) {
                    if n == 0 {
                        return;
                    }
                    received.fetch_add(n as u64, Ordering::SeqCst);
                }
            })
        };
        Self { stop, received, threads: vec![writing, reading] }
    }

    /// Waits (bounded) until replies flow.
    fn wait_flowing(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.received.load(Ordering::SeqCst) < 1 << 20 {
            assert!(Instant::now() < deadline, "the flood never got going");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Times `op`, failing if it takes longer than `limit`.
fn bounded<T>(what: &str, limit: Duration, op: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = op();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?} while a peer floods the loop (limit {limit:?})");
    (value, took)
}

/// While a peer floods one connection, another thread's calls on another
/// connection of the same loop, and its proxy drops, return promptly.
#[test]
fn calls_and_drops_return_while_a_peer_floods_the_loop() {
    within(Duration::from_secs(60), || {
        let event_loop = EventLoop::new().expect("event loop");
        let server = spawn_foo(&event_loop, Path::new(FOO_SERVER)).expect("spawn foo-server");
        let foo = server.init.make_foo().expect("make_foo");
        let spares: Vec<Box<dyn Foo>> = (0..20).map(|_| server.init.make_foo().expect("make_foo")).collect();

        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let flooded = event_loop
            .handle()
            .serve_stream::<foo_init::Client, _>(ours, Box::new(FooInitImpl) as Box<dyn FooInit>)
            .expect("serve the flooding peer");
        // A thread that only waits, like a server's main thread, and so
        // polls the loop most of the time.
        let main_thread = {
            let flooded = flooded.clone();
            std::thread::spawn(move || flooded.wait_disconnected())
        };
        let flood = Flood::start(theirs);
        flood.wait_flowing();
        eprintln!("flood flowing");

        let limit = Duration::from_secs(3);
        let mut worst = Duration::ZERO;
        for (i, spare) in spares.into_iter().enumerate() {
            let (sum, took) = bounded("a call", limit, || foo.add(i as i32, 1).expect("add"));
            assert_eq!(sum, i as i32 + 1);
            worst = worst.max(took);
            let ((), took) = bounded("a proxy drop", limit, || drop(spare));
            worst = worst.max(took);
            let (gone, took) = bounded("is_disconnected", limit, || flooded.is_disconnected());
            assert!(!gone, "the flooding peer was cut off");
            worst = worst.max(took);
        }
        let before = flood.received.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        assert!(flood.received.load(Ordering::SeqCst) > before, "the flood stopped being served");
        eprintln!("worst call/drop while flooded: {worst:?}");

        flood.stop.store(true, Ordering::SeqCst);
        flooded.disconnect();
        for t in flood.threads {
            t.join().expect("flood thread");
        }
        main_thread.join().expect("waiting thread");
    });
}
