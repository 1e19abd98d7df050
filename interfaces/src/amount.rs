//! Amounts as JSON-RPC users see them: bitcoins with exactly eight decimals
//! (`50.00000000`), parsed back without floating point, with Bitcoin Core's
//! rules (`AmountFromValue` over `ParseFixedPoint`). Shared by the node's and
//! the wallet's RPC methods so both print and accept amounts the same way.

use std::fmt;

/// Satoshis in one bitcoin.
pub const COIN: i64 = 100_000_000;

/// The most satoshis that can exist (21 million bitcoins, Core's `MAX_MONEY`).
pub const MAX_MONEY: i64 = 21_000_000 * COIN;

/// Bitcoin amount text with eight decimals, as bitcoind prints amounts.
///
/// ```
/// assert_eq!(interfaces::format_btc(5_000_000_000), "50.00000000");
/// assert_eq!(interfaces::format_btc(-1_000), "-0.00001000");
/// ```
pub fn format_btc(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    let coin = COIN.unsigned_abs();
    format!("{sign}{}.{:08}", abs / coin, abs % coin)
}

/// Why an amount text was refused; the messages and codes (-3) are bitcoind's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number, or more than eight decimals (`Invalid amount`).
    Invalid,
    /// Negative or above 21 million bitcoins (`Amount out of range`).
    OutOfRange,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::Invalid => "Invalid amount",
            AmountError::OutOfRange => "Amount out of range",
        })
    }
}

impl std::error::Error for AmountError {}

/// Parses bitcoin amount text (a JSON number's or string's text, e.g.
/// `0.1`, `"50"`, `1e-8`) into satoshis, exactly: no rounding, at most eight
/// decimals, between 0 and 21 million bitcoins.
///
/// ```
/// use interfaces::{parse_btc, AmountError};
/// assert_eq!(parse_btc("0.1"), Ok(10_000_000));
/// assert_eq!(parse_btc("1e-8"), Ok(1));
/// assert_eq!(parse_btc("0.000000001"), Err(AmountError::Invalid));
/// assert_eq!(parse_btc("-1"), Err(AmountError::OutOfRange));
/// ```
pub fn parse_btc(text: &str) -> Result<i64, AmountError> {
    let value = parse_fixed_point(text.trim(), 8).ok_or(AmountError::Invalid)?;
    if (0..=MAX_MONEY).contains(&value) {
        Ok(value)
    } else {
        Err(AmountError::OutOfRange)
    }
}

/// `text` × 10^`decimals` as an integer, if `text` is a decimal number
/// (optional sign, digits, optional fraction, optional exponent) whose value
/// so scaled is a whole number below 10^18 in magnitude.
fn parse_fixed_point(text: &str, decimals: i32) -> Option<i64> {
    const LIMIT: u128 = 1_000_000_000_000_000_000;
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (number, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
        None => (rest, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if number.ends_with('.') {
        return None;
    }
    // Where the point must move to reach units of 10^-decimals.
    let fraction_len = i32::try_from(fraction.len()).ok()?;
    let mut shift = decimals.checked_add(exponent)?.checked_sub(fraction_len)?;
    // Zeros are held back until a non-zero digit follows (as Core's ParseFixedPoint does), so
    // "1.000…0" with many zeros is fine while more than 18 significant digits are refused.
    let mut mantissa: u128 = 0;
    let mut zeros: u32 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        if digit == b'0' {
            zeros = zeros.checked_add(1)?;
            continue;
        }
        mantissa = if mantissa == 0 {
            // Leading zeros carry no value.
            u128::from(digit - b'0')
        } else {
            let scale = 10u128.checked_pow(zeros.checked_add(1)?)?;
            mantissa.checked_mul(scale)?.checked_add(u128::from(digit - b'0'))?
        };
        zeros = 0;
        if mantissa >= LIMIT {
            return None;
        }
    }
    if mantissa != 0 {
        shift = shift.checked_add(i32::try_from(zeros).ok()?)?;
    }
    let value = if shift >= 0 {
        let factor = 10u128.checked_pow(u32::try_from(shift).ok()?)?;
        mantissa.checked_mul(factor)?
    } else {
        let divisor = 10u128.checked_pow(u32::try_from(-shift).ok()?)?;
        if mantissa % divisor != 0 {
            return None;
        }
        mantissa / divisor
    };
    if value >= LIMIT {
        return None;
    }
    let value = i64::try_from(value).ok()?;
    Some(if negative { -value } else { value })
}

fn parse_exponent(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_eight_decimals() {
        assert_eq!(format_btc(0), "0.00000000");
        assert_eq!(format_btc(1), "0.00000001");
        assert_eq!(format_btc(COIN), "1.00000000");
        assert_eq!(format_btc(MAX_MONEY), "21000000.00000000");
        assert_eq!(format_btc(-123_456_789), "-1.23456789");
        assert_eq!(format_btc(i64::MIN), "-92233720368.54775808");
    }

    #[test]
    fn parses_like_bitcoin_core() {
        for (text, sats) in [
            ("0", 0),
            ("1", COIN),
            ("0.00000001", 1),
            ("50.00000000", 50 * COIN),
            ("0.1", 10_000_000),
            ("1e-8", 1),
            ("1E+2", 100 * COIN),
            ("0.5e1", 5 * COIN),
            ("21000000", MAX_MONEY),
            ("0.000000010", 1),
            ("00.1", 10_000_000),
        ] {
            assert_eq!(parse_btc(text), Ok(sats), "{text}");
        }
        for text in ["", "abc", "1.", ".5", "1..0", "0.000000001", "1e-9", "1e", "0x10", "1 2", "+1", "nan"] {
            assert_eq!(parse_btc(text), Err(AmountError::Invalid), "{text:?}");
        }
        for text in ["-1", "-0.00000001", "21000000.00000001", "1000000000"] {
            assert_eq!(parse_btc(text), Err(AmountError::OutOfRange), "{text}");
        }
        assert_eq!(parse_btc("1e20"), Err(AmountError::Invalid), "beyond 10^18 satoshis");
        // Long inputs never overflow: too many significant digits are refused, zeros are not.
        assert_eq!(parse_btc("340282366920938463463374607431768211457e-8"), Err(AmountError::Invalid));
        assert_eq!(parse_btc(&format!("1.{}", "0".repeat(200))), Ok(COIN));
        assert_eq!(parse_btc(&format!("0.{}1", "0".repeat(200))), Err(AmountError::Invalid));
        assert_eq!(parse_btc(&format!("{}1", "0".repeat(200))), Ok(COIN));
        assert_eq!(parse_btc(&"9".repeat(60)), Err(AmountError::Invalid));
        assert_eq!(AmountError::Invalid.to_string(), "Invalid amount");
    }

    #[test]
    fn round_trips() {
        for sats in [0, 1, 99_999_999, COIN, 1_234_567_890, MAX_MONEY] {
            assert_eq!(parse_btc(&format_btc(sats)), Ok(sats));
        }
    }
}
