//! The node daemon: `mpx-node` (wallets in process, Bitcoin Core's `bitcoind`) and
//! `mpx-multiprocess-node` (wallets in a spawned `mpx-wallet`, Bitcoin Core's `bitcoin-node`).
//! Same options, RPC and files; only where the wallet loader comes from differs.
//!
//! Order matters: options are parsed and the process detaches and blocks its signals while it
//! is still single-threaded; only then do the log, the chain, the wallets, the RPC server and
//! the IPC sockets start threads. Stop: the sockets first (no new IPC clients, socket files
//! removed), then the node (RPC server, wallets, chain) in reverse start order.

use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use config::{Action, Config, Program};
use interfaces::Init;
use nix::sys::signal::Signal;
use node::app::{App, DatadirLock, WalletLoaderFactory};
use node::interface::NodeInit;
use node::process::{self, StartupReport};
use node::ui::UiSignals;

use crate::shutdown::ShutdownRequest;
use crate::{notify, wallet_daemon, wallet_process};

/// Where the node's wallets run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletPlacement {
    /// In the node's own process (`mpx-node`).
    InProcess,
    /// In an `mpx-wallet` process the node spawns and supervises (`mpx-multiprocess-node`).
    OwnProcess,
}

impl WalletPlacement {
    fn executable(self) -> &'static str {
        match self {
            WalletPlacement::InProcess => "mpx-node",
            WalletPlacement::OwnProcess => "mpx-multiprocess-node",
        }
    }
}

