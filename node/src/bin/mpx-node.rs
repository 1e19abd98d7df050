//! `mpx-node`: the regtest node daemon (the `bitcoind` analogue), with the wallet in process
//! (through `interfaces::WalletLoader` only: the node library does not know the wallet crate).
//!
//! Order matters: options are parsed and the process detaches and blocks its signals while it
//! is still single-threaded; only then do the log, the chain, the wallets and the RPC server
//! start threads.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use config::{Action, Config, Program};
use interfaces::Init;
use nix::sys::signal::Signal;
use node::app::{App, DatadirLock, WalletLoaderFactory};
use node::process::{self, StartupReport};
use node::NodeState;

fn main() -> ExitCode {
    // Files the node creates (log, cookie, wallets) are private, as with bitcoind's default.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let config = match config::parse(Program::Node, args) {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("mpx-node version {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_failure(&e.to_string()),
    };
    if let Err(e) = std::fs::create_dir_all(&config.chain_datadir) {
        let message = format!("cannot create the data directory {}: {e}", config.chain_datadir.display());
        return usage_failure(&message);
    }
    let report = if config.daemon {
        match process::daemonize() {
            Ok(report) => report,
            Err(e) => return usage_failure(&format!("cannot detach: {e}")),
        }
    } else {
        StartupReport::none()
    };
    run(&config, report)
}

fn run(config: &Config, report: StartupReport) -> ExitCode {
    let signals = match process::block_signals() {
        Ok(set) => set,
        Err(e) => return failed(report, &format!("cannot block signals: {e}")),
    };
    // The lock first: a refused second node must not write into the first one's files.
    let lock = match DatadirLock::acquire(&config.chain_datadir) {
        Ok(lock) => lock,
        Err(e) => return failed(report, &e.to_string()),
    };
    let log = match node::logging::init(&config.chain_datadir, config.debug, config.print_to_console) {
        Ok(log) => log,
        Err(e) => return failed(report, &format!("cannot open the log file: {e}")),
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), datadir = %config.datadir.display(), "mpx-node starting");
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
    let app = match App::start(config, lock, Some(wallet_factory(config)), Arc::default()) {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("{e}");
            return failed(report, &e.to_string());
        }
    };
    shutdown.attach(app.state().clone());
    report.ready();
    app.wait_for_shutdown();
    app.stop();
    ExitCode::SUCCESS
}

/// A shutdown request that may come before the node state it is for exists.
#[derive(Default)]
struct ShutdownRequest {
    requested: AtomicBool,
    state: OnceLock<Arc<NodeState>>,
}

impl ShutdownRequest {
    fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        if let Some(state) = self.state.get() {
            state.request_shutdown();
        }
    }

    /// From now on requests go to `state`; one made earlier is passed on now.
    fn attach(&self, state: Arc<NodeState>) {
        let state = self.state.get_or_init(|| state);
        if self.requested.load(Ordering::SeqCst) {
            state.request_shutdown();
        }
    }
}

/// The in-process wallet: wallets live under `<chain datadir>/wallets`; `-wallet` names are
/// loaded at start. The node asks the wallet side's `Init` for its loader, as it will ask a
/// wallet process's `Init` through IPC.
fn wallet_factory(config: &Config) -> WalletLoaderFactory {
    let settings = wallet::WalletSettings {
        startup_wallets: config.wallets.clone(),
        ..wallet::WalletSettings::regtest(config.chain_datadir.join("wallets"))
    };
    let wallet_init = wallet::WalletInit::new(settings);
    Box::new(move |chain| wallet_init.make_wallet_loader(chain))
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
