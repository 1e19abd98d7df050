//! The implementation `foo-server` serves.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use framework::convert::{FromScalar, ToScalar};

use crate::foo_capnp;
use crate::{Color, Foo, FooCallback, FooInit, FooStruct, TestError, TestResult};

static CANCELLED: AtomicU32 = AtomicU32::new(0);

/// Serves [`FooImpl`] objects.
#[derive(Debug, Default)]
pub struct FooInitImpl;

impl FooInit for FooInitImpl {
    fn make_foo(&self) -> TestResult<Box<dyn Foo>> {
        Ok(Box::new(FooImpl::default()))
    }

    fn process_id(&self) -> TestResult<u32> {
        Ok(std::process::id())
    }
}

/// The test object.
#[derive(Default)]
pub struct FooImpl {
    saved: Mutex<Option<Box<dyn FooCallback>>>,
}

impl std::fmt::Debug for FooImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FooImpl").finish_non_exhaustive()
    }
}

/// Name and id of the calling thread, comparable across calls.
pub fn thread_label() -> String {
    let current = std::thread::current();
    format!("{}:{:?}", current.name().unwrap_or("unnamed"), current.id())
}

impl Foo for FooImpl {
    fn add(&self, a: i32, b: i32) -> TestResult<i32> {
        a.checked_add(b).ok_or_else(|| TestError::new("overflow"))
    }

    fn add_on_loop(&self, a: i32, b: i32) -> TestResult<i32> {
        a.checked_add(b).ok_or_else(|| TestError::new("overflow"))
    }

    fn pass_struct(&self, arg: FooStruct) -> TestResult<FooStruct> {
        let mut numbers = arg.numbers;
        numbers.reverse();
        Ok(FooStruct { name: format!("{}!", arg.name), numbers, flag: !arg.flag })
    }

    fn pass_scalars(&self, a: i8, b: u16, c: i64, d: u64, e: f32, f: f64, g: bool) -> TestResult<String> {
        Ok(format!("{a} {b} {c} {d} {e} {f} {g}"))
    }

    fn narrow(&self, value: i64) -> TestResult<i64> {
        Ok(value)
    }

    fn in_out(&self, value: &mut i32, doubled: &mut i32) -> TestResult<()> {
        *doubled = *value * 2;
        *value += 1;
        Ok(())
    }

    fn optional(&self, value: Option<i32>, text: Option<String>) -> TestResult<String> {
        Ok(format!("{value:?} {text:?}"))
    }

    fn pass_collections(
        &self,
        list: Vec<String>,
        set: BTreeSet<i32>,
        map: BTreeMap<String, i32>,
        nested: Vec<Vec<u8>>,
    ) -> TestResult<String> {
        Ok(format!("{list:?} {set:?} {map:?} {nested:?}"))
    }

    fn pass_data(&self, bytes: Vec<u8>) -> TestResult<Vec<u8>> {
        Ok(bytes)
    }

    fn callback(&self, cb: Box<dyn FooCallback>, arg: i32) -> TestResult<i32> {
        Ok(cb.call(arg)? + 1)
    }

    fn save_callback(&self, cb: Box<dyn FooCallback>) -> TestResult<()> {
        *self.saved.lock().map_err(|_| TestError::new("poisoned"))? = Some(cb);
        Ok(())
    }

    fn call_saved(&self, arg: i32) -> TestResult<i32> {
        let saved = self.saved.lock().map_err(|_| TestError::new("poisoned"))?;
        match saved.as_ref() {
            Some(cb) => cb.call(arg),
            None => Err(TestError::new("no saved callback")),
        }
    }

    fn pass_foo(&self, foo: Box<dyn Foo>) -> TestResult<Box<dyn Foo>> {
        Ok(foo)
    }

    fn fail(&self, message: String) -> TestResult<()> {
        Err(TestError::new(message))
    }

    fn crash(&self) -> TestResult<()> {
        panic!("crash requested");
    }

    fn sleep(&self, ms: u32) -> TestResult<bool> {
        let deadline = Instant::now() + Duration::from_millis(ms.into());
        while Instant::now() < deadline {
            if framework::is_cancelled() {
                CANCELLED.fetch_add(1, Ordering::SeqCst);
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(false)
    }

    fn thread_name(&self) -> TestResult<String> {
        Ok(thread_label())
    }

    fn duration(&self, d: Duration) -> TestResult<Duration> {
        Ok(d * 2)
    }

    fn color(&self, c: Color) -> TestResult<Color> {
        Ok(match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        })
    }

    fn cancelled_count(&self) -> TestResult<u32> {
        Ok(CANCELLED.load(Ordering::SeqCst))
    }

    fn call_fn(&self, f: crate::FooFn, arg: i32) -> TestResult<i32> {
        Ok(f(arg)? + 1)
    }

    fn make_foos(&self, count: u32) -> TestResult<Vec<Box<dyn Foo>>> {
        if count > crate::MAX_FOOS {
            return Err(TestError::new(format!("at most {} objects at once", crate::MAX_FOOS)));
        }
        Ok((0..count).map(|_| Box::new(FooImpl::default()) as Box<dyn Foo>).collect())
    }

    fn pass_foos(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<Box<dyn Foo>>> {
        Ok(foos)
    }

    fn thread_names(&self, foos: Vec<Box<dyn Foo>>) -> TestResult<Vec<String>> {
        foos.iter().map(|foo| foo.thread_name()).collect()
    }

    fn add_on_loop_each(&self, foos: Vec<Box<dyn Foo>>, a: i32, b: i32) -> TestResult<Vec<i32>> {
        foos.iter().map(|foo| foo.add_on_loop(a, b)).collect()
    }

    fn fail_with(&self, kind: String, message: String) -> TestResult<()> {
        let kind = match kind.as_str() {
            "not-found" => std::io::ErrorKind::NotFound,
            "already-exists" => std::io::ErrorKind::AlreadyExists,
            "invalid-input" => std::io::ErrorKind::InvalidInput,
            _ => std::io::ErrorKind::Other,
        };
        Err(TestError { message, kind })
    }
}

// A user-written conversion: the Rust enum to and from the schema enum.
impl ToScalar<foo_capnp::Color> for Color {
    fn to_scalar(self) -> framework::Result<foo_capnp::Color> {
        Ok(match self {
            Color::Red => foo_capnp::Color::Red,
            Color::Green => foo_capnp::Color::Green,
            Color::Blue => foo_capnp::Color::Blue,
        })
    }
}

impl FromScalar<foo_capnp::Color> for Color {
    fn from_scalar(wire: foo_capnp::Color) -> framework::Result<Self> {
        Ok(match wire {
            foo_capnp::Color::Red => Color::Red,
            foo_capnp::Color::Green => Color::Green,
            foo_capnp::Color::Blue => Color::Blue,
        })
    }
}
