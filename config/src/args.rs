//! The one hand-written piece of parsing: Bitcoin-style tokens rewritten as
//! clap's long options. Clap does everything else.
//!
//! | given                     | clap sees                  |
//! |---------------------------|----------------------------|
//! | `-name`, `--name`         | `--name`                   |
//! | `-name=v`, `--name=v`     | `--name=v`                 |
//! | `-noname`, `-noname=1`    | `--name=<NEGATED>`         |
//! | `-noname=0` (Core: double negative) | `--name=1`       |
//! | `-h`, `-?`                | `--help`                   |
//! | cli: `method params...`   | `-- method params...`      |
//!
//! An option the program does not take is an error here, so clap never has
//! to guess; so is `-noX` for an option that cannot be negated.

use crate::error::Error;
use crate::options::{self, OptionDef};
use crate::values::NEGATED;
use crate::Program;

/// Rewrites one option token (`-…` or `--…`) for `program`.
pub(crate) fn map_option(program: Program, token: &str) -> Result<String, Error> {
    let body = token.strip_prefix("--").or_else(|| token.strip_prefix('-')).unwrap_or(token);
    let (name, value) = match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    };
    let name = match name {
        "h" | "?" => "help",
        name => name,
    };
    let lookup = |name: &str| options::find(name).filter(|def| def.is_for(program));
    if lookup(name).is_some() {
        return Ok(match value {
            Some(value) => format!("--{name}={value}"),
            None => format!("--{name}"),
        });
    }
    let Some(def) = name.strip_prefix("no").and_then(lookup) else {
        return Err(Error::UnknownOption(token.to_string()));
    };
    negate(def, value)
}

/// `-no<def.name>[=value]`: no value or a true one (Core's `InterpretBool`: a
/// number other than 0, or empty) negates; a false one is Core's double
/// negative (`-nolisten=0` is `-listen=1`), accepted with a warning
/// ([`double_negatives`]) as bitcoind does.
fn negate(def: &OptionDef, value: Option<&str>) -> Result<String, Error> {
    if !def.negatable {
        return Err(Error::NotNegatable(def.name.to_string()));
    }
    match value {
        Some(value) if !interpret_bool(value) => Ok(format!("--{}=1", def.name)),
        _ => Ok(format!("--{}={NEGATED}", def.name)),
    }
}

/// Core's `InterpretBool`: empty is true, otherwise the leading integer
/// (`atoi`) is compared with 0, so `"true"` and `"abc"` are false.
pub(crate) fn interpret_bool(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let digits: String = value
        .trim_start()
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .map(|(_, c)| c)
        .collect();
    digits.parse::<i64>().is_ok_and(|n| n != 0)
}

/// bitcoind's warning for each double negative (`-noX=0`) among `tokens`
/// (options as given, on the command line or from a file).
pub(crate) fn double_negatives(program: Program, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .take_while(|t| t.starts_with('-') && *t != "-" && *t != "--")
        .filter_map(|token| {
            let body = token.strip_prefix("--").or_else(|| token.strip_prefix('-'))?;
            let (given, value) = body.split_once('=')?;
            if options::find(given).is_some() || interpret_bool(value) {
                return None;
            }
            let def = options::find(given.strip_prefix("no")?)
                .filter(|def| def.is_for(program) && def.negatable)?;
            Some(format!("Parsed potentially confusing double-negative -{}={value}", def.name))
        })
        .collect()
}

/// Rewrites a whole command line (without the program name). For the cli,
/// the first argument that is not an option and everything after it are
/// positional (the method and its params, which may look like options);
/// other programs take no positional argument.
pub(crate) fn map_command_line(program: Program, args: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::with_capacity(args.len() + 1);
    for (i, arg) in args.iter().enumerate() {
        let is_option = arg.starts_with('-') && arg != "-" && arg != "--";
        if is_option {
            out.push(map_option(program, arg)?);
            continue;
        }
        if !program.takes_args() {
            return Err(Error::UnexpectedArgument(arg.clone()));
        }
        let rest = if arg == "--" { &args[i + 1..] } else { &args[i..] };
        if !rest.is_empty() {
            out.push("--".to_string());
            out.extend(rest.iter().cloned());
        }
        break;
    }
    Ok(out)
}

