//! Amounts in JSON, as bitcoind reads and writes them, over `interfaces::format_btc` /
//! `interfaces::parse_btc` (shared with the node's RPC methods).
//!
//! Writing: a JSON number with exactly eight decimals (`50.00000000`); the workspace's serde_json
//! has `arbitrary_precision`, so the text survives to the client. Reading: Core's
//! `AmountFromValue`, a JSON number or string parsed as exact decimal text.

use std::str::FromStr;

use interfaces::{format_btc, parse_btc, RpcError};
use serde_json::{Number, Value};

/// The JSON type name bitcoind uses in type errors.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn text_of(v: &Value) -> Result<String, RpcError> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        _ => Err(RpcError::new(RpcError::TYPE_ERROR, "Amount is not a number or string")),
    }
}

/// Core's `AmountFromValue`: satoshis from BTC text, at most 8 decimals, 0..=21e6 BTC (`-3`).
pub(crate) fn amount_from_value(v: &Value) -> Result<i64, RpcError> {
    parse_btc(&text_of(v)?).map_err(|e| RpcError::new(RpcError::TYPE_ERROR, e.to_string()))
}

/// Core's `AmountFromValue(fee_rate, 3)`: a fee rate in sat/vB with at most 3 decimals, as
/// sat/kvB, within Core's money range (0 to 2.1e15 sat/kvB; a rate too high to pay is refused
/// later, by the maximum-fee check).
pub(crate) fn fee_rate_from_value(v: &Value) -> Result<i64, RpcError> {
    // `parse_btc` reads 8 decimals; the value divided by 10^5 read that way is the value read
    // with 3 decimals, with the same range check (`MoneyRange`). Dividing is moving the exponent.
    let text = text_of(v)?;
    let text = text.trim();
    let shifted = match text.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 =
                text[at + 1..].parse().map_err(|_| RpcError::new(RpcError::TYPE_ERROR, "Invalid amount"))?;
            format!("{}e{}", &text[..at], exponent.saturating_sub(5))
        }
        None => format!("{text}e-5"),
    };
    parse_btc(&shifted).map_err(|e| RpcError::new(RpcError::TYPE_ERROR, e.to_string()))
}

/// An amount in satoshis as a JSON number of bitcoins with eight decimals.
pub(crate) fn amount_json(sat: i64) -> Value {
    Number::from_str(&format_btc(sat)).map(Value::Number).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(input: &str, expect: Result<i64, &str>) {
        let v: Value = serde_json::from_str(input).unwrap();
        let got = amount_from_value(&v).map_err(|e| {
            assert_eq!(e.code, -3, "{input}");
            e.message
        });
        assert_eq!(got, expect.map_err(str::to_string), "{input}");
    }

    #[test]
    fn amounts_from_values() {
        check("1", Ok(100_000_000));
        check("0.1", Ok(10_000_000));
        check("\"0.1\"", Ok(10_000_000));
        check("0.00000001", Ok(1));
        check("1e-8", Ok(1));
        check("20999999.99999999", Ok(2_099_999_999_999_999));
        check("0.000000001", Err("Invalid amount"));
        check("\"abc\"", Err("Invalid amount"));
        check("-1", Err("Amount out of range"));
        check("21000000.00000001", Err("Amount out of range"));
        check("true", Err("Amount is not a number or string"));
        check("null", Err("Amount is not a number or string"));
    }

    #[test]
    fn fee_rates_take_three_decimals() {
        assert_eq!(fee_rate_from_value(&json!(20)).unwrap(), 20_000);
        assert_eq!(fee_rate_from_value(&json!("1.5")).unwrap(), 1_500);
        assert_eq!(fee_rate_from_value(&json!("0.001")).unwrap(), 1);
        assert_eq!(fee_rate_from_value(&json!("0.0001")).unwrap_err().message, "Invalid amount");
        assert_eq!(fee_rate_from_value(&json!(-1)).unwrap_err().message, "Amount out of range");
        // Core's range for 3 decimals: up to MAX_MONEY thousandths of a sat/vB.
        assert_eq!(fee_rate_from_value(&json!(100_000_000)).unwrap(), 100_000_000_000);
        assert_eq!(fee_rate_from_value(&json!("2100000000000")).unwrap(), 2_100_000_000_000_000);
        assert_eq!(
            fee_rate_from_value(&json!("2100000000000.001")).unwrap_err().message,
            "Amount out of range"
        );
        let v: Value = serde_json::from_str("1.5e3").unwrap();
        assert_eq!(fee_rate_from_value(&v).unwrap(), 1_500_000);
        let v: Value = serde_json::from_str("25E-1").unwrap();
        assert_eq!(fee_rate_from_value(&v).unwrap(), 2_500);
        assert_eq!(fee_rate_from_value(&json!("1e-4")).unwrap_err().message, "Invalid amount");
        assert_eq!(fee_rate_from_value(&json!("1ee")).unwrap_err().message, "Invalid amount");
        assert_eq!(fee_rate_from_value(&json!("")).unwrap_err().message, "Invalid amount");
    }

    #[test]
    fn amounts_print_with_eight_decimals() {
        let v = json!({"a": amount_json(5_000_000_000), "b": amount_json(1), "c": amount_json(-1_234),
                       "f": amount_json(0)});
        assert_eq!(v.to_string(), r#"{"a":50.00000000,"b":0.00000001,"c":-0.00001234,"f":0.00000000}"#);
    }
}
