//! Turning the command line's params into JSON-RPC params.

use serde_json::{Map, Value};

/// One positional param: JSON if it parses as JSON (numbers, `true`,
/// `false`, `null`, objects, arrays, quoted strings), else the text as a
/// string.
pub fn convert(param: &str) -> Value {
    serde_json::from_str(param).unwrap_or_else(|_| Value::String(param.to_string()))
}

/// Positional params as a JSON array.
pub fn positional(params: &[String]) -> Value {
    Value::Array(params.iter().map(|param| convert(param)).collect())
}

/// `-named` params: each `key=value` (the value converted as [`convert`]
/// does) into one object. A param without `=` is an error.
pub fn named(params: &[String]) -> Result<Value, String> {
    let mut object = Map::new();
    for param in params {
        let Some((key, value)) = param.split_once('=') else {
            return Err(format!(
                "no '=' in named argument '{param}'; -named needs key=value for every argument"
            ));
        };
        if key.is_empty() {
            return Err(format!("empty name in named argument '{param}'"));
        }
        if object.insert(key.to_string(), convert(value)).is_some() {
            return Err(format!("parameter {key} specified twice"));
        }
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversion() {
        assert_eq!(convert("10"), json!(10));
        assert_eq!(convert("-1.5"), json!(-1.5));
        assert_eq!(convert("true"), json!(true));
        assert_eq!(convert("null"), Value::Null);
        assert_eq!(convert("[1,\"a\"]"), json!([1, "a"]));
        assert_eq!(convert("{\"a\":1}"), json!({"a": 1}));
        assert_eq!(convert("\"quoted\""), json!("quoted"));
        assert_eq!(convert("bcrt1qxyz"), json!("bcrt1qxyz"));
        assert_eq!(convert("0f9188f1"), json!("0f9188f1"));
        assert_eq!(convert(""), json!(""));
        assert_eq!(convert("[1,"), json!("[1,"));
    }

    #[test]
    fn named_params() {
        let params = ["height=3".to_string(), "label=a=b".to_string()];
        assert_eq!(named(&params), Ok(json!({"height": 3, "label": "a=b"})));
        assert!(named(&["x".to_string()]).is_err());
        assert!(named(&["=1".to_string()]).is_err());
        assert!(named(&["a=1".to_string(), "a=2".to_string()]).is_err());
    }
}
