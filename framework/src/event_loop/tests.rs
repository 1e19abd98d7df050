//! White-box tests of the loop's scheduling edges (issue 12, item 5).

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{EventLoop, LoopShared};
use crate::waiter::{JobKind, Waiter};

/// Waits (bounded) until `cond` holds.
fn wait_for(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into a live local.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A thread that waits on `shared` until `done`, so that it polls the loop
/// (or queues for the poller role); sends its waiter, then, when the wait
/// ends, the CPU time the wait used.
fn spawn_waiter(
    shared: Arc<LoopShared>,
    done: Arc<AtomicBool>,
) -> (Arc<Waiter>, mpsc::Receiver<Duration>, std::thread::JoinHandle<()>) {
    let (tx_waiter, rx_waiter) = mpsc::channel();
    let (tx_cpu, rx_cpu) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let me = Waiter::current();
        tx_waiter.send(me.clone()).unwrap();
        let start = thread_cpu_time();
        shared.wait_until(&me, false, || done.load(SeqCst));
        let _ = tx_cpu.send(thread_cpu_time() - start);
    });
    (rx_waiter.recv().unwrap(), rx_cpu, thread)
}

/// A proxy of one loop dropped by code running inside another loop queues
/// its release; the first loop's poller, asleep in poll(2), must be woken
/// to run it (nothing else would wake it).
#[test]
fn defer_from_inside_another_loop_wakes_the_poller() {
    let a = EventLoop::new().unwrap();
    let b = EventLoop::new().unwrap();
    let (sa, sb) = (a.handle().shared, b.handle().shared);
    let done = Arc::new(AtomicBool::new(false));
    let (waiter, _cpu, thread) = spawn_waiter(sa.clone(), done.clone());
    wait_for("a poller asleep on loop a", Duration::from_secs(10), || sa.sleeping.load(SeqCst));

    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let target = sa.clone();
    sb.with_state(move |_| {
        target.defer(Box::new(move |_| flag.store(true, SeqCst)));
    })
    .unwrap();
    wait_for("the deferred work to run on loop a", Duration::from_secs(5), || ran.load(SeqCst));

    done.store(true, SeqCst);
    waiter.post(Box::new(|| {}), JobKind::Result);
    thread.join().unwrap();
}

/// A thread still waiting on a loop after it was shut down sleeps until
/// its wait is answered; it does not spin on the `attention` flag.
#[test]
fn a_thread_waiting_after_shutdown_sleeps() {
    let event_loop = EventLoop::new().unwrap();
    let shared = event_loop.handle().shared;
    let done = Arc::new(AtomicBool::new(false));
    let (waiter, cpu, thread) = spawn_waiter(shared.clone(), done.clone());
    wait_for("a poller asleep", Duration::from_secs(10), || shared.sleeping.load(SeqCst));

    drop(event_loop);
    std::thread::sleep(Duration::from_millis(1000));
    done.store(true, SeqCst);
    waiter.post(Box::new(|| {}), JobKind::Result);
    let used = cpu.recv_timeout(Duration::from_secs(10)).expect("the wait ended");
    thread.join().unwrap();
    assert!(used < Duration::from_millis(100), "the waiting thread used {used:?} of CPU in 1 s");
}
