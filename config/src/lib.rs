//! Command-line options and the config file of the `mpx` programs, parsed
//! and validated into one [`Config`].
//!
//! **For:** turning `mpx-node -regtest -rpcport=18500 -debug=rpc` (Bitcoin
//! Core's single-dash style) plus `<datadir>/bitcoin.conf` (Core's format and
//! rules, `includeconf` included) and `<datadir>/node.toml` into a checked
//! [`Config`], or into one clear error line (Core's words where Core has
//! them). **Not for:** anything the options are used for. This crate knows
//! nothing of nodes, wallets or IPC, and reads no file but the config files
//! (it creates none either).
//!
//! Two layers, as in ripgrep:
//! 1. *Raw options*: clap parses the arguments after a small rewrite of
//!    Bitcoin-style tokens (`-name=value`, `-noname`) into clap's long
//!    options. The config files are turned into more such tokens, placed
//!    before the command line's, so the command line wins; within a file
//!    the `[regtest]` section wins over the top level (bitcoin.conf: with
//!    Core's first-value-wins and network-only rules). An option may be set
//!    in bitcoin.conf or node.toml, not both.
//!    List options (`-wallet`, `-debug`, `-ipcbind`) accumulate across
//!    file and command line; `-noX` clears what came before it.
//! 2. *Validated configuration*: [`Config`], with defaults filled in, paths
//!    resolved and cross-option rules checked (one chain, `-rpcuser` with
//!    `-rpcpassword`).
//!
//! Each [`Program`] takes its own subset of the options; an option another
//! program takes is unknown to it on the command line and skipped in the
//! shared config file.
//!
//! ```
//! use config::{Action, Chain, Program};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let datadir = format!("-datadir={}", dir.path().display());
//! let Action::Run(config) = config::parse(Program::Node, [&datadir, "-regtest", "-rpcport=18500"])? else {
//!     panic!("not a run");
//! };
//! assert_eq!(config.chain, Chain::Regtest);
//! assert_eq!(config.rpc_server.bind, ["[::1]:18500".parse()?, "127.0.0.1:18500".parse()?]);
//! assert_eq!(config.chain_datadir, dir.path().join("regtest"));
//!
//! let e = config::parse(Program::Node, [&datadir, "-rpcport=abc"]).unwrap_err();
//! assert_eq!(e.to_string(), "invalid value 'abc' for -rpcport: not a port number");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod arglog;
mod args;
mod conf;
mod config;
mod debug;
mod error;
mod file;
mod options;
mod policy;
mod rpc;
mod settings;
mod storage;
mod values;

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::{Format, Sources};
use crate::values::Setting;

pub use crate::conf::BITCOIN_CONFIG_FILE;
pub use crate::config::{
    Chain, Config, RpcAuth, COOKIE_FILE, DEFAULT_CONFIG_FILE, DEFAULT_DATADIR_NAME, DEFAULT_PID_FILE,
};
pub use crate::debug::{DebugCategories, DebugCategory, LogLevel, UnknownCategory};
pub use crate::error::Error;
pub use crate::policy::{MempoolPolicy, DEFAULT_CLUSTER_SIZE_KVB, MAX_CLUSTER_COUNT};
pub use crate::rpc::{
    RpcAuthHash, RpcServerSettings, RpcWhitelist, Subnet, DEFAULT_RPC_SERVER_TIMEOUT_SECS,
    DEFAULT_RPC_THREADS, DEFAULT_RPC_WORK_QUEUE,
};
pub use crate::settings::{
    format_subversion, LogSettings, MempoolSettings, Notify, P2pSettings, WalletOptions,
    DEFAULT_DEBUG_LOG_FILE, P2P_NOT_APPLIED, USER_AGENT_NAME,
};
pub use crate::storage::StorageSettings;

/// The executables that parse options here; each takes its own subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Program {
    /// `mpx-node`, the daemon: every option but the cli's.
    Node,
    /// `mpx-cli`, the RPC client: `-datadir`, `-conf`, `-regtest`/`-chain`,
    /// `-rpcconnect`, `-rpcport`, `-rpcuser`, `-rpcpassword`, `-rpcwait`,
    /// `-rpcwallet`, then the method and its params.
    Cli,
    /// `mpx-wallet`, the wallet process: `-datadir`, `-conf`,
    /// `-regtest`/`-chain`, `-wallet`, `-debug`, `-printtoconsole`,
    /// `-ipcconnect`, `-ipcfd`, then an offline command (`create`, `info`).
    Wallet,
    /// `mpx-gui`, the terminal gui: the node's options (it runs or spawns a
    /// node) but `-daemon` and `-printtoconsole` (a full-screen terminal ui
    /// can do neither), plus `-ipcconnect` (join a running node instead).
    Gui,
}

