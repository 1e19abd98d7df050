//! Interface objects cross in both directions and come back as themselves.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use framework_itest::{Color, Foo, FooCallback, FooImpl, FooStruct, TestResult};

/// A local Foo whose thread_name says it ran here.
struct LocalFoo(FooImpl);

impl Foo for LocalFoo {
    fn add(&self, a: i32, b: i32) -> TestResult<i32> {
        self.0.add(a, b)
    }
    fn add_on_loop(&self, a: i32, b: i32) -> TestResult<i32> {
        self.0.add_on_loop(a, b)
    }
    fn pass_struct(&self, arg: FooStruct) -> TestResult<FooStruct> {
        self.0.pass_struct(arg)
    }
    fn pass_scalars(&self, a: i8, b: u16, c: i64, d: u64, e: f32, f: f64, g: bool) -> TestResult<String> {
        self.0.pass_scalars(a, b, c, d, e, f, g)
    }
    fn narrow(&self, value: i64) -> TestResult<i64> {
        self.0.narrow(value)
    }
    fn in_out(&self, value: &mut i32, doubled: &mut i32) -> TestResult<()> {
        self.0.in_out(value, doubled)
    }
    fn optional(&self, value: Option<i32>, text: Option<String>) -> TestResult<String> {
        self.0.optional(value, text)
    }
    fn pass_collections(
        &self,
        list: Vec<String>,
        set: BTreeSet<i32>,
        map: BTreeMap<String, i32>,
        nested: Vec<Vec<u8>>,
    ) -> TestResult<String> {
        self.0.pass_collections(list, set, map, nested)
    }
    fn pass_data(&self, bytes: Vec<u8>) -> TestResult<Vec<u8>> {
        self.0.pass_data(bytes)
    }
    fn callback(&self, cb: Box<dyn FooCallback>, arg: i32) -> TestResult<i32> {
        self.0.callback(cb, arg)
    }
    fn save_callback(&self, cb: Box<dyn FooCallback>) -> TestResult<()> {
        self.0.save_callback(cb)
    }
    fn call_saved(&self, arg: i32) -> TestResult<i32> {
        self.0.call_saved(arg)
    }
    fn pass_foo(&self, foo: Box<dyn Foo>) -> TestResult<Box<dyn Foo>> {
        self.0.pass_foo(foo)
    }
    fn fail(&self, message: String) -> TestResult<()> {
        self.0.fail(message)
    }
    fn crash(&self) -> TestResult<()> {
        self.0.crash()
    }
    fn sleep(&self, ms: u32) -> TestResult<bool> {
        self.0.sleep(ms)
    }
    fn thread_name(&self) -> TestResult<String> {
        Ok(format!("local pid {}", std::process::id()))
    }
    fn duration(&self, d: Duration) -> TestResult<Duration> {
        self.0.duration(d)
    }
    fn color(&self, c: Color) -> TestResult<Color> {
        self.0.color(c)
    }
    fn cancelled_count(&self) -> TestResult<u32> {
        self.0.cancelled_count()
    }
    fn call_fn(&self, f: framework_itest::FooFn, arg: i32) -> TestResult<i32> {
        self.0.call_fn(f, arg)
    }
    fn make_foos(&self, count: u32) -> TestResult<Vec<Box<dyn Foo>>> {
        self.0.make_foos(count)
    }
    fn pass_foos(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<Box<dyn Foo>>> {
        self.0.pass_foos(foos)
    }
    fn thread_names(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<String>> {
        self.0.thread_names(foos)
    }
    fn add_on_loop_each(&self, foos: Vec<Box<dyn Foo>>, a: i32, b: i32) -> TestResult<Vec<i32>> {
        self.0.add_on_loop_each(foos, a, b)
    }
    fn fail_with(&self, kind: String, message: String) -> TestResult<()> {
        self.0.fail_with(kind, message)
    }
}

#[test]
fn a_local_object_sent_and_returned_is_called_locally() {
    let s = common::setup();
    let back = s.foo.pass_foo(Box::new(LocalFoo(FooImpl::default()))).unwrap();
    assert_eq!(back.thread_name().unwrap(), format!("local pid {}", std::process::id()));
}

#[test]
fn a_remote_object_sent_back_to_its_owner_stays_remote_and_works() {
    let s = common::setup();
    let other = s.server.init.make_foo().unwrap();
    let server_side = other.thread_name().unwrap();
    let back = s.foo.pass_foo(other).unwrap();
    assert_eq!(back.add(5, 6).unwrap(), 11);
    assert_eq!(back.thread_name().unwrap(), server_side);
}

#[test]
fn a_server_object_passed_into_a_call_reaches_its_owner_as_itself() {
    let s = common::setup();
    let other = s.server.init.make_foo().unwrap();
    // The server receives its own object: callbacks through it stay in-process there.
    let back = s.foo.pass_foo(other).unwrap();
    assert_eq!(back.add_on_loop(1, 2).unwrap(), 3);
}

#[test]
fn dropping_a_proxy_releases_the_remote_object() {
    let s = common::setup();
    for _ in 0..50 {
        let foo = s.server.init.make_foo().unwrap();
        assert_eq!(foo.add(1, 1).unwrap(), 2);
    }
    assert_eq!(s.foo.add(2, 2).unwrap(), 4);
}
