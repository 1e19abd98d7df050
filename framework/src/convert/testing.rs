//! Helpers for the conversion tests: build a value into a real message and
//! read it back.

use capnp::message::TypedBuilder;
use capnp::traits::Owned;

use super::{BuildContext, BuildPointer, ReadContext, ReadPointer};
use crate::Result;

/// Builds `value` as the root of a new message of type `O`, then reads the
/// root back as `Out`.
pub(super) fn round_trip<O: Owned, In: BuildPointer<O>, Out: ReadPointer<O>>(value: In) -> Result<Out> {
    let mut message = TypedBuilder::<O>::new_default();
    value.build_pointer(&mut BuildContext::detached(), |len| message.initn_root(len))?;
    read_root(&message)
}

/// Reads the root of `message` as `Out`.
pub(super) fn read_root<O: Owned, Out: ReadPointer<O>>(message: &TypedBuilder<O>) -> Result<Out> {
    Out::read_pointer(message.get_root_as_reader()?, &mut ReadContext::detached())
}
