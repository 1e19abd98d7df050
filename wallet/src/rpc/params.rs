//! Positional parameters with bitcoind's type errors (`-3`, "JSON value of type string is not of
//! expected type number") and value errors (`-8`).

use interfaces::RpcError;
use serde_json::Value;

use super::amount::type_name;

/// The positional parameters of one call (`null` counts as absent, as in bitcoind).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub(crate) Vec<Value>);

/// bitcoind's `-3` type error.
pub(crate) fn type_error(v: &Value, expected: &str) -> RpcError {
    RpcError::new(
        RpcError::TYPE_ERROR,
        format!("JSON value of type {} is not of expected type {expected}", type_name(v)),
    )
}

/// bitcoind's `-8` invalid-parameter error.
pub(crate) fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::INVALID_PARAMETER, message)
}

impl Params {
    /// Parses the JSON array text the dispatcher sends.
    pub(crate) fn parse(text: &str) -> Result<Params, RpcError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(Params(items)),
            Ok(Value::Null) => Ok(Params::default()),
            _ => Err(RpcError::new(RpcError::INVALID_PARAMS, "Params must be an array")),
        }
    }

    /// Parameter `i`, `None` when missing or null.
    pub(crate) fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    /// Number of parameters given (trailing ones included even if null).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// A string parameter.
    pub(crate) fn str(&self, i: usize) -> Result<Option<&str>, RpcError> {
        self.get(i).map(|v| v.as_str().ok_or_else(|| type_error(v, "string"))).transpose()
    }

    /// A boolean parameter.
    pub(crate) fn bool(&self, i: usize) -> Result<Option<bool>, RpcError> {
        self.get(i).map(|v| v.as_bool().ok_or_else(|| type_error(v, "bool"))).transpose()
    }

    /// An integer parameter (bitcoind's `getInt`: a number without fraction).
    pub(crate) fn int(&self, i: usize) -> Result<Option<i64>, RpcError> {
        self.get(i)
            .map(|v| match v {
                Value::Number(n) => {
                    n.as_i64().ok_or_else(|| RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range"))
                }
                _ => Err(type_error(v, "number")),
            })
            .transpose()
    }

    /// An array parameter.
    pub(crate) fn array(&self, i: usize) -> Result<Option<&Vec<Value>>, RpcError> {
        self.get(i).map(|v| v.as_array().ok_or_else(|| type_error(v, "array"))).transpose()
    }
}

/// Core's `ParseConfirmTarget`: 1..=1008 blocks.
pub(crate) fn conf_target(v: &Value) -> Result<u32, RpcError> {
    const MAX_TARGET: i64 = 1008;
    let target = match v {
        Value::Number(n) => {
            n.as_i64().ok_or_else(|| RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range"))?
        }
        _ => return Err(type_error(v, "number")),
    };
    if !(1..=MAX_TARGET).contains(&target) {
        return Err(invalid(format!("Invalid conf_target, must be between 1 and {MAX_TARGET}")));
    }
    u32::try_from(target).map_err(|_| invalid("Invalid conf_target"))
}

/// Core's estimate modes; `Ok(())` for a valid one.
pub(crate) fn estimate_mode(mode: &str) -> Result<(), RpcError> {
    match mode.to_ascii_lowercase().as_str() {
        "unset" | "economical" | "conservative" => Ok(()),
        _ => Err(invalid(
            r#"Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative""#,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_access() {
        let p = Params::parse(r#"["a", 3, true, null, [1], 1.5]"#).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p.str(0).unwrap(), Some("a"));
        assert_eq!(p.int(1).unwrap(), Some(3));
        assert_eq!(p.bool(2).unwrap(), Some(true));
        assert_eq!(p.str(3).unwrap(), None);
        assert_eq!(p.int(9).unwrap(), None);
        assert_eq!(p.array(4).unwrap().map(Vec::len), Some(1));
        let e = p.int(0).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (-3, "JSON value of type string is not of expected type number")
        );
        assert_eq!(p.str(1).unwrap_err().message, "JSON value of type number is not of expected type string");
        assert_eq!(p.bool(4).unwrap_err().message, "JSON value of type array is not of expected type bool");
        assert_eq!(p.int(5).unwrap_err().message, "JSON integer out of range");
        assert_eq!(Params::parse("null").unwrap().len(), 0);
        assert_eq!(Params::parse("{}").unwrap_err().code, RpcError::INVALID_PARAMS);
    }

    #[test]
    fn targets_and_modes() {
        assert_eq!(conf_target(&json!(6)).unwrap(), 6);
        assert_eq!(conf_target(&json!(0)).unwrap_err().code, -8);
        assert_eq!(
            conf_target(&json!(1009)).unwrap_err().message,
            "Invalid conf_target, must be between 1 and 1008"
        );
        assert_eq!(conf_target(&json!("6")).unwrap_err().code, -3);
        assert!(estimate_mode("ECONOMICAL").is_ok());
        assert_eq!(estimate_mode("fast").unwrap_err().code, -8);
    }
}
