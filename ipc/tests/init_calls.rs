//! `Init` over a real socketpair: the Bitcoin Core methods (echo, the
//! deprecated mining method, mining, rpc) and the defaults of methods a
//! process does not provide.

mod common;

use common::TestInit;
use interfaces::{ErrorKind, OLD_MINING_MESSAGE};

#[test]
fn make_echo_round_trips_text() {
    let pair = common::connect(Box::new(TestInit));
    let echo = pair.init.make_echo().unwrap();
    for text in ["hello", "", "ünïcødé ✓", &"x".repeat(100_000)] {
        assert_eq!(echo.echo(text.to_owned()).unwrap(), text);
    }
}

#[test]
fn make_mining_old2_fails_with_bitcoin_cores_message() {
    let pair = common::connect(Box::new(TestInit));
    let err = pair.init.make_mining_old2().unwrap_err();
    assert_eq!(err.message(), OLD_MINING_MESSAGE);
    assert_eq!(err.message(), "Old mining interface (@2) not supported. Please update your client!");
    // The connection survives the error.
    assert_eq!(pair.init.make_echo().unwrap().echo("after".into()).unwrap(), "after");
}

#[test]
fn make_mining_and_rpc_reach_the_server() {
    let pair = common::connect(Box::new(TestInit));
    assert!(pair.init.make_mining().unwrap().is_test_chain().unwrap());
    let rpc = pair.init.make_rpc().unwrap();
    assert_eq!(
        rpc.execute_rpc(r#"{"method":"getblockcount"}"#.into(), "/".into(), "__cookie__".into()).unwrap(),
        r#"{"method":"getblockcount"}|/|__cookie__"#
    );
}

#[test]
fn methods_a_process_does_not_provide_fail_with_their_message() {
    let pair = common::connect(Box::new(TestInit));
    let err = pair.init.make_node().err().expect("make_node must fail");
    assert_eq!(err.message(), "this process does not provide a Node");
    // The kind crosses too (see tests/error_kinds.rs).
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = pair.init.make_chain().err().expect("make_chain must fail");
    assert_eq!(err.message(), "this process does not provide a Chain");
}

#[test]
fn a_lost_server_is_a_disconnected_error() {
    let pair = common::connect(Box::new(TestInit));
    let echo = pair.init.make_echo().unwrap();
    pair.server_connection.disconnect();
    common::eventually("client sees the disconnect", || pair.client_connection.is_disconnected());
    let err = echo.echo("x".into()).unwrap_err();
    assert!(err.is_disconnected(), "{err:?}");
}
