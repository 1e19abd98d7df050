//! `bitcoin.conf`: Bitcoin Core's config file format and rules, turned into option tokens.
//!
//! The format: one `key=value` per line; `#` starts a comment; spaces and tabs around keys and
//! values are trimmed; `[section]` puts the keys after it into that network's section, as does a
//! `section.key=value` line; `nokey=1` negates. A line starting with `-`, or without `=`, is an
//! error, as is `conf=` (the file cannot name another config file: `includeconf=` includes one).
//!
//! How values combine follows Core's settings merge, for the regtest network:
//!
//! - the `[regtest]` section wins over the top level; other sections (`[main]`, `[test]`,
//!   `[signet]`, `[testnet4]`) are ignored; any other section name is warned about;
//! - within the file the **first** value of a single-valued option counts (Core's historical
//!   rule, the opposite of the command line), after the last `noX` if there is one;
//! - repeatable options take the section's values, then the top level's, unless the section
//!   negated them;
//! - *network-only* options (`port`, `bind`, `connect`, `rpcport`, `rpcbind`, `wallet`) are
//!   ignored at the top level on any chain but main; set only there (and not on the command line)
//!   they make the start fail, with Core's message (see [`Resolved::top_level_only`]);
//! - a key no program knows is ignored with the warning `Ignoring unknown configuration value
//!   <key>` (bitcoind reads its file with unknown keys allowed).
//!
//! `includeconf=<file>` (top level or `[regtest]`, relative to the datadir) reads more files
//! in this format after the main one; an included file's own `includeconf` is ignored with a
//! warning, as in Core. `-noincludeconf` on the command line reads none.
//!
//! The result is one token per option (or a `-noX` and the values of a list), which go in front
//! of the command line's tokens: so the command line wins, as in Core.

use std::path::{Path, PathBuf};

use crate::args::interpret_bool;
use crate::error::Error;
use crate::options::{self, Shape};
use crate::Program;

/// The config file bitcoind reads from the data directory.
pub const BITCOIN_CONFIG_FILE: &str = "bitcoin.conf";

/// The network sections Core recognises; only `regtest` applies here.
const KNOWN_SECTIONS: [&str; 5] = ["regtest", "signet", "test", "testnet4", "main"];

/// The section this node reads (the only chain it runs).
const NETWORK: &str = "regtest";

/// Core's `NETWORK_ONLY` options among ours: outside main, a top-level value is ignored.
const NETWORK_ONLY: [&str; 6] = ["bind", "connect", "port", "rpcbind", "rpcport", "wallet"];

/// Options that select the chain: read from the top level only, the last value counting.
const CHAIN_OPTIONS: [&str; 5] = ["regtest", "chain", "testnet", "testnet4", "signet"];

/// One `key=value` of a file, interpreted.
#[derive(Debug, Clone)]
struct Entry {
    /// `""` for the top level.
    section: String,
    /// The option's name, without `no`.
    name: String,
    /// `None` for a negation (`noX=1`).
    value: Option<String>,
}

/// A section header (or a `section.key` line), for the unrecognised-section warning.
#[derive(Debug)]
struct SectionInfo {
    name: String,
    file: String,
    line: usize,
}

/// The files read and what they set.
#[derive(Debug, Default)]
pub(crate) struct ConfFile {
    entries: Vec<Entry>,
    sections: Vec<SectionInfo>,
    /// Every file read: the main one, then the included ones.
    pub(crate) files: Vec<PathBuf>,
    /// Core's warnings, for the log.
    pub(crate) warnings: Vec<String>,
    /// Core's warnings that bitcoind writes to stderr while reading its files.
    pub(crate) console_warnings: Vec<String>,
    /// What Core logs as information (`Included configuration file <name>`).
    pub(crate) notes: Vec<String>,
}

/// A read file's tokens for one program.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// `-name=value`, `-name` or `-noname` tokens, in order of first appearance.
    pub(crate) tokens: Vec<String>,
    /// Network-only options set only at the top level (Core refuses to start unless the command
    /// line sets them).
    pub(crate) top_level_only: Vec<&'static str>,
}