impl Program {
    /// Every program.
    pub const ALL: [Program; 4] = [Program::Node, Program::Cli, Program::Wallet, Program::Gui];

    /// The executable's name, e.g. `mpx-node`.
    pub fn executable(self) -> &'static str {
        match self {
            Program::Node => "mpx-node",
            Program::Cli => "mpx-cli",
            Program::Wallet => "mpx-wallet",
            Program::Gui => "mpx-gui",
        }
    }

    /// The program whose executable is `name` (a bare name or a path).
    pub fn from_executable(name: &str) -> Option<Program> {
        let name = std::path::Path::new(name).file_name()?.to_str()?;
        Program::ALL.into_iter().find(|program| program.executable() == name)
    }

    /// The `-help` text: usage, then every option the program takes with
    /// its default.
    pub fn help(self) -> String {
        options::help(self)
    }

    pub(crate) fn takes_args(self) -> bool {
        matches!(self, Program::Cli | Program::Wallet)
    }

    pub(crate) fn usage(self) -> &'static str {
        match self {
            Program::Node => "[options]",
            Program::Cli => "[options] <method> [params]",
            Program::Wallet => "[options] [create|info]",
            Program::Gui => "[options]",
        }
    }
}

/// The `-help` text of the executable `program` (e.g. `mpx-node`,
/// `mpx-cli`): every option it takes, with its default. A name that is not
/// one of [`Program`]'s gets the node's text, which lists the most options.
pub fn help_text(program: &str) -> String {
    Program::from_executable(program).unwrap_or(Program::Node).help()
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run with this configuration.
    Run(Box<Config>),
    /// Print this help text (`-help`, `-h`, `-?`) and exit successfully.
    Help(String),
    /// Print the version (`-version`) and exit successfully.
    Version,
}

/// Parses `args` (without the program name, e.g.
/// `std::env::args_os().skip(1)`) for `program`, reading the config file,
/// with the default datadir under `$HOME`.
pub fn parse<I, S>(program: Program, args: I) -> Result<Action, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    parse_with_home(program, args, std::env::var_os("HOME").map(PathBuf::from))
}

