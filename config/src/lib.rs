//! Command-line options and the config file of the `mpx` programs, parsed
//! and validated into one [`Config`].
//!
//! **For:** turning `mpx-node -regtest -rpcport=18500 -debug=rpc` (Bitcoin
//! Core's single-dash style) plus `<datadir>/node.toml` into a checked
//! [`Config`], or into one clear error line. **Not for:** anything the
//! options are used for. This crate knows nothing of nodes, wallets or IPC,
//! and reads no file but the config file (it creates none either).
//!
//! Two layers, as in ripgrep:
//! 1. *Raw options*: clap parses the arguments after a small rewrite of
//!    Bitcoin-style tokens (`-name=value`, `-noname`) into clap's long
//!    options. The config file is turned into more such tokens, placed
//!    before the command line's, so a later value wins: command line over
//!    the file's `[regtest]` section over its top level over defaults.
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

mod args;
mod config;
mod debug;
mod error;
mod file;
mod options;
mod rpc;
mod values;

use std::ffi::OsString;
use std::path::PathBuf;

pub use crate::config::{Chain, Config, RpcAuth, COOKIE_FILE, DEFAULT_CONFIG_FILE, DEFAULT_DATADIR_NAME};
pub use crate::debug::{DebugCategories, DebugCategory, UnknownCategory};
pub use crate::error::Error;
pub use crate::rpc::{
    RpcAuthHash, RpcServerSettings, Subnet, DEFAULT_RPC_SERVER_TIMEOUT_SECS, DEFAULT_RPC_THREADS,
    DEFAULT_RPC_WORK_QUEUE,
};

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
}

impl Program {
    /// Every program.
    pub const ALL: [Program; 3] = [Program::Node, Program::Cli, Program::Wallet];

    /// The executable's name, e.g. `mpx-node`.
    pub fn executable(self) -> &'static str {
        match self {
            Program::Node => "mpx-node",
            Program::Cli => "mpx-cli",
            Program::Wallet => "mpx-wallet",
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

    // The file's tokens, checked on their own so an error names the file.
    let mut tokens = Vec::new();
    let mut config_file = None;
    if let Some((path, required)) = config::config_file(&cli, &datadir) {
        if let Some(table) = file::load(&path, required)? {
            tokens = file::tokens(&table, program)
                .and_then(|tokens| args::map_options(program, &tokens))
                .map_err(|e| e.in_file(&path))?;
            command.clone().try_get_matches_from(&tokens).map_err(|e| Error::from_clap(e).in_file(&path))?;
            config_file = Some(path);
        }
    }

    // The file only supplies more arguments, in front of the command line's.
    tokens.extend(cli_tokens);
    let matches = command.try_get_matches_from(&tokens).map_err(Error::from_clap)?;
    Config::from_matches(program, &matches, datadir, config_file).map(|config| Action::Run(Box::new(config)))
}