fn reading(message: String) -> Error {
    Error::Core(format!("Error reading configuration file: {message}"))
}

/// Reads `path` and the files it includes. `Ok(None)` when it does not exist and is not
/// `required`. `include` is false under `-noincludeconf`.
pub(crate) fn read(
    path: &Path,
    required: bool,
    datadir: &Path,
    include: bool,
) -> Result<Option<ConfFile>, Error> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(reading(format!("Config file \"{shown}\" is a directory.")));
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) if !required => return Ok(None),
        Err(_) => return Err(reading(format!("specified config file \"{shown}\" could not be opened."))),
    };
    let mut conf = ConfFile { files: vec![path.to_path_buf()], ..ConfFile::default() };
    conf.parse(&text, &shown)?;
    if !include {
        return Ok(Some(conf));
    }
    // The network section's includes first, then the top level's (Core's order).
    let includes: Vec<String> =
        [NETWORK, ""].iter().flat_map(|section| conf.list_values(section, "includeconf")).collect();
    let main_entries = conf.entries.len();
    for name in &includes {
        let include_path = datadir.join(name);
        if include_path.is_dir() {
            return Err(reading(format!(
                "Included config file \"{}\" is a directory.",
                include_path.display()
            )));
        }
        let bytes = std::fs::read(&include_path)
            .map_err(|_| reading(format!("Failed to include configuration file {name}")))?;
        conf.parse(&String::from_utf8_lossy(&bytes), name)?;
        conf.files.push(include_path);
        conf.notes.push(format!("Included configuration file {name}"));
    }
    // Includes are read from the main file only.
    let nested: Vec<String> = conf.entries[main_entries..]
        .iter()
        .filter(|e| e.name == "includeconf" && (e.section.is_empty() || e.section == NETWORK))
        .filter_map(|e| e.value.clone())
        .collect();
    for name in nested {
        conf.console_warnings
            .push(format!("-includeconf cannot be used from included files; ignoring -includeconf={name}"));
    }
    Ok(Some(conf))
}

