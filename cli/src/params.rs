//! Turning the command line's params into JSON-RPC params as `bitcoin-cli` does: a param is
//! JSON only where the method takes a non-string value there ([`crate::conversions`]), else the
//! text itself, so `echo 0` sends `"0"` and `getblockhash 0` sends `0`.

use serde_json::{Map, Value};

use crate::conversions::{by_name, by_position, Format};

/// A param that should be JSON and is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Error parsing JSON: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

/// One param in `format` (`None`: not listed, so a string).
fn parse(format: Option<Format>, raw: &str) -> Result<Value, ParseError> {
    match format {
        Some(Format::Json) => serde_json::from_str(raw).map_err(|_| ParseError(raw.to_string())),
        Some(Format::JsonOrText) => {
            Ok(serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string())))
        }
        Some(Format::Text) | None => Ok(Value::String(raw.to_string())),
    }
}

/// Positional params of `method` as a JSON array.
pub fn positional(method: &str, params: &[String]) -> Result<Value, ParseError> {
    params
        .iter()
        .enumerate()
        .map(|(i, raw)| parse(by_position(method, i), raw))
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

/// `-named` params of `method`, by bitcoin-cli's rules: `name=value` by name (a later one
/// replacing an earlier), a param without `=` positional. A param with `=` whose name the method
/// does not have is positional when the next position takes JSON and it parses as JSON as a
/// whole (`["key=value"]`), or when the next position takes a string (`createwallet my=wallet`).
/// The positional ones go in order under `args`, unless `args=` was given by name.
pub fn named(method: &str, params: &[String]) -> Result<Value, ParseError> {
    let mut object = Map::new();
    let mut positional: Vec<Value> = Vec::new();
    for raw in params {
        let Some((name, value)) = raw.split_once('=') else {
            positional.push(parse(by_position(method, positional.len()), raw)?);
            continue;
        };
        let named_format = by_name(method, name);
        if named_format.is_none() {
            match by_position(method, positional.len()) {
                Some(Format::Json) => {
                    if let Ok(whole) = serde_json::from_str::<Value>(raw) {
                        positional.push(whole);
                        continue;
                    }
                }
                Some(Format::Text) => {
                    positional.push(Value::String(raw.clone()));
                    continue;
                }
                _ => {}
            }
        }
        object.insert(name.to_string(), parse(named_format, value)?);
    }
    if !positional.is_empty() && !object.contains_key("args") {
        object.insert("args".to_string(), Value::Array(positional));
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(params: &[&str]) -> Vec<String> {
        params.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn positional_params_follow_the_method() {
        // Core's interface_bitcoin_cli: echo takes strings, echojson JSON.
        assert_eq!(positional("echo", &strings(&["0", "1"])), Ok(json!(["0", "1"])));
        assert_eq!(positional("echojson", &strings(&["0", "[1]"])), Ok(json!([0, [1]])));
        assert_eq!(positional("getblockhash", &strings(&["0"])), Ok(json!([0])));
        assert_eq!(positional("getblock", &strings(&["00ff", "2"])), Ok(json!(["00ff", 2])));
        assert_eq!(positional("echojson", &strings(&["[1,"])), Err(ParseError("[1,".into())));
        // JSON or text: a hash stays a string, a height is a number.
        assert_eq!(positional("getblockstats", &strings(&["1000"])), Ok(json!([1000])));
        assert_eq!(positional("getblockstats", &strings(&["abcd"])), Ok(json!(["abcd"])));
    }

    #[test]
    fn named_params_follow_bitcoin_clis_rules() {
        assert_eq!(
            named("getblock", &strings(&["blockhash=00ff", "verbosity=2"])),
            Ok(json!({"blockhash": "00ff", "verbosity": 2}))
        );
        // A later value replaces an earlier one.
        assert_eq!(named("echojson", &strings(&["arg0=1", "arg0=2"])), Ok(json!({"arg0": 2})));
        assert_eq!(
            named("echo", &strings(&["0", "1", "arg3=3"])),
            Ok(json!({"arg3": "3", "args": ["0", "1"]}))
        );
        assert_eq!(
            named("echojson", &strings(&["[\"data=test\"]", "42"])),
            Ok(json!({"args": [["data=test"], 42]}))
        );
        assert_eq!(
            named("echojson", &strings(&["arg0=[\"data=test\"]"])),
            Ok(json!({"arg0": ["data=test"]}))
        );
        // `args` is no listed name of echo's: its value stays a string (the server then refuses
        // it), and the positional "x" does not replace it.
        assert_eq!(named("echo", &strings(&["x", "args=[1]"])), Ok(json!({"args": "[1]"})));
        // A wallet name with '=': positional, the next position being a string.
        assert_eq!(named("createwallet", &strings(&["my=wallet"])), Ok(json!({"args": ["my=wallet"]})));
    }
}
