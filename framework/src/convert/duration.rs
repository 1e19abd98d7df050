//! `std::time::Duration` as a number of milliseconds: `Float64` (exact to
//! the nanosecond for durations up to about 104 days), `Int64` or `UInt64`
//! (whole milliseconds; building drops the sub-millisecond part).

use std::time::Duration;

use super::{FromScalar, ToScalar};
use crate::{Error, Result};

impl ToScalar<f64> for Duration {
    fn to_scalar(self) -> Result<f64> {
        // Whole seconds and the nanoseconds apart, so that whole and
        // fractional milliseconds come out exact.
        Ok(self.as_secs() as f64 * 1e3 + f64::from(self.subsec_nanos()) / 1e6)
    }
}

/// Negative, NaN, infinite and too large values are conversion errors.
impl FromScalar<f64> for Duration {
    fn from_scalar(ms: f64) -> Result<Self> {
        Duration::try_from_secs_f64(ms / 1e3)
            .map_err(|e| Error::conversion(format!("{ms} ms is not a duration: {e}")))
    }
}

/// Whole milliseconds; a duration longer than `i64::MAX` ms is an error.
impl ToScalar<i64> for Duration {
    fn to_scalar(self) -> Result<i64> {
        i64::try_from(self.as_millis())
            .map_err(|_| Error::conversion(format!("duration {self:?} does not fit Int64 milliseconds")))
    }
}

/// A negative number of milliseconds is an error.
impl FromScalar<i64> for Duration {
    fn from_scalar(ms: i64) -> Result<Self> {
        let ms = u64::try_from(ms)
            .map_err(|_| Error::conversion(format!("{ms} ms is not a duration: negative")))?;
        Ok(Duration::from_millis(ms))
    }
}

/// Whole milliseconds; a duration longer than `u64::MAX` ms is an error.
impl ToScalar<u64> for Duration {
    fn to_scalar(self) -> Result<u64> {
        u64::try_from(self.as_millis())
            .map_err(|_| Error::conversion(format!("duration {self:?} does not fit UInt64 milliseconds")))
    }
}

impl FromScalar<u64> for Duration {
    fn from_scalar(ms: u64) -> Result<Self> {
        Ok(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn float_milliseconds_round_trip() {
        let d = Duration::from_micros(1_500_250);
        let ms: f64 = d.to_scalar().unwrap();
        assert_eq!(ms, 1500.25);
        assert_eq!(Duration::from_scalar(ms), Ok(d));
        assert_eq!(Duration::from_scalar(0.0f64), Ok(Duration::ZERO));
        assert_eq!(Duration::from_scalar(-0.0f64), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_float_milliseconds_are_conversion_errors() {
        for bad in [-1.0, f64::NAN, f64::INFINITY, f64::MAX] {
            let e = <Duration as FromScalar<f64>>::from_scalar(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conversion, "{bad}");
            assert!(e.message().contains("is not a duration"), "{e}");
        }
    }

    #[test]
    fn integer_milliseconds_round_trip_and_truncate() {
        let d = Duration::from_millis(1234) + Duration::from_nanos(999);
        assert_eq!(ToScalar::<i64>::to_scalar(d), Ok(1234));
        assert_eq!(ToScalar::<u64>::to_scalar(d), Ok(1234));
        assert_eq!(<Duration as FromScalar<i64>>::from_scalar(1234), Ok(Duration::from_millis(1234)));
        assert_eq!(<Duration as FromScalar<u64>>::from_scalar(7), Ok(Duration::from_millis(7)));
    }

    #[test]
    fn bad_integer_milliseconds_are_conversion_errors() {
        let e = <Duration as FromScalar<i64>>::from_scalar(-5).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert_eq!(e.message(), "-5 ms is not a duration: negative");
        let e = ToScalar::<i64>::to_scalar(Duration::MAX).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conversion);
        assert!(e.message().contains("does not fit Int64 milliseconds"), "{e}");
        assert!(ToScalar::<u64>::to_scalar(Duration::MAX).is_err());
    }
}
