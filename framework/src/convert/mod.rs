//! Conversions between Rust values and their Cap'n Proto wire form.
//!
//! Generated glue never converts a value itself: it names the wire type of
//! the field and calls one of the traits below, so users extend the mapping
//! by implementing these traits for their own types (the code generator does
//! that for schema structs annotated with `$Proxy.wrap("path::Type")`).
//!
//! | schema field kind            | building                      | reading                        |
//! |------------------------------|-------------------------------|--------------------------------|
//! | Bool, Int*, UInt*, Float*, enum | [`ToScalar<W>`]            | [`FromScalar<W>`]              |
//! | Text, Data, List(..), struct | [`BuildPointer<O>`]           | [`ReadPointer<O>`]             |
//! | interface                    | [`ToCapability<C>`] (generated) | [`FromCapability<C>`] (generated) |
//!
//! `W` is the Rust type of the scalar as capnp-rust exposes it (`u32`, `f64`,
//! a generated enum); `O` is the capnp-rust `Owned` marker of the pointer type
//! (`capnp::text::Owned`, `capnp::primitive_list::Owned<u32>`, a struct's
//! `foo::Owned`); `C` is an interface's generated `Client`.
//!
//! Integers are range-checked in both directions: a value that does not fit
//! the field is a [`ErrorKind::Conversion`](crate::ErrorKind::Conversion)
//! error, never a silent truncation.
//!
//! The generated code for a field `x` looks like this (`b` is the params or
//! results builder, `r` the reader):
//!
//! ```text
//! b.set_x(ToScalar::<u32>::to_scalar(x)?);
//! BuildPointer::<capnp::text::Owned>::build_pointer(x, ctx, |len| b.reborrow().init_x(len))?;
//! BuildPointer::<foo::Owned>::build_pointer(x, ctx, |_| b.reborrow().init_x())?;
//! b.set_x(ToCapability::<printer::Client>::to_capability(x, ctx)?);
//!
//! let x: T = FromScalar::<u32>::from_scalar(r.get_x())?;
//! let x: T = ReadPointer::<capnp::text::Owned>::read_pointer(r.get_x()?, ctx)?;
//! let x: T = FromCapability::<printer::Client>::from_capability(r.get_x()?, ctx)?;
//! ```
//!
//! `Option<T>` fields are handled by the generated code: an unset pointer, or
//! a `hasX: Bool` companion field set to false, is `None`.
//!
//! # Standard types
//!
//! This module implements the traits for the standard type families:
//!
//! * every Rust integer (`i8`..`i64`, `u8`..`u64`, `isize`, `usize`) into and
//!   from every integer field, range-checked; `bool`; `f32` and `f64` (an
//!   `f64` never goes into a `Float32`); `()` for `Void`; `&T` like `T`;
//! * `std::time::Duration` as milliseconds in a `Float64`, `Int64` or
//!   `UInt64` field (reading a negative or non-finite value is an error);
//! * `Text`: `String`, `&str`, `&String`, `Box<str>`, `Cow<str>` (reading
//!   text that is not UTF-8 is an error);
//! * `Data`: `Vec<u8>`, `&[u8]`, `Box<[u8]>`, `[u8; N]` (reading data of
//!   another length into an array is an error);
//! * lists of every kind, interface objects included (`List(Foo)` is a
//!   `Vec<Box<dyn Foo>>`, each element converted as a single object):
//!   `Vec<T>`, `VecDeque<T>`, `HashSet<T>`, `BTreeSet<T>`, `&[T]`, `[T; N]`
//!   (building) and references to them, element by element through
//!   [`BuildElement`] and [`ReadElement`]; a failing element's index
//!   prefixes the message (`[3]: ...`), and a duplicate on reading a set is
//!   an error;
//! * `HashMap<K, V>` and `BTreeMap<K, V>` as lists of the pairs `(K, V)`,
//!   usually a `List(S)` of an entry struct for which the code generator
//!   writes `(K, V): BuildPointer<S> + ReadPointer<S>`; a duplicate key on
//!   reading is an error.

use capnp::traits::Owned;

use crate::Result;

mod collections;
pub(crate) mod context;
mod duration;
mod list;
#[cfg(test)]
mod list_tests;
mod scalar;
#[cfg(test)]
mod testing;
mod text;

pub use context::{BuildContext, ReadContext};
pub use list::{BuildElement, ListEnum, ListKind, ListStruct, ReadElement};

/// Converts a Rust value into the scalar `W` (a primitive or a generated enum).
pub trait ToScalar<W> {
    /// The wire value, or a conversion error if it does not fit.
    fn to_scalar(self) -> Result<W>;
}

/// Reads a Rust value from the scalar `W`.
pub trait FromScalar<W>: Sized {
    /// The Rust value, or a conversion error if the wire value does not fit.
    fn from_scalar(wire: W) -> Result<Self>;
}

/// Writes a Rust value into a pointer field of type `O` (text, data, list or
/// struct).
///
/// `init` initialises the field and returns its builder; for text, data and
/// lists it takes the length, for structs the argument is ignored. An
/// implementation computes the length first, then calls `init` exactly once.
pub trait BuildPointer<O: Owned> {
    /// Writes `self` through the builder that `init` returns.
    fn build_pointer<'b>(
        self,
        ctx: &mut BuildContext<'_>,
        init: impl FnOnce(u32) -> O::Builder<'b>,
    ) -> Result<()>;
}

/// Reads a Rust value from a pointer field of type `O`.
pub trait ReadPointer<O: Owned>: Sized {
    /// The Rust value read from `input`.
    fn read_pointer(input: O::Reader<'_>, ctx: &mut ReadContext<'_>) -> Result<Self>;
}

/// Turns a Rust interface object (a boxed trait object or a callback) into a
/// capability of interface client type `C`. Implemented by generated code.
pub trait ToCapability<C> {
    /// The capability to send.
    fn to_capability(self, ctx: &mut BuildContext<'_>) -> Result<C>;
}

/// Turns a received capability into a Rust interface object. Implemented by
/// generated code.
pub trait FromCapability<C>: Sized {
    /// The Rust object that forwards to `client`, or the local object itself
    /// when `client` points back into this process.
    fn from_capability(client: C, ctx: &mut ReadContext<'_>) -> Result<Self>;
}
