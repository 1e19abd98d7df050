//! Amounts in JSON: written as bitcoind writes them (`50.00000000`, a JSON number with eight
//! decimals) and read as it reads them (`AmountFromValue`: a number or a string, exact).

use std::str::FromStr;

use interfaces::{format_btc, parse_btc, RpcError};
use serde_json::{Number, Value};

/// `sats` as a JSON number with eight decimals.
pub fn amount_value(sats: i64) -> Value {
    // serde_json keeps a number's text (feature `arbitrary_precision`), and format_btc always
    // gives a valid number; the fallback is unreachable but costs nothing.
    Number::from_str(&format_btc(sats)).map(Value::Number).unwrap_or(Value::Null)
}

/// An amount parameter in satoshis: a JSON number or a numeric string, at most eight decimals,
/// 0 to 21 million bitcoins; errors are bitcoind's (-3).
pub fn amount_from_value(value: &Value) -> Result<i64, RpcError> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(RpcError::new(RpcError::TYPE_ERROR, "Amount is not a number or string")),
    };
    parse_btc(&text).map_err(|e| RpcError::new(RpcError::TYPE_ERROR, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_with_eight_decimals() {
        assert_eq!(amount_value(5_000_000_000).to_string(), "50.00000000");
        assert_eq!(serde_json::json!({"fee": amount_value(141)}).to_string(), r#"{"fee":0.00000141}"#);
    }

    #[test]
    fn amounts_parse_exactly_from_numbers_and_strings() {
        let parsed: Value = serde_json::from_str("[0.1, \"0.1\", 1e-8, 0.000000001, true, -1]").unwrap();
        assert_eq!(amount_from_value(&parsed[0]), Ok(10_000_000));
        assert_eq!(amount_from_value(&parsed[1]), Ok(10_000_000));
        assert_eq!(amount_from_value(&parsed[2]), Ok(1));
        assert_eq!(amount_from_value(&parsed[3]).unwrap_err().message, "Invalid amount");
        assert_eq!(amount_from_value(&parsed[4]).unwrap_err().code, RpcError::TYPE_ERROR);
        assert_eq!(amount_from_value(&parsed[5]).unwrap_err().message, "Amount out of range");
    }
}
