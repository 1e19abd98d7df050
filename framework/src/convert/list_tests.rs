//! Tests of list and map conversions through real messages: every list kind,
//! every collection, and the failures (element out of range, duplicates,
//! values not in the schema, bad UTF-8).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use capnp::message::TypedBuilder;
use capnp::schema_capnp::{node::nested_node, ElementSize};
use capnp::{data_list, enum_list, list_list, primitive_list, struct_list, text, text_list};

use super::testing::{read_root, round_trip};
use super::{BuildContext, BuildPointer, FromScalar, ListKind, ReadContext, ReadPointer, ToScalar};
use crate::{ErrorKind, Result};

type Bytes = primitive_list::Owned<u8>;
type Pairs = struct_list::Owned<nested_node::Owned>;

/// `ElementSize` stands in for a generated enum; the code generator writes
/// these two impls for each schema enum.
impl ToScalar<ElementSize> for ElementSize {
    fn to_scalar(self) -> Result<ElementSize> {
        Ok(self)
    }
}

impl FromScalar<ElementSize> for ElementSize {
    fn from_scalar(wire: ElementSize) -> Result<Self> {
        Ok(wire)
    }
}

/// `Node.NestedNode` (`name: Text`, `id: UInt64`) stands in for a generated
/// map-entry struct; the code generator writes such impls for `(K, V)`.
impl<K: BuildPointer<text::Owned>, V: ToScalar<u64>> BuildPointer<nested_node::Owned> for (K, V) {
    fn build_pointer<'b>(
        self,
        ctx: &mut BuildContext<'_>,
        init: impl FnOnce(u32) -> nested_node::Builder<'b>,
    ) -> Result<()> {
        let mut builder = init(0);
        builder.set_id(self.1.to_scalar().map_err(|e| e.context("id"))?);
        self.0.build_pointer(ctx, |len| builder.reborrow().init_name(len))
    }
}

impl<K: ReadPointer<text::Owned>, V: FromScalar<u64>> ReadPointer<nested_node::Owned> for (K, V) {
    fn read_pointer(input: nested_node::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        let key = K::read_pointer(input.get_name()?, ctx).map_err(|e| e.context("name"))?;
        let value = V::from_scalar(input.get_id()).map_err(|e| e.context("id"))?;
        Ok((key, value))
    }
}

#[test]
fn primitive_lists_round_trip_through_every_collection() {
    let values = vec![3u32, 1, 2];
    assert_eq!(round_trip::<Bytes, _, Vec<u16>>(values.clone()), Ok(vec![3, 1, 2]));
    assert_eq!(round_trip::<Bytes, _, Vec<u32>>(&values), Ok(values.clone()));
    assert_eq!(round_trip::<Bytes, _, Vec<u32>>(&values[1..]), Ok(vec![1, 2]));
    assert_eq!(
        round_trip::<Bytes, _, VecDeque<u8>>(VecDeque::from(values.clone())),
        Ok(VecDeque::from([3, 1, 2]))
    );
    let set: HashSet<i64> = [5, -7].into();
    assert_eq!(round_trip::<primitive_list::Owned<i32>, _, HashSet<i64>>(&set), Ok(set.clone()));
    let tree: BTreeSet<u64> = [9, 4].into();
    assert_eq!(round_trip::<Bytes, _, BTreeSet<u64>>(tree.clone()), Ok(tree));
    assert_eq!(round_trip::<Bytes, _, Vec<u8>>(Vec::<u8>::new()), Ok(vec![]));

    let flags = vec![true, false, true];
    assert_eq!(round_trip::<primitive_list::Owned<bool>, _, Vec<bool>>(&flags), Ok(flags));
    let floats = vec![0.5f32, -2.0];
    assert_eq!(round_trip::<primitive_list::Owned<f64>, _, Vec<f64>>(floats), Ok(vec![0.5, -2.0]));
}

