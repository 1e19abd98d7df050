//! The TOML config file, turned into Bitcoin-style option tokens: the file
//! only supplies more arguments, which go in front of the command line's.
//!
//! ```toml
//! rpcport = 18443          # -rpcport=18443
//! printtoconsole = true    # -printtoconsole      (false: -noprinttoconsole)
//! debug = ["ipc", "rpc"]   # -debug=ipc -debug=rpc ([]: -nodebug)
//!
//! [regtest]                # applies on regtest, after the top level
//! rpcport = 18500
//! ```
//!
//! Every key must be an option of some program that a file may set; keys
//! of options the reading program does not take are skipped, so the node
//! and the cli share one file.

use std::path::Path;

use toml::{Table, Value};

use crate::error::Error;
use crate::options::{self, Shape};
use crate::Program;

/// The section that overrides the top level on regtest.
const REGTEST_SECTION: &str = "regtest";

/// Reads and parses the file. `Ok(None)` when it does not exist and is not
/// `required` (the default file).
pub(crate) fn load(path: &Path, required: bool) -> Result<Option<Table>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(error) => return Err(Error::ReadFile { path: path.to_path_buf(), error }),
    };
    text.parse::<Table>().map(Some).map_err(|e| {
        let line = e.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', " ");
        let message = match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        };
        Error::Toml { path: path.to_path_buf(), message }
    })
}

/// The tokens the file supplies for `program`: the top level, then the
/// `[regtest]` section (so the section wins, as a later argument does).
pub(crate) fn tokens(table: &Table, program: Program) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut section = None;
    for (key, value) in table {
        match value {
            Value::Table(inner) if key == REGTEST_SECTION => section = Some(inner),
            _ => key_tokens(key, value, program, &mut out)?,
        }
    }
    for (key, value) in section.into_iter().flatten() {
        if let Value::Table(_) = value {
            return Err(Error::UnknownKey(format!("{REGTEST_SECTION}.{key}")));
        }
        key_tokens(key, value, program, &mut out)?;
    }
    Ok(out)
}

/// The option names the file sets (top level and `[regtest]`).
pub(crate) fn option_names(table: &Table) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (key, value) in table {
        match value {
            Value::Table(inner) if key == REGTEST_SECTION => names.extend(inner.keys().cloned()),
            _ => names.push(key.clone()),
        }
    }
    names.dedup();
    names
}

fn key_tokens(key: &str, value: &Value, program: Program, out: &mut Vec<String>) -> Result<(), Error> {
    let def = options::find(key).ok_or_else(|| Error::UnknownKey(key.to_string()))?;
    if !def.in_file {
        return Err(Error::NotInFile(key.to_string()));
    }
    let invalid = |reason: &str| Error::InvalidKeyValue { key: key.to_string(), reason: reason.to_string() };
    let scalar = |value: &Value| match value {
        Value::String(s) if s.contains('\0') => Err(invalid("contains a NUL character")),
        Value::String(s) => Ok(format!("-{key}={s}")),
        Value::Integer(i) => Ok(format!("-{key}={i}")),
        _ => Err(invalid("expected a string or an integer")),
    };
    let tokens = match value {
        Value::Boolean(true) if def.shape == Shape::Flag || def.bare.is_some() => vec![format!("-{key}")],
        Value::Boolean(false) if def.negatable => vec![format!("-no{key}")],
        Value::Boolean(_) => return Err(invalid("expected a value, not a boolean")),
        Value::Array(items) if def.shape != Shape::List => {
            return Err(invalid(&format!("takes one value, not a list ({} items)", items.len())))
        }
        Value::Array(items) if items.is_empty() => vec![format!("-no{key}")],
        Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
        value => vec![scalar(value)?],
    };
    if def.is_for(program) {
        out.extend(tokens);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expect` is the tokens joined by spaces, or `Error: <message>`.
    fn check(program: Program, text: &str, expect: &str) {
        let table: Table = text.parse().expect("test input is TOML");
        let got = match tokens(&table, program) {
            Ok(tokens) => tokens.join(" "),
            Err(e) => format!("Error: {e}"),
        };
        assert_eq!(got, expect, "file:\n{text}");
    }

    #[test]
    fn values() {
        use Program::*;
        check(Node, "", "");
        check(Node, "rpcport = 18443", "-rpcport=18443");
        check(Node, "rpcbind = '127.0.0.2'", "-rpcbind=127.0.0.2");
        check(Node, "daemon = true\nprinttoconsole = false", "-daemon -noprinttoconsole");
        check(Node, "reindex = true", "-reindex");
        check(Node, "debug = ['ipc', 'rpc']", "-debug=ipc -debug=rpc");
        check(Node, "debug = true", "-debug");
        check(Node, "debug = 'ipc'", "-debug=ipc");
        check(Node, "wallet = []", "-nowallet");
        check(Wallet, "ipcconnect = false", "-noipcconnect");
        check(Node, "chain = 'regtest'\n[regtest]\nrpcport = 1", "-chain=regtest -rpcport=1");
    }

    #[test]
    fn section_comes_after_top_level() {
        // TOML puts keys after a table header into the table, so the top
        // level is written first; the section's tokens still come last.
        check(
            Program::Node,
            "rpcport = 2\nwallet = ['a']\n[regtest]\nrpcport = 1",
            "-rpcport=2 -wallet=a -rpcport=1",
        );
    }

    #[test]
    fn other_programs_keys_are_skipped() {
        check(Program::Cli, "daemon = true\nrpcport = 5\nwallet = ['a']", "-rpcport=5");
        check(Program::Node, "rpcwait = true", "");
    }

    #[test]
    fn errors() {
        use Program::*;
        check(Node, "foo = 1", "Error: unknown key 'foo'");
        check(Cli, "foo = 1", "Error: unknown key 'foo'");
        check(Node, "[regtest]\nfoo = 1", "Error: unknown key 'foo'");
        check(Node, "[main]\nrpcport = 1", "Error: unknown key 'main'");
        check(Node, "[regtest.x]\nrpcport = 1", "Error: unknown key 'regtest.x'");
        check(Node, "datadir = '/x'", "Error: option 'datadir' cannot be set in a config file");
        check(Node, "conf = 'x.toml'", "Error: option 'conf' cannot be set in a config file");
        check(
            Node,
            "rpcport = [1, 2]",
            "Error: invalid value for key 'rpcport': takes one value, not a list (2 items)",
        );
        check(
            Node,
            "rpcport = 1.5",
            "Error: invalid value for key 'rpcport': expected a string or an integer",
        );
        check(
            Node,
            "rpcport = true",
            "Error: invalid value for key 'rpcport': expected a value, not a boolean",
        );
        check(
            Node,
            "wallet = true",
            "Error: invalid value for key 'wallet': expected a value, not a boolean",
        );
        check(
            Node,
            "wallet = [['a']]",
            "Error: invalid value for key 'wallet': expected a string or an integer",
        );
        check(
            Node,
            "rpcuser = \"a\\u0000b\"",
            "Error: invalid value for key 'rpcuser': contains a NUL character",
        );
    }
}
