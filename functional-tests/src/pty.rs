//! [`Pty`]: a program in a pseudo-terminal, its screen read through a terminal emulator
//! (`vt100`) as a user would see it (ratatui redraws only the cells that change, so the raw
//! bytes alone do not say what is on screen).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::node::die_with_parent;

/// Rows of the terminal.
pub const ROWS: u16 = 30;
/// Columns of the terminal.
pub const COLS: u16 = 100;
/// How long [`Pty::wait_for`] waits.
pub const WAIT: Duration = Duration::from_secs(60);
/// Where `vt100` notes that the program left the alternate screen (the terminal restored).
const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";

/// A program running in a pseudo-terminal, its screen kept up to date by a reader thread.
pub struct Pty {
    /// The program.
    pub child: Child,
    master: std::fs::File,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl std::fmt::Debug for Pty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pty").field("pid", &self.child.id()).finish_non_exhaustive()
    }
}

impl Pty {
    /// Starts `exe args` in a new pseudo-terminal of [`ROWS`] x [`COLS`].
    pub fn spawn(exe: &Path, args: &[String]) -> Pty {
        let size = libc::winsize { ws_row: ROWS, ws_col: COLS, ws_xpixel: 0, ws_ypixel: 0 };
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes the two descriptors it opens into the integers passed and
        // reads the window size; no name buffer or termios is passed (null is allowed).
        let opened =
            unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are owned here alone.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut command = Command::new(exe);
        command
            .args(args)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        die_with_parent(&mut command);
        // SAFETY: between fork and exec only setsid and ioctl run (async-signal-safe): the
        // child gets a session of its own with the pseudo-terminal as controlling terminal.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("the gui starts");
        let master = std::fs::File::from(master);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup");
        let (screen, bytes) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            // Ends with EIO once the last holder of the terminal's other side is gone.
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                screen.lock().expect("screen").process(&buffer[..n]);
                bytes.lock().expect("bytes").extend_from_slice(&buffer[..n]);
            }
        });
        Pty { child, master, parser, raw }
    }

    /// What the screen shows now.
    pub fn screen(&self) -> String {
        self.parser.lock().expect("screen").screen().contents()
    }

    /// Waits until the screen shows every one of `texts`; panics with the screen if not.
    pub fn wait_for(&self, texts: &[&str]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return;
            }
            assert!(Instant::now() < deadline, "the screen never showed {texts:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `keys` at once, without pausing.
    pub fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("write keys");
    }

    /// Polls (every 200 µs) until the screen shows `text`; the time it took, or `None` after
    /// `timeout`.
    pub fn time_until(&self, text: &str, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.screen().contains(text) {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    }

    /// Types `keys`, then pauses briefly (one key press at a time, as typed).
    pub fn keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("write keys");
        // One key press at a time, as typed.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits (up to [`WAIT`]) for the program to exit.
    pub fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the gui did not exit:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the program left the alternate screen (restored the terminal).
    pub fn restored_terminal(&self) -> bool {
        let raw = self.raw.lock().expect("bytes");
        raw.windows(LEAVE_ALTERNATE_SCREEN.len()).any(|w| w == LEAVE_ALTERNATE_SCREEN)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
