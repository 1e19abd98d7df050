//! An `EventLoop` dropped by code running on that loop (issue 12, item 5):
//! its connections close and its threads exit, as for a drop from outside.

mod common;

use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::within;
use framework::EventLoop;
use framework_itest::foo_capnp::foo_init;
use framework_itest::{Foo, FooImpl, FooInit, TestResult};

/// A bootstrap object that owns its own event loop and drops it when asked
/// by `processId`, a method without a Context: it runs on the loop, on
/// whichever thread drives it (the `capnp-loop` thread or an idle worker).
struct DropsItsLoop {
    own_loop: Arc<Mutex<Option<EventLoop>>>,
}

impl FooInit for DropsItsLoop {
    fn make_foo(&self) -> TestResult<Box<dyn Foo>> {
        Ok(Box::new(FooImpl::default()))
    }

    fn process_id(&self) -> TestResult<u32> {
        drop(self.own_loop.lock().unwrap().take());
        Ok(std::process::id())
    }
}

/// Threads of this process named `name`.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Serves a `DropsItsLoop` on a loop of its own; returns the client side
/// (on `client_loop`) of the connection to it.
fn serve(client_loop: &EventLoop) -> (Box<dyn FooInit>, framework::Connection) {
    let own_loop = Arc::new(Mutex::new(None));
    let server_loop = EventLoop::new().expect("server loop");
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    server_loop
        .handle()
        .serve_stream::<foo_init::Client, _>(
            ours,
            Box::new(DropsItsLoop { own_loop: own_loop.clone() }) as Box<dyn FooInit>,
        )
        .expect("serve");
    *own_loop.lock().unwrap() = Some(server_loop);
    client_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(theirs).expect("connect")
}

/// The loop is dropped by its `capnp-loop` thread (no other thread drives
/// it), then by a loop with a worker thread that may be the one driving it.
/// Either way the client sees the connection close, and the server loop's
/// `capnp-loop`, `ipc-release` and worker threads exit. (Counts threads by
/// name: this file holds this one test, so its binary has no others.)
#[test]
fn an_event_loop_dropped_from_its_own_loop_code_shuts_down() {
    within(Duration::from_secs(60), || {
        // A thread is named by itself once it runs: wait for the names.
        let client_loop = EventLoop::new().expect("client loop");
        wait_for("the client loop's threads", || {
            threads_named("capnp-loop") == 1 && threads_named("ipc-release") == 1
        });
        assert_eq!(threads_named("ipc-worker"), 0);

        for with_worker in [false, true] {
            let (init, connection) = serve(&client_loop);
            wait_for("the server loop's threads", || {
                threads_named("capnp-loop") == 2 && threads_named("ipc-release") == 2
            });
            let foo = if with_worker {
                let foo = init.make_foo().expect("make_foo");
                assert_eq!(foo.add(1, 2).expect("add"), 3);
                assert_eq!(threads_named("ipc-worker"), 1);
                Some(foo)
            } else {
                None
            };
            // Answered, or cut off by the shutdown: either is fine.
            let _ = init.process_id();
            wait_for("the connection to close", || connection.is_disconnected());
            if let Some(foo) = &foo {
                let err = foo.add(1, 2).expect_err("a call on a closed connection");
                assert!(err.is_disconnected(), "{err:?}");
            }
            wait_for("the server loop's threads to exit", || {
                threads_named("capnp-loop") == 1
                    && threads_named("ipc-release") == 1
                    && threads_named("ipc-worker") == 0
            });
        }
    });
}