impl ConfFile {
    /// Core's line rules; `file` names the file in section warnings.
    fn parse(&mut self, text: &str, file: &str) -> Result<(), Error> {
        let mut prefix = String::new();
        for (index, line) in text.split('\n').enumerate() {
            let number = index + 1;
            let (line, used_hash) = match line.find('#') {
                Some(hash) => (&line[..hash], true),
                None => (line, false),
            };
            let line = trim(line);
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') && line.len() >= 2 {
                let section = &line[1..line.len() - 1];
                self.sections.push(SectionInfo {
                    name: section.to_string(),
                    file: file.to_string(),
                    line: number,
                });
                prefix = format!("{section}.");
            } else if line.starts_with('-') {
                return Err(reading(format!(
                    "parse error on line {number}: {line}, options in configuration file must be specified without leading -"
                )));
            } else if let Some((key, value)) = line.split_once('=') {
                let key = format!("{prefix}{}", trim(key));
                if used_hash && key.contains("rpcpassword") {
                    return Err(reading(format!(
                        "parse error on line {number}, using # in rpcpassword can be ambiguous and should be avoided"
                    )));
                }
                if let Some(dot) = key.rfind('.').filter(|dot| *dot >= prefix.len()) {
                    let name = key[..dot].to_string();
                    self.sections.push(SectionInfo { name, file: file.to_string(), line: number });
                }
                self.interpret(&key, trim(value))?;
            } else {
                let mut message = format!("parse error on line {number}: {line}");
                if line.len() >= 2 && line.starts_with("no") {
                    message.push_str(&format!(
                        ", if you intended to specify a negated option, use {line}=1 instead"
                    ));
                }
                return Err(reading(message));
            }
        }
        Ok(())
    }

    /// Core's `InterpretKey` and `InterpretValue` for one `key=value`.
    fn interpret(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let (section, name) = match key.split_once('.') {
            Some((section, name)) => (section, name),
            None => ("", key),
        };
        let (name, negated) = match name.strip_prefix("no") {
            Some(rest) => (rest, true),
            None => (name, false),
        };
        if name == "conf" {
            return Err(reading(
                "conf cannot be set in the configuration file; use includeconf= if you want to include additional \
                 config files"
                    .to_string(),
            ));
        }
        let Some(def) = options::find(name) else {
            self.warnings.push(format!("Ignoring unknown configuration value {key}"));
            return Ok(());
        };
        if name == "reindex" {
            self.warnings.push(
                "reindex=1 is set in the configuration file, which will significantly slow down startup. Consider \
                 removing or commenting out this option for better performance, unless there is currently a \
                 condition which makes rebuilding the indexes necessary"
                    .to_string(),
            );
        }
        let value = if !negated {
            Some(value.to_string())
        } else if !def.negatable {
            return Err(reading(format!("Negating of -{name} is meaningless and therefore forbidden")));
        } else if !interpret_bool(value) {
            self.warnings.push(format!("Parsed potentially confusing double-negative -{name}={value}"));
            Some("1".to_string())
        } else {
            None
        };
        self.entries.push(Entry { section: section.to_string(), name: name.to_string(), value });
        Ok(())
    }

    fn values<'a>(
        &'a self,
        section: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Option<String>> + 'a {
        self.entries.iter().filter(move |e| e.section == section && e.name == name).map(|e| &e.value)
    }

    /// Core's `Config file arg: ...` start-up lines, the top level's first, then each section's.
    pub(crate) fn arg_lines(&self) -> Vec<String> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| !e.section.is_empty());
        entries
            .into_iter()
            .map(|e| crate::arglog::line("Config file arg:", &e.section, &e.name, e.value.as_deref()))
            .collect()
    }

    /// A list option's values in `section` after its last negation.
    fn list_values(&self, section: &str, name: &str) -> Vec<String> {
        let all: Vec<&Option<String>> = self.values(section, name).collect();
        let start = all.iter().rposition(|v| v.is_none()).map_or(0, |i| i + 1);
        all[start..].iter().filter_map(|v| (*v).clone()).collect()
    }

    /// The options this file sets for the regtest network (top level or `[regtest]`).
    pub(crate) fn option_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for e in &self.entries {
            if (e.section.is_empty() || e.section == NETWORK)
                && e.name != "includeconf"
                && !names.contains(&e.name)
            {
                names.push(e.name.clone());
            }
        }
        names
    }

    /// Warnings about section names Core does not know.
    pub(crate) fn section_warnings(&self) -> Vec<String> {
        self.sections
            .iter()
            .filter(|s| !KNOWN_SECTIONS.contains(&s.name.as_str()))
            .map(|s| format!("{}:{} Section [{}] is not recognized.", s.file, s.line, s.name))
            .collect()
    }

    /// The tokens for `program`: for each option, the value Core's merge gives.
    pub(crate) fn resolve(&self, program: Program) -> Result<Resolved, Error> {
        let mut out = Resolved::default();
        let mut seen: Vec<&str> = Vec::new();
        for entry in &self.entries {
            let name = entry.name.as_str();
            if seen.contains(&name) || name == "includeconf" {
                continue;
            }
            seen.push(name);
            let Some(def) = options::find(name) else { continue };
            if !def.in_file {
                return Err(Error::NotInFile(name.to_string()));
            }
            let network: Vec<&Option<String>> = self.values(NETWORK, name).collect();
            let top: Vec<&Option<String>> = self.values("", name).collect();
            let network_only = NETWORK_ONLY.contains(&name);
            if network_only
                && program == Program::Node
                && def.is_for(program)
                && span(&top).is_some_and(|s| !s.is_empty())
                && span(&network).is_none_or(<[_]>::is_empty)
            {
                out.top_level_only.push(def.name);
            }
            let tokens = if CHAIN_OPTIONS.contains(&name) {
                // Core selects the chain from the top level alone, the last value winning.
                top.last().map(|v| vec![token(name, def.shape, v)]).unwrap_or_default()
            } else if def.shape == Shape::List {
                list_tokens(name, &network, &top, !network_only)
            } else {
                let last_negated = |values: &[&Option<String>]| values.last().is_some_and(|v| v.is_none());
                let use_top = !network_only || last_negated(&top);
                first_value(&network)
                    .or_else(|| if use_top { first_value(&top) } else { None })
                    .map(|v| vec![token(name, def.shape, v)])
                    .unwrap_or_default()
            };
            if def.is_for(program) {
                out.tokens.extend(tokens);
            }
        }
        Ok(out)
    }
}