/// Rewrites option tokens that came from a config file.
pub(crate) fn map_options(program: Program, tokens: &[String]) -> Result<Vec<String>, Error> {
    tokens.iter().map(|token| map_option(program, token)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expect` is the mapped tokens joined by spaces, with the negation
    /// marker shown as `!`, or `Error: <message>`.
    fn check(program: Program, args: &[&str], expect: &str) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let got = match map_command_line(program, &args) {
            Ok(tokens) => tokens.join(" ").replace(NEGATED, "!"),
            Err(e) => format!("Error: {e}"),
        };
        assert_eq!(got, expect, "args: {args:?}");
    }

    #[test]
    fn options() {
        use Program::*;
        check(Node, &[], "");
        check(Node, &["-daemon", "--daemon", "-daemon=0"], "--daemon --daemon --daemon=0");
        check(Node, &["-rpcport=1", "--rpcport=2"], "--rpcport=1 --rpcport=2");
        check(Node, &["-rpcpassword=a=b"], "--rpcpassword=a=b");
        check(Node, &["-h", "-?", "-help", "--help"], "--help --help --help --help");
        check(Node, &["-debug="], "--debug=");
    }

    #[test]
    fn negation() {
        use Program::*;
        check(Node, &["-noprinttoconsole"], "--printtoconsole=!");
        check(Node, &["--nowallet", "-nodebug=1"], "--wallet=! --debug=!");
        check(Wallet, &["-noipcconnect=2"], "--ipcconnect=!");
        check(Node, &["-nodebug="], "--debug=!");
        // Core's double negatives: a false value (0, or anything `atoi` reads as 0) sets the option.
        check(Node, &["-nolisten=0", "-nodaemon=true"], "--listen=1 --daemon=1");
        let args = ["-nolisten=0".to_string(), "-nodebug".to_string(), "-rpcport=0".to_string()];
        assert_eq!(
            double_negatives(Program::Node, &args),
            ["Parsed potentially confusing double-negative -listen=0"]
        );
        check(Node, &["-nodatadir"], "Error: option -datadir cannot be negated");
        check(Node, &["-norpcport"], "Error: option -rpcport cannot be negated");
        check(Node, &["-nohelp"], "Error: option -help cannot be negated");
    }

    #[test]
    fn unknown_options() {
        use Program::*;
        let invalid = "Error: Error parsing command line arguments: Invalid parameter";
        check(Node, &["-foo"], &format!("{invalid} -foo"));
        check(Node, &["--foo=1"], &format!("{invalid} --foo=1"));
        check(Node, &["-nofoo"], &format!("{invalid} -nofoo"));
        check(Node, &["-no"], &format!("{invalid} -no"));
        check(Node, &["-=1"], &format!("{invalid} -=1"));
        check(Node, &["-Daemon"], &format!("{invalid} -Daemon"));
        // Each program takes its own options only.
        check(Node, &["-rpcwait"], &format!("{invalid} -rpcwait"));
        check(Cli, &["-daemon"], &format!("{invalid} -daemon"));
        check(Cli, &["-nodaemon"], &format!("{invalid} -nodaemon"));
    }

    #[test]
    fn positional() {
        use Program::*;
        check(
            Node,
            &["getblockcount"],
            "Error: unexpected argument 'getblockcount' (options start with '-')",
        );
        check(Node, &["-daemon", "-"], "Error: unexpected argument '-' (options start with '-')");
        check(
            Cli,
            &["-rpcwait", "getblockhash", "-1", "-rpcport=1"],
            "--rpcwait -- getblockhash -1 -rpcport=1",
        );
        check(Cli, &["--", "-x"], "-- -x");
        check(Cli, &["-rpcwait", "--"], "--rpcwait");
    }
}
