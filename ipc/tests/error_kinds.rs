//! An error's kind crosses processes: what a wallet or node implementation returns arrives with
//! the same `interfaces::ErrorKind` (the kinds the framework carries), message intact.

use interfaces::{Echo, Error, ErrorKind, Init, Result};

/// Fails every echo with the kind its text names.
struct FailingEcho;

impl Echo for FailingEcho {
    fn echo(&self, echo: String) -> Result<String> {
        let kind = match echo.as_str() {
            "not found" => ErrorKind::NotFound,
            "already exists" => ErrorKind::AlreadyExists,
            "invalid parameter" => ErrorKind::InvalidParameter,
            "unavailable" => ErrorKind::Unavailable,
            "rejected" => ErrorKind::Rejected,
            "insufficient funds" => ErrorKind::InsufficientFunds,
            _ => ErrorKind::Failed,
        };
        Err(Error::new(kind, format!("{echo}: because")))
    }
}

struct TestInit;

impl Init for TestInit {
    fn make_echo(&self) -> Result<Box<dyn Echo>> {
        Ok(Box::new(FailingEcho))
    }
}

#[test]
fn the_kinds_the_framework_carries_arrive_as_sent() {
    let (a, b) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    let server_loop = framework::EventLoop::new().expect("loop");
    let client_loop = framework::EventLoop::new().expect("loop");
    let _served = ipc::serve_init(&server_loop.handle(), a, Box::new(TestInit)).expect("serve");
    let (init, _connection) = ipc::connect_init(&client_loop.handle(), b).expect("connect");
    let echo = init.make_echo().expect("make_echo");
    let cases = [
        ("not found", ErrorKind::NotFound),
        ("already exists", ErrorKind::AlreadyExists),
        ("invalid parameter", ErrorKind::InvalidParameter),
        ("unavailable", ErrorKind::Unavailable),
        ("rejected", ErrorKind::Rejected),
        // Not carried: a failure, with the message.
        ("insufficient funds", ErrorKind::Failed),
        ("anything", ErrorKind::Failed),
    ];
    for (text, expect) in cases {
        let e = echo.echo(text.to_string()).expect_err("fails");
        assert_eq!(e.kind(), expect, "{text}: {e:?}");
        assert!(e.message().ends_with(&format!("{text}: because")), "{text}: {}", e.message());
    }
}
