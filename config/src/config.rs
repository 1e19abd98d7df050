//! The second layer: clap's matches (command line and config file merged)
//! checked and resolved into the [`Config`] the rest of the program uses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::MatchesError;
use clap::ArgMatches;

use crate::debug::DebugCategories;
use crate::error::Error;
use crate::options::ARGS;
use crate::rpc::{
    RpcServerSettings, RpcWhitelist, Subnet, DEFAULT_RPC_SERVER_TIMEOUT_SECS, DEFAULT_RPC_THREADS,
    DEFAULT_RPC_WORK_QUEUE,
};
use crate::settings::{
    self, LogSettings, MempoolSettings, Notify, P2pSettings, WalletOptions, USER_AGENT_NAME,
};
use crate::values::Setting;
use crate::Program;

/// The TOML config file read when no `-conf` is given, relative to the datadir (beside
/// [`BITCOIN_CONFIG_FILE`](crate::BITCOIN_CONFIG_FILE)).
pub const DEFAULT_CONFIG_FILE: &str = "node.toml";

/// The data directory's name under `$HOME` when no `-datadir` is given.
pub const DEFAULT_DATADIR_NAME: &str = ".mpx";

/// The name of the RPC cookie file in the chain's data directory.
pub const COOKIE_FILE: &str = ".cookie";

/// The chain to run on. Only regtest is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Chain {
    /// Bitcoin's regression-test chain.
    #[default]
    Regtest,
}

impl Chain {
    /// The name used in `-chain=<name>` and as the chain's data directory.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Regtest => "regtest",
        }
    }

    /// The default JSON-RPC port (Bitcoin Core's for the chain).
    pub fn default_rpc_port(self) -> u16 {
        match self {
            Chain::Regtest => 18443,
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How JSON-RPC clients authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum RpcAuth {
    /// A random secret that the node writes to `path` at start (and removes
    /// at shutdown) and that clients read from there.
    Cookie {
        /// `<chain datadir>/.cookie`.
        path: PathBuf,
    },
    /// `-rpcuser` and `-rpcpassword`.
    UserPassword {
        /// The user name; contains no ':'.
        user: String,
        /// The password.
        password: String,
    },
}

/// Shows the password as `***`, so a `{:?}` of a [`Config`] is safe to log.
impl fmt::Debug for RpcAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcAuth::Cookie { path } => f.debug_struct("Cookie").field("path", path).finish(),
            RpcAuth::UserPassword { user, .. } => {
                f.debug_struct("UserPassword").field("user", user).field("password", &"***").finish()
            }
        }
    }
}

/// The node's pid file unless `-pid` names another (`-nopid`: none): bitcoind's name.
pub const DEFAULT_PID_FILE: &str = "bitcoind.pid";

