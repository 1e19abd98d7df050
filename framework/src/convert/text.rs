//! `Text` and `Data` fields: strings and byte strings.
//!
//! | wire                 | building                                                  | reading                          |
//! |----------------------|-----------------------------------------------------------|----------------------------------|
//! | `capnp::text::Owned` | `String`, `&str`, `&String`, `Box<str>`, `Cow<str>`        | `String`, `Box<str>`             |
//! | `capnp::data::Owned` | `Vec<u8>`, `&[u8]`, `&Vec<u8>`, `Box<[u8]>`, `[u8; N]`, `&[u8; N]` | `Vec<u8>`, `Box<[u8]>`, `[u8; N]` |
//!
//! Reading text that is not UTF-8, or data of the wrong length into an
//! array, is a conversion error.

use std::borrow::Cow;

use capnp::{data, text};

use super::{BuildContext, BuildPointer, ReadContext, ReadPointer};
use crate::{Error, Result};

/// Text, data and lists hold fewer than 2^29 bytes or elements; capnp-rust
/// panics beyond that, so the length is checked first.
pub(super) const MAX_LEN: usize = (1 << 29) - 1;

/// `len` as a wire length, or a conversion error naming `what` if it is too
/// long for Cap'n Proto.
pub(super) fn wire_len(len: usize, what: &str) -> Result<u32> {
    match u32::try_from(len) {
        Ok(n) if len <= MAX_LEN => Ok(n),
        _ => Err(Error::conversion(format!(
            "{what} of length {len} is longer than Cap'n Proto allows ({MAX_LEN})"
        ))),
    }
}

fn build_text<'b>(s: &str, init: impl FnOnce(u32) -> text::Builder<'b>) -> Result<()> {
    let mut builder = init(wire_len(s.len(), "text")?);
    builder.push_str(s);
    Ok(())
}

fn build_data<'b>(bytes: &[u8], init: impl FnOnce(u32) -> data::Builder<'b>) -> Result<()> {
    init(wire_len(bytes.len(), "data")?).copy_from_slice(bytes);
    Ok(())
}

/// Writes `BuildPointer<text::Owned>` for each type, through `AsRef<str>`.
macro_rules! text_sources {
    ($([$($gen:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($gen)*> BuildPointer<text::Owned> for $ty {
            fn build_pointer<'b>(
                self,
                _ctx: &mut BuildContext<'_>,
                init: impl FnOnce(u32) -> text::Builder<'b>,
            ) -> Result<()> {
                build_text(AsRef::<str>::as_ref(&self), init)
            }
        }
    )*};
}

text_sources!([] String, ['a] &'a str, ['a] &'a String, [] Box<str>, ['a] Cow<'a, str>);

/// Writes `BuildPointer<data::Owned>` for each type, through `AsRef<[u8]>`.
macro_rules! data_sources {
    ($([$($gen:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($gen)*> BuildPointer<data::Owned> for $ty {
            fn build_pointer<'b>(
                self,
                _ctx: &mut BuildContext<'_>,
                init: impl FnOnce(u32) -> data::Builder<'b>,
            ) -> Result<()> {
                build_data(AsRef::<[u8]>::as_ref(&self), init)
            }
        }
    )*};
}

data_sources!(
    [] Vec<u8>,
    ['a] &'a [u8],
    ['a] &'a Vec<u8>,
    [] Box<[u8]>,
    [const N: usize] [u8; N],
    ['a, const N: usize] &'a [u8; N],
);

fn read_str<'a>(input: text::Reader<'a>) -> Result<&'a str> {
    input.to_str().map_err(|e| Error::conversion(format!("text is not valid UTF-8: {e}")))
}

impl ReadPointer<text::Owned> for String {
    fn read_pointer(input: text::Reader<'_>, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        read_str(input).map(String::from)
    }
}

impl ReadPointer<text::Owned> for Box<str> {
    fn read_pointer(input: text::Reader<'_>, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        read_str(input).map(Box::from)
    }
}

impl ReadPointer<data::Owned> for Vec<u8> {
    fn read_pointer(input: data::Reader<'_>, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        Ok(input.to_vec())
    }
}

impl ReadPointer<data::Owned> for Box<[u8]> {
    fn read_pointer(input: data::Reader<'_>, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        Ok(Box::from(input))
    }
}

/// Data of any length other than `N` is a conversion error.
impl<const N: usize> ReadPointer<data::Owned> for [u8; N] {
    fn read_pointer(input: data::Reader<'_>, _ctx: &mut ReadContext<'_>) -> Result<Self> {
        <[u8; N]>::try_from(input)
            .map_err(|_| Error::conversion(format!("expected {N} bytes of data, got {}", input.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testing::round_trip;
    use crate::ErrorKind;

    #[test]
    fn strings_round_trip() {
        let owned = String::from("héllo");
        assert_eq!(round_trip::<text::Owned, _, String>("héllo"), Ok("héllo".to_owned()));
        assert_eq!(round_trip::<text::Owned, _, String>(&owned), Ok(owned.clone()));
        assert_eq!(round_trip::<text::Owned, _, Box<str>>(owned.clone()), Ok("héllo".into()));
        assert_eq!(round_trip::<text::Owned, _, String>(Box::<str>::from("boxed")), Ok("boxed".into()));
        assert_eq!(round_trip::<text::Owned, _, String>(Cow::Borrowed("cow")), Ok("cow".into()));
        assert_eq!(round_trip::<text::Owned, _, String>(""), Ok(String::new()));
    }

    #[test]
    fn invalid_utf8_is_a_conversion_error() {
        let mut message = capnp::message::TypedBuilder::<text::Owned>::new_default();
        message.initn_root(2).as_bytes_mut().copy_from_slice(&[0xff, 0xfe]);
        let reader = message.get_root_as_reader().unwrap();
        let e = String::read_pointer(reader, &mut ReadContext::detached()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert!(e.message().starts_with("text is not valid UTF-8"), "{e}");
    }

    #[test]
    fn bytes_round_trip() {
        let bytes = vec![0u8, 1, 255];
        assert_eq!(round_trip::<data::Owned, _, Vec<u8>>(&bytes[..]), Ok(bytes.clone()));
        assert_eq!(round_trip::<data::Owned, _, Vec<u8>>(&bytes), Ok(bytes.clone()));
        assert_eq!(round_trip::<data::Owned, _, Box<[u8]>>(bytes.clone()), Ok(bytes.clone().into()));
        assert_eq!(round_trip::<data::Owned, _, [u8; 3]>([7u8, 8, 9]), Ok([7, 8, 9]));
        assert_eq!(round_trip::<data::Owned, _, [u8; 2]>(&[1u8, 2]), Ok([1, 2]));
        assert_eq!(round_trip::<data::Owned, _, [u8; 0]>(Vec::new()), Ok([]));
    }

    #[test]
    fn wrong_array_length_is_a_conversion_error() {
        let e = round_trip::<data::Owned, _, [u8; 4]>(vec![1u8, 2, 3]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert_eq!(e.message(), "expected 4 bytes of data, got 3");
    }

    #[test]
    fn overlong_lengths_are_conversion_errors() {
        assert_eq!(wire_len(MAX_LEN, "text"), Ok(MAX_LEN as u32));
        let e = wire_len(MAX_LEN + 1, "text").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert!(e.message().starts_with("text of length 536870912 is longer"), "{e}");
        assert!(wire_len(usize::MAX, "list").is_err());
    }
}
