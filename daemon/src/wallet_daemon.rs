//! `mpx-wallet`: the wallet process.
//!
//! - `mpx-wallet -ipcfd N ...`: spawned by `mpx-multiprocess-node`, which passes the options
//!   that place its wallets and its log. It serves a `WalletInit` on the socketpair; the node
//!   calls `makeWalletLoader(chain)` with its `Chain`. It lives as long as that connection:
//!   when the node goes (stopped, crashed, killed), it stops its wallets and exits, so it is
//!   never left behind. `SIGINT`/`SIGTERM` (a terminal's Ctrl-C reaches the whole process
//!   group) are left to the node, which stops its wallets in order.
//! - `mpx-wallet -ipcconnect=unix[:path] [-wallet=name ...]`: joins a node that listens with
//!   `-ipcbind`. It asks the node's `Init` for a `Chain`, loads its wallets and registers their
//!   RPC methods with the node, so wallet RPCs sent to the node are answered here. It stops
//!   on `SIGINT`/`SIGTERM` (exit 0), or with one line on stderr and exit 1 when the node goes.
//!
//! - `mpx-wallet -wallet=<name> create|info`: the offline tool, no node (see `wallet_tool`).
//!
//! Both processes log to `<chain datadir>/debug.log`, appending beside the node's lines, so that with
//! `-debug=ipc` one request can be followed across the processes by its thread tags.

use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use config::{Action, Config, Program};
use interfaces::{Chain, Init, WalletLoader};
use nix::sys::signal::Signal;
use node::process;

/// The wallet settings `config` describes: wallets under `<chain datadir>/wallets`, the
/// `-wallet` names loaded at start, `-fallbackfee` (`0` disables it; not given: the wallet's
/// default).
pub fn settings(config: &Config) -> wallet::WalletSettings {
    let fallback_fee = match config.wallet_options.fallback_fee {
        None => Some(wallet::DEFAULT_FALLBACK_FEE),
        Some(0) => None,
        Some(rate) => Some(i64::try_from(rate).unwrap_or(i64::MAX)),
    };
    wallet::WalletSettings {
        startup_wallets: config.wallets.clone(),
        fallback_fee,
        notify: config.wallet_options.notify.clone(),
        ..wallet::WalletSettings::regtest(config.chain_datadir.join("wallets"))
    }
}

/// Runs `mpx-wallet` with the process's arguments.
pub fn main() -> ExitCode {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // The spawning node's socket is taken before the options are read, as Bitcoin Core's
    // spawned processes do (`-ipcfd <N>` is two arguments).
    let (parent, args) = match ipc::take_ipc_fd(args.clone()) {
        Ok(Some((stream, rest))) => (Some(stream), rest),
        Ok(None) => (None, args),
        Err(e) => return failure(&e.to_string()),
    };
    let config = match config::parse(Program::Wallet, args) {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("mpx-wallet version {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return failure(&e.to_string()),
    };
    match (parent, &config.ipc_connect, config.args.first()) {
        (Some(_), Some(_), _) => failure("-ipcfd and -ipcconnect exclude each other"),
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            failure("a command (create, info) runs without a node: drop -ipcfd / -ipcconnect")
        }
        (Some(parent), None, None) => spawned(&config, parent),
        (None, Some(address), None) => joined(&config, address),
        (None, None, Some(command)) => match config.args.as_slice() {
            [_] => crate::wallet_tool::run(&config, command),
            _ => failure("one command at a time (create, info)"),
        },
        (None, None, None) => failure(
            "nothing to do: join a node with -ipcconnect=unix[:<path>] (the wallet process is \
             otherwise started by mpx-multiprocess-node)",
        ),
    }
}

/// Spawned by the node: serve wallets on the inherited socket until the node goes.
fn spawned(config: &Config, parent: UnixStream) -> ExitCode {
    let signals = match process::block_signals() {
        Ok(set) => set,
        Err(e) => return failure(&format!("cannot block signals: {e}")),
    };
    if let Err(e) = std::fs::create_dir_all(&config.chain_datadir) {
        return failure(&format!("cannot create the data directory {}: {e}", config.chain_datadir.display()));
    }
    let _log = match node::logging::init(config) {
        Ok(log) => log,
        Err(e) => return failure(&format!("cannot open the log file: {e}")),
    };
    let on_signal = |signal: Signal| {
        if signal != Signal::SIGHUP {
            tracing::info!("{signal} received: the node stops the wallet process");
        }
        true
    };
    if let Err(e) = process::spawn_signal_thread(signals, on_signal) {
        return failure(&format!("cannot start the signal thread: {e}"));
    }
    let ipc = match ipc::Ipc::new() {
        Ok(ipc) => ipc,
        Err(e) => return failure(&format!("cannot start IPC: {e}")),
    };
    let init = TrackingInit::new(settings(config));
    let connection = match ipc.serve_parent(parent, Box::new(init.clone())) {
        Ok(connection) => connection,
        Err(e) => return failure(&e.to_string()),
    };
    tracing::info!("mpx-wallet {} serving its node", env!("CARGO_PKG_VERSION"));
    connection.wait_disconnected();
    tracing::info!("the node closed the connection; stopping the wallets");
    init.stop_all();
    ExitCode::SUCCESS
}

