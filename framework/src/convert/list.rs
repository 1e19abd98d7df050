//! List elements: how one Rust value is written to, and read from, position
//! `i` of each kind of Cap'n Proto list. The collections built on this
//! (`Vec`, `VecDeque`, sets, maps) are in `collections.rs`.
//!
//! | list type `L`                     | element building (`T: BuildElement<L>`) | element reading (`T: ReadElement<L>`) |
//! |-----------------------------------|-----------------------------------------|---------------------------------------|
//! | `primitive_list::Owned<W>`        | `T: ToScalar<W>`                        | `T: FromScalar<W>`                    |
//! | `enum_list::Owned<E>`             | `T: ToScalar<E>`                        | `T: FromScalar<E>`                    |
//! | `text_list::Owned`                | `T: AsRef<str>`                         | `T: ReadPointer<text::Owned>`         |
//! | `data_list::Owned`                | `T: AsRef<[u8]>`                        | `T: ReadPointer<data::Owned>`         |
//! | `struct_list::Owned<S>`           | `T: BuildPointer<S>`                    | `T: ReadPointer<S>`                   |
//! | `list_list::Owned<L2>`            | `T: BuildPointer<L2>`                   | `T: ReadPointer<L2>`                  |
//! | `capability_list::Owned<C>`       | `T: ToCapability<C>`                    | `T: FromCapability<C>`                |
//!
//! Text and data elements are written with `AsRef` because capnp-rust offers
//! no way to initialise a text or data element of a given length in place.

use capnp::capability::FromClientHook;
use capnp::introspect::Introspect;
use capnp::private::layout::PrimitiveElement;
use capnp::traits::{HasStructSize, Owned, OwnedStruct};
use capnp::NotInSchema;
use capnp::{
    capability_list, data, data_list, enum_list, list_list, primitive_list, struct_list, text, text_list,
};

use super::text::{wire_len, MAX_LEN};
use super::{
    BuildContext, BuildPointer, FromCapability, FromScalar, ReadContext, ReadPointer, ToCapability, ToScalar,
};
use crate::{Error, Result};

/// A Cap'n Proto list type (the capnp-rust `Owned` marker of a list), which
/// Rust collections convert to and from element by element. Implemented for
/// the seven capnp list types; there is no need to implement it elsewhere.
pub trait ListKind: Owned {
    /// The number of elements in `list`.
    fn reader_len(list: &Self::Reader<'_>) -> u32;

    /// The wire length of a list of `len` elements, or a conversion error if
    /// Cap'n Proto cannot hold that many.
    fn wire_len(len: usize) -> Result<u32> {
        wire_len(len, "list")
    }
}

/// Writes a Rust value as element `index` of a list of type `L`.
///
/// Implemented through the scalar, pointer and `AsRef` traits (see the
/// table in this module's source); implement those rather than this.
pub trait BuildElement<L: ListKind> {
    /// Writes `self` at `index`, which is less than the list's length.
    fn build_element(self, list: &mut L::Builder<'_>, index: u32, ctx: &mut BuildContext<'_>) -> Result<()>;
}

/// Reads a Rust value from element `index` of a list of type `L`.
///
/// Implemented through the scalar and pointer traits; implement those
/// rather than this.
pub trait ReadElement<L: ListKind>: Sized {
    /// Reads the element at `index`, which is less than the list's length.
    fn read_element(list: &L::Reader<'_>, index: u32, ctx: &mut ReadContext<'_>) -> Result<Self>;
}

// Primitive lists: `List(Bool)`, `List(Int32)`, `List(Float64)`, ...

impl<W: PrimitiveElement + Introspect> ListKind for primitive_list::Owned<W> {
    fn reader_len(list: &primitive_list::Reader<'_, W>) -> u32 {
        list.len()
    }
}

impl<W: PrimitiveElement + Introspect, T: ToScalar<W>> BuildElement<primitive_list::Owned<W>> for T {
    fn build_element(
        self,
        list: &mut primitive_list::Builder<'_, W>,
        index: u32,
        _ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        list.set(index, self.to_scalar()?);
        Ok(())
    }
}

impl<W: PrimitiveElement + Introspect, T: FromScalar<W>> ReadElement<primitive_list::Owned<W>> for T {
    fn read_element(
        list: &primitive_list::Reader<'_, W>,
        index: u32,
        _ctx: &mut ReadContext<'_>,
    ) -> Result<Self> {
        T::from_scalar(list.get(index))
    }
}

// Enum lists. A value that is not in the reader's schema is a conversion
// error.

/// What capnp-rust requires of a generated enum to put it in a list.
pub trait ListEnum: Into<u16> + TryFrom<u16, Error = NotInSchema> + Introspect {}
impl<E: Into<u16> + TryFrom<u16, Error = NotInSchema> + Introspect> ListEnum for E {}

impl<E: ListEnum> ListKind for enum_list::Owned<E> {
    fn reader_len(list: &enum_list::Reader<'_, E>) -> u32 {
        list.len()
    }
}

impl<E: ListEnum, T: ToScalar<E>> BuildElement<enum_list::Owned<E>> for T {
    fn build_element(
        self,
        list: &mut enum_list::Builder<'_, E>,
        index: u32,
        _ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        list.set(index, self.to_scalar()?);
        Ok(())
    }
}

impl<E: ListEnum, T: FromScalar<E>> ReadElement<enum_list::Owned<E>> for T {
    fn read_element(list: &enum_list::Reader<'_, E>, index: u32, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        T::from_scalar(list.get(index)?)
    }
}

// Text and data lists.

fn check_element_len(len: usize, what: &str) -> Result<()> {
    if len > MAX_LEN {
        return Err(Error::conversion(format!(
            "{what} of length {len} is longer than Cap'n Proto allows ({MAX_LEN})"
        )));
    }
    Ok(())
}

impl ListKind for text_list::Owned {
    fn reader_len(list: &text_list::Reader<'_>) -> u32 {
        list.len()
    }
}

impl<T: AsRef<str>> BuildElement<text_list::Owned> for T {
    fn build_element(
        self,
        list: &mut text_list::Builder<'_>,
        index: u32,
        _ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        let s = self.as_ref();
        check_element_len(s.len(), "text")?;
        list.set(index, s);
        Ok(())
    }
}

impl<T: ReadPointer<text::Owned>> ReadElement<text_list::Owned> for T {
    fn read_element(list: &text_list::Reader<'_>, index: u32, ctx: &mut ReadContext<'_>) -> Result<Self> {
        T::read_pointer(list.get(index)?, ctx)
    }
}

impl ListKind for data_list::Owned {
    fn reader_len(list: &data_list::Reader<'_>) -> u32 {
        list.len()
    }
}

impl<T: AsRef<[u8]>> BuildElement<data_list::Owned> for T {
    fn build_element(
        self,
        list: &mut data_list::Builder<'_>,
        index: u32,
        _ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        let bytes = self.as_ref();
        check_element_len(bytes.len(), "data")?;
        list.set(index, bytes);
        Ok(())
    }
}

impl<T: ReadPointer<data::Owned>> ReadElement<data_list::Owned> for T {
    fn read_element(list: &data_list::Reader<'_>, index: u32, ctx: &mut ReadContext<'_>) -> Result<Self> {
        T::read_pointer(list.get(index)?, ctx)
    }
}

// Struct lists. A struct's generated `Owned` implements both `Owned` and
// `OwnedStruct` with the same reader and builder; `ListStruct` states that.

/// A generated struct type as a list element: its `Owned` and `OwnedStruct`
/// readers and builders are the same types.
pub trait ListStruct:
    OwnedStruct
    + for<'a> Owned<
        Reader<'a> = <Self as OwnedStruct>::Reader<'a>,
        Builder<'a> = <Self as OwnedStruct>::Builder<'a>,
    >
{
}

impl<S> ListStruct for S where
    S: OwnedStruct
        + for<'a> Owned<
            Reader<'a> = <S as OwnedStruct>::Reader<'a>,
            Builder<'a> = <S as OwnedStruct>::Builder<'a>,
        >
{
}

impl<S: ListStruct> ListKind for struct_list::Owned<S> {
    fn reader_len(list: &struct_list::Reader<'_, S>) -> u32 {
        list.len()
    }

