//! What every method file shares: the method table entry ([`Builtin`], the `builtin!` macro),
//! argument checks with bitcoind's codes and texts, and value formatting (hex, amounts, reals).

use std::str::FromStr;

use bitcoin::{Address, Amount, Network};
use interfaces::RpcError;
use serde_json::Value;

use super::amount::amount_value;
use super::CallResult;
use super::Dispatcher;

/// One built-in method.
pub(crate) struct Builtin {
    /// Help category (`hidden`: left out of `help`'s list, as bitcoind does).
    pub(crate) category: &'static str,
    /// Method name.
    pub(crate) name: &'static str,
    /// Argument names in order.
    pub(crate) args: &'static [&'static str],
    /// Number of required arguments.
    pub(crate) required: usize,
    /// Help text after the synopsis.
    pub(crate) help: &'static str,
    /// The implementation.
    pub(crate) run: fn(&Dispatcher, &[Value]) -> CallResult,
    /// Core's usage line when given (it shows each argument by its type: `"text"`, `number`,
    /// `[array,...]`), which Core's errors for a wrong argument count carry; empty: generated.
    pub(crate) usage: &'static str,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtin").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Builtin {
    /// The usage line: Core's when the table gives it, else `name "arg" ( "optional" "other" )`
    /// (the optional arguments in one group, as Core's lines have them).
    pub(crate) fn synopsis(&self) -> String {
        if !self.usage.is_empty() {
            return self.usage.to_string();
        }
        let mut s = self.name.to_string();
        for (i, a) in self.args.iter().enumerate() {
            let a = a.split('|').next().unwrap_or(a);
            if i == self.required {
                s.push_str(" (");
            }
            s.push_str(&format!(" \"{a}\""));
        }
        if self.args.len() > self.required {
            s.push_str(" )");
        }
        s
    }
}

/// One table entry: `builtin!(category, name, [args], required, help, function)`, optionally
/// followed by `usage = "<Core's usage line>"`.
macro_rules! builtin {
    ($cat:literal, $name:literal, [$($arg:literal),*], $req:literal, $help:literal, $run:path) => {
        builtin!($cat, $name, [$($arg),*], $req, $help, $run, usage = "")
    };
    ($cat:literal, $name:literal, [$($arg:literal),*], $req:literal, $help:literal, $run:path, usage = $usage:literal) => {
        $crate::rpc::util::Builtin {
            category: $cat,
            name: $name,
            args: &[$($arg),*],
            required: $req,
            help: $help,
            run: $run,
            usage: $usage,
        }
    };
}

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

pub(crate) fn type_error(v: &Value, expected: &str) -> RpcError {
    RpcError::new(
        RpcError::TYPE_ERROR,
        format!("JSON value of type {} is not of expected type {expected}", type_name(v)),
    )
}

pub(crate) fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !v.is_null())
}

pub(crate) fn required<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a Value, RpcError> {
    arg(args, i).ok_or_else(|| {
        let synopsis = super::find_builtin(name).map_or_else(|| name.to_string(), Builtin::synopsis);
        RpcError::new(RpcError::MISC_ERROR, synopsis)
    })
}

pub(crate) fn check_count(args: &[Value], name: &str) -> Result<(), RpcError> {
    let Some(b) = super::find_builtin(name) else { return Ok(()) };
    if args.len() > b.args.len() {
        return Err(RpcError::new(RpcError::MISC_ERROR, b.synopsis()));
    }
    for i in 0..b.required {
        required(args, i, name)?;
    }
    Ok(())
}

pub(crate) fn as_str(v: &Value) -> Result<&str, RpcError> {
    v.as_str().ok_or_else(|| type_error(v, "string"))
}

