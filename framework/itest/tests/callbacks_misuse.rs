//! A peer that keeps the callback thread a call sent it, and calls on it
//! when the calling thread is not waiting for that peer: the call is
//! refused at once with `thread busy`, never parked in the idle thread's
//! mailbox nor run inside a later, unrelated call. Callbacks made during
//! the call still run on the calling thread.
//!
//! The misbehaving peer is hand-written capnp-rpc code (no framework
//! adapters), served on a second event loop in this process.
mod common;

use std::cell::RefCell;
use std::future::Future;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use capnp::capability::{Promise, Response};
use framework::convert::{BuildContext, ToCapability};
use framework::proxy_capnp::{thread, thread_map};
use framework::{Connection, EventLoop};
use framework_itest::foo_capnp::{foo_callback, foo_init, foo_interface};
use framework_itest::{Foo, FooCallback, FooInit, TestError, TestResult};

type Outcome = Result<(), capnp::Error>;
type CallbackPromise = Promise<Response<foo_callback::call_results::Owned>, capnp::Error>;

/// The peer's bootstrap object: hand-written, served as is.
struct RawInit;

impl ToCapability<foo_init::Client> for RawInit {
    fn to_capability(self, _: &mut BuildContext<'_>) -> framework::Result<foo_init::Client> {
        Ok(capnp_rpc::new_client(RawInitServer))
    }
}

struct RawInitServer;

impl foo_init::Server for RawInitServer {
    fn construct(
        self: capnp::capability::Rc<Self>,
        _: foo_init::ConstructParams,
        mut results: foo_init::ConstructResults,
    ) -> impl Future<Output = Outcome> + 'static {
        results.get().set_thread_map(capnp_rpc::new_client(RawThreadMap));
        std::future::ready(Ok(()))
    }

    fn make_foo(
        self: capnp::capability::Rc<Self>,
        _: foo_init::MakeFooParams,
        mut results: foo_init::MakeFooResults,
    ) -> impl Future<Output = Outcome> + 'static {
        results.get().set_result(capnp_rpc::new_client(RawFoo::default()));
        std::future::ready(Ok(()))
    }
}

/// Hands out threads that are only names: the raw peer runs everything on
/// its loop.
struct RawThreadMap;

impl thread_map::Server for RawThreadMap {
    fn make_thread(
        self: capnp::capability::Rc<Self>,
        _: thread_map::MakeThreadParams,
        mut results: thread_map::MakeThreadResults,
    ) -> impl Future<Output = Outcome> + 'static {
        results.get().set_result(capnp_rpc::new_client(RawThread));
        std::future::ready(Ok(()))
    }
}

struct RawThread;

impl thread::Server for RawThread {}

/// The misbehaving Foo.
#[derive(Default)]
struct RawFoo {
    /// `saveCallback`'s callback and the callback thread that came with it.
    saved: RefCell<Option<(foo_callback::Client, thread::Client)>>,
    /// Callbacks `add` sent without waiting for them.
    detached: RefCell<Vec<CallbackPromise>>,
}

impl RawFoo {
    fn saved(&self) -> Result<(foo_callback::Client, thread::Client), capnp::Error> {
        self.saved.borrow().clone().ok_or_else(|| capnp::Error::failed("no callback saved".into()))
    }
}

/// Sends `cb.call(arg)` to run on `thread`.
fn call_on(cb: &foo_callback::Client, thread: thread::Client, arg: i32) -> CallbackPromise {
    let mut request = cb.call_request();
    {
        let mut params = request.get();
        params.set_arg(arg);
        params.init_context().set_thread(thread);
    }
    request.send().promise
}

fn answer(
    response: Result<Response<foo_callback::call_results::Owned>, capnp::Error>,
) -> Result<i32, capnp::Error> {
    Ok(response?.get()?.get_result())
}