    /// Struct lists are also limited to 2^29 words of elements.
    fn wire_len(len: usize) -> Result<u32> {
        let words = <<S as OwnedStruct>::Builder<'static> as HasStructSize>::STRUCT_SIZE.total();
        let total = u64::try_from(len).unwrap_or(u64::MAX).saturating_mul(u64::from(words));
        if total > MAX_LEN as u64 {
            return Err(Error::conversion(format!(
                "list of {len} structs of {words} words is longer than Cap'n Proto allows"
            )));
        }
        wire_len(len, "list")
    }
}

impl<S: ListStruct, T: BuildPointer<S>> BuildElement<struct_list::Owned<S>> for T {
    fn build_element(
        self,
        list: &mut struct_list::Builder<'_, S>,
        index: u32,
        ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        self.build_pointer(ctx, |_| list.reborrow().get(index))
    }
}

impl<S: ListStruct, T: ReadPointer<S>> ReadElement<struct_list::Owned<S>> for T {
    fn read_element(
        list: &struct_list::Reader<'_, S>,
        index: u32,
        ctx: &mut ReadContext<'_>,
    ) -> Result<Self> {
        T::read_pointer(list.reborrow().get(index), ctx)
    }
}

// Lists of lists (and of text or data lists).

impl<L: Owned> ListKind for list_list::Owned<L> {
    fn reader_len(list: &list_list::Reader<'_, L>) -> u32 {
        list.len()
    }
}

impl<L: Owned, T: BuildPointer<L>> BuildElement<list_list::Owned<L>> for T {
    fn build_element(
        self,
        list: &mut list_list::Builder<'_, L>,
        index: u32,
        ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        self.build_pointer(ctx, |len| list.reborrow().init(index, len))
    }
}

impl<L: Owned, T: ReadPointer<L>> ReadElement<list_list::Owned<L>> for T {
    fn read_element(list: &list_list::Reader<'_, L>, index: u32, ctx: &mut ReadContext<'_>) -> Result<Self> {
        T::read_pointer(list.get(index)?, ctx)
    }
}

// Lists of interface objects (`List(Foo)` and `Vec<Box<dyn Foo>>`): each
// element goes through the same conversion as a single object, so an
// element that is the peer's own object goes back as itself, and a local
// one is served to the peer.

impl<C: FromClientHook> ListKind for capability_list::Owned<C> {
    fn reader_len(list: &capability_list::Reader<'_, C>) -> u32 {
        list.len()
    }
}

impl<C: FromClientHook, T: ToCapability<C>> BuildElement<capability_list::Owned<C>> for T {
    fn build_element(
        self,
        list: &mut capability_list::Builder<'_, C>,
        index: u32,
        ctx: &mut BuildContext<'_>,
    ) -> Result<()> {
        list.set(index, self.to_capability(ctx)?.into_client_hook());
        Ok(())
    }
}

impl<C: FromClientHook, T: FromCapability<C>> ReadElement<capability_list::Owned<C>> for T {
    fn read_element(
        list: &capability_list::Reader<'_, C>,
        index: u32,
        ctx: &mut ReadContext<'_>,
    ) -> Result<Self> {
        T::from_capability(list.get(index)?, ctx)
    }
}