/// [`parse`] with the home directory given instead of read from `HOME`
/// (`None`: unset, an error unless `-datadir` is given).
pub fn parse_with_home<I, S>(program: Program, args: I, home: Option<PathBuf>) -> Result<Action, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args = args
        .into_iter()
        .map(|arg| {
            arg.into().into_string().map_err(|arg| Error::NotUnicode(arg.to_string_lossy().into_owned()))
        })
        .collect::<Result<Vec<String>, Error>>()?;
    let command = options::command(program);

    // The command line alone first: -help, -version, and where the file is.
    let cli_tokens = args::map_command_line(program, &args)?;
    let cli = command.clone().try_get_matches_from(&cli_tokens).map_err(Error::from_clap)?;
    if config::flag(&cli, "help") {
        return Ok(Action::Help(program.help()));
    }
    if config::flag(&cli, "version") {
        return Ok(Action::Version);
    }
    let datadir = config::datadir(&cli, home.as_deref())?;

    // Core takes only -noincludeconf from the command line.
    let include_settings = config::list_settings::<PathBuf>(&cli, "includeconf");
    if let Some(Setting::Value(path)) = include_settings.iter().find(|s| matches!(s, Setting::Value(_))) {
        // Core shows the value as JSON: a string quoted, a double negative's `true` bare.
        let first_given = args.iter().find(|a| {
            let body = a.trim_start_matches('-');
            body.starts_with("includeconf")
                || (body.starts_with("noincludeconf=")
                    && !args::double_negatives(program, &[(*a).clone()]).is_empty())
        });
        let shown = match first_given {
            Some(a) if a.trim_start_matches('-').starts_with("no") => "true".to_string(),
            _ => format!("{:?}", path.display().to_string()),
        };
        return Err(Error::Core(format!(
            "Error parsing command line arguments: -includeconf cannot be used from commandline; -includeconf={shown}"
        )));
    }

    let mut sources = Sources::default();
    sources.warnings.extend(args::double_negatives(program, &args));
    let mut tokens = Vec::new();
    let mut top_level_only = Vec::new();
    let mut conf_keys: Option<(PathBuf, Vec<String>)> = None;
    let mut toml_keys: Option<(PathBuf, Vec<String>)> = None;
    let files = config::config_files(&cli, &datadir);
    for (path, format, required) in &files {
        let file_tokens = match format {
            Format::BitcoinConf => {
                let Some(conf) = conf::read(path, *required, &datadir, include_settings.is_empty())? else {
                    continue;
                };
                let resolved = conf.resolve(program).map_err(|e| e.in_file(path))?;
                top_level_only.extend(resolved.top_level_only);
                sources.warnings.extend(conf.warnings.iter().cloned().chain(conf.section_warnings()));
                sources.console_warnings.extend(conf.console_warnings.iter().cloned());
                sources.notes.extend(conf.notes.iter().cloned());
                sources.arg_lines.extend(conf.arg_lines());
                sources.config_files.extend(conf.files.iter().cloned());
                conf_keys = Some((path.clone(), conf.option_names()));
                resolved.tokens
            }
            Format::Toml => {
                let Some(table) = file::load(path, *required)? else { continue };
                sources.config_files.push(path.clone());
                toml_keys = Some((path.clone(), file::option_names(&table)));
                file::tokens(&table, program).map_err(|e| e.in_file(path))?
            }
        };
        // Checked on their own, so an error names the file.
        let mapped = args::map_options(program, &file_tokens).map_err(|e| e.in_file(path))?;
        command.clone().try_get_matches_from(&mapped).map_err(|e| Error::from_clap(e).in_file(path))?;
        tokens.extend(mapped);
    }
    // One option, one file: a careful reader must not have to know which file wins.
    if let (Some((conf, conf_keys)), Some((toml, toml_keys))) = (&conf_keys, &toml_keys) {
        if let Some(option) = conf_keys.iter().find(|key| toml_keys.contains(key)) {
            return Err(Error::SetInBothFiles {
                option: option.clone(),
                conf: conf.clone(),
                toml: toml.clone(),
            });
        }
    }
    ignored_bitcoin_conf(&cli, &datadir, &files, &mut sources, &tokens)?;

    // Core's rule for network-only options set at the top level of bitcoin.conf only: an error
    // unless the command line sets them.
    let errors: Vec<String> = top_level_only
        .iter()
        .filter(|name| !cli_sets(&cli_tokens, name))
        .map(|name| {
            format!("Config setting for -{name} only applied on regtest network when in [regtest] section.")
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::Core(errors.join("\n")));
    }
    // The files only supply more arguments, in front of the command line's (a later value wins);
    // list options take Core's order instead.
    let tokens = merge_lists(tokens, cli_tokens);
    let matches = command.try_get_matches_from(&tokens).map_err(Error::from_clap)?;
    sources.options_given = tokens.iter().map(|token| shown(token)).collect();
    sources.arg_lines.extend(arglog::command_line(&args));
    Config::from_matches(program, &matches, datadir, sources).map(|config| Action::Run(Box::new(config)))
}

/// Joins the files' (mapped) tokens and the command line's. A single-value option keeps the
/// last one given, so the files' come first. A list option follows Core's `GetArgs` order: the
/// command line's values first, then the files' (already in Core's order: `[regtest]` before the
/// top level); a negation on the command line drops the files' values, and a negation in a file
/// drops only what comes after it in Core's order (the file's values before it).
fn merge_lists(file_tokens: Vec<String>, cli_tokens: Vec<String>) -> Vec<String> {
    let name_of = |token: &str| -> Option<&'static options::OptionDef> {
        let body = token.strip_prefix("--")?;
        let name = body.split_once('=').map_or(body, |(name, _)| name);
        options::find(name).filter(|def| def.shape == options::Shape::List)
    };
    let split = cli_tokens.iter().position(|t| t == "--").unwrap_or(cli_tokens.len());
    let (cli_options, positional) = cli_tokens.split_at(split);
    let negated = |token: &String| token.ends_with(values::NEGATED);
    let mut out: Vec<String> = file_tokens.iter().filter(|t| name_of(t).is_none()).cloned().collect();
    let mut done: Vec<&str> = Vec::new();
    for token in file_tokens.iter().chain(cli_options) {
        let Some(def) = name_of(token) else { continue };
        if done.contains(&def.name) {
            continue;
        }
        done.push(def.name);
        let ours = |tokens: &[String]| -> Vec<String> {
            tokens.iter().filter(|t| name_of(t).is_some_and(|d| d.name == def.name)).cloned().collect()
        };
        let cli = ours(cli_options);
        out.extend(cli.iter().cloned());
        if !cli.iter().any(negated) {
            let file = ours(&file_tokens);
            if cli.is_empty() {
                out.extend(file);
            } else {
                let start = file.iter().rposition(negated).map_or(0, |i| i + 1);
                out.extend(file[start..].iter().cloned());
            }
        }
    }
    out.extend(cli_options.iter().filter(|t| name_of(t).is_none()).cloned());
    out.extend(positional.iter().cloned());
    out
}

