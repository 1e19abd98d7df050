//! Serves `FooInit` for the behaviour tests and the benchmark.
//!
//! - `foo-server -ipcfd N`: serve on the inherited socket until the peer leaves.
//! - `foo-server -listen PATH MAX`: accept up to MAX clients at once on a unix socket.
//! - `foo-server -pingpong -ipcfd N`: echo 8-byte pings (the benchmark's floor).
//! - `-debug=ipc` anywhere: trace IPC to stderr.
//! - `-<setting>=<n>` anywhere sets a [`LoopConfig`] limit: `-max-message-bytes`,
//!   `-max-queued-bytes`, `-max-pending-calls`, `-max-threads-per-connection`,
//!   `-max-server-threads`, `-evict-idle-ms`.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use framework::{EventLoop, LoopConfig};
use framework_itest::foo_capnp::foo_init;
use framework_itest::{FooInit, FooInitImpl};

fn run() -> Result<(), String> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.iter().any(|a| a == "-debug=ipc") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("ipc=debug"))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let args: Vec<OsString> = args.into_iter().filter(|a| a != "-debug=ipc").collect();
    let (config, args) = loop_config(args)?;
    // Clients see the kind of a TestError (NotFound, ...), not only its text.
    framework::register_error_kind(framework_itest::test_error_kind);
    if args.first().is_some_and(|a| a == "-listen") {
        let path = PathBuf::from(args.get(1).ok_or("-listen needs a path")?);
        let max: usize = args
            .get(2)
            .and_then(|m| m.to_str())
            .and_then(|m| m.parse().ok())
            .ok_or("-listen needs a connection limit")?;
        let event_loop = EventLoop::with_config(config).map_err(|e| e.to_string())?;
        let listener = framework::bind_unix(&path).map_err(|e| e.to_string())?;
        let _listening = event_loop
            .handle()
            .listen::<foo_init::Client, _, _>(listener, max, || Box::new(FooInitImpl) as Box<dyn FooInit>)
            .map_err(|e| e.to_string())?;
        // Serve until killed.
        loop {
            std::thread::park();
        }
    }
    let pingpong = args.iter().any(|a| a == "-pingpong");
    let rest: Vec<OsString> = args.into_iter().filter(|a| a != "-pingpong").collect();
    let (stream, _) = framework::ipc_fd_from_args(rest)
        .map_err(|e| e.to_string())?
        .ok_or("usage: foo-server -ipcfd N | -listen PATH MAX | -pingpong -ipcfd N")?;
    if pingpong {
        let mut stream = stream;
        let mut ping = [0u8; 8];
        while stream.read_exact(&mut ping).is_ok() {
            if stream.write_all(&ping).is_err() {
                break;
            }
        }
        return Ok(());
    }
    let event_loop = EventLoop::with_config(config).map_err(|e| e.to_string())?;
    let connection = event_loop
        .handle()
        .serve_stream::<foo_init::Client, _>(stream, Box::new(FooInitImpl) as Box<dyn FooInit>)
        .map_err(|e| e.to_string())?;
    connection.wait_disconnected();
    Ok(())
}

/// Takes the `-<setting>=<n>` arguments out of `args`.
fn loop_config(args: Vec<OsString>) -> Result<(LoopConfig, Vec<OsString>), String> {
    let mut config = LoopConfig::default();
    let mut rest = Vec::new();
    for arg in args {
        let Some((name, value)) = arg.to_str().and_then(|a| a.split_once('=')) else {
            rest.push(arg);
            continue;
        };
        let n: u64 = value.parse().map_err(|_| format!("{name}: not a number: {value}"))?;
        match name {
            "-max-message-bytes" => config.max_message_bytes = n as usize,
            "-max-queued-bytes" => config.max_queued_bytes = n as usize,
            "-max-pending-calls" => config.max_pending_calls = n as usize,
            "-max-threads-per-connection" => config.max_threads_per_connection = n as usize,
            "-max-server-threads" => config.max_server_threads = n as usize,
            "-evict-idle-ms" => config.evict_idle_after = std::time::Duration::from_millis(n),
            _ => rest.push(arg),
        }
    }
    Ok((config, rest))
}

fn main() -> ExitCode {
    framework_itest::tune_allocator();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("foo-server: {e}");
            ExitCode::FAILURE
        }
    }
}
