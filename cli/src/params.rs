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

/// `-named` params, as bitcoin-cli sends them: `key=value` (the value converted as [`convert`]
/// does) by name, a later one replacing an earlier; a param without `=`, or one that is JSON as a
/// whole (`["key=value"]`), is positional, and the positional ones go in order under `args` (after
/// the named ones, and not over an `args=` given by name). The server places them (bitcoind's
/// rule: `args` first, the named after).
pub fn named(params: &[String]) -> Value {
    let mut object = Map::new();
    let mut positional = Vec::new();
    for param in params {
        match param.split_once('=') {
            Some((key, value)) if serde_json::from_str::<Value>(param).is_err() => {
                object.insert(key.to_string(), convert(value));
            }
            _ => positional.push(convert(param)),
        }
    }
    if !positional.is_empty() && !object.contains_key("args") {
        object.insert("args".to_string(), Value::Array(positional));
    }
    Value::Object(object)
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
        let strings = |params: &[&str]| params.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(named(&strings(&["height=3", "label=a=b"])), json!({"height": 3, "label": "a=b"}));
        // A later value replaces an earlier one, as bitcoin-cli merges options.
        assert_eq!(named(&strings(&["a=1", "a=2"])), json!({"a": 2}));
        // Positional ones (Core's interface_bitcoin_cli): no '=', or JSON as a whole.
        assert_eq!(named(&strings(&["0", "1", "arg3=3"])), json!({"arg3": 3, "args": [0, 1]}));
        assert_eq!(named(&strings(&["[\"data=test\"]", "42"])), json!({"args": [["data=test"], 42]}));
        assert_eq!(named(&strings(&["arg0=[\"data=test\"]"])), json!({"arg0": ["data=test"]}));
        assert_eq!(named(&strings(&["x", "args=[1]"])), json!({"args": [1]}));
    }
}
