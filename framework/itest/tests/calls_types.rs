//! Every supported type crosses the wire in both directions.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use framework_itest::{Color, FooStruct};

#[test]
fn scalars_structs_and_strings_round_trip() {
    let s = common::setup();
    assert_eq!(s.foo.add(2, 3).unwrap(), 5);
    assert_eq!(s.foo.add_on_loop(-2, 3).unwrap(), 1);
    assert_eq!(
        s.foo.pass_scalars(-8, 65535, i64::MIN, u64::MAX, 1.5, -2.25, true).unwrap(),
        format!("-8 65535 {} {} 1.5 -2.25 true", i64::MIN, u64::MAX)
    );
    let out = s.foo.pass_struct(FooStruct { name: "n".into(), numbers: vec![1, 2, 3], flag: false }).unwrap();
    assert_eq!(out, FooStruct { name: "n!".into(), numbers: vec![3, 2, 1], flag: true });
    assert_eq!(s.foo.duration(Duration::from_millis(1500)).unwrap(), Duration::from_millis(3000));
    assert_eq!(s.foo.color(Color::Blue).unwrap(), Color::Red);
}

#[test]
fn out_of_range_integers_are_errors_not_truncation() {
    let s = common::setup();
    assert_eq!(s.foo.narrow(255).unwrap(), 255);
    let err = s.foo.narrow(256).unwrap_err();
    assert!(err.message.contains("256"), "{err}");
    // The server is still fine.
    assert_eq!(s.foo.add(1, 1).unwrap(), 2);
}

#[test]
fn in_out_and_output_parameters() {
    let s = common::setup();
    let (mut value, mut doubled) = (20, 0);
    s.foo.in_out(&mut value, &mut doubled).unwrap();
    assert_eq!((value, doubled), (21, 40));
}

#[test]
fn optional_parameters() {
    let s = common::setup();
    assert_eq!(s.foo.optional(Some(7), Some("x".into())).unwrap(), r#"Some(7) Some("x")"#);
    assert_eq!(s.foo.optional(None, None).unwrap(), "None None");
}

#[test]
fn collections_and_data() {
    let s = common::setup();
    let list = vec!["a".to_string(), "b".to_string()];
    let set = BTreeSet::from([3, 1, 2]);
    let map = BTreeMap::from([("k".to_string(), 1), ("j".to_string(), 2)]);
    let nested = vec![vec![1u8, 2], vec![], vec![255]];
    assert_eq!(
        s.foo.pass_collections(list, set, map, nested).unwrap(),
        r#"["a", "b"] {1, 2, 3} {"j": 2, "k": 1} [[1, 2], [], [255]]"#
    );
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(s.foo.pass_data(bytes.clone()).unwrap(), bytes);
}
