//! The node's log: `<chain datadir>/debug.log` (and the console with `-printtoconsole`), in
//! Bitcoin Core's line shape, with `-debug=<category>` turning on DEBUG events per category.
//!
//! Categories are tracing targets: an event logged with `target: "rpc"` is shown at DEBUG level
//! only under `-debug=rpc` (or `-debug=1`), as `[rpc]`; INFO and above are always shown. Events
//! of other targets (module paths, dependencies) are shown from INFO up, and at DEBUG only with
//! `-debug=1`.
//!
//! The file is opened in append mode and re-opened on [`LogFile::reopen`] (the daemon calls it on
//! SIGHUP), so `logrotate` can move it away as with bitcoind.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use config::{DebugCategories, DebugCategory};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Name of the log file inside the chain's data directory.
pub const LOG_FILE_NAME: &str = "debug.log";

/// The open log file, shared by every logging thread.
#[derive(Debug, Clone)]
pub struct LogFile {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl LogFile {
    /// Opens (creating it if needed) `path` for appending.
    pub fn open(path: &Path) -> io::Result<LogFile> {
        let file = open_append(path)?;
        Ok(LogFile { path: path.to_owned(), file: Arc::new(Mutex::new(file)) })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the path again (after a log rotation moved the old file away). On failure the old
    /// file stays in use.
    pub fn reopen(&self) -> io::Result<()> {
        let file = open_append(&self.path)?;
        *self.file.lock().unwrap_or_else(PoisonError::into_inner) = file;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// One event's bytes, written to the file (and the console) in a single `write` when dropped,
/// so lines from different threads never interleave.
#[derive(Debug)]
pub struct LineWriter {
    buffer: Vec<u8>,
    file: Arc<Mutex<File>>,
    console: bool,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        // A log line that cannot be written (disk full) is dropped: logging must never take the
        // node down or block it.
        let _ = self.file.lock().unwrap_or_else(PoisonError::into_inner).write_all(&self.buffer);
        if self.console {
            let _ = io::stdout().lock().write_all(&self.buffer);
        }
    }
}

/// Where log lines go: the file, plus stdout when `console` is set.
#[derive(Debug, Clone)]
struct Sink {
    file: LogFile,
    console: bool,
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { buffer: Vec::with_capacity(160), file: self.file.file.clone(), console: self.console }
    }
}

/// `2026-11-22T06:05:01.123456Z [category] message key=value` (the category only for `-debug`
/// categories), with `WARN:` or `ERROR:` before the message of those levels.
struct CoreFormat;

impl<S, N> FormatEvent<S, N> for CoreFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        let meta = event.metadata();
        match category_of(meta.target()) {
            Some(category) => write!(writer, " [{category}] ")?,
            None => write!(writer, " ")?,
        }
        let level = *meta.level();
        if level == Level::WARN || level == Level::ERROR {
            write!(writer, "{level}: ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The `-debug` category an event's target names (`rpc`, `validation`, ...), if any; events of
/// other targets (module paths) are general messages shown without one.
fn category_of(target: &str) -> Option<&'static str> {
    DebugCategory::ALL.into_iter().map(DebugCategory::name).find(|name| *name == target)
}

/// The filter: INFO for everything, DEBUG for the enabled categories (everything with
/// `-debug=1`).
fn filter(debug: DebugCategories) -> EnvFilter {
    let mut directives = vec![if debug == DebugCategories::all() { "debug" } else { "info" }.to_string()];
    directives.extend(debug.iter().map(|category| format!("{category}=debug")));
    EnvFilter::new(directives.join(","))
}

/// Installs the process-wide subscriber writing to `<chain datadir>/debug.log` (and stdout with
/// `print_to_console`). Returns the file so the caller can [`reopen`](LogFile::reopen) it.
pub fn init(chain_datadir: &Path, debug: DebugCategories, print_to_console: bool) -> io::Result<LogFile> {
    let file = LogFile::open(&chain_datadir.join(LOG_FILE_NAME))?;
    let sink = Sink { file: file.clone(), console: print_to_console };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter(debug))
        .with_ansi(false)
        .event_format(CoreFormat)
        .with_writer(sink)
        .try_init();
    if let Err(e) = installed {
        return Err(io::Error::other(format!("cannot install the logger: {e}")));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn only_category_targets_are_shown() {
        assert_eq!(category_of("rpc"), Some("rpc"));
        assert_eq!(category_of("mempoolrej"), Some("mempoolrej"));
        assert_eq!(category_of("node::rpc::server"), None);
        assert_eq!(category_of(""), None);
    }

    #[test]
    fn filter_enables_debug_per_category() {
        let mut debug = DebugCategories::none();
        assert_eq!(filter(debug).to_string(), "info");
        debug.insert(DebugCategory::Rpc);
        debug.insert(DebugCategory::Mempool);
        let shown = filter(debug).to_string();
        assert!(shown.split(',').any(|d| d == "info"), "{shown}");
        assert!(shown.contains("rpc=debug") && shown.contains("mempool=debug"), "{shown}");
        assert!(filter(DebugCategories::all()).to_string().split(',').any(|d| d == "debug"));
    }

    #[test]
    fn reopen_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE_NAME);
        let log = LogFile::open(&path).unwrap();
        let sink = Sink { file: log.clone(), console: false };
        sink.make_writer().write_all(b"first\n").unwrap();
        std::fs::rename(&path, dir.path().join("debug.log.1")).unwrap();
        log.reopen().unwrap();
        sink.make_writer().write_all(b"second\n").unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("debug.log.1")).unwrap(), "first\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second\n");
    }
}
