//! Cross-process call costs, as ratios to a raw socketpair ping-pong
//! measured in the same run (the machine is noisy; ratios compare).
//!
//! `cargo bench -p framework-itest` prints a table and one line per shape:
//! `bench <letter> <value> <unit> <ratio-to-floor>`.
//! `BENCH_SCALE=0.1` shortens every loop (for a quick look); `BENCH_ONLY=cf`
//! runs only the named shapes (the floor is always measured).
//! Both processes tune glibc malloc to keep freed large buffers (see
//! `framework_itest::tune_allocator`); without it, (f) is dominated by page
//! faults and TLB shootdowns and drops to ~0.3 GB/s on the 2-core VM.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use framework::{EventLoop, FdArg, SpawnOptions};
use framework_itest::{spawn_foo, Foo, FooCallback, TestResult};

const FOO_SERVER: &str = env!("CARGO_BIN_EXE_foo-server");

fn scale(n: usize) -> usize {
    let factor: f64 = std::env::var("BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    ((n as f64 * factor) as usize).max(10)
}

fn wanted(letter: char) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.contains(letter))
}

/// Median over batches of the per-iteration time of `op`, in microseconds.
fn median_us(iterations: usize, mut op: impl FnMut()) -> f64 {
    let batch = 500.min(iterations).max(1);
    for _ in 0..batch {
        op(); // warm up
    }
    let mut samples = Vec::new();
    let mut done = 0;
    while done < iterations {
        let start = Instant::now();
        for _ in 0..batch {
            op();
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / batch as f64);
        done += batch;
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn floor_us() -> f64 {
    let (mut child, mut stream) = SpawnOptions::new()
        .arg("-pingpong")
        .fd_arg(FdArg::Flag)
        .spawn(Path::new(FOO_SERVER))
        .expect("spawn ping-pong server");
    let mut buf = [0u8; 8];
    let us = median_us(scale(100_000), || {
        stream.write_all(&buf).expect("ping");
        stream.read_exact(&mut buf).expect("pong");
    });
    drop(stream);
    let _ = child.try_wait();
    us
}

struct Echo;

impl FooCallback for Echo {
    fn call(&self, arg: i32) -> TestResult<i32> {
        Ok(arg)
    }
}

struct Row {
    letter: char,
    what: &'static str,
    value: f64,
    unit: &'static str,
    us_per_op: f64,
}

fn main() {
    // The server process tunes its allocator the same way (foo-server's main).
    // BENCH_DEFAULT_MALLOC=1 keeps glibc's defaults on this side, to see the difference.
    if std::env::var_os("BENCH_DEFAULT_MALLOC").is_none() {
        framework_itest::tune_allocator();
    }
    let floor = floor_us();
    let event_loop = EventLoop::new().expect("event loop");
    let server = spawn_foo(&event_loop, Path::new(FOO_SERVER)).expect("spawn foo-server");
    let foo: Arc<dyn Foo> = Arc::from(server.init.make_foo().expect("make_foo"));
    let mut rows = vec![Row {
        letter: 'a',
        what: "socketpair ping-pong (floor)",
        value: floor,
        unit: "us",
        us_per_op: floor,
    }];
    if wanted('b') {
        let b = median_us(scale(100_000), || {
            foo.add_on_loop(1, 2).expect("add_on_loop");
        });
        rows.push(Row {
            letter: 'b',
            what: "call without Context (on loop)",
            value: b,
            unit: "us",
            us_per_op: b,
        });
    }
    if wanted('c') {
        let c = median_us(scale(100_000), || {
            foo.add(1, 2).expect("add");
        });
        rows.push(Row {
            letter: 'c',
            what: "call with Context (worker thread)",
            value: c,
            unit: "us",
            us_per_op: c,
        });
    }
    if wanted('d') {
        let d = median_us(scale(30_000), || {
            foo.callback(Box::new(Echo), 1).expect("callback");
        });
        rows.push(Row {
            letter: 'd',
            what: "call passing a callback invoked once",
            value: d,
            unit: "us",
            us_per_op: d,
        });
    }
    if wanted('e') {
        rows.push(eight_threads(&foo));
    }
    if wanted('f') {
        rows.push(big_data(&foo));
    }
    if wanted('g') {
        rows.push(spawn_and_first_call(&event_loop));
    }
    print_rows(&rows, floor);
}

fn eight_threads(foo: &Arc<dyn Foo>) -> Row {
    let threads = 8;
    let per_thread = scale(20_000);
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let foo = foo.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    foo.add(i as i32, 1).expect("add");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread");
    }
    let calls_per_sec = (threads * per_thread) as f64 / start.elapsed().as_secs_f64();
    Row {
        letter: 'e',
        what: "8 client threads, Context calls",
        value: calls_per_sec,
        unit: "calls/s",
        us_per_op: 1e6 / calls_per_sec,
    }
}

fn big_data(foo: &Arc<dyn Foo>) -> Row {
    let payload = vec![7u8; 1 << 20];
    let per_trip = median_us(scale(300), || {
        let back = foo.pass_data(payload.clone()).expect("pass_data");
        assert_eq!(back.len(), payload.len());
    });
    let mb_per_sec = (2.0 * payload.len() as f64 / 1e6) / (per_trip / 1e6);
    Row {
        letter: 'f',
        what: "1 MiB Data round trip (both ways)",
        value: mb_per_sec,
        unit: "MB/s",
        us_per_op: per_trip,
    }
}

fn spawn_and_first_call(event_loop: &EventLoop) -> Row {
    let mut times = Vec::new();
    for _ in 0..scale(20) {
        let start = Instant::now();
        let spawned = spawn_foo(event_loop, Path::new(FOO_SERVER)).expect("spawn");
        let foo = spawned.init.make_foo().expect("make_foo");
        foo.add(1, 1).expect("first call");
        times.push(start.elapsed());
        drop(foo);
        drop(spawned);
    }
    times.sort();
    let g = times[times.len() / 2];
    Row {
        letter: 'g',
        what: "spawn + connect + first call",
        value: g.as_secs_f64() * 1e3,
        unit: "ms",
        us_per_op: g.as_secs_f64() * 1e6,
    }
}

fn print_rows(rows: &[Row], floor: f64) {
    println!("{:<3} {:<40} {:>14} {:<8} {:>10}", "", "shape", "value", "unit", "x floor");
    for r in rows {
        println!(
            "{:<3} {:<40} {:>14.2} {:<8} {:>10.2}",
            r.letter,
            r.what,
            r.value,
            r.unit,
            r.us_per_op / floor
        );
    }
    for r in rows {
        println!("bench {} {:.2} {} {:.2}", r.letter, r.value, r.unit, r.us_per_op / floor);
    }
}
