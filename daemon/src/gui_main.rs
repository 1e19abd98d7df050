//! `mpx-gui` and `mpx-multiprocess-gui`: the terminal gui (the `gui` crate) in each of its three
//! shapes, Bitcoin Core's `bitcoin-qt` and `bitcoin-gui`:
//!
//! - `mpx-gui [node options]` (`mpx gui`): the node and its wallets in the gui's own process;
//! - `mpx-multiprocess-gui [node options]` (`mpx -m gui`): the gui spawns
//!   `mpx-multiprocess-node -ipcfd N [node options]` over a socketpair, which spawns its
//!   `mpx-wallet`: three processes, every hop in `debug.log` with `-debug=ipc`;
//! - either with `-ipcconnect=unix[:path]`: joins a node that listens with `-ipcbind` and
//!   leaves it running on quit (`auto`: joins if one listens, else starts its own as above).
//!
//! A node the gui starts takes the node's options and, unless `-server=0`, serves JSON-RPC as
//! `mpx-node` does. The gui starts it (`Node::init`) and stops it when it quits
//! (`Node::shutdown`); the gui code is the same in every shape: it sees a `Box<dyn Node>`.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use config::{Action, Config, Program};
use interfaces::Init;
use node::interface::NodeInit;

use crate::node_daemon::{in_process_wallets, WalletPlacement};

/// How long a spawned node may take to exit after the gui stopped it and hung up.
const NODE_EXIT_GRACE: Duration = Duration::from_secs(30);

/// Runs the gui with the process's arguments; `placement` says where a node it starts keeps its
/// wallets (and so whether that node runs in this process or is spawned).
pub fn main(placement: WalletPlacement) -> ExitCode {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let executable = match placement {
        WalletPlacement::InProcess => "mpx-gui",
        WalletPlacement::OwnProcess => "mpx-multiprocess-gui",
    };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let config = match config::parse(Program::Gui, args.clone()) {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help(text)) => {
            print!("{}", text.replacen("mpx-gui", executable, 1));
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("{executable} version {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return failure(&e.to_string()),
    };
    // Before any node starts or is joined: without a terminal there is nothing to show it on.
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return failure(&gui::GuiError::NoTerminal.to_string());
    }
    let unsupported = [
        ("-blocknotify", config.notify.block.is_some()),
        ("-startupnotify", config.notify.startup.is_some()),
        ("-shutdownnotify", !config.notify.shutdown.is_empty()),
        ("-ipcbind", !config.ipc_bind.is_empty()),
    ];
    if let Some((option, _)) = unsupported.iter().find(|(_, given)| *given) {
        return failure(&format!("{option} is not available with the gui; run mpx-node for it"));
    }
    if let Err(e) = std::fs::create_dir_all(&config.chain_datadir) {
        return failure(&format!("cannot create the data directory {}: {e}", config.chain_datadir.display()));
    }
    let _log = match node::logging::init(&config) {
        Ok(log) => log,
        Err(e) => return failure(&format!("cannot open the log file: {e}")),
    };
    let ipc = match ipc::Ipc::new() {
        Ok(ipc) => ipc,
        Err(e) => return failure(&format!("cannot start IPC: {e}")),
    };
    if let Some(address) = &config.ipc_connect {
        match join(&ipc, &config, address) {
            Ok(Some(code)) => return code,
            Ok(None) => {} // `auto` and nobody listens: start a node of our own.
            Err(e) => return failure(&e),
        }
    }
    match placement {
        WalletPlacement::InProcess => in_process(&config),
        WalletPlacement::OwnProcess => spawned(&ipc, &args),
    }
}

/// The node and its wallets in this process.
fn in_process(config: &Config) -> ExitCode {
    let wallets = (!config.disable_wallet).then(|| in_process_wallets(config));
    let init = NodeInit::new(config.clone(), wallets);
    let node = match init.make_node() {
        Ok(node) => node,
        Err(e) => return failure(&e.to_string()),
    };
    let result = gui::run(node, gui::RunOptions::new(true, "in process"));
    // Whatever the gui did, the node is stopped before the process ends.
    init.shutdown();
    finish(result)
}

/// `mpx-multiprocess-node -ipcfd N` with the gui's options, started and stopped by the gui.
fn spawned(ipc: &ipc::Ipc, args: &[OsString]) -> ExitCode {
    let Some(exe) = ipc::sibling_executable("mpx-multiprocess-node") else {
        return failure("cannot start the node: mpx-multiprocess-node not found next to this executable");
    };
    let ipc::SpawnedProcess { init, connection, mut child } = match ipc.spawn(&exe, args) {
        Ok(spawned) => spawned,
        Err(e) => return failure(&format!("cannot start the node: {e}")),
    };
    let pid = child.pid();
    let node = match init.make_node() {
        Ok(node) => node,
        Err(e) => {
            let _ = child.kill();
            return failure(&format!("the node gives no Node: {e}"));
        }
    };
    let watched = connection.clone();
    let watch: gui::NodeWatch = Box::new(move || {
        watched.wait_disconnected();
        format!("the node process (pid {pid}) is gone")
    });
    let result =
        gui::run(node, gui::RunOptions::new(true, format!("spawned node pid {pid}")).watching(watch));
    drop(init);
    // The gui stopped the node; hanging up ends its process (it never outlives the gui).
    connection.disconnect();
    crate::child::reap_within(child, NODE_EXIT_GRACE, |pid| {
        eprintln!("Error: the node (pid {pid}) did not exit; killing it")
    });
    finish(result)
}

/// Joins the node listening at `address`; `Ok(None)` for `auto` when none listens.
fn join(ipc: &ipc::Ipc, config: &Config, address: &str) -> Result<Option<ExitCode>, String> {
    let Some((path, mode)) = ipc::resolve_connect_address(address, &config.chain_datadir)
        .map_err(|e| format!("-ipcconnect: {e}"))?
    else {
        return Ok(None);
    };
    let Some((init, connection)) = ipc.connect(&path, mode).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let node =
        init.make_node().map_err(|e| format!("the node at unix:{} gives no Node: {e}", path.display()))?;
    let watched = connection.clone();
    let place = display(&path);
    let watch: gui::NodeWatch = Box::new(move || {
        watched.wait_disconnected();
        format!("the node at unix:{place} closed the connection")
    });
    let joined = gui::RunOptions::new(false, format!("joined unix:{}", display(&path))).watching(watch);
    let result = gui::run(node, joined);
    drop(init);
    connection.disconnect();
    Ok(Some(finish(result)))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn finish(result: Result<(), gui::GuiError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(&e.to_string()),
    }
}

fn failure(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::FAILURE
}
