//! [`run`]: the terminal, the UI thread's loop, and the way out.
//!
//! Threads, step by step:
//! 1. `run` refuses to start without a terminal (stdin and stdout must be
//!    ttys), then switches the terminal to raw mode and the alternate
//!    screen. A guard puts it back when `run` returns or unwinds; a panic
//!    hook puts it back before the panic message prints (on the UI thread).
//! 2. The backend thread ([`spawn_backend`]) gets the node. Its updates
//!    and the terminal's events (read by the `gui-input` thread) arrive on
//!    one channel; the UI thread waits on it, applies everything queued,
//!    then draws once. So a key press is drawn at once, however busy the
//!    backend is. A 250 ms wake-up only refreshes the tip's age and checks
//!    for SIGTERM/SIGHUP; it never calls the node.
//! 3. Quit (`q` then `y`, a signal, or the terminal going away) sends
//!    [`Command::Shutdown`] and waits for [`Update::ShutdownDone`]; Ctrl-C
//!    while waiting leaves without waiting (the backend thread is left to
//!    finish on its own).

use std::fmt;
use std::io::{self, IsTerminal};
use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

use interfaces::Node;

use crate::backend::{spawn_backend, UpdateSink};
use crate::message::{Command, Peer, Update};
use crate::model::{Model, Phase};
use crate::{draw, handle_key};

/// Blocks until the node's process is gone, then says why (see [`RunOptions::watch_node`]).
pub type NodeWatch = Box<dyn FnOnce() -> String + Send>;

/// How [`run`] runs.
pub struct RunOptions {
    /// The gui starts the node (`Node::init`) and stops it when it quits
    /// (`Node::shutdown`); otherwise it only joined a running node and
    /// leaves it running.
    pub start_node: bool,
    /// How the gui reaches the node, shown on the overview, e.g.
    /// `in process`, `spawned node pid 1234`, `joined unix:/path`.
    pub connection: String,
    /// Quit on SIGTERM and SIGHUP as if quitting were confirmed (the node
    /// the gui started is stopped, the terminal restored); the previous
    /// handlers are put back when `run` returns. Off for a caller that
    /// handles these signals itself.
    pub handle_signals: bool,
    /// For a node in another process: a call that returns (with the reason) once that process
    /// is gone, run on a thread of its own, so the banner shows at once rather than at the
    /// gui's next call to the node.
    pub watch_node: Option<NodeWatch>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("start_node", &self.start_node)
            .field("connection", &self.connection)
            .field("handle_signals", &self.handle_signals)
            .field("watch_node", &self.watch_node.is_some())
            .finish()
    }
}

impl RunOptions {
    /// Options with `handle_signals` on and no watch.
    pub fn new(start_node: bool, connection: impl Into<String>) -> Self {
        Self { start_node, connection: connection.into(), handle_signals: true, watch_node: None }
    }

    /// With `watch` telling when the node's process is gone.
    pub fn watching(mut self, watch: NodeWatch) -> Self {
        self.watch_node = Some(watch);
        self
    }
}

/// Why [`run`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum GuiError {
    /// stdin or stdout is not a terminal.
    NoTerminal,
    /// The terminal could not be set up, read or drawn on.
    Terminal(io::Error),
    /// `Node::shutdown` failed; the message says why.
    Shutdown(String),
}

impl fmt::Display for GuiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuiError::NoTerminal => f.write_str(
                "mpx-gui needs a terminal: stdin and stdout must be a tty (for scripts use mpx-cli)",
            ),
            GuiError::Terminal(e) => write!(f, "terminal error: {e}"),
            GuiError::Shutdown(message) => write!(f, "stopping the node failed: {message}"),
        }
    }
}

impl std::error::Error for GuiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GuiError::Terminal(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for GuiError {
    fn from(e: io::Error) -> Self {
        GuiError::Terminal(e)
    }
}

/// What the UI thread waits for.
enum UiEvent {
    Term(Event),
    Update(Update),
    /// The terminal cannot be read any more.
    InputGone,
}

/// Runs the gui on the terminal until the user quits; see the module docs.
///
/// Without a terminal it returns [`GuiError::NoTerminal`] at once (the
/// node is dropped, never started).
pub fn run(node: Box<dyn Node>, mut options: RunOptions) -> Result<(), GuiError> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(GuiError::NoTerminal);
    }
    let guard = TerminalGuard::enter()?;
    let hook = PanicHook::install();
    let signals = options.handle_signals.then(signals::install);
    let watch = options.watch_node.take();
    let result = run_loop(node, &options, watch);
    if let Some(previous) = signals {
        signals::restore(previous);
    }
    drop(hook);
    drop(guard);
    result
}