pub(crate) fn as_i64(v: &Value) -> Result<i64, RpcError> {
    match v {
        Value::Number(n) => {
            n.as_i64().ok_or_else(|| RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range"))
        }
        _ => Err(type_error(v, "number")),
    }
}

pub(crate) fn as_bool(v: &Value) -> Result<bool, RpcError> {
    v.as_bool().ok_or_else(|| type_error(v, "bool"))
}

pub(crate) fn parse_hash<T: FromStr>(v: &Value, name: &str) -> Result<T, RpcError> {
    let s = as_str(v)?;
    if s.len() != 64 {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("{name} must be of length 64 (not {}, for '{s}')", s.len()),
        ));
    }
    s.parse().map_err(|_| {
        RpcError::new(RpcError::INVALID_PARAMETER, format!("{name} must be hexadecimal string (not '{s}')"))
    })
}

pub(crate) fn parse_address(v: &Value) -> Result<Address, RpcError> {
    let s = as_str(v)?;
    Address::from_str(s)
        .ok()
        .and_then(|a| a.require_network(Network::Regtest).ok())
        .ok_or_else(|| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Error: Invalid address"))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

pub(crate) fn btc(amount: Amount) -> Value {
    amount_value(i64::try_from(amount.to_sat()).unwrap_or(i64::MAX))
}

/// Bitcoin Core's `GetDifficulty`: the target's ratio to the 0x1d00ffff one.
pub(crate) fn difficulty(bits: u32) -> f64 {
    let mut shift = (bits >> 24) & 0xff;
    let mantissa = f64::from(bits & 0x00ff_ffff);
    if mantissa == 0.0 {
        return 0.0;
    }
    let mut diff = f64::from(0x0000_ffffu32) / mantissa;
    while shift < 29 {
        diff *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        diff /= 256.0;
        shift -= 1;
    }
    diff
}

/// A real number as bitcoind prints one (UniValue: C++ stream, 16 significant digits, shortest
/// of fixed and scientific notation, e.g. `4.656542373906925e-10`), not Rust's shortest
/// round-trip form (`4.6565423739069247e-10`).
pub(crate) fn real_value(value: f64) -> Value {
    serde_json::Number::from_str(&format_16g(value)).map(Value::Number).unwrap_or(Value::Null)
}

/// C's `%.16g`.
pub(crate) fn format_16g(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".into();
    }
    let scientific = format!("{value:.15e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |digits: &str| -> String {
        if digits.contains('.') {
            digits.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            digits.to_string()
        }
    };
    if (-4..16).contains(&exponent) {
        let decimals = usize::try_from(15 - exponent).unwrap_or(0);
        trim(&format!("{value:.decimals$}"))
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regtest_difficulty_matches_core() {
        assert!((difficulty(0x207f_ffff) - 4.656_542_373_906_925e-10).abs() < 1e-20);
        assert!((difficulty(0x1d00_ffff) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn reals_print_like_univalue() {
        assert_eq!(format_16g(difficulty(0x207f_ffff)), "4.656542373906925e-10");
        assert_eq!(format_16g(1.0), "1");
        assert_eq!(format_16g(0.0), "0");
        assert_eq!(format_16g(0.5), "0.5");
        assert_eq!(format_16g(1234.5678), "1234.5678");
        assert_eq!(format_16g(0.0001), "0.0001");
        assert_eq!(format_16g(0.00001), "1e-05");
        assert_eq!(format_16g(1e16), "1e+16");
        assert_eq!(format_16g(-2.5e-7), "-2.5e-07");
        assert_eq!(real_value(1.0).to_string(), "1");
    }

    fn nothing(_d: &Dispatcher, _args: &[Value]) -> CallResult {
        Ok(Value::Null)
    }

    #[test]
    fn usage_lines_group_the_optional_arguments_as_core() {
        let generated = builtin!("hidden", "m", ["a", "b|alias", "c"], 1, "", nothing);
        assert_eq!(generated.synopsis(), "m \"a\" ( \"b\" \"c\" )");
        let none_optional = builtin!("hidden", "m", ["a"], 1, "", nothing);
        assert_eq!(none_optional.synopsis(), "m \"a\"");
        let cores = builtin!("hidden", "m", ["a", "b"], 1, "", nothing, usage = "m a ( [b,...] )");
        assert_eq!(cores.synopsis(), "m a ( [b,...] )");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 255])), Some(vec![0, 1, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