/// The values after the last negation, or `None` when there are no values at all.
fn span<'a>(values: &'a [&'a Option<String>]) -> Option<&'a [&'a Option<String>]> {
    if values.is_empty() {
        return None;
    }
    let start = values.iter().rposition(|v| v.is_none()).map_or(0, |i| i + 1);
    Some(&values[start..])
}

/// Core's `GetSetting` on one section of a file: the first value after the last negation, a
/// negation if the section ends with one, nothing if the section does not set it.
fn first_value<'a>(values: &'a [&'a Option<String>]) -> Option<&'a Option<String>> {
    match span(values)? {
        [first, ..] => Some(*first),
        [] => Some(&None),
    }
}

/// Core's `GetSettingsList` on the file: the section's values, then the top level's unless the
/// section negated the option (or the option is network-only).
fn list_tokens(
    name: &str,
    network: &[&Option<String>],
    top: &[&Option<String>],
    use_top: bool,
) -> Vec<String> {
    let network_negated = network.iter().any(|v| v.is_none());
    let use_top = use_top && !network_negated;
    let negated = network_negated || (use_top && top.iter().any(|v| v.is_none()));
    let mut tokens = Vec::new();
    if negated {
        tokens.push(format!("-no{name}"));
    }
    let mut add = |values: &[&Option<String>]| {
        if let Some(span) = span(values) {
            tokens.extend(span.iter().filter_map(|v| v.as_ref()).map(|v| format!("-{name}={v}")));
        }
    };
    add(network);
    if use_top {
        add(top);
    }
    tokens
}

fn token(name: &str, shape: Shape, value: &Option<String>) -> String {
    match value {
        None => format!("-no{name}"),
        Some(v) if v.is_empty() && shape == Shape::Flag => format!("-{name}"),
        Some(v) => format!("-{name}={v}"),
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expect` is the node's tokens joined by spaces (then ` | top-level-only: ...` and
    /// ` | warnings: ...` when there are any), or `Error: <message>`.
    fn check(text: &str, expect: &str) {
        let mut conf = ConfFile::default();
        let got = match conf.parse(text, "f").and_then(|()| conf.resolve(Program::Node)) {
            Ok(resolved) => {
                let mut got = resolved.tokens.join(" ");
                if !resolved.top_level_only.is_empty() {
                    got.push_str(&format!(" | top-level-only: {}", resolved.top_level_only.join(" ")));
                }
                let warnings: Vec<String> =
                    conf.warnings.iter().cloned().chain(conf.section_warnings()).collect();
                if !warnings.is_empty() {
                    got.push_str(&format!(" | warnings: {}", warnings.join("; ")));
                }
                got
            }
            Err(e) => format!("Error: {e}"),
        };
        assert_eq!(got, expect, "file:\n{text}");
    }

    #[test]
    fn lines() {
        check("", "");
        check("# comment\n\n   \t\r\n", "");
        check("  rpcthreads = 2  # two\r\n", "-rpcthreads=2");
        check("server=1\nprinttoconsole=0\nnodaemon=1", "-server=1 -printtoconsole=0 -nodaemon");
        check("daemon=", "-daemon");
        check("rpcpassword=a=b", "-rpcpassword=a=b");
        check(
            "\n-rpcport=1",
            "Error: Error reading configuration file: parse error on line 2: -rpcport=1, options in configuration \
             file must be specified without leading -",
        );
        check("server", "Error: Error reading configuration file: parse error on line 1: server");
        check(
            "noserver",
            "Error: Error reading configuration file: parse error on line 1: noserver, if you intended to specify a \
             negated option, use noserver=1 instead",
        );
        check(
            "rpcpassword=ab#c",
            "Error: Error reading configuration file: parse error on line 1, using # in rpcpassword can be ambiguous \
             and should be avoided",
        );
        check(
            "conf=other.conf",
            "Error: Error reading configuration file: conf cannot be set in the configuration file; use includeconf= \
             if you want to include additional config files",
        );
        check(
            "nochain=1",
            "Error: Error reading configuration file: Negating of -chain is meaningless and therefore forbidden",
        );
        check("datadir=/x", "Error: option 'datadir' cannot be set in a config file");
    }

    #[test]
    fn unknown_keys_are_ignored_with_a_warning() {
        check("foo=1\nserver=0", "-server=0 | warnings: Ignoring unknown configuration value foo");
        check("[regtest]\nbar=1", " | warnings: Ignoring unknown configuration value regtest.bar");
        check("nofoo=1", " | warnings: Ignoring unknown configuration value nofoo");
        // Another program's option is known: skipped without a word.
        check("rpcwait=1", "");
    }

    #[test]
    fn first_value_wins_in_the_file() {
        check("rpcthreads=2\nrpcthreads=3", "-rpcthreads=2");
        check("rpcthreads=2\nnorpcthreads=1", "Error: Error reading configuration file: Negating of -rpcthreads is meaningless and therefore forbidden");
        check("server=0\nnoserver=1\nserver=1\nserver=0", "-server=1");
        check("server=1\nnoserver=1", "-noserver");
        check("noserver=0", "-server=1 | warnings: Parsed potentially confusing double-negative -server=0");
    }

    #[test]
    fn sections() {
        check("rpcthreads=2\n[regtest]\nrpcthreads=3", "-rpcthreads=3");
        check("regtest.rpcthreads=3\nrpcthreads=2", "-rpcthreads=3");
        check("[main]\nrpcthreads=3\n[test]\nrpcthreads=4\n[signet]\nserver=0", "");
        check("[regtest]\nnoserver=1\n[main]\nserver=1", "-noserver");
        check("[foo]\nserver=1", " | warnings: f:1 Section [foo] is not recognized.");
        check("foo.server=1", " | warnings: f:1 Section [foo] is not recognized.");
        // The chain is chosen at the top level only, the last value counting.
        check("regtest=0\nregtest=1\n[regtest]\nchain=main", "-regtest=1");
    }

    #[test]
    fn lists() {
        check("debug=rpc\n[regtest]\ndebug=http", "-debug=http -debug=rpc");
        check("debug=rpc\n[regtest]\nnodebug=1\ndebug=http", "-nodebug -debug=http");
        check("debug=rpc\nnodebug=1\ndebug=http", "-nodebug -debug=http");
        check("uacomment=a\nuacomment=b", "-uacomment=a -uacomment=b");
    }

    #[test]
    fn network_only_options_need_the_section() {
        check("rpcport=1\nport=2\nserver=1", "-server=1 | top-level-only: rpcport port");
        check("rpcport=1\n[regtest]\nrpcport=2", "-rpcport=2");
        check("wallet=a\n[regtest]\nwallet=b", "-wallet=b");
        check("wallet=a", " | top-level-only: wallet");
        // Lists of them ignore the top level entirely, negations included.
        check("norpcbind=1", "");
        check("connect=0\n[regtest]\nbind=127.0.0.1", "-bind=127.0.0.1 | top-level-only: connect");
    }

    #[test]
    fn core_bool() {
        for (text, value) in
            [("1", true), ("0", false), ("", true), ("2", true), ("-1", true), ("x", false), ("10x", true)]
        {
            assert_eq!(interpret_bool(text), value, "{text:?}");
        }
    }
}