impl foo_interface::Server for RawFoo {
    /// Keeps the callback and, as it should not, the callback thread.
    fn save_callback(
        self: capnp::capability::Rc<Self>,
        params: foo_interface::SaveCallbackParams,
        _: foo_interface::SaveCallbackResults,
    ) -> impl Future<Output = Outcome> + 'static {
        let saved = (|| {
            let params = params.get()?;
            Ok((params.get_cb()?, params.get_context()?.get_callback_thread()?))
        })();
        std::future::ready(saved.map(|saved| *self.saved.borrow_mut() = Some(saved)))
    }

    /// Calls the saved callback on the kept callback thread, whoever asks.
    fn call_saved(
        self: capnp::capability::Rc<Self>,
        params: foo_interface::CallSavedParams,
        mut results: foo_interface::CallSavedResults,
    ) -> impl Future<Output = Outcome> + 'static {
        let sent = (|| -> Result<CallbackPromise, capnp::Error> {
            let arg = params.get()?.get_arg();
            let (cb, thread) = self.saved()?;
            Ok(call_on(&cb, thread, arg))
        })();
        async move {
            let value = answer(sent?.await)?;
            results.get().set_result(value);
            Ok(())
        }
    }

    /// Calls `cb` back during the call, as a well-behaved peer does.
    fn callback(
        self: capnp::capability::Rc<Self>,
        params: foo_interface::CallbackParams,
        mut results: foo_interface::CallbackResults,
    ) -> impl Future<Output = Outcome> + 'static {
        let sent = (|| -> Result<CallbackPromise, capnp::Error> {
            let params = params.get()?;
            let thread = params.get_context()?.get_callback_thread()?;
            Ok(call_on(&params.get_cb()?, thread, params.get_arg()))
        })();
        async move {
            let value = answer(sent?.await)?;
            results.get().set_result(value + 1);
            Ok(())
        }
    }

    /// Sends the saved callback `a` on this call's callback thread and
    /// answers `a + b` without waiting for it: the callback races the
    /// answer.
    fn add(
        self: capnp::capability::Rc<Self>,
        params: foo_interface::AddParams,
        mut results: foo_interface::AddResults,
    ) -> impl Future<Output = Outcome> + 'static {
        let outcome = (|| {
            let params = params.get()?;
            let thread = params.get_context()?.get_callback_thread()?;
            let (cb, _) = self.saved()?;
            self.detached.borrow_mut().push(call_on(&cb, thread, params.get_a()));
            results.get().set_result(params.get_a() + params.get_b());
            Ok(())
        })();
        std::future::ready(outcome)
    }

    /// Reports the first detached callback: 0 while it is unfinished, its
    /// answer plus one when it succeeded, its error when it failed.
    fn add_on_loop(
        self: capnp::capability::Rc<Self>,
        _: foo_interface::AddOnLoopParams,
        mut results: foo_interface::AddOnLoopResults,
    ) -> impl Future<Output = Outcome> + 'static {
        let mut detached = self.detached.borrow_mut();
        let outcome = match detached.first_mut() {
            None => Err(capnp::Error::failed("no detached callback".into())),
            Some(promise) => match Pin::new(promise).poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Pending => Ok(0),
                Poll::Ready(response) => {
                    drop(detached.remove(0));
                    answer(response).map(|value| value + 1)
                }
            },
        };
        std::future::ready(outcome.map(|value| results.get().set_result(value)))
    }
}

/// Both ends: this process's client loop and the raw peer on its own loop.
struct Loops {
    client: EventLoop,
    peer: EventLoop,
}

fn loops() -> Loops {
    Loops { client: EventLoop::new().unwrap(), peer: EventLoop::new().unwrap() }
}

/// A connection to a new raw peer and a Foo on it.
struct Peer {
    /// Shared in the box it came in: `Arc::from(Box<dyn Foo>)` would move the
    /// proxy out of the allocation the framework registered it at, and a
    /// callback later boxed at that address would be taken for the proxy.
    foo: Arc<Box<dyn Foo>>,
    _init: Box<dyn FooInit>,
    _connections: (Connection, Connection),
}

fn connect(loops: &Loops) -> Peer {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let served = loops.peer.handle().serve_stream::<foo_init::Client, _>(theirs, RawInit).unwrap();
    let (init, connection) =
        loops.client.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(ours).unwrap();
    let foo = Arc::new(init.make_foo().unwrap());
    Peer { foo, _init: init, _connections: (served, connection) }
}

fn label() -> String {
    let t = std::thread::current();
    format!("{}:{:?}", t.name().unwrap_or("unnamed"), t.id())
}

/// A callback that records where it runs and tells when it is dropped.
#[derive(Clone, Default)]
struct Probe {
    runs: Arc<Mutex<Vec<String>>>,
    dropped: Arc<AtomicBool>,
}

struct ProbeCallback(Probe);

impl FooCallback for ProbeCallback {
    fn call(&self, arg: i32) -> TestResult<i32> {
        self.0.runs.lock().unwrap().push(label());
        Ok(arg * 10)
    }
}

impl Drop for ProbeCallback {
    fn drop(&mut self) {
        self.0.dropped.store(true, SeqCst);
    }
}

impl Probe {
    fn callback(&self) -> Box<dyn FooCallback> {
        Box::new(ProbeCallback(self.clone()))
    }