/// Joined a running node with `-ipcconnect`.
fn joined(config: &Config, address: &str) -> ExitCode {
    let signals = match process::block_signals() {
        Ok(set) => set,
        Err(e) => return failure(&format!("cannot block signals: {e}")),
    };
    let (path, mode) = match ipc::resolve_connect_address(address, &config.chain_datadir) {
        Ok(Some(resolved)) => resolved,
        Ok(None) => return failure("-ipcconnect: no address"),
        Err(e) => return failure(&format!("-ipcconnect: {e}")),
    };
    let ipc = match ipc::Ipc::new() {
        Ok(ipc) => ipc,
        Err(e) => return failure(&format!("cannot start IPC: {e}")),
    };
    // `auto` is for clients that can do without a node; the wallet process cannot.
    let (init, connection) = match ipc.connect(&path, mode) {
        Ok(Some(connected)) => connected,
        Ok(None) => return failure(&format!("no node listens on unix:{}", path.display())),
        Err(e) => return failure(&e.to_string()),
    };
    if let Err(e) = std::fs::create_dir_all(&config.chain_datadir) {
        return failure(&format!("cannot create the data directory {}: {e}", config.chain_datadir.display()));
    }
    let log = match node::logging::init(config) {
        Ok(log) => log,
        Err(e) => return failure(&format!("cannot open the log file: {e}")),
    };
    let (events, next_event) = mpsc::channel::<Event>();
    let on_signal = {
        let events = events.clone();
        move |signal: Signal| {
            if signal == Signal::SIGHUP {
                if let Err(e) = log.reopen() {
                    tracing::error!(error = %e, "cannot reopen the log file");
                }
                return true;
            }
            tracing::info!("{signal} received, shutting down");
            let _ = events.send(Event::Signal);
            true
        }
    };
    if let Err(e) = process::spawn_signal_thread(signals, on_signal) {
        return failure(&format!("cannot start the signal thread: {e}"));
    }
    let chain = match init.make_chain() {
        Ok(chain) => chain,
        Err(e) => return failure(&format!("the node at unix:{} gives no chain: {e}", path.display())),
    };
    let loader = match start_wallets(config, chain) {
        Ok(loader) => loader,
        Err(e) => return failure(&format!("cannot start the wallets: {e}")),
    };
    tracing::info!("mpx-wallet joined the node at unix:{}", path.display());
    let watcher = connection.clone();
    let spawned = std::thread::Builder::new().name("node-watch".into()).spawn(move || {
        watcher.wait_disconnected();
        let _ = events.send(Event::NodeGone);
    });
    if let Err(e) = spawned {
        let _ = loader.stop();
        return failure(&format!("cannot watch the connection: {e}"));
    }
    let event = next_event.recv().unwrap_or(Event::NodeGone);
    if let Err(e) = loader.stop() {
        tracing::error!("stopping the wallets: {e}");
    }
    drop(loader);
    drop(init);
    match event {
        Event::Signal => {
            connection.disconnect();
            ExitCode::SUCCESS
        }
        Event::NodeGone => {
            let message = format!("lost the connection to the node at unix:{}", path.display());
            tracing::error!("{message}");
            failure(&message)
        }
    }
}

enum Event {
    Signal,
    NodeGone,
}

/// Makes the loader over the node's `chain`, registers the wallet RPCs with the node and loads
/// the wallets, as the node does for wallets in its own process.
fn start_wallets(config: &Config, chain: Box<dyn Chain>) -> interfaces::Result<Box<dyn WalletLoader>> {
    let loader = wallet::WalletInit::new(settings(config)).make_wallet_loader(chain)?;
    loader.register_rpcs()?;
    loader.load()?;
    Ok(loader)
}

/// The wallet's `Init`, keeping the loaders it hands the node so they can be stopped (wallets
/// flushed) if the node goes without stopping them.
#[derive(Clone)]
struct TrackingInit {
    inner: wallet::WalletInit,
    made: Arc<Mutex<Vec<Arc<dyn WalletLoader>>>>,
}

impl TrackingInit {
    fn new(settings: wallet::WalletSettings) -> TrackingInit {
        TrackingInit { inner: wallet::WalletInit::new(settings), made: Arc::default() }
    }

    fn stop_all(&self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(PoisonError::into_inner));
        for loader in made {
            if let Err(e) = loader.stop() {
                tracing::error!("stopping the wallets: {e}");
            }
        }
    }
}

/// The wallet process's `Echo` (the node's `echoipc` goes through a process spawned for it).
struct Echo;

impl interfaces::Echo for Echo {
    fn echo(&self, echo: String) -> interfaces::Result<String> {
        Ok(echo)
    }
}

impl Init for TrackingInit {
    fn make_echo(&self) -> interfaces::Result<Box<dyn interfaces::Echo>> {
        Ok(Box::new(Echo))
    }

    fn make_wallet_loader(&self, chain: Box<dyn Chain>) -> interfaces::Result<Box<dyn WalletLoader>> {
        let loader: Arc<dyn WalletLoader> = Arc::from(self.inner.make_wallet_loader(chain)?);
        self.made.lock().unwrap_or_else(PoisonError::into_inner).push(loader.clone());
        Ok(Box::new(loader))
    }
}

fn failure(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::FAILURE
}
