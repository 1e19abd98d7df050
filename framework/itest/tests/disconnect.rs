//! A dead peer fails calls promptly with a distinct error; never a hang.
mod common;

use std::time::{Duration, Instant};

#[test]
fn call_after_the_server_died_fails_with_disconnected() {
    let mut s = common::setup();
    assert_eq!(s.foo.add(1, 2).unwrap(), 3);
    s.server.child.kill().unwrap();
    let foo = s.foo;
    let err = common::within(Duration::from_secs(10), move || {
        // The first call may race the kernel's notice; the error must come soon.
        loop {
            match foo.add(1, 2) {
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return e,
            }
        }
    });
    assert!(err.is_disconnected(), "{err:?}");
}

#[test]
fn disconnect_during_a_call_fails_it_promptly() {
    let mut s = common::setup();
    let foo = std::sync::Arc::<dyn framework_itest::Foo>::from(s.foo);
    let caller = {
        let foo = foo.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (foo.sleep(30_000), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    s.server.child.kill().unwrap();
    let (outcome, took) = common::within(Duration::from_secs(10), move || caller.join().unwrap());
    let err = outcome.unwrap_err();
    assert!(err.is_disconnected(), "{err:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn call_after_the_client_disconnected_fails() {
    let s = common::setup();
    assert_eq!(s.foo.add(1, 2).unwrap(), 3);
    s.server.connection.disconnect();
    let err = s.foo.add(1, 2).unwrap_err();
    assert!(err.is_disconnected(), "{err:?}");
    // The server process notices and exits by itself.
    let status = common::within(Duration::from_secs(10), move || s.server.child.wait().unwrap());
    assert!(status.success(), "{status:?}");
}

#[test]
fn dropping_a_proxy_after_the_peer_died_does_not_hang() {
    let mut s = common::setup();
    let extra = s.server.init.make_foo().unwrap();
    s.server.child.kill().unwrap();
    common::within(Duration::from_secs(10), move || {
        drop(extra);
        drop(s.foo);
        drop(s.server.init);
    });
}