/// The validated configuration of one program run: the command line over
/// the config file's `[regtest]` section over its top level over defaults.
///
/// Fields set only by options the program does not take hold their
/// defaults; derived fields still follow the options it does take (the
/// cli's `rpc_bind` follows `-rpcport`, for example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The program this was parsed for.
    pub program: Program,
    /// The chain (`-regtest`, `-chain`); always [`Chain::Regtest`].
    pub chain: Chain,
    /// The data directory (`-datadir`, default `$HOME/.mpx`), absolute.
    /// Not checked for existence: creating it is the program's business.
    pub datadir: PathBuf,
    /// `<datadir>/<chain>`, e.g. `<datadir>/regtest`: where the chain's
    /// data, logs, cookie and wallets live.
    pub chain_datadir: PathBuf,
    /// The first config file that was read, if any (`-conf`, default `<datadir>/bitcoin.conf`
    /// or else `<datadir>/node.toml` when they exist; `-noconf` reads none).
    pub config_file: Option<PathBuf>,
    /// Every config file read: `bitcoin.conf`, the files it includes, `node.toml`.
    pub config_files: Vec<PathBuf>,
    /// What reading the options found worth a warning (Core's `Ignoring unknown configuration
    /// value ...`, unknown sections, ...), for the program's log.
    pub warnings: Vec<String>,
    /// Warnings bitcoind writes to stderr (as `warning: <text>`) while reading its config files,
    /// besides the log: `-includeconf` in an included file.
    pub console_warnings: Vec<String>,
    /// What reading the options found worth an information line (`Included configuration file
    /// ...`), for the program's log.
    pub notes: Vec<String>,
    /// Core's start-up lines naming every option given: `Config file arg: [regtest] server="1"`,
    /// `Command-line arg: addnode="some.node"` (secrets as `****`), for the program's log.
    pub arg_lines: Vec<String>,
    /// Every option occurrence from the config files and the command line, as
    /// `-name=value`, `-name` or `-noname`, in the order they were applied.
    pub options_given: Vec<String>,
    /// The node's JSON-RPC server: where it listens (`-rpcbind` with
    /// `-rpcallowip`, `-rpcport`; default `[::1]:18443` and `127.0.0.1:18443`),
    /// whom it serves, `-rpcauth`, `-rpcthreads`, `-rpcworkqueue`,
    /// `-rpcservertimeout`.
    pub rpc_server: RpcServerSettings,
    /// Where the cli sends commands (`-rpcconnect`, `-rpcport`; default
    /// `127.0.0.1:18443`).
    pub rpc_connect: SocketAddr,
    /// JSON-RPC authentication (`-rpcuser` with `-rpcpassword`, else the
    /// cookie).
    pub rpc_auth: RpcAuth,
    /// Enabled debug-logging categories (`-debug` minus `-debugexclude`).
    pub debug: DebugCategories,
    /// How the log is written (`-debuglogfile`, `-loglevel`, `-logthreadnames`, ...).
    pub log: LogSettings,
    /// Whether the JSON-RPC server runs (`-server`, default on as in bitcoind).
    pub server: bool,
    /// `-rpcdoccheck` (accepted; this node's RPC help is not checked against documentation).
    pub rpc_doc_check: bool,
    /// Where the blocks are (`-blocksdir`) and what may happen to them (`-prune`, `-fastprune`,
    /// `-reindex-chainstate`).
    pub storage: crate::StorageSettings,
    /// The mempool's policy (`-permitbaremultisig`, `-limitclustercount`, `-limitclustersize`, ...).
    pub mempool_policy: crate::MempoolPolicy,
    /// Mempool policy options (`-maxmempool`, `-mempoolexpiry`, `-minrelaytxfee`,
    /// `-dustrelayfee`, `-persistmempool`).
    pub mempool: MempoolSettings,
    /// The wallet's options (`-fallbackfee`, `-keypool`, `-walletnotify`, `-unsafesqlitesync`).
    pub wallet_options: WalletOptions,
    /// Commands run on node events (`-blocknotify`, `-startupnotify`, `-shutdownnotify`).
    pub notify: Notify,
    /// The P2P options (validated; the node has no P2P network).
    pub p2p: P2pSettings,
    /// `-par` (accepted; scripts are verified on one thread here).
    pub par: i64,
    /// `-prevoutfetchthreads` (accepted; there are no prefetch threads here).
    pub prevout_fetch_threads: u64,
    /// `-txindex`.
    pub txindex: bool,
    /// `-mocktime`: the clock the node starts with (`None`: the real one).
    pub mock_time: Option<u32>,
    /// `-uacomment` values, checked as bitcoind checks them.
    pub ua_comments: Vec<String>,
    /// Whether to log to the console too (`-printtoconsole`).
    pub print_to_console: bool,
    /// Whether to detach into the background (`-daemon`).
    pub daemon: bool,
    /// The pid file (`-pid`), resolved against `chain_datadir`; `bitcoind.pid` by default (as
    /// bitcoind), none with `-nopid`.
    pub pid_file: Option<PathBuf>,
    /// Whether to rebuild the chain from the intact blocks on disk
    /// (`-reindex`).
    pub reindex: bool,
    /// Whether the node runs no wallets of its own (`-disablewallet`).
    pub disable_wallet: bool,
    /// Wallets to load at start (`-wallet`), in order, without duplicates.
    pub wallets: Vec<String>,
    /// IPC addresses to listen on (`-ipcbind`): `unix` or `unix:<path>`.
    pub ipc_bind: Vec<String>,
    /// IPC address to connect to (`-ipcconnect`): `unix`, `unix:<path>` or
    /// `auto`; `None` for `-noipcconnect` / `-ipcconnect=0` or by default.
    pub ipc_connect: Option<String>,
    /// Whether the cli waits for the RPC server (`-rpcwait`).
    pub rpc_wait: bool,
    /// The wallet the cli sends wallet methods to (`-rpcwallet`).
    pub rpc_wallet: Option<String>,
    /// The cli's positional arguments: the method, then its params. Empty
    /// for other programs.
    pub args: Vec<String>,
}

