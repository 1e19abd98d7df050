//! Edges of the loop's scheduling (issue 12, item 5): the backup poller
//! takes up a released poller role promptly, and calls nested through
//! callbacks are bounded with a clear error instead of overflowing a stack.

mod common;

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{setup, within, FOO_SERVER};
use framework::{EventLoop, LoopConfig};
use framework_itest::foo_capnp::foo_init;
use framework_itest::{spawn_foo, Foo, FooCallback, FooInit, FooInitImpl, TestResult};

/// After a thread held a loop's poller role for long (here: 1.6 s inside
/// one call), the backup thread checks only every 16 ticks; when the thread
/// gives the role up, the backup must take it up at once, not at its next
/// check, or the loop's sockets go unread meanwhile.
#[test]
fn a_poller_role_given_up_after_a_long_hold_is_taken_up_at_once() {
    within(Duration::from_secs(60), || {
        let tick = Duration::from_millis(50);
        let server_loop = EventLoop::with_config(LoopConfig { idle_tick: tick, ..LoopConfig::default() })
            .expect("server loop");
        // A slow peer: a call to it keeps the calling thread polling this loop.
        let child = spawn_foo(&server_loop, Path::new(FOO_SERVER)).expect("spawn foo-server");
        let slow = child.init.make_foo().expect("make_foo");
        // A client of this loop, served by whoever polls it.
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let _served = server_loop
            .handle()
            .serve_stream::<foo_init::Client, _>(ours, Box::new(FooInitImpl) as Box<dyn FooInit>)
            .expect("serve");
        let client_loop = EventLoop::new().expect("client loop");
        let (init, _connection) = client_loop
            .handle()
            .connect_stream::<foo_init::Client, Box<dyn FooInit>>(theirs)
            .expect("connect");

        let mut worst = Duration::ZERO;
        for _ in 0..3 {
            assert!(!slow.sleep(1600).expect("sleep"), "the sleep was cancelled");
            // Nobody but the backup thread polls the server loop now.
            let start = Instant::now();
            init.process_id().expect("process_id");
            worst = worst.max(start.elapsed());
        }
        assert!(
            worst < tick * 4,
            "a call waited {worst:?} for the backup poller (tick {tick:?}, 16 ticks {:?})",
            tick * 16
        );
    });
}

/// A callback that calls the server back, which calls it back, `arg` times.
struct Recurse {
    foo: Arc<dyn Foo>,
}

impl FooCallback for Recurse {
    fn call(&self, arg: i32) -> TestResult<i32> {
        if arg == 0 {
            return Ok(0);
        }
        self.foo.callback(Box::new(Recurse { foo: self.foo.clone() }), arg - 1)
    }
}

/// Calls nested through callbacks (wait -> callback -> call -> wait ...)
/// are bounded: a modest depth works, a runaway one fails its call with an
/// error saying so, and both processes live on.
#[test]
fn runaway_callback_nesting_fails_with_a_clear_error() {
    within(Duration::from_secs(120), || {
        let s = setup();
        let foo: Arc<dyn Foo> = Arc::from(s.foo);
        // Each level nests one call on this thread and one on the server's.
        let depth = 10;
        let answer = foo.callback(Box::new(Recurse { foo: foo.clone() }), depth).expect("nested calls");
        assert_eq!(answer, depth + 1);

        let err = foo.callback(Box::new(Recurse { foo: foo.clone() }), 100_000).expect_err("runaway nesting");
        assert!(err.message.contains("IPC calls nested too deeply"), "{err:?}");
        assert!(!err.is_disconnected(), "{err:?}");
        assert_eq!(foo.add(2, 3).expect("a call after"), 5);
    });
}
