//! Implementation errors and panics fail one call; the server keeps going.
mod common;

#[test]
fn an_implementation_error_reaches_the_caller_with_its_message() {
    let s = common::setup();
    let err = s.foo.fail("out of cheese".into()).unwrap_err();
    assert_eq!(err.message, "out of cheese");
    assert!(!err.is_disconnected());
}

#[test]
fn a_panic_fails_only_that_call() {
    let s = common::setup();
    let err = s.foo.crash().unwrap_err();
    assert!(err.message.contains("crash requested"), "{err}");
    assert_eq!(s.foo.add(40, 2).unwrap(), 42);
}

#[test]
fn an_oversized_argument_fails_the_call_not_the_connection() {
    let event_loop = framework::EventLoop::with_config(framework::LoopConfig {
        max_outgoing_bytes: 1 << 20,
        ..Default::default()
    })
    .unwrap();
    let server = framework_itest::spawn_foo(&event_loop, std::path::Path::new(common::FOO_SERVER)).unwrap();
    let foo = server.init.make_foo().unwrap();
    let err = foo.pass_data(vec![0u8; 2 << 20]).unwrap_err();
    assert!(err.message.contains("limit"), "{err}");
    assert_eq!(foo.pass_data(vec![1u8; 1000]).unwrap().len(), 1000);
}
