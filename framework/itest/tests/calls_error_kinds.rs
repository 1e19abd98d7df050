//! An implementation error's kind (`NotFound`, `AlreadyExists`, ...)
//! reaches a framework client, while the message stays exactly the
//! implementation's (and foreign peers read `std::exception: <message>` as
//! before: `wire_destroy_edges`'s pycapnp check).
mod common;

use std::io::ErrorKind;

use framework_itest::TestError;

fn fail_with(kind: &str) -> TestError {
    let s = common::setup();
    s.foo.fail_with(kind.into(), "no such wallet".into()).unwrap_err()
}

#[test]
fn the_kind_of_an_implementation_error_reaches_a_framework_client() {
    for (sent, seen) in [
        ("not-found", ErrorKind::NotFound),
        ("already-exists", ErrorKind::AlreadyExists),
        ("invalid-input", ErrorKind::InvalidInput),
        ("other", ErrorKind::Other),
    ] {
        let e = fail_with(sent);
        assert_eq!((e.kind, e.message.as_str()), (seen, "no such wallet"), "{sent}");
    }
}
