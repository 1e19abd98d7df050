//! Shared setup of the behaviour tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use framework::EventLoop;
use framework_itest::{spawn_foo, Foo, SpawnedFoo};

pub const FOO_SERVER: &str = env!("CARGO_BIN_EXE_foo-server");

/// A client loop, a spawned server and a Foo object on it.
pub struct Setup {
    pub foo: Box<dyn Foo>,
    pub server: SpawnedFoo,
    pub event_loop: EventLoop,
}

pub fn setup() -> Setup {
    let event_loop = EventLoop::new().expect("event loop");
    let server = spawn_foo(&event_loop, Path::new(FOO_SERVER)).expect("spawn foo-server");
    let foo = server.init.make_foo().expect("make_foo");
    Setup { foo, server, event_loop }
}

/// Runs `f` on a thread and fails the test if it takes longer than `limit`
/// (a hang must fail, not block the suite).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("did not finish within {limit:?} (started {:?} ago)", started.elapsed()),
    }
}
