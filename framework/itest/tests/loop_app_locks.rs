//! Application locks and the loop: loop work never runs application code
//! that may need a lock an application thread holds while it waits for the
//! loop (issue 12, item 1).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{setup, within};
use framework_itest::{Foo, FooCallback, TestResult};

/// Remote subscribers kept under an application lock, as `node`'s registry
/// keeps `ChainNotifications`.
type Entries = Arc<Mutex<Vec<Box<dyn Foo>>>>;

/// A handler served to the peer whose `Drop` takes the registry lock, as
/// `CleanupHandler` does when the peer releases it.
struct Handler {
    entries: Entries,
    dropping: Arc<AtomicBool>,
}

impl FooCallback for Handler {
    fn call(&self, arg: i32) -> TestResult<i32> {
        Ok(arg)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        self.dropping.store(true, Ordering::SeqCst);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let _ = entries.len();
    }
}

struct Plain;

impl FooCallback for Plain {
    fn call(&self, arg: i32) -> TestResult<i32> {
        Ok(arg)
    }
}

fn wait_for(flag: &AtomicBool, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !flag.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the peer never released the handler");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The ABBA deadlock of issue 12: a thread drops a remote subscriber while
/// it holds the registry lock (the drop needs the loop), while the thread
/// running the loop drops a handler the peer released (the drop needs the
/// registry lock).
#[test]
fn remote_subscriber_dropped_under_app_lock_while_the_peer_releases_a_handler() {
    within(Duration::from_secs(30), || {
        let setup = setup();
        let foo: Arc<dyn Foo> = Arc::from(setup.foo);
        let entries: Entries = Arc::new(Mutex::new(Vec::new()));
        let dropping = Arc::new(AtomicBool::new(false));
        for _ in 0..3 {
            let subscriber = setup.server.init.make_foo().expect("make_foo");
            entries.lock().unwrap().push(subscriber);
        }
        foo.save_callback(Box::new(Handler { entries: entries.clone(), dropping: dropping.clone() }))
            .expect("save handler");

        let mut registry = entries.lock().unwrap();
        // The peer releases the handler when another callback replaces it;
        // this thread waits for that call, so it may be the one driving the
        // loop when the release arrives.
        let replacer = {
            let foo = foo.clone();
            std::thread::spawn(move || foo.save_callback(Box::new(Plain)))
        };
        wait_for(&dropping, Duration::from_secs(10));
        // Whoever runs the handler's Drop is now blocked on the registry.
        std::thread::sleep(Duration::from_millis(50));
        registry.clear();
        drop(registry);
        replacer.join().expect("replacer thread").expect("save plain callback");
        // Everything still works.
        assert_eq!(foo.add(2, 3).expect("add"), 5);
        assert!(entries.lock().unwrap().is_empty());
    });
}

/// A thread holding an application lock that drops a proxy must not be made
/// to run, on its own stack, the `Drop` of an object the peer released that
/// takes that same lock (a self-deadlock on a non-reentrant mutex).
#[test]
fn proxy_dropped_under_app_lock_does_not_run_released_objects_drop() {
    within(Duration::from_secs(30), || {
        let setup = setup();
        let entries: Entries = Arc::new(Mutex::new(Vec::new()));
        let dropping = Arc::new(AtomicBool::new(false));
        for _ in 0..50 {
            let subscriber = setup.server.init.make_foo().expect("make_foo");
            entries.lock().unwrap().push(subscriber);
        }
        setup
            .foo
            .save_callback(Box::new(Handler { entries: entries.clone(), dropping: dropping.clone() }))
            .expect("save handler");
        // Hold the lock; the peer releases the handler in the background
        // (the release reaches this process while nobody is in a call).
        let mut registry = entries.lock().unwrap();
        setup.foo.save_callback(Box::new(Plain)).expect("save plain callback");
        // Drop the subscribers one by one under the lock, as a registry's
        // `retain` does, while the release may be waiting to be run.
        while registry.pop().is_some() {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(registry);
        wait_for(&dropping, Duration::from_secs(10));
        assert_eq!(setup.foo.add(2, 3).expect("add"), 5);
    });
}