    fn run_count(&self) -> usize {
        self.runs.lock().unwrap().len()
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn assert_thread_busy(outcome: TestResult<i32>) {
    let error = outcome.expect_err("a call on a callback thread that does not wait for the peer must fail");
    assert!(error.message.contains("thread busy"), "{error:?}");
}

#[test]
fn a_peer_calling_a_kept_callback_thread_after_the_call_is_refused() {
    let loops = loops();
    let peer = connect(&loops);
    let probe = Probe::default();
    peer.foo.save_callback(probe.callback()).unwrap();

    // This thread is in no call now (it waits for another thread). The peer,
    // asked by that other thread, calls on this thread's callback thread.
    let foo = peer.foo.clone();
    let started = Instant::now();
    let outcome = common::within(Duration::from_secs(10), move || foo.call_saved(3));
    assert_thread_busy(outcome);
    assert!(started.elapsed() < Duration::from_secs(5), "refused after {:?}", started.elapsed());

    // Nothing was left to run inside this thread's next call to the peer.
    let during = Probe::default();
    assert_eq!(peer.foo.callback(during.callback(), 4).unwrap(), 41);
    assert_eq!(*during.runs.lock().unwrap(), vec![label()]);
    assert_eq!(probe.run_count(), 0, "the refused callback ran later");

    // Nor kept: once the peer lets go of the callback, it is dropped.
    let Peer { foo, _init, _connections } = peer;
    drop(foo);
    wait_for("the saved callback dropped", Duration::from_secs(10), || probe.dropped.load(SeqCst));
    assert_eq!(probe.run_count(), 0);
}

/// Calls `foo.call_saved(arg)` on another thread while this one serves a
/// callback of another peer, and keeps what it answered.
struct CallSavedElsewhere {
    foo: Arc<Box<dyn Foo>>,
    outcome: Arc<Mutex<Option<TestResult<i32>>>>,
}

impl FooCallback for CallSavedElsewhere {
    fn call(&self, arg: i32) -> TestResult<i32> {
        let (tx, rx) = std::sync::mpsc::channel();
        let foo = self.foo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(foo.call_saved(arg));
        });
        let outcome =
            rx.recv_timeout(Duration::from_secs(10)).map_err(|_| TestError::new("call_saved hung"))?;
        *self.outcome.lock().unwrap() = Some(outcome);
        Ok(arg)
    }
}

#[test]
fn a_peer_calling_a_callback_thread_that_waits_for_another_peer_is_refused() {
    let loops = loops();
    let (first, second) = (connect(&loops), connect(&loops));
    let probe = Probe::default();
    first.foo.save_callback(probe.callback()).unwrap();

    // This thread waits in a call to `second` (and runs its callback) while
    // `first` calls on this thread's callback thread.
    let outcome = Arc::new(Mutex::new(None));
    let elsewhere = CallSavedElsewhere { foo: first.foo.clone(), outcome: outcome.clone() };
    assert_eq!(second.foo.callback(Box::new(elsewhere), 2).unwrap(), 3);
    assert_thread_busy(outcome.lock().unwrap().take().expect("call_saved answered"));
    assert_eq!(probe.run_count(), 0, "ran inside a call to another peer");

    // During a call to `first`, its callbacks run on this thread.
    assert_eq!(first.foo.callback(probe.callback(), 5).unwrap(), 51);
    assert_eq!(*probe.runs.lock().unwrap(), vec![label()]);
}

/// A callback that calls `foo.callback` again, `depth` times: each level
/// is a callback of the peer into a call this thread made from a callback.
struct Nested {
    foo: Arc<Box<dyn Foo>>,
    depth: i32,
    probe: Probe,
}

impl FooCallback for Nested {
    fn call(&self, arg: i32) -> TestResult<i32> {
        self.probe.runs.lock().unwrap().push(label());
        if self.depth == 0 {
            return Ok(arg);
        }
        let inner = Nested { foo: self.foo.clone(), depth: self.depth - 1, probe: self.probe.clone() };
        self.foo.callback(Box::new(inner), arg + 1)
    }
}

#[test]
fn a_peer_calling_back_during_the_call_runs_on_the_calling_thread() {
    let loops = loops();
    let peer = connect(&loops);
    let probe = Probe::default();
    assert_eq!(peer.foo.callback(probe.callback(), 4).unwrap(), 41);
    assert_eq!(*probe.runs.lock().unwrap(), vec![label()]);

    let nested = Probe::default();
    let cb = Nested { foo: peer.foo.clone(), depth: 3, probe: nested.clone() };
    // callback(cb, 0) -> cb(0) -> callback(cb', 1) -> ... each level adds one.
    assert_eq!(peer.foo.callback(Box::new(cb), 0).unwrap(), 3 + 4);
    assert_eq!(*nested.runs.lock().unwrap(), vec![label(); 4]);
}

#[test]
fn a_callback_racing_the_answer_runs_in_the_call_or_is_refused() {
    let loops = loops();
    let peer = connect(&loops);
    let probe = Probe::default();
    peer.foo.save_callback(probe.callback()).unwrap();
    let (mut ran, mut refused) = (0, 0);
    for i in 1..=40 {
        // The peer sends the callback and answers without waiting for it.
        assert_eq!(peer.foo.add(i, 1).unwrap(), i + 1);
        let ran_in_the_call = probe.run_count();
        // Its callback finishes, run or refused. (Were it parked in this
        // thread's mailbox, these polls would run it: the count would tell.)
        let mut outcome = Ok(0);
        wait_for("the detached callback finished", Duration::from_secs(10), || {
            outcome = peer.foo.add_on_loop(0, 0);
            outcome != Ok(0)
        });
        match outcome {
            Ok(value) => {
                assert_eq!(value, i * 10 + 1);
                ran += 1;
            }
            Err(error) => {
                assert!(error.message.contains("thread busy"), "{error:?}");
                refused += 1;
            }
        }
        assert_eq!(ran_in_the_call, ran, "a callback ran after the call it came with");
    }
    assert_eq!(probe.run_count(), ran);
    eprintln!("callbacks racing the answer: {ran} ran in the call, {refused} refused");
}
