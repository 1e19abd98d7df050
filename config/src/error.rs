//! The one error type of this crate: every variant renders as one line that
//! names the option (or config-file key) and the problem, ready for a binary
//! to print as `Error: {e}`.

use std::path::PathBuf;

/// Why the command line or the config file was rejected.
///
/// The `Display` form is a single line without the `Error: ` prefix, for
/// example `invalid value 'abc' for -rpcport: not a port number`. It already
/// contains everything worth saying: no variant has an error `source`, so
/// printing an error chain does not repeat text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option this program does not know, e.g. `-foo` (or `-nofoo`), as given on the command
    /// line; worded as bitcoind words it.
    #[error("Error parsing command line arguments: Invalid parameter {0}")]
    UnknownOption(String),
    /// A problem Bitcoin Core reports with its own words (a `bitcoin.conf` syntax error, an
    /// unsupported logging category, an invalid amount, ...): the message is Core's.
    #[error("{0}")]
    Core(String),
    /// The same option set in both `bitcoin.conf` and `node.toml`.
    #[error("option -{option} is set in both {conf} and {toml}; set it in one of them")]
    SetInBothFiles {
        /// The option's name.
        option: String,
        /// The bitcoin.conf-format file.
        conf: PathBuf,
        /// The TOML file.
        toml: PathBuf,
    },
    /// An option was given a value its parser rejects.
    #[error("invalid value '{value}' for -{option}: {reason}")]
    InvalidValue {
        /// The option's name without dashes, e.g. `rpcport`.
        option: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option that needs a value was given without one, e.g. `-rpcport`.
    #[error("Error parsing command line arguments: Can not set -{0} with no value. Please specify value with -{0}=value.")]
    MissingValue(String),
    /// `-no<option>` for an option that has no "off" or "unset" meaning.
    #[error("option -{0} cannot be negated")]
    NotNegatable(String),
    /// A positional argument where the program takes none.
    #[error("unexpected argument '{0}' (options start with '-')")]
    UnexpectedArgument(String),
    /// An option that is only valid together with another one.
    #[error("-{option} requires -{requires}")]
    Requires {
        /// The option that was given.
        option: String,
        /// The option that is missing.
        requires: String,
    },
    /// A chain other than regtest was selected. The string says how, e.g.
    /// `-chain=main` or `-noregtest`.
    #[error("only -regtest is supported; got {0}")]
    UnsupportedChain(String),
    /// `-regtest` (or `-noregtest`) and `-chain=<name>` disagree.
    #[error("-{regtest} conflicts with -chain={chain}; use only one of them")]
    ConflictingChain {
        /// `regtest` or `noregtest`, as it was set.
        regtest: String,
        /// The value of `-chain`.
        chain: String,
    },
    /// No `-datadir` was given and `HOME` is not set to find the default.
    #[error("cannot find the default data directory: HOME is not set (use -datadir=<dir>)")]
    NoHome,
    /// A command-line argument is not valid UTF-8.
    #[error("argument '{0}' is not valid UTF-8")]
    NotUnicode(String),
    /// The config file could not be read (an explicit `-conf` file that does
    /// not exist, or any other I/O error).
    #[error("cannot read config file {path}: {error}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line number, on one line.
        message: String,
    },
    /// A config-file key that is not an option of any program.
    #[error("unknown key '{0}'")]
    UnknownKey(String),
    /// A config-file key that names a command-line-only option.
    #[error("option '{0}' cannot be set in a config file")]
    NotInFile(String),
    /// A config-file value of a type the key does not take.
    #[error("invalid value for key '{key}': {reason}")]
    InvalidKeyValue {
        /// The key.
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// An error in the config file: the inner error, prefixed with the file.
    #[error("config file {path}: {error}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        error: Box<Error>,
    },
    /// Anything else clap reports, as clap's first line.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn in_file(self, path: &std::path::Path) -> Error {
        match self {
            // Already names the file.
            e @ (Error::ReadFile { .. } | Error::Toml { .. } | Error::InFile { .. } | Error::Core(_)) => e,
            e => Error::InFile { path: path.to_path_buf(), error: Box::new(e) },
        }
    }

    pub(crate) fn invalid(option: &str, value: &str, reason: impl Into<String>) -> Error {
        Error::InvalidValue { option: option.to_string(), value: value.to_string(), reason: reason.into() }
    }

    /// Converts a clap error into ours. The option is recovered from clap's
    /// rendering of the argument (`--rpcport=<port>`) and the reason from the
    /// value parser's own error.
    pub(crate) fn from_clap(err: clap::Error) -> Error {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let context = |kind| match err.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(v)) => v.first().cloned(),
            _ => None,
        };
        let option = context(ContextKind::InvalidArg).map(|arg| {
            let arg = arg.trim_start_matches('-');
            arg.split(['=', ' ', '[', '<']).next().unwrap_or(arg).to_string()
        });
        match (err.kind(), option) {
            (ErrorKind::ValueValidation | ErrorKind::InvalidValue, Some(option)) => {
                let value = context(ContextKind::InvalidValue).unwrap_or_default();
                let reason = std::error::Error::source(&err)
                    .map(|source| source.to_string())
                    .unwrap_or_else(|| "not accepted".to_string());
                Error::InvalidValue { option, value, reason }
            }
            (
                ErrorKind::NoEquals | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues,
                Some(option),
            ) => Error::MissingValue(option),
            (ErrorKind::UnknownArgument, Some(option)) => Error::UnknownOption(format!("-{option}")),
            _ => {
                let text = err.to_string();
                let line = text.lines().next().unwrap_or_default();
                Error::Other(line.trim_start_matches("error: ").to_string())
            }
        }
    }
}
