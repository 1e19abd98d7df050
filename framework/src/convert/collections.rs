//! Rust collections as Cap'n Proto lists of any [`ListKind`], element by
//! element through [`BuildElement`] and [`ReadElement`].
//!
//! * `Vec<T>`, `VecDeque<T>`, `HashSet<T>`, `BTreeSet<T>` and references to
//!   them (and `&[T]`, `[T; N]`, `&[T; N]`) build any list whose element kind `T` (or `&T`)
//!   builds; the owned collections read back from it. Reading a set from a
//!   list that holds an element twice is a conversion error.
//! * `HashMap<K, V>` and `BTreeMap<K, V>` are lists of `(K, V)` pairs,
//!   usually a `List(S)` of a schema struct `S` for which the code generator
//!   writes `(K, V): BuildPointer<S> + ReadPointer<S>` (and `(&K, &V)` for
//!   building from a borrowed map). A key that appears twice on reading is a
//!   conversion error.
//!
//! An element that fails to convert fails the whole list, with its index
//! in front of the message: `[3]: value 300 does not fit UInt8`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

use super::list::{BuildElement, ListKind, ReadElement};
use super::{BuildContext, BuildPointer, ReadContext, ReadPointer};
use crate::{Error, Result};

fn at(index: u32) -> impl FnOnce(Error) -> Error {
    move |e| e.context(format_args!("[{index}]"))
}

/// Initialises a list of type `L` for `items` and writes them into it.
fn build_list<'b, L: ListKind, T: BuildElement<L>>(
    items: impl ExactSizeIterator<Item = T>,
    ctx: &mut BuildContext<'_>,
    init: impl FnOnce(u32) -> L::Builder<'b>,
) -> Result<()> {
    let len = L::wire_len(items.len())?;
    let mut list = init(len);
    // `zip` keeps the indices below the length even if `items` miscounts.
    for (index, item) in (0..len).zip(items) {
        item.build_element(&mut list, index, ctx).map_err(at(index))?;
    }
    Ok(())
}

/// Reads every element of `list` in order and hands it to `add`, which
/// returns `false` to reject it as a duplicate (of a set element or a map
/// key, as `what` says).
fn read_list<L: ListKind, T: ReadElement<L>>(
    list: L::Reader<'_>,
    ctx: &mut ReadContext<'_>,
    what: &str,
    mut add: impl FnMut(T) -> bool,
) -> Result<()> {
    for index in 0..L::reader_len(&list) {
        let item = T::read_element(&list, index, ctx).map_err(at(index))?;
        if !add(item) {
            return Err(Error::conversion(format!("duplicate {what}")).context(format_args!("[{index}]")));
        }
    }
    Ok(())
}

/// Writes `BuildPointer<L>` for each collection type, whose `into_iter()`
/// yields the element type after `=>`.
macro_rules! build_collections {
    ($([$($gen:tt)*] $ty:ty => $item:ty;)*) => {$(
        impl<$($gen)*, L: ListKind> BuildPointer<L> for $ty
        where
            $item: BuildElement<L>,
        {
            fn build_pointer<'b>(
                self,
                ctx: &mut BuildContext<'_>,
                init: impl FnOnce(u32) -> L::Builder<'b>,
            ) -> Result<()> {
                build_list::<L, $item>(self.into_iter(), ctx, init)
            }
        }
    )*};
}

build_collections! {
    [T] Vec<T> => T;
    [T] VecDeque<T> => T;
    [T, H] HashSet<T, H> => T;
    [T] BTreeSet<T> => T;
    [K, V, H] HashMap<K, V, H> => (K, V);
    [K, V] BTreeMap<K, V> => (K, V);
    [T, const N: usize] [T; N] => T;
    ['a, T] &'a [T] => &'a T;
    ['a, T] &'a Vec<T> => &'a T;
    ['a, T, const N: usize] &'a [T; N] => &'a T;
    ['a, T] &'a VecDeque<T> => &'a T;
    ['a, T, H] &'a HashSet<T, H> => &'a T;
    ['a, T] &'a BTreeSet<T> => &'a T;
    ['a, K, V, H] &'a HashMap<K, V, H> => (&'a K, &'a V);
    ['a, K, V] &'a BTreeMap<K, V> => (&'a K, &'a V);
}

impl<L: ListKind, T: ReadElement<L>> ReadPointer<L> for Vec<T> {
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        // No `with_capacity`: a list of empty structs claims any length for
        // free, so the length alone must not size an allocation.
        let mut out = Vec::new();
        read_list(input, ctx, "element", |item| {
            out.push(item);
            true
        })?;
        Ok(out)
    }
}

impl<L: ListKind, T: ReadElement<L>> ReadPointer<L> for VecDeque<T> {
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        Vec::read_pointer(input, ctx).map(VecDeque::from)
    }
}

impl<L, T, H> ReadPointer<L> for HashSet<T, H>
where
    L: ListKind,
    T: ReadElement<L> + Eq + Hash,
    H: BuildHasher + Default,
{
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        let mut out = HashSet::default();
        read_list(input, ctx, "set element", |item| out.insert(item))?;
        Ok(out)
    }
}

impl<L: ListKind, T: ReadElement<L> + Ord> ReadPointer<L> for BTreeSet<T> {
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        let mut out = BTreeSet::new();
        read_list(input, ctx, "set element", |item| out.insert(item))?;
        Ok(out)
    }
}

impl<L, K, V, H> ReadPointer<L> for HashMap<K, V, H>
where
    L: ListKind,
    (K, V): ReadElement<L>,
    K: Eq + Hash,
    H: BuildHasher + Default,
{
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        let mut out = HashMap::default();
        read_list(input, ctx, "map key", |(k, v)| out.insert(k, v).is_none())?;
        Ok(out)
    }
}

impl<L, K, V> ReadPointer<L> for BTreeMap<K, V>
where
    L: ListKind,
    (K, V): ReadElement<L>,
    K: Ord,
{
    fn read_pointer(input: L::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self> {
        let mut out = BTreeMap::new();
        read_list(input, ctx, "map key", |(k, v)| out.insert(k, v).is_none())?;
        Ok(out)
    }
}
