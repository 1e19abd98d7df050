//! Process plumbing shared by the three executables.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use framework::{ChildProcess, EventLoop, FdArg, SpawnOptions};

use crate::init_capnp::init_interface;
use crate::Init;

/// Environment variable the driver sets so its children trace IPC too.
const DEBUG_ENV: &str = "MPEXAMPLE_DEBUG";

/// Installs a stderr subscriber; `-debug=ipc` in `args` (or the driver's
/// environment variable) turns on the IPC trace.
pub fn init_logging(args: &[OsString]) -> bool {
    let debug = args.iter().any(|a| a == "-debug=ipc" || a == "-debug")
        || std::env::var(DEBUG_ENV).is_ok_and(|v| v == "ipc");
    let filter = if debug { "ipc=debug" } else { "warn" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    if debug {
        std::env::set_var(DEBUG_ENV, "ipc");
    }
    debug
}

/// Main of a child process: serves `init` on the fd from the command line
/// (`<exe> <fd>` or `<exe> -ipcfd <fd>`) until the parent disconnects.
pub fn serve_child(init: Box<dyn Init>) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    init_logging(&args);
    let stream = match framework::ipc_fd_from_args(args) {
        Ok(Some((stream, _rest))) => stream,
        Ok(None) => {
            eprintln!("usage: {} <fd> | -ipcfd <fd>  (started by mpexample)", framework_exe());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let event_loop = match EventLoop::new() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match event_loop.handle().serve_stream::<init_interface::Client, _>(stream, init) {
        Ok(connection) => {
            connection.wait_disconnected();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn framework_exe() -> String {
    std::env::args().next().unwrap_or_else(|| "child".into())
}

/// Spawns `<dir of this executable>/<name> <fd>` and returns its Init.
pub fn spawn_child(
    event_loop: &EventLoop,
    name: &str,
) -> framework::Result<(Box<dyn Init>, framework::Connection, ChildProcess)> {
    let exe = sibling_executable(name)?;
    let (child, stream) = SpawnOptions::new().fd_arg(FdArg::Positional).spawn(&exe)?;
    let (init, connection) =
        event_loop.handle().connect_stream::<init_interface::Client, Box<dyn Init>>(stream)?;
    Ok((init, connection, child))
}

fn sibling_executable(name: &str) -> framework::Result<PathBuf> {
    let me = std::env::current_exe()
        .map_err(|e| framework::Error::failed(format!("cannot find this executable: {e}")))?;
    let dir = me.parent().unwrap_or(Path::new("."));
    Ok(dir.join(name))
}