impl Config {
    /// `<chain datadir>/.cookie`, where cookie authentication keeps its
    /// secret.
    pub fn cookie_file(&self) -> PathBuf {
        self.chain_datadir.join(COOKIE_FILE)
    }

    /// This node's subversion, as `getnetworkinfo` shows it: `/mpx:<version>(<uacomments>)/`.
    pub fn subversion(&self) -> String {
        settings::format_subversion(USER_AGENT_NAME, env!("CARGO_PKG_VERSION"), &self.ua_comments)
    }

    pub(crate) fn from_matches(
        program: Program,
        m: &ArgMatches,
        datadir: PathBuf,
        sources: Sources,
    ) -> Result<Config, Error> {
        let chain = chain(m)?;
        let chain_datadir = datadir.join(chain.name());
        let port = value::<u16>(m, "rpcport").unwrap_or(chain.default_rpc_port());
        let address = |option| {
            let (ip, own_port) =
                value::<(IpAddr, Option<u16>)>(m, option).unwrap_or((Ipv4Addr::LOCALHOST.into(), None));
            SocketAddr::new(ip, own_port.unwrap_or(port))
        };
        let rpc_server = rpc_server_settings(m, port)?;
        // As bitcoind: an empty -rpcpassword is none, and without a password the cookie is used
        // (a lone -rpcuser is ignored, with a warning).
        let password = value::<String>(m, "rpcpassword").filter(|p| !p.is_empty());
        let mut sources = sources;
        let rpc_auth = match (value::<String>(m, "rpcuser"), password) {
            (Some(user), Some(password)) => RpcAuth::UserPassword { user, password },
            (None, None) => RpcAuth::Cookie { path: chain_datadir.join(COOKIE_FILE) },
            (Some(_), None) => {
                sources
                    .warnings
                    .push("-rpcuser is ignored without -rpcpassword: using cookie authentication".into());
                RpcAuth::Cookie { path: chain_datadir.join(COOKIE_FILE) }
            }
            (None, Some(_)) => return Err(requires("rpcpassword", "rpcuser")),
        };
        let mut wallets = Vec::new();
        for wallet in list::<String>(m, "wallet") {
            if !wallets.contains(&wallet) {
                wallets.push(wallet);
            }
        }
        let (debug, debug_all) = settings::debug_categories(m)?;
        crate::policy::check_wallet_policy(m)?;
        let storage = crate::storage::storage_settings(m, &datadir, chain.name())?;
        let log = settings::log_settings(program, m, &chain_datadir, debug, debug_all)?;
        Ok(Config {
            program,
            chain,
            datadir,
            config_file: sources.config_files.first().cloned(),
            config_files: sources.config_files,
            warnings: sources.warnings,
            console_warnings: sources.console_warnings,
            notes: sources.notes,
            arg_lines: sources.arg_lines,
            options_given: sources.options_given,
            log,
            server: flag_or(m, "server", true),
            rpc_doc_check: flag(m, "rpcdoccheck"),
            mempool: settings::mempool_settings(m)?,
            wallet_options: settings::wallet_options(m)?,
            storage,
            mempool_policy: crate::policy::mempool_policy(m)?,
            notify: settings::notify(m),
            p2p: settings::p2p_settings(m)?,
            par: value::<i64>(m, "par").unwrap_or(0),
            prevout_fetch_threads: settings::prevout_fetch_threads(m)?,
            txindex: flag(m, "txindex"),
            mock_time: match value::<i64>(m, "mocktime") {
                None | Some(0) => None,
                Some(t) => Some(u32::try_from(t).map_err(|_| {
                    Error::Core(if t < 0 {
                        format!("Mocktime cannot be negative: {t}.")
                    } else {
                        format!("Mocktime must be at most {}: {t}.", u32::MAX)
                    })
                })?),
            },
            ua_comments: settings::ua_comments(m)?,
            rpc_server,
            rpc_connect: address("rpcconnect"),
            rpc_auth,
            debug,
            print_to_console: flag(m, "printtoconsole"),
            daemon: flag(m, "daemon"),
            pid_file: match setting::<PathBuf>(m, "pid") {
                // Core's default, so scripts and tests written for bitcoind find it.
                None if program == Program::Node => Some(chain_datadir.join(DEFAULT_PID_FILE)),
                Some(Setting::Value(pid)) => Some(chain_datadir.join(pid)),
                None | Some(Setting::Negated) => None,
            },
            reindex: flag(m, "reindex"),
            disable_wallet: flag(m, "disablewallet"),
            wallets,
            ipc_bind: list(m, "ipcbind"),
            ipc_connect: value::<String>(m, "ipcconnect").filter(|address| address != "0"),
            rpc_wait: flag(m, "rpcwait"),
            rpc_wallet: value(m, "rpcwallet"),
            args: m
                .try_get_many::<String>(ARGS)
                .ok()
                .flatten()
                .map(|args| args.cloned().collect())
                .unwrap_or_default(),
            chain_datadir,
        })
    }
}