fn run_loop(node: Box<dyn Node>, options: &RunOptions, watch: Option<NodeWatch>) -> Result<(), GuiError> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let (tx, rx) = mpsc::channel::<UiEvent>();
    let update_tx = tx.clone();
    let sink: UpdateSink = Arc::new(move |update| {
        let _ = update_tx.send(UiEvent::Update(update));
    });
    let backend = spawn_backend(node, options.start_node, sink)?;
    if let Some(watch) = watch {
        let watch_tx = tx.clone();
        // Detached: it returns when the node's process goes, or with this process.
        thread::Builder::new().name("gui-watch".into()).spawn(move || {
            let message = watch();
            let _ = watch_tx.send(UiEvent::Update(Update::Disconnected { peer: Peer::Node, message }));
        })?;
    }
    let stop_input = Arc::new(AtomicBool::new(false));
    let input = {
        let stop = stop_input.clone();
        thread::Builder::new().name("gui-input".into()).spawn(move || read_input(&tx, &stop))?
    };
    let mut model = Model::new(options.start_node, options.connection.clone());
    let mut done_received = false;
    let mut outcome = Ok(());
    loop {
        model.now = unix_now();
        if REPAINT.swap(false, Ordering::SeqCst) {
            // Another thread printed over the screen (a panic message): repaint it all.
            let _ = terminal.clear();
        }
        if let Err(e) = terminal.draw(|frame| draw(frame, &model)) {
            outcome = Err(GuiError::Terminal(e));
            break;
        }
        if model.finished {
            break;
        }
        let first = match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        for event in first.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match event {
                UiEvent::Term(Event::Key(key)) => {
                    for command in handle_key(&mut model, key) {
                        backend.send(command);
                    }
                }
                UiEvent::Term(_) => {} // A resize: the next draw fits the new size.
                UiEvent::Update(update) => {
                    done_received |= matches!(update, Update::ShutdownDone { .. });
                    model.apply(update);
                }
                UiEvent::InputGone => quit_now(&mut model, &backend),
            }
        }
        if signals::TERMINATE.swap(false, Ordering::SeqCst) {
            quit_now(&mut model, &backend);
        }
        if model.phase == Phase::ShuttingDown && backend.is_finished() {
            // The backend ended without reporting (it failed): nothing left to wait for.
            model.finished = true;
        }
    }
    stop_input.store(true, Ordering::SeqCst);
    let _ = input.join();
    if done_received || backend.is_finished() {
        backend.join();
    } else if outcome.is_ok() {
        // Ctrl-C while waiting: leave the backend to finish by itself.
        backend.detach();
    } else {
        // A terminal error: still stop the node properly before returning.
        backend.join();
    }
    outcome?;
    match model.shutdown_error {
        Some(message) => Err(GuiError::Shutdown(message)),
        None => Ok(()),
    }
}

/// Quit as if confirmed (a signal, or the terminal went away).
fn quit_now(model: &mut Model, backend: &crate::BackendHandle) {
    if model.phase != Phase::ShuttingDown {
        model.phase = Phase::ShuttingDown;
        model.dialog = None;
        backend.send(Command::Shutdown);
    }
}

/// The `gui-input` thread: terminal events to the UI channel, until `stop`.
fn read_input(tx: &mpsc::Sender<UiEvent>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let event = match event::poll(Duration::from_millis(100)) {
            Ok(false) => continue,
            Ok(true) => event::read(),
            Err(e) => Err(e),
        };
        let sent = match event {
            Ok(event) => tx.send(UiEvent::Term(event)),
            Err(_) => {
                let _ = tx.send(UiEvent::InputGone);
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Puts the terminal back as it was.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, ratatui::crossterm::cursor::Show);
}

/// Raw mode and the alternate screen while it lives.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Set when another thread's panic message was printed over the screen.
static REPAINT: AtomicBool = AtomicBool::new(false);

type Hook = Box<dyn Fn(&panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// While it lives, a panic on the UI thread restores the terminal before
/// its message prints (so the message is readable); a panic elsewhere
/// prints as usual and the screen is repainted.
struct PanicHook {
    previous: Arc<Hook>,
}

impl PanicHook {
    fn install() -> Self {
        let previous: Arc<Hook> = Arc::new(panic::take_hook());
        let ui: ThreadId = thread::current().id();
        let chained = previous.clone();
        panic::set_hook(Box::new(move |info| {
            if thread::current().id() == ui {
                restore_terminal();
            } else {
                REPAINT.store(true, Ordering::SeqCst);
            }
            chained(info);
        }));
        Self { previous }
    }
}

impl Drop for PanicHook {
    fn drop(&mut self) {
        let previous = self.previous.clone();
        panic::set_hook(Box::new(move |info| previous(info)));
    }
}

/// SIGTERM and SIGHUP as a flag the UI loop reads: the handler only stores to an atomic, which
/// is async-signal-safe.
mod signals {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set by the handler; read (and cleared) by the UI loop.
    pub(super) static TERMINATE: AtomicBool = AtomicBool::new(false);

    mod imp {
        use libc::{c_int, sighandler_t, SIGHUP, SIGTERM, SIG_IGN};

        extern "C" fn on_signal(_: c_int) {
            super::TERMINATE.store(true, super::Ordering::SeqCst);
        }

        pub(in super::super) fn install() -> [usize; 2] {
            let handler = on_signal as extern "C" fn(c_int) as sighandler_t;
            [SIGTERM, SIGHUP].map(|signum| {
                // SAFETY: `on_signal` is an `extern "C" fn(c_int)` that only stores to an
                // atomic (async-signal-safe).
                let previous = unsafe { libc::signal(signum, handler) };
                if previous == SIG_IGN {
                    // SAFETY: SIG_IGN is a valid handler: a signal the process was told to
                    // ignore stays ignored.
                    unsafe { libc::signal(signum, SIG_IGN) };
                }
                previous
            })
        }

        pub(in super::super) fn restore(previous: [usize; 2]) {
            for (signum, handler) in [SIGTERM, SIGHUP].into_iter().zip(previous) {
                // SAFETY: `handler` is what `signal` returned for this signal, so a valid
                // handler value (SIG_DFL, SIG_IGN or a function the process installed).
                unsafe { libc::signal(signum, handler) };
            }
        }
    }

    pub(super) fn install() -> [usize; 2] {
        TERMINATE.store(false, Ordering::SeqCst);
        imp::install()
    }

    pub(super) fn restore(previous: [usize; 2]) {
        imp::restore(previous);
    }
}