/// Runs the node daemon with the process's arguments.
pub fn main(placement: WalletPlacement) -> ExitCode {
    // Files the node creates (log, cookie, wallets, sockets) are private, as with bitcoind's
    // default.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // Spawned by a front end (`-ipcfd <N>`): its socket is taken before the options are read.
    let (parent, args) = match ipc::take_ipc_fd(args.clone()) {
        Ok(Some((stream, rest))) => (Some(stream), rest),
        Ok(None) => (None, args),
        Err(e) => return usage_failure(&e.to_string()),
    };
    let config = match config::parse(Program::Node, args) {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help(text)) => {
            print!("{}", text.replacen("mpx-node", placement.executable(), 1));
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            // bitcoind's shape: the first line ends with the executable's name (which tools and
            // Core's tests read to tell the single-process node from the multiprocess one).
            let exe = placement.executable();
            println!("{exe} daemon version v{} {exe}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_failure(&e.to_string()),
    };
    if let Err(e) = std::fs::create_dir_all(&config.chain_datadir) {
        let message = format!("cannot create the data directory {}: {e}", config.chain_datadir.display());
        return usage_failure(&message);
    }
    // Checked before detaching, so the user sees a bad address on the terminal.
    let sockets = match socket_paths(&config) {
        Ok(paths) => paths,
        Err(e) => return usage_failure(&e),
    };
    if let Some(parent) = parent {
        if config.daemon {
            return usage_failure("-daemon: a node spawned by a front end (-ipcfd) stays in the foreground");
        }
        return run_spawned(&config, placement, &sockets, parent);
    }
    let report = if config.daemon {
        match process::daemonize() {
            Ok(report) => report,
            Err(e) => return usage_failure(&format!("cannot detach: {e}")),
        }
    } else {
        StartupReport::none()
    };
    run(&config, placement, &sockets, report)
}

/// The socket files `-ipcbind` names, resolved against the chain's data directory.
fn socket_paths(config: &Config) -> Result<Vec<PathBuf>, String> {
    config
        .ipc_bind
        .iter()
        .map(|address| {
            ipc::resolve_unix_address(address, &config.chain_datadir).map_err(|e| format!("-ipcbind: {e}"))
        })
        .collect()
}

fn run(config: &Config, placement: WalletPlacement, sockets: &[PathBuf], report: StartupReport) -> ExitCode {
    let signals = match process::block_signals() {
        Ok(set) => set,
        Err(e) => return failed(report, &format!("cannot block signals: {e}")),
    };
    // The lock first: a refused second node must not write into the first one's files.
    let lock = match DatadirLock::acquire(&config.chain_datadir) {
        Ok(lock) => lock,
        Err(e) => return failed(report, &e.to_string()),
    };
    let log = match node::logging::init(config) {
        Ok(log) => log,
        Err(e) => {
            let file = config.log.file.as_deref().unwrap_or(std::path::Path::new("")).display().to_string();
            return failed(report, &format!("Could not open debug log file {file}: {e}"));
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        datadir = %config.datadir.display(),
        "{} starting",
        placement.executable()
    );
    notify::log_options(config);
    // Signals are handled from here on, start-up included: one that arrives before the node
    // state exists is remembered and acted on as soon as it does.
    let shutdown = Arc::new(ShutdownRequest::default());
    let on_signal = {
        let shutdown = shutdown.clone();
        move |signal| {
            if signal == Signal::SIGHUP {
                match log.reopen() {
                    Ok(()) => tracing::info!("SIGHUP received, log file reopened"),
                    Err(e) => tracing::error!(error = %e, "cannot reopen the log file"),
                }
            } else {
                tracing::info!("{signal} received, shutting down");
                shutdown.request();
            }
            true
        }
    };
    if let Err(e) = process::spawn_signal_thread(signals, on_signal) {
        return failed(report, &format!("cannot start the signal thread: {e}"));
    }
    // The event loop, when this process talks to others.
    let ipc = if (placement == WalletPlacement::OwnProcess && !config.disable_wallet) || !sockets.is_empty() {
        match ipc::Ipc::new() {
            Ok(ipc) => Some(Arc::new(ipc)),
            Err(e) => return failed(report, &format!("cannot start IPC: {e}")),
        }
    } else {
        None
    };
    // Bound before anything loads, so a bad or busy address fails the start at once; served
    // once the node runs.
    let mut bound = Vec::new();
    if let Some(ipc) = &ipc {
        for path in sockets {
            match ipc.bind(path) {
                Ok(socket) => bound.push(socket),
                Err(e) => {
                    tracing::error!("{e}");
                    return failed(report, &e.to_string());
                }
            }
        }
    }
    let wallets = match &ipc {
        Some(ipc) => wallet_factory(config, placement, ipc),
        None if config.disable_wallet => Ok(None),
        None => Ok(Some(in_process_wallets(config))),
    };
    let wallets = match wallets {
        Ok(wallets) => wallets,
        Err(e) => return failed(report, &e),
    };
    if placement == WalletPlacement::OwnProcess {
        node::rpc::set_echo_provider(crate::echo_process::provider(ipc.clone(), config));
    }
    let ui = Arc::new(UiSignals::default());
    let app = match App::start(config, lock, wallets, ui.clone()) {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("{e}");
            return failed(report, &e.to_string());
        }
    };
    let node = NodeInit::running(config.clone(), app, ui);
    // New blocks from here on (Core runs -blocknotify only after start-up, too).
    let mut _block_notify = None;
    if let Some(state) = node.state() {
        _block_notify =
            config.notify.block.clone().map(|command| notify::BlockNotify::subscribe(&state, command));
        shutdown.attach(state);
    }
    let mut listeners = Vec::new();
    if let Some(ipc) = &ipc {
        for socket in bound {
            let served = node.clone();
            match ipc.serve(socket, move || -> Box<dyn Init> { Box::new(served.clone()) }) {
                Ok(listener) => listeners.push(listener),
                Err(e) => {
                    tracing::error!("{e}");
                    drop(listeners);
                    node.shutdown();
                    return failed(report, &e.to_string());
                }
            }
        }
    }
    report.ready();
    if let Some(command) = &config.notify.startup {
        notify::run_detached(command.clone());
    }
    node.wait_for_shutdown();
    notify::run_and_wait(&config.notify.shutdown);
    // No new IPC clients while stopping; the socket files go.
    drop(listeners);
    node.shutdown();
    ExitCode::SUCCESS
}

/// Spawned by a front end (a gui) over a socketpair: serve the node's `Init` on it, not started;
/// the front end starts the node (`Node::init`, with its start-up messages and progress) and
/// stops it (`Node::shutdown`). The process ends when the front end hangs up (it quit, or
/// died: the node is never left behind) or the node is stopped (`stop`, a signal).
fn run_spawned(
    config: &Config,
    placement: WalletPlacement,
    sockets: &[PathBuf],
    parent: UnixStream,
) -> ExitCode {
    let signals = match process::block_signals() {
        Ok(set) => set,
        Err(e) => return usage_failure(&format!("cannot block signals: {e}")),
    };
    let log = match node::logging::init(config) {
        Ok(log) => log,
        Err(e) => return usage_failure(&format!("cannot open the log file: {e}")),
    };
    tracing::info!("{} {} serving its front end", placement.executable(), env!("CARGO_PKG_VERSION"));
    let ipc = match ipc::Ipc::new() {
        Ok(ipc) => Arc::new(ipc),
        Err(e) => return usage_failure(&format!("cannot start IPC: {e}")),
    };
    let mut bound = Vec::new();
    for path in sockets {
        match ipc.bind(path) {
            Ok(socket) => bound.push(socket),
            Err(e) => return usage_failure(&e.to_string()),
        }
    }
    let wallets = match wallet_factory(config, placement, &ipc) {
        Ok(wallets) => wallets,
        Err(e) => return usage_failure(&e),
    };
    let node = NodeInit::new(config.clone(), wallets);
    let on_signal = {
        let node = node.clone();
        move |signal| {
            if signal == Signal::SIGHUP {
                if let Err(e) = log.reopen() {
                    tracing::error!(error = %e, "cannot reopen the log file");
                }
            } else {
                tracing::info!("{signal} received, shutting down");
                if let Err(e) = node.make_node().and_then(|node| node.start_shutdown()) {
                    tracing::error!("cannot request the shutdown: {e}");
                }
            }
            true
        }
    };
    if let Err(e) = process::spawn_signal_thread(signals, on_signal) {
        return usage_failure(&format!("cannot start the signal thread: {e}"));
    }
    let mut listeners = Vec::new();
    for socket in bound {
        let served = node.clone();
        match ipc.serve(socket, move || -> Box<dyn Init> { Box::new(served.clone()) }) {
            Ok(listener) => listeners.push(listener),
            Err(e) => return usage_failure(&e.to_string()),
        }
    }
    let connection = match ipc.serve_parent(parent, Box::new(node.clone())) {
        Ok(connection) => connection,
        Err(e) => return usage_failure(&e.to_string()),
    };
    // Until the front end hangs up or the running node is told to stop. Neither event can be
    // waited for together with the other, so both are looked at every few milliseconds.
    loop {
        if connection.is_disconnected() {
            tracing::info!("the front end closed the connection; shutting down");
            break;
        }
        let stop_requested = node.make_node().and_then(|node| node.shutdown_requested()).unwrap_or(false);
        if stop_requested {
            break;
        }
        std::thread::sleep(SPAWNED_POLL);
    }
    drop(listeners);
    node.shutdown();
    // A stop the front end asked for (`Node::shutdown`) is answered after it completes: give
    // that reply time to leave before hanging up (the front end hangs up itself, then).
    let deadline = std::time::Instant::now() + FRONT_END_GRACE;
    while !connection.is_disconnected() && std::time::Instant::now() < deadline {
        std::thread::sleep(SPAWNED_POLL);
    }
    connection.disconnect();
    ExitCode::SUCCESS
}

/// How long a stopped spawned node waits for its front end to hang up before it does.
const FRONT_END_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How often a spawned node looks whether its front end left or it was told to stop.
const SPAWNED_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Where this node's wallets come from: in process, from its own `mpx-wallet` child, or none
/// (`-disablewallet`).
fn wallet_factory(
    config: &Config,
    placement: WalletPlacement,
    ipc: &Arc<ipc::Ipc>,
) -> Result<Option<WalletLoaderFactory>, String> {
    if config.disable_wallet {
        return Ok(None);
    }
    match placement {
        WalletPlacement::OwnProcess => wallet_process::factory(ipc.clone(), config).map(Some),
        WalletPlacement::InProcess => Ok(Some(in_process_wallets(config))),
    }
}

/// The in-process wallet: wallets live under `<chain datadir>/wallets`; `-wallet` names are
/// loaded at start. The node asks the wallet side's `Init` for its loader, exactly as it asks
/// a wallet process's `Init` through IPC.
pub(crate) fn in_process_wallets(config: &Config) -> WalletLoaderFactory {
    let wallet_init = wallet::WalletInit::new(wallet_daemon::settings(config));
    Box::new(move |make_chain| wallet_init.make_wallet_loader(make_chain()))
}

/// A failure before the process detached: stderr is still the user's terminal.
fn usage_failure(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::FAILURE
}

/// A failure during start-up: on stderr, and to the waiting parent after `-daemon`.
fn failed(report: StartupReport, message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    report.failed(message);
    ExitCode::FAILURE
}