/// One `-rpcbind` value: an IP address (IPv6 in brackets when a port follows), optionally with
/// `:<port>`; a bad port is Core's `Invalid port specified in -rpcbind: '<value>'`.
fn parse_rpcbind(text: &str) -> Result<(IpAddr, Option<u16>), Error> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    let unbracketed =
        |host: &str| host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string();
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => (unbracketed(host), Some(port)),
        _ => (unbracketed(text), None),
    };
    let ip: IpAddr = host
        .parse()
        .map_err(|_| Error::invalid("rpcbind", text, "not an IP address (optionally with :<port>)"))?;
    match port {
        None => Ok((ip, None)),
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => Ok((ip, Some(port))),
            _ => Err(Error::Core(format!("Invalid port specified in -rpcbind: '{text}'"))),
        },
    }
}

/// Where the options came from, besides the matches.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub(crate) config_files: Vec<PathBuf>,
    pub(crate) warnings: Vec<String>,
    pub(crate) console_warnings: Vec<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) arg_lines: Vec<String>,
    pub(crate) options_given: Vec<String>,
}

/// The server settings with bitcoind's rules: `-rpcbind` counts only with `-rpcallowip`,
/// thread and queue sizes are at least 1, a zero timeout means none.
fn rpc_server_settings(m: &ArgMatches, port: u16) -> Result<RpcServerSettings, Error> {
    let requested: Vec<SocketAddr> = list::<String>(m, "rpcbind")
        .iter()
        .map(|text| parse_rpcbind(text).map(|(ip, own_port)| SocketAddr::new(ip, own_port.unwrap_or(port))))
        .collect::<Result<_, _>>()?;
    let allow_ip: Vec<Subnet> = list(m, "rpcallowip");
    // As Core: with -cjdnsreachable an fc00::/8 subnet names CJDNS peers, which RPC cannot allow.
    if let Some(subnet) = allow_ip.iter().find(|s| s.is_cjdns()).filter(|_| flag(m, "cjdnsreachable")) {
        return Err(Error::Core(format!(
            "Invalid -rpcallowip subnet specification: {subnet}. Valid values are a single IP (e.g. 1.2.3.4), \
             a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. 1.2.3.4/24), all ipv4 \
             (0.0.0.0/0), or all ipv6 (::/0). RFC4193 is allowed only if -cjdnsreachable=0."
        )));
    }
    let (bind, bind_warnings) = RpcServerSettings::resolve_bind(&requested, !allow_ip.is_empty(), port);
    let count = |id, default: usize| {
        value::<u64>(m, id).map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX).max(1))
    };
    let timeout = value::<u64>(m, "rpcservertimeout").unwrap_or(DEFAULT_RPC_SERVER_TIMEOUT_SECS);
    Ok(RpcServerSettings {
        bind,
        bind_warnings,
        allow: Subnet::loopback().into_iter().chain(allow_ip).collect(),
        auth_hashes: list(m, "rpcauth"),
        whitelist: RpcWhitelist::from_entries(
            &list::<String>(m, "rpcwhitelist"),
            match setting::<bool>(m, "rpcwhitelistdefault") {
                Some(Setting::Value(on)) => Some(on),
                Some(Setting::Negated) => Some(false),
                None => None,
            },
        ),
        threads: count("rpcthreads", DEFAULT_RPC_THREADS),
        work_queue: count("rpcworkqueue", DEFAULT_RPC_WORK_QUEUE),
        server_timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
    })
}

fn requires(option: &str, requires: &str) -> Error {
    Error::Requires { option: option.to_string(), requires: requires.to_string() }
}

