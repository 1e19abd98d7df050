//! `mpx`: one entry point whose subcommands run the other executables
//! (Bitcoin Core's `bitcoin` wrapper). `mpx rpc <args>` replaces itself
//! with `mpx-cli <args>`, arguments unchanged. `-m` (`--multiprocess`)
//! before the command picks the multiprocess executable where there is one
//! (`mpx -m node` runs `mpx-multiprocess-node`, Bitcoin Core's
//! `bitcoin -m node` running `bitcoin-node`).

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The executable's name.
pub const EXECUTABLE: &str = "mpx";

/// Each subcommand, the executable it runs, and what it is.
pub const SUBCOMMANDS: &[(&str, &str, &str)] = &[
    ("node", "mpx-node", "Start the node (the daemon; wallets in process)"),
    ("rpc", "mpx-cli", "Call the node's JSON-RPC methods (mpx-cli)"),
    ("wallet", "mpx-wallet", "Run the wallet process (joins a node with -ipcconnect)"),
    ("gui", "mpx-gui", "Run the terminal gui (node in process, or -ipcconnect to join one)"),
];

/// Subcommands whose executable differs with `-m`: the command and that executable.
pub const MULTIPROCESS: &[(&str, &str)] =
    &[("node", "mpx-multiprocess-node"), ("gui", "mpx-multiprocess-gui")];

/// The help text.
pub fn help() -> String {
    let mut out = format!(
        "Usage: {EXECUTABLE} <command> [args]\n\n\
         Runs the mpx executable for <command> with [args] unchanged, looking for it next to\n\
         {EXECUTABLE} first, then in PATH.\n\nCommands:\n"
    );
    for (name, executable, about) in SUBCOMMANDS {
        out.push_str(&format!("  {name:<8}{about} [{executable}]\n"));
    }
    out.push_str(&format!(
        "  {:<8}Show this help\n\nOptions:\n  -m, --multiprocess\n          Run the multiprocess \
         executable: node -> mpx-multiprocess-node (the node with\n          its wallets in a separate \
         mpx-wallet process), gui -> mpx-multiprocess-gui (spawns it)\n\nExample: {EXECUTABLE} rpc -rpcwait getblockcount\n",
        "help"
    ));
    out
}

/// Runs `mpx` with `args` (without the program name). Returns only on error
/// or for help: a found executable replaces this process.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let mut args = args.into_iter().peekable();
    let multiprocess = args.next_if(|arg| arg == "-m" || arg == "--multiprocess").is_some();
    let Some(command) = args.next() else {
        let _ = io::stderr().write_all(help().as_bytes());
        return ExitCode::FAILURE;
    };
    let command_text = command.to_string_lossy();
    if matches!(command_text.as_ref(), "help" | "-h" | "-help" | "--help" | "-?") {
        let _ = io::stdout().write_all(help().as_bytes());
        return ExitCode::SUCCESS;
    }
    let Some(&(_, executable, _)) = SUBCOMMANDS.iter().find(|(name, _, _)| *name == command_text) else {
        return error(&format!("unknown command '{command_text}'; run '{EXECUTABLE} help' for the list"));
    };
    let executable = match MULTIPROCESS.iter().find(|(name, _)| *name == command_text) {
        Some(&(_, multiprocess_executable)) if multiprocess => multiprocess_executable,
        _ => executable,
    };
    let own = std::env::current_exe().ok();
    let Some(path) = find_executable(executable, own.as_deref(), std::env::var_os("PATH").as_deref()) else {
        let next_to = match &own {
            Some(own) => own.display().to_string(),
            None => EXECUTABLE.to_string(),
        };
        return error(&format!("cannot run {executable}: not found next to {next_to} or in PATH"));
    };
    // Only returns on failure.
    let e = Command::new(&path).args(args).exec();
    error(&format!("cannot run {}: {e}", path.display()))
}

fn error(message: &str) -> ExitCode {
    let _ = io::stderr().write_all(format!("Error: {message}\n").as_bytes());
    ExitCode::FAILURE
}

/// `name` in the directory of `own` (this executable), else in the
/// directories of `path_var`; only regular files with an execute bit count.
pub fn find_executable(name: &str, own: Option<&Path>, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let beside = own.and_then(Path::parent).map(|dir| dir.join(name));
    let in_path = path_var
        .map(|path_var| std::env::split_paths(path_var).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name));
    beside.into_iter().chain(in_path).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
