//! Behaviour tests of the framework, on generated glue and real processes.
//!
//! `FooInit`/`Foo`/`FooCallback` are plain traits (no IPC types), like an
//! application's `interfaces` crate; `schema/foo.capnp` maps them; the
//! `foo-server` binary serves [`FooImpl`] on an fd, a unix socket or stdin
//! pings (benchmark floor). Tests live in `tests/`, the benchmark in
//! `benches/`.

mod foo_impl;
mod harness;
pub mod server_bounds;

pub use foo_impl::{FooImpl, FooInitImpl};
pub use harness::{spawn_foo, tune_allocator, SpawnedFoo};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// Error of the test traits: a message and the io kind it came with (so
/// tests can tell a disconnect from a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestError {
    /// What went wrong.
    pub message: String,
    /// `ConnectionAborted` for a lost peer, `Other` otherwise.
    pub kind: std::io::ErrorKind,
}

impl TestError {
    /// A plain failure.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: std::io::ErrorKind::Other }
    }

    /// Whether the peer was lost.
    pub fn is_disconnected(&self) -> bool {
        self.kind == std::io::ErrorKind::ConnectionAborted
    }
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The framework kind of a [`TestError`], by its io kind: what a process
/// serving the test traits registers with
/// [`framework::register_error_kind`].
pub fn test_error_kind(e: &TestError) -> framework::ErrorKind {
    match e.kind {
        std::io::ErrorKind::NotFound => framework::ErrorKind::NotFound,
        std::io::ErrorKind::AlreadyExists => framework::ErrorKind::AlreadyExists,
        std::io::ErrorKind::InvalidInput => framework::ErrorKind::InvalidArgument,
        _ => framework::ErrorKind::Failed,
    }
}

impl From<std::io::Error> for TestError {
    fn from(e: std::io::Error) -> Self {
        Self { message: e.to_string(), kind: e.kind() }
    }
}

/// Result of the test traits.
pub type TestResult<T> = Result<T, TestError>;

/// A struct mapped field by field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FooStruct {
    /// Text field.
    pub name: String,
    /// List field.
    pub numbers: Vec<i32>,
    /// Bool field.
    pub flag: bool,
}

/// An enum with a hand-written conversion (users extend the mapping by
/// implementing the conversion traits; see `foo_impl.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// 0
    Red,
    /// 1
    Green,
    /// 2
    Blue,
}

/// Bootstrap interface of `foo-server`.
pub trait FooInit: Send + Sync {
    /// A new Foo object.
    fn make_foo(&self) -> TestResult<Box<dyn Foo>>;
    /// The server's pid (runs on the event loop: no Context).
    fn process_id(&self) -> TestResult<u32>;
}

/// A callback object.
pub trait FooCallback: Send + Sync {
    /// Called by the server.
    fn call(&self, arg: i32) -> TestResult<i32>;
}

/// Everything the tests exercise.
pub trait Foo: Send + Sync {
    /// `a + b` on the mapped worker thread.
    fn add(&self, a: i32, b: i32) -> TestResult<i32>;
    /// `a + b` on the event loop.
    fn add_on_loop(&self, a: i32, b: i32) -> TestResult<i32>;
    /// Returns a changed copy.
    fn pass_struct(&self, arg: FooStruct) -> TestResult<FooStruct>;
    /// Formats every scalar.
    #[allow(clippy::too_many_arguments)]
    fn pass_scalars(&self, a: i8, b: u16, c: i64, d: u64, e: f32, f: f64, g: bool) -> TestResult<String>;
    /// Returns `value`, which the schema narrows to UInt8.
    fn narrow(&self, value: i64) -> TestResult<i64>;
    /// In/out and out parameters.
    fn in_out(&self, value: &mut i32, doubled: &mut i32) -> TestResult<()>;
    /// Optional parameters.
    fn optional(&self, value: Option<i32>, text: Option<String>) -> TestResult<String>;
    /// Collections.
    fn pass_collections(
        &self,
        list: Vec<String>,
        set: BTreeSet<i32>,
        map: BTreeMap<String, i32>,
        nested: Vec<Vec<u8>>,
    ) -> TestResult<String>;
    /// Returns the bytes.
    fn pass_data(&self, bytes: Vec<u8>) -> TestResult<Vec<u8>>;
    /// Calls `cb(arg)` and returns its answer plus one.
    fn callback(&self, cb: Box<dyn FooCallback>, arg: i32) -> TestResult<i32>;
    /// Keeps `cb` for [`Foo::call_saved`].
    fn save_callback(&self, cb: Box<dyn FooCallback>) -> TestResult<()>;
    /// Calls the saved callback.
    fn call_saved(&self, arg: i32) -> TestResult<i32>;
    /// Returns `foo` itself.
    fn pass_foo(&self, foo: Box<dyn Foo>) -> TestResult<Box<dyn Foo>>;
    /// Fails with `message`.
    fn fail(&self, message: String) -> TestResult<()>;
    /// Panics.
    fn crash(&self) -> TestResult<()>;
    /// Sleeps up to `ms`, returning early (true) when the call is cancelled.
    fn sleep(&self, ms: u32) -> TestResult<bool>;
    /// Name and id of the thread running the call.
    fn thread_name(&self) -> TestResult<String>;
    /// Twice `d`.
    fn duration(&self, d: Duration) -> TestResult<Duration>;
    /// The next color.
    fn color(&self, c: Color) -> TestResult<Color>;
    /// How many calls this process saw cancelled.
    fn cancelled_count(&self) -> TestResult<u32>;
    /// Calls the closure `f(arg)` and returns its answer plus one.
    fn call_fn(&self, f: FooFn, arg: i32) -> TestResult<i32>;
    /// `count` new objects (at most [`MAX_FOOS`]).
    fn make_foos(&self, count: u32) -> TestResult<Vec<Box<dyn Foo>>>;
    /// Returns `foos` themselves.
    fn pass_foos(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<Box<dyn Foo>>>;
    /// `thread_name` of each object.
    fn thread_names(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<String>>;
    /// `add_on_loop(a, b)` of each object. Run by the server, it tells its
    /// own objects (called directly) from forwarders to them (a forwarder
    /// on the client's loop cannot make the blocking call and fails).
    fn add_on_loop_each(&self, foos: Vec<Box<dyn Foo>>, a: i32, b: i32) -> TestResult<Vec<i32>>;
    /// Fails with `message` and the io error kind named `kind`
    /// (`not-found`, `already-exists`, `invalid-input`; else `Other`).
    fn fail_with(&self, kind: String, message: String) -> TestResult<()>;
}

/// Most objects [`Foo::make_foos`] makes at once.
pub const MAX_FOOS: u32 = 64;

/// A callback passed as a closure.
pub type FooFn = Box<dyn Fn(i32) -> Result<i32, TestError> + Send + Sync>;

/// Generated bindings.
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod foo_capnp {
    include!(concat!(env!("OUT_DIR"), "/foo_capnp.rs"));
}
/// Generated proxies and adapters.
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod foo_proxy {
    include!(concat!(env!("OUT_DIR"), "/foo_proxy.rs"));
}
