//! Scalars: integers of every width into and from every integer field type,
//! range-checked both ways; `bool`; floats; `()` for `Void`.
//!
//! A generated enum `E` converts to and from itself through impls the code
//! generator writes next to the enum (`ToScalar<E> for E`); nothing here is
//! specific to enums.

use super::{FromScalar, ToScalar};
use crate::{Error, Result};

/// Writes the [`ToScalar`] and [`FromScalar`] impls between each Rust integer
/// type on the left and each wire integer type on the right (named as in the
/// schema, for error messages).
macro_rules! integers {
    ($($rust:ty),* ; $wires:tt) => {
        $( integers!(@one $rust ; $wires); )*
    };
    (@one $rust:ty ; [$($wire:ty => $name:literal),*]) => {$(
        // Same-type and widening pairs go through `TryFrom` too, so that one
        // macro covers every pair; the compiler folds the infallible checks.
        #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
        impl ToScalar<$wire> for $rust {
            fn to_scalar(self) -> Result<$wire> {
                <$wire>::try_from(self).map_err(|_| {
                    Error::conversion(format!("value {self} does not fit {}", $name))
                })
            }
        }

        #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
        impl FromScalar<$wire> for $rust {
            fn from_scalar(wire: $wire) -> Result<Self> {
                <$rust>::try_from(wire).map_err(|_| {
                    Error::conversion(format!(
                        "{} value {wire} does not fit {}",
                        $name,
                        stringify!($rust)
                    ))
                })
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize ; [
    i8 => "Int8", i16 => "Int16", i32 => "Int32", i64 => "Int64",
    u8 => "UInt8", u16 => "UInt16", u32 => "UInt32", u64 => "UInt64"
]);

/// Writes lossless [`ToScalar`] and [`FromScalar`] impls: `rust => wire`.
macro_rules! lossless {
    ($($rust:ty => $wire:ty),* $(,)?) => {$(
        impl ToScalar<$wire> for $rust {
            fn to_scalar(self) -> Result<$wire> {
                Ok(<$wire>::from(self))
            }
        }
    )*};
}

/// Writes lossless [`FromScalar`] impls: `rust <= wire`.
macro_rules! lossless_read {
    ($($rust:ty => $wire:ty),* $(,)?) => {$(
        impl FromScalar<$wire> for $rust {
            fn from_scalar(wire: $wire) -> Result<Self> {
                Ok(<$rust>::from(wire))
            }
        }
    )*};
}

// `f64` into a `Float32` field would lose precision, so it is not offered;
// a `Float32` field read into `f64` is exact.
lossless!(bool => bool, f32 => f32, f64 => f64, f32 => f64);
lossless_read!(bool => bool, f32 => f32, f64 => f64, f64 => f32);

/// A `Void` field: there is nothing to convert.
impl ToScalar<()> for () {
    fn to_scalar(self) -> Result<()> {
        Ok(())
    }
}

/// A `Void` field: there is nothing to convert.
impl FromScalar<()> for () {
    fn from_scalar((): ()) -> Result<Self> {
        Ok(())
    }
}

/// A reference converts like the value it points to, so that borrowed
/// collections (`&[u32]`, `&Vec<MyEnum>`) can be sent without cloning.
impl<W, T: ToScalar<W> + Copy> ToScalar<W> for &T {
    fn to_scalar(self) -> Result<W> {
        (*self).to_scalar()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn to<W, T: ToScalar<W>>(value: T) -> Result<W> {
        value.to_scalar()
    }

    fn from<T: FromScalar<W>, W>(wire: W) -> Result<T> {
        T::from_scalar(wire)
    }

    #[test]
    fn integers_in_range_convert_both_ways() {
        assert_eq!(to::<u8, _>(255u32), Ok(255u8));
        assert_eq!(to::<i8, _>(-128i64), Ok(-128i8));
        assert_eq!(to::<u64, _>(usize::MAX), Ok(usize::MAX as u64));
        assert_eq!(to::<i32, _>(7u64), Ok(7i32));
        assert_eq!(to::<u16, _>(&40_000u32), Ok(40_000u16));
        assert_eq!(from::<u32, _>(4_000_000_000u64), Ok(4_000_000_000u32));
        assert_eq!(from::<i16, _>(-5i8), Ok(-5i16));
        assert_eq!(from::<usize, _>(9u8), Ok(9usize));
        assert_eq!(from::<isize, _>(-9i64), Ok(-9isize));
    }

    #[test]
    fn out_of_range_integers_are_conversion_errors() {
        let e = to::<u8, _>(300u32).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert_eq!(e.message(), "value 300 does not fit UInt8");
        assert_eq!(to::<u32, _>(-1i32).unwrap_err().message(), "value -1 does not fit UInt32");
        assert_eq!(
            to::<i64, _>(u64::MAX).unwrap_err().message(),
            "value 18446744073709551615 does not fit Int64"
        );

        let e = from::<u8, _>(-1i32).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert_eq!(e.message(), "Int32 value -1 does not fit u8");
        assert_eq!(
            from::<i32, _>(3_000_000_000u32).unwrap_err().message(),
            "UInt32 value 3000000000 does not fit i32"
        );
    }

    #[test]
    fn bools_floats_and_void_pass_through() {
        assert_eq!(to::<bool, _>(true), Ok(true));
        assert_eq!(from::<bool, _>(false), Ok(false));
        assert_eq!(to::<f32, _>(1.5f32), Ok(1.5f32));
        assert_eq!(to::<f64, _>(1.5f32), Ok(1.5f64));
        assert_eq!(to::<f64, _>(&2.25f64), Ok(2.25f64));
        assert_eq!(from::<f64, _>(0.1f32), Ok(f64::from(0.1f32)));
        assert_eq!(from::<f32, _>(-3.0f32), Ok(-3.0f32));
        assert_eq!(to::<(), _>(()), Ok(()));
        assert_eq!(from::<(), _>(()), Ok(()));
    }
}
