//! Sending an object back to its owner reuses the owner's capability only
//! when the object really is a proxy for it: identity must survive the
//! proxy moving to another allocation (`Arc::from(Box<dyn Foo>)`), and an
//! unrelated object at the address it left must not pass for it.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use framework_itest::foo_proxy::FooInterfaceProxy as FooProxy;
use framework_itest::{Color, Foo, FooCallback, FooStruct, TestError, TestResult};

/// The same size as a boxed proxy, so that the allocator hands it the block
/// the proxy left (glibc's per-thread cache is last-in, first-out).
struct Impostor {
    _pad: [u8; std::mem::size_of::<FooProxy>()],
}

const IMPOSTOR: &str = "impostor";

fn no<T>() -> TestResult<T> {
    Err(TestError::new("not implemented by the impostor"))
}

impl Foo for Impostor {
    fn add(&self, _: i32, _: i32) -> TestResult<i32> {
        no()
    }
    fn add_on_loop(&self, _: i32, _: i32) -> TestResult<i32> {
        no()
    }
    fn pass_struct(&self, _: FooStruct) -> TestResult<FooStruct> {
        no()
    }
    fn pass_scalars(&self, _: i8, _: u16, _: i64, _: u64, _: f32, _: f64, _: bool) -> TestResult<String> {
        no()
    }
    fn narrow(&self, _: i64) -> TestResult<i64> {
        no()
    }
    fn in_out(&self, _: &mut i32, _: &mut i32) -> TestResult<()> {
        no()
    }
    fn optional(&self, _: Option<i32>, _: Option<String>) -> TestResult<String> {
        no()
    }
    fn pass_collections(
        &self,
        _: Vec<String>,
        _: BTreeSet<i32>,
        _: BTreeMap<String, i32>,
        _: Vec<Vec<u8>>,
    ) -> TestResult<String> {
        no()
    }
    fn pass_data(&self, _: Vec<u8>) -> TestResult<Vec<u8>> {
        no()
    }
    fn callback(&self, _: Box<dyn FooCallback>, _: i32) -> TestResult<i32> {
        no()
    }
    fn save_callback(&self, _: Box<dyn FooCallback>) -> TestResult<()> {
        no()
    }
    fn call_saved(&self, _: i32) -> TestResult<i32> {
        no()
    }
    fn pass_foo(&self, _: Box<dyn Foo>) -> TestResult<Box<dyn Foo>> {
        no()
    }
    fn fail(&self, _: String) -> TestResult<()> {
        no()
    }
    fn crash(&self) -> TestResult<()> {
        no()
    }
    fn sleep(&self, _: u32) -> TestResult<bool> {
        no()
    }
    fn thread_name(&self) -> TestResult<String> {
        Ok(IMPOSTOR.into())
    }
    fn duration(&self, _: Duration) -> TestResult<Duration> {
        no()
    }
    fn color(&self, _: Color) -> TestResult<Color> {
        no()
    }
    fn cancelled_count(&self) -> TestResult<u32> {
        no()
    }
    fn call_fn(&self, _: framework_itest::FooFn, _: i32) -> TestResult<i32> {
        no()
    }
    fn make_foos(&self, _: u32) -> TestResult<Vec<Box<dyn Foo>>> {
        no()
    }
    fn pass_foos(&self, _: Vec<Box<dyn Foo>>) -> TestResult<Vec<Box<dyn Foo>>> {
        no()
    }
    fn thread_names(&self, _: Vec<Box<dyn Foo>>) -> TestResult<Vec<String>> {
        no()
    }
    fn add_on_loop_each(&self, _: Vec<Box<dyn Foo>>, _: i32, _: i32) -> TestResult<Vec<i32>> {
        no()
    }
    fn fail_with(&self, _: String, _: String) -> TestResult<()> {
        no()
    }
}

fn address<T: ?Sized>(object: &T) -> usize {
    object as *const T as *const () as usize
}

/// Takes blocks of the proxy's size out of this thread's malloc cache, so
/// that the block a proxy is about to leave goes into it (a full cache sends
/// it to its arena, possibly another thread's, out of this thread's reach).
#[allow(clippy::vec_box)] // The point: allocations of their own, of the proxy's size.
fn make_room() -> Vec<Box<[u8; std::mem::size_of::<FooProxy>()]>> {
    (0..64).map(|_| Box::new([0; std::mem::size_of::<FooProxy>()])).collect()
}

/// Allocates objects of the proxy's size until one lands at `left` (the
/// block is in this thread's malloc cache, possibly behind others of the
/// same size), keeping the misses alive so that each try gets a new block.
fn allocate_at<T: ?Sized>(left: usize, make: impl Fn() -> Box<T>) -> Box<T> {
    let mut misses = Vec::new();
    for _ in 0..256 {
        let object = make();
        if address(&*object) == left {
            return object;
        }
        misses.push(object);
    }
    panic!("precondition: no allocation landed at the address the proxy left");
}

#[test]
fn a_local_object_at_the_address_a_moved_proxy_left_is_sent_as_itself() {
    let s = common::setup();
    let proxy = s.server.init.make_foo().unwrap();
    let server_thread = proxy.thread_name().unwrap();
    let left = address(&*proxy);
    let _room = make_room();
    // The proxy moves into the Arc's allocation; its box is freed.
    let shared: Arc<dyn Foo> = Arc::from(proxy);
    let impostor = allocate_at(left, || -> Box<dyn Foo> {
        Box::new(Impostor { _pad: [0; std::mem::size_of::<FooProxy>()] })
    });

    let back = s.foo.pass_foo(impostor).unwrap();
    // A new server wrapped the impostor, so it came back as our own object;
    // the stale match sent the peer its own Foo instead.
    assert_eq!(back.thread_name().unwrap(), IMPOSTOR);
    // The moved proxy itself still works.
    assert_eq!(shared.thread_name().unwrap(), server_thread);
}

#[test]
fn a_callback_at_the_address_a_moved_proxy_left_is_a_callback() {
    struct Times10;
    impl FooCallback for Times10 {
        fn call(&self, arg: i32) -> TestResult<i32> {
            Ok(arg * 10)
        }
    }
    /// A callback the size of a proxy, forwarding to [`Times10`].
    struct Padded {
        inner: Times10,
        _pad: [u8; std::mem::size_of::<FooProxy>()],
    }
    impl FooCallback for Padded {
        fn call(&self, arg: i32) -> TestResult<i32> {
            self.inner.call(arg)
        }
    }

    let s = common::setup();
    let proxy = s.server.init.make_foo().unwrap();
    let left = address(&*proxy);
    let _room = make_room();
    let shared: Arc<dyn Foo> = Arc::from(proxy);
    let cb = allocate_at(left, || -> Box<dyn FooCallback> {
        Box::new(Padded { inner: Times10, _pad: [0; std::mem::size_of::<FooProxy>()] })
    });
    // The stale match sent the Foo capability as the callback: the server's
    // call on it then reached a Foo object, which has no such method.
    assert_eq!(s.foo.callback(cb, 4).unwrap(), 41);
    drop(shared);
}