#[test]
fn element_errors_name_the_index() {
    let e = round_trip::<Bytes, _, Vec<u8>>(vec![1u32, 300, 2]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[1]: value 300 does not fit UInt8");

    let e = round_trip::<primitive_list::Owned<i32>, _, Vec<u32>>(vec![0i32, -1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[1]: Int32 value -1 does not fit u32");
}

#[test]
fn duplicate_set_elements_are_conversion_errors() {
    let e = round_trip::<Bytes, _, HashSet<u8>>(vec![1u8, 2, 1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[2]: duplicate set element");
    let e = round_trip::<text_list::Owned, _, BTreeSet<String>>(["a", "a"]).unwrap_err();
    assert_eq!(e.message(), "[1]: duplicate set element");
}

#[test]
fn enum_lists_round_trip_and_reject_unknown_values() {
    let sizes = vec![ElementSize::Bit, ElementSize::Pointer];
    assert_eq!(round_trip::<enum_list::Owned<ElementSize>, _, Vec<ElementSize>>(&sizes), Ok(sizes.clone()));

    // Same wire layout as List(UInt16): write a value the schema lacks.
    let mut message = TypedBuilder::<primitive_list::Owned<u16>>::new_default();
    let mut list = message.initn_root(2);
    list.set(0, 2);
    list.set(1, 42);
    let reader = message.borrow_inner().get_root_as_reader::<enum_list::Reader<ElementSize>>().unwrap();
    let read: Result<Vec<ElementSize>> =
        ReadPointer::<enum_list::Owned<ElementSize>>::read_pointer(reader, &mut ReadContext::detached());
    let e = read.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[1]: enum value 42 is not in the schema");
}

#[test]
fn text_lists_round_trip() {
    let names = vec!["a".to_owned(), String::new(), "ü".to_owned()];
    assert_eq!(round_trip::<text_list::Owned, _, Vec<String>>(&names), Ok(names.clone()));
    assert_eq!(round_trip::<text_list::Owned, _, Vec<String>>(&names[..]), Ok(names.clone()));
    assert_eq!(
        round_trip::<text_list::Owned, _, Vec<Box<str>>>(vec!["x", "y"]),
        Ok(vec!["x".into(), "y".into()])
    );
    let set: HashSet<String> = names.iter().cloned().collect();
    assert_eq!(round_trip::<text_list::Owned, _, HashSet<String>>(set.clone()), Ok(set));
}

#[test]
fn bad_utf8_in_a_text_list_names_the_index() {
    let mut message = TypedBuilder::<text_list::Owned>::new_default();
    let mut list = message.initn_root(2);
    list.set(0, "ok");
    list.set(1, "no");
    list.reborrow().get(1).unwrap().as_bytes_mut().copy_from_slice(&[0xff, 0xfe]);
    let e = read_root::<_, Vec<String>>(&message).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert!(e.message().starts_with("[1]: text is not valid UTF-8"), "{e}");
}

#[test]
fn data_lists_round_trip_and_check_array_lengths() {
    let blobs = vec![vec![1u8, 2], vec![], vec![255]];
    assert_eq!(round_trip::<data_list::Owned, _, Vec<Vec<u8>>>(&blobs), Ok(blobs.clone()));
    assert_eq!(
        round_trip::<data_list::Owned, _, Vec<[u8; 2]>>(vec![[1u8, 2], [3, 4]]),
        Ok(vec![[1, 2], [3, 4]])
    );
    let e = round_trip::<data_list::Owned, _, Vec<[u8; 2]>>(blobs).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[1]: expected 2 bytes of data, got 0");
}

#[test]
fn lists_of_lists_round_trip_and_nest_indices() {
    type Nested = list_list::Owned<primitive_list::Owned<u8>>;
    let rows = vec![vec![1u32], vec![], vec![2, 3]];
    assert_eq!(round_trip::<Nested, _, Vec<Vec<u32>>>(&rows), Ok(rows.clone()));
    let e = round_trip::<Nested, _, Vec<Vec<u8>>>(vec![vec![1u32], vec![2, 300]]).unwrap_err();
    assert_eq!(e.message(), "[1]: [1]: value 300 does not fit UInt8");

    type Words = list_list::Owned<text_list::Owned>;
    let words = vec![vec!["a".to_owned()], vec!["b".to_owned(), "c".to_owned()]];
    assert_eq!(round_trip::<Words, _, Vec<Vec<String>>>(&words), Ok(words));
}

#[test]
fn struct_lists_keep_order() {
    let pairs = vec![("b".to_owned(), 2u64), ("a".to_owned(), 1)];
    assert_eq!(round_trip::<Pairs, _, Vec<(String, u64)>>(pairs.clone()), Ok(pairs));
    let e = round_trip::<Pairs, _, Vec<(String, u8)>>(vec![("x", 1u64), ("y", 300)]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[1]: id: UInt64 value 300 does not fit u8");
}

#[test]
fn maps_round_trip() {
    let map: HashMap<String, u64> = [("one".to_owned(), 1), ("two".to_owned(), 2)].into();
    assert_eq!(round_trip::<Pairs, _, HashMap<String, u64>>(&map), Ok(map.clone()));
    let tree: BTreeMap<String, u32> = [("x".to_owned(), 7), ("y".to_owned(), 8)].into();
    assert_eq!(round_trip::<Pairs, _, BTreeMap<String, u32>>(tree.clone()), Ok(tree.clone()));
    assert_eq!(round_trip::<Pairs, _, BTreeMap<String, u32>>(&tree), Ok(tree));
    assert_eq!(round_trip::<Pairs, _, HashMap<String, u64>>(map.clone()), Ok(map));
}

#[test]
fn duplicate_map_keys_are_conversion_errors() {
    let pairs = vec![("k", 1u64), ("other", 2), ("k", 3)];
    let e = round_trip::<Pairs, _, HashMap<String, u64>>(pairs.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert_eq!(e.message(), "[2]: duplicate map key");
    let e = round_trip::<Pairs, _, BTreeMap<String, u64>>(pairs).unwrap_err();
    assert_eq!(e.message(), "[2]: duplicate map key");
}

#[test]
fn struct_lists_are_limited_in_words() {
    // `NestedNode` is two words (one data, one pointer).
    assert_eq!(<Pairs as ListKind>::wire_len(1000), Ok(1000));
    let e = <Pairs as ListKind>::wire_len(1 << 28).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conversion);
    assert!(<Bytes as ListKind>::wire_len(1 << 28).is_ok());
    assert!(<Bytes as ListKind>::wire_len(1 << 29).is_err());
}
