//! Process-level behaviour of the daemon: detaching with `-daemon` and turning SIGTERM, SIGINT
//! and SIGHUP into ordinary events on a thread of their own.
//!
//! Both must happen before the process starts any other thread: `fork` copies only the calling
//! thread, and a signal mask set first is inherited by every thread created after it, so the
//! signals reach only the thread that waits for them (no async-signal-safety concerns).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::unistd::{fork, pipe, setsid, ForkResult};

/// The status byte of a successful start-up.
const READY: u8 = b'0';
/// The status byte of a failed start-up (the error message follows).
const FAILED: u8 = b'1';

/// The detached child's line back to the parent, which waits to report how start-up went
/// (bitcoind's `-daemonwait` behaviour, always on: a script that starts the daemon learns
/// about a bad datadir from the exit code).
#[derive(Debug)]
pub struct StartupReport {
    pipe: Option<File>,
}

impl StartupReport {
    /// A report that goes nowhere (the process did not detach).
    pub fn none() -> StartupReport {
        StartupReport { pipe: None }
    }

    /// Tells the waiting parent that start-up succeeded; it exits 0.
    pub fn ready(mut self) {
        self.send(READY, "");
    }

    /// Tells the waiting parent that start-up failed with `message`; it prints it and exits 1.
    pub fn failed(mut self, message: &str) {
        self.send(FAILED, message);
    }

    fn send(&mut self, status: u8, message: &str) {
        if let Some(mut pipe) = self.pipe.take() {
            // The status byte, then the message: the parent reads until end of file.
            let _ = pipe.write_all(&[status]);
            let _ = pipe.write_all(message.as_bytes());
        }
    }
}

/// Detaches from the terminal: forks; the parent waits for the child's [`StartupReport`] and
/// exits with its status (printing its error on stderr); the child starts a new session, points
/// stdin, stdout and stderr at `/dev/null` and returns the report to fill in.
///
/// Must be called before any other thread exists.
pub fn daemonize() -> std::io::Result<StartupReport> {
    let (read_end, write_end) = pipe()?;
    // SAFETY: the caller guarantees the process is single-threaded here, so the child cannot
    // inherit a lock held by another thread; the parent only reads the pipe and exits.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            drop(write_end);
            std::process::exit(wait_for_child(read_end));
        }
        ForkResult::Child => {
            drop(read_end);
            let report = StartupReport { pipe: Some(File::from(write_end)) };
            // The parent still waits on the pipe: a failure here is reported there, not on a
            // stderr that is about to go away.
            if let Err(e) = setsid().map_err(std::io::Error::from).and_then(|_| redirect_stdio_to_null()) {
                report.failed(&format!("cannot detach: {e}"));
                std::process::exit(1);
            }
            Ok(report)
        }
    }
}

fn wait_for_child(read_end: OwnedFd) -> i32 {
    let mut report = Vec::new();
    let _ = File::from(read_end).read_to_end(&mut report);
    match report.split_first() {
        Some((&READY, _)) => 0,
        Some((_, message)) => {
            eprintln!("Error: {}", String::from_utf8_lossy(message));
            1
        }
        None => {
            eprintln!("Error: the node exited during start-up; see debug.log");
            1
        }
    }
}

fn redirect_stdio_to_null() -> std::io::Result<()> {
    let null = File::options().read(true).write(true).open("/dev/null")?;
    for target in 0..=2 {
        nix::unistd::dup2(null.as_raw_fd(), target)?;
    }
    Ok(())
}

/// The signals the daemon handles.
const HANDLED: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

/// Blocks the handled signals in the calling thread (and so in every thread it creates later).
/// Must be called before any other thread exists.
pub fn block_signals() -> std::io::Result<SigSet> {
    let mut set = SigSet::empty();
    for signal in HANDLED {
        set.add(signal);
    }
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    Ok(set)
}

/// Starts a thread that waits for the signals in `set` and calls `on_signal` with each; it ends
/// when `on_signal` returns `false`.
pub fn spawn_signal_thread(
    set: SigSet,
    on_signal: impl Fn(Signal) -> bool + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("signals".into()).spawn(move || loop {
        match set.wait() {
            Ok(signal) => {
                if !on_signal(signal) {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "waiting for signals failed; signals are no longer handled");
                return;
            }
        }
    })
}
