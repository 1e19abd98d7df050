//! Callbacks run on the calling thread; nested calls re-enter the same
//! server thread; each client thread has its own server thread.
mod common;

use std::sync::Arc;

use framework_itest::{Foo, FooCallback, TestResult};

fn label() -> String {
    let t = std::thread::current();
    format!("{}:{:?}", t.name().unwrap_or("unnamed"), t.id())
}

struct RecordThread(Arc<std::sync::Mutex<Vec<String>>>);

impl FooCallback for RecordThread {
    fn call(&self, arg: i32) -> TestResult<i32> {
        self.0.lock().unwrap().push(label());
        Ok(arg * 10)
    }
}

#[test]
fn a_callback_runs_on_the_thread_that_made_the_call() {
    let s = common::setup();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    assert_eq!(s.foo.callback(Box::new(RecordThread(seen.clone())), 4).unwrap(), 41);
    assert_eq!(*seen.lock().unwrap(), vec![label()]);
}

#[test]
fn a_saved_callback_can_be_called_later() {
    let s = common::setup();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    s.foo.save_callback(Box::new(RecordThread(seen.clone()))).unwrap();
    assert_eq!(s.foo.call_saved(3).unwrap(), 30);
    assert_eq!(s.foo.call_saved(5).unwrap(), 50);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// A callback that calls back into the server while the server waits on it.
struct Nested {
    foo: Arc<dyn Foo>,
    depth: i32,
    seen_server_threads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FooCallback for Nested {
    fn call(&self, arg: i32) -> TestResult<i32> {
        self.seen_server_threads.lock().unwrap().push(self.foo.thread_name()?);
        if self.depth == 0 {
            return Ok(arg);
        }
        let inner = Nested {
            foo: self.foo.clone(),
            depth: self.depth - 1,
            seen_server_threads: self.seen_server_threads.clone(),
        };
        self.foo.callback(Box::new(inner), arg + 1)
    }
}

#[test]
fn nested_callbacks_reenter_the_same_server_thread() {
    let s = common::setup();
    let foo: Arc<dyn Foo> = Arc::from(s.foo);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let cb = Nested { foo: foo.clone(), depth: 3, seen_server_threads: seen.clone() };
    // callback(cb, 0) -> cb(0) -> callback(cb', 1) -> cb'(1) -> ... each level adds one.
    let (answer, server_thread) = common::within(std::time::Duration::from_secs(20), move || {
        let server_thread = foo.thread_name().unwrap();
        (foo.callback(Box::new(cb), 0), server_thread)
    });
    assert_eq!(answer.unwrap(), 3 + 4);
    assert_eq!(*seen.lock().unwrap(), vec![server_thread; 4]);
}

#[test]
fn each_client_thread_gets_its_own_server_thread() {
    let s = common::setup();
    let foo: Arc<dyn Foo> = Arc::from(s.foo);
    let main_thread = foo.thread_name().unwrap();
    assert_eq!(foo.thread_name().unwrap(), main_thread, "one client thread, one server thread");
    let other = {
        let foo = foo.clone();
        std::thread::spawn(move || foo.thread_name().unwrap()).join().unwrap()
    };
    assert_ne!(other, main_thread);
    assert!(main_thread.starts_with("ipc-worker"), "{main_thread}");
}

#[test]
fn a_closure_crosses_as_a_callback_and_runs_on_the_calling_thread() {
    let s = common::setup();
    let caller = label();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let f: framework_itest::FooFn = Box::new(move |arg| {
        record.lock().unwrap().push(label());
        Ok(arg * 3)
    });
    assert_eq!(s.foo.call_fn(f, 5).unwrap(), 16);
    assert_eq!(*seen.lock().unwrap(), vec![caller]);
}