/// `-regtest` and `-chain` resolved; regtest unless something else is asked.
fn chain(m: &ArgMatches) -> Result<Chain, Error> {
    for other in ["testnet", "testnet4", "signet"] {
        if flag(m, other) {
            return Err(Error::UnsupportedChain(format!("-{other}")));
        }
    }
    let regtest = setting::<bool>(m, "regtest").map(|s| matches!(s, Setting::Value(true)));
    match (regtest, value::<String>(m, "chain")) {
        (Some(regtest), Some(chain)) if regtest != (chain == "regtest") => Err(Error::ConflictingChain {
            regtest: if regtest { "regtest" } else { "noregtest" }.to_string(),
            chain,
        }),
        (_, Some(chain)) if chain == "regtest" => Ok(Chain::Regtest),
        (_, Some(chain)) => Err(Error::UnsupportedChain(format!("-chain={chain}"))),
        (Some(false), None) => Err(Error::UnsupportedChain("-noregtest".to_string())),
        (_, None) => Ok(Chain::Regtest),
    }
}

/// The last occurrence of a single-valued option, if any. Options the
/// program does not define read as absent.
pub(crate) fn setting<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<Setting<T>> {
    match m.try_get_one::<Setting<T>>(id) {
        Ok(setting) => setting.cloned(),
        Err(MatchesError::UnknownArgument { .. }) => None,
        Err(e) => panic!("option {id} read with the wrong type: {e}"),
    }
}

/// A single value, with `-noX` meaning unset.
pub(crate) fn value<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
    match setting(m, id)? {
        Setting::Value(value) => Some(value),
        Setting::Negated => None,
    }
}

/// A flag: false unless its last occurrence is true.
pub(crate) fn flag(m: &ArgMatches, id: &str) -> bool {
    value::<bool>(m, id).unwrap_or(false)
}

/// A flag with a default: its last occurrence, `-noX` being false.
pub(crate) fn flag_or(m: &ArgMatches, id: &str, default: bool) -> bool {
    match setting::<bool>(m, id) {
        Some(Setting::Value(on)) => on,
        Some(Setting::Negated) => false,
        None => default,
    }
}

/// Every occurrence of a list option, in order.
pub(crate) fn list_settings<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Vec<Setting<T>> {
    match m.try_get_many::<Setting<T>>(id) {
        Ok(settings) => settings.into_iter().flatten().cloned().collect(),
        Err(MatchesError::UnknownArgument { .. }) => Vec::new(),
        Err(e) => panic!("option {id} read with the wrong type: {e}"),
    }
}

/// A list option's values: each `-noX` clears those before it.
pub(crate) fn list<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Vec<T> {
    list_settings(m, id).into_iter().fold(Vec::new(), |mut values, setting| {
        match setting {
            Setting::Negated => values.clear(),
            Setting::Value(value) => values.push(value),
        }
        values
    })
}

/// The data directory: `-datadir` made absolute, or `$HOME/.mpx`.
pub(crate) fn datadir(m: &ArgMatches, home: Option<&Path>) -> Result<PathBuf, Error> {
    let dir = match value::<PathBuf>(m, "datadir") {
        Some(dir) => dir,
        None => match home {
            Some(home) if !home.as_os_str().is_empty() => home.join(DEFAULT_DATADIR_NAME),
            _ => return Err(Error::NoHome),
        },
    };
    // Absolute, so a daemon that changes directory still finds it; this reads
    // the working directory but touches no file.
    std::path::absolute(&dir)
        .map_err(|e| Error::invalid("datadir", &dir.display().to_string(), e.to_string()))
}

/// A config file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Bitcoin Core's `bitcoin.conf`.
    BitcoinConf,
    /// Our TOML file (`node.toml`).
    Toml,
}

/// The config files to read, with their format and whether each must exist: `-conf=<file>`
/// alone (TOML when its name ends in `.toml`), none with `-noconf`, else `<datadir>/bitcoin.conf`
/// and `<datadir>/node.toml` when they exist.
pub(crate) fn config_files(m: &ArgMatches, datadir: &Path) -> Vec<(PathBuf, Format, bool)> {
    match setting::<PathBuf>(m, "conf") {
        Some(Setting::Negated) => Vec::new(),
        Some(Setting::Value(conf)) => {
            let format = if conf.extension().is_some_and(|e| e == "toml") {
                Format::Toml
            } else {
                Format::BitcoinConf
            };
            vec![(datadir.join(conf), format, true)]
        }
        None => vec![
            (datadir.join(crate::conf::BITCOIN_CONFIG_FILE), Format::BitcoinConf, false),
            (datadir.join(DEFAULT_CONFIG_FILE), Format::Toml, false),
        ],
    }
}