/// Whether the command line's (mapped) tokens give `name` a value after its last negation.
fn cli_sets(cli_tokens: &[String], name: &str) -> bool {
    let option = format!("--{name}");
    cli_tokens
        .iter()
        .rfind(|t| **t == option || t.strip_prefix(option.as_str()).is_some_and(|rest| rest.starts_with('=')))
        .is_some_and(|last| !last.ends_with(values::NEGATED))
}

/// A clap token shown as the user would write it: `-name=value`, `-name`, `-noname`; secrets
/// (`-rpcpassword`, `-rpcauth`) as `****`, as Core's log of its arguments shows them.
fn shown(token: &str) -> String {
    let body = token.trim_start_matches('-');
    match body.split_once('=') {
        Some((name, v)) if v == values::NEGATED => format!("-no{name}"),
        Some((name, _)) if arglog::is_sensitive(name) => format!("-{name}=****"),
        _ => format!("-{body}"),
    }
}

/// Core refuses to start when `-conf` names another file while `<datadir>/bitcoin.conf` exists
/// (it would be silently ignored), unless `-allowignoredconf`: then it is a warning.
fn ignored_bitcoin_conf(
    cli: &clap::ArgMatches,
    datadir: &std::path::Path,
    files: &[(PathBuf, config::Format, bool)],
    sources: &mut Sources,
    file_tokens: &[String],
) -> Result<(), Error> {
    let Some(Setting::Value(conf)) = config::setting::<PathBuf>(cli, "conf") else { return Ok(()) };
    let base = datadir.join(BITCOIN_CONFIG_FILE);
    let Some((used, _, _)) = files.first() else { return Ok(()) };
    let same = match (std::fs::canonicalize(&base), std::fs::canonicalize(used)) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), _) => return Ok(()),
        _ => false,
    };
    if same {
        return Ok(());
    }
    let quoted = |p: &std::path::Path| format!("{:?}", p.display().to_string());
    let mut message = format!(
        "Data directory {dir} contains a \"{name}\" file which is ignored, because a different configuration file \
         {used} from command line argument \"-conf={conf}\" is being used instead. Possible ways to address this \
         would be to:\n- Delete or rename the \"{name}\" file in data directory {dir}.\n- Change datadir= or conf= \
         options to specify one configuration file, not two, and use includeconf= to include any other \
         configuration files.",
        dir = quoted(datadir),
        name = BITCOIN_CONFIG_FILE,
        used = quoted(used),
        conf = conf.display(),
    );
    let allowed = |tokens: &mut dyn Iterator<Item = &String>| {
        tokens.fold(false, |allowed, token| match token.as_str() {
            "--allowignoredconf" | "--allowignoredconf=1" | "--allowignoredconf=true" => true,
            t if t.starts_with("--allowignoredconf=") => false,
            _ => allowed,
        })
    };
    let cli_allows = match config::setting::<bool>(cli, "allowignoredconf") {
        Some(Setting::Value(allowed)) => Some(allowed),
        Some(Setting::Negated) => Some(false),
        None => None,
    };
    if cli_allows.unwrap_or_else(|| allowed(&mut file_tokens.iter())) {
        sources.warnings.push(message);
        return Ok(());
    }
    message.push_str("\n- Set allowignoredconf=1 option to treat this condition as a warning, not an error.");
    Err(Error::Core(message))
}
