//! Bitcoin Core's start-up lines that list the options given: `Command-line arg: name="value"`
//! and `Config file arg: [section] name="value"`, the value as JSON (a negation is `false`, a
//! bare option `""`) and the secrets (`-rpcauth`, `-rpcpassword`, `-rpcuser`, `-torpassword`)
//! as `****`.

use crate::options;

/// The options whose values never reach the log.
const SENSITIVE: [&str; 4] = ["rpcauth", "rpcpassword", "rpcuser", "torpassword"];

/// Whether the option's values are secrets, never to be logged.
pub(crate) fn is_sensitive(name: &str) -> bool {
    SENSITIVE.contains(&name)
}

/// `value` as a JSON string.
fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One line: `<prefix> [<section>] <name>=<value>`; `value` `None` is a negation.
pub(crate) fn line(prefix: &str, section: &str, name: &str, value: Option<&str>) -> String {
    let section = if section.is_empty() { String::new() } else { format!("[{section}] ") };
    let shown = if is_sensitive(name) {
        "****".to_string()
    } else {
        value.map_or_else(|| "false".to_string(), json_string)
    };
    format!("{prefix} {section}{name}={shown}")
}

/// The lines for the command line `args` (each `-name`, `-name=value` or `-noname[=value]`).
pub(crate) fn command_line(args: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for arg in args {
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else { continue };
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        if options::find(name).is_some() {
            lines.push(line("Command-line arg:", "", name, Some(value.unwrap_or(""))));
        } else if let Some(positive) = name.strip_prefix("no").filter(|n| options::find(n).is_some()) {
            // `-noX` is false, `-noX=0` a double negative: true.
            let negated = value.is_none_or(|v| v != "0" && !v.eq_ignore_ascii_case("false"));
            let shown = if negated { None } else { Some("1") };
            lines.push(match shown {
                None => line("Command-line arg:", "", positive, None),
                Some(_) => format!("Command-line arg: {positive}=true"),
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_core() {
        let args: Vec<String> =
            ["-addnode=some.node", "-rpcpassword=", "-rpcuser=secret", "-nolisten", "-rpcbind=127.0.0.1"]
                .map(String::from)
                .to_vec();
        assert_eq!(
            command_line(&args),
            [
                "Command-line arg: addnode=\"some.node\"",
                "Command-line arg: rpcpassword=****",
                "Command-line arg: rpcuser=****",
                "Command-line arg: listen=false",
                "Command-line arg: rpcbind=\"127.0.0.1\"",
            ]
        );
        assert_eq!(
            line("Config file arg:", "regtest", "server", Some("1")),
            "Config file arg: [regtest] server=\"1\""
        );
        assert_eq!(line("Config file arg:", "", "regtest", Some("1")), "Config file arg: regtest=\"1\"");
    }
}
