//! The node's log: `<chain datadir>/debug.log` (or `-debuglogfile`, or none with
//! `-nodebuglogfile`) and the console with `-printtoconsole`, in Bitcoin Core's line shape,
//! with `-debug=<category>` and `-loglevel` choosing what below info is shown.
//!
//! A line is, as bitcoind writes it:
//!
//! ```text
//! 2026-11-22T06:05:01Z [httpworker.0] [node/src/rpc/server.rs:120] [node::rpc::server] [rpc] message key=value
//! ^ -logtimestamps     ^ -logthreadnames ^ -logsourcelocations                  ^ category and level
//! (".123456Z" with -logtimemicros)
//! ```
//!
//! The prefix before the message is Core's: nothing for an uncategorized info line,
//! `[warning] ` / `[error] ` / `[debug] ` / `[trace] ` for other uncategorized ones, `[rpc] ` for
//! a debug line of the `rpc` category, `[rpc:trace] ` / `[rpc:info] ` / `[rpc:warning] ` for its
//! other levels. Categories are tracing targets: an event logged with `target: "rpc"` belongs to
//! `rpc`; events of other targets (module paths, dependencies) are uncategorized. Tracing has no
//! function names, so `-logsourcelocations` shows the module path where Core shows the function.
//!
//! What is shown: info and above always; debug and trace of a category only when `-debug`
//! enables it (and `-debugexclude` does not), at the category's `-loglevel` (default debug);
//! uncategorized debug and trace only with `-debug=1`.
//!
//! **Rate limiting** (`-logratelimit`, on by default, as Core's): info and above from one source
//! location (file and line) may write 1 MiB an hour to the file; past that, one warning says so and
//! further lines from there are dropped from the file (not from the console) until the hour
//! ends, then a warning says how many bytes were dropped. While any location is suppressed,
//! every line starts with `[*] `. The hour is checked when a line is logged (Core uses a timer).
//!
//! **Shrinking** (`-shrinkdebugfile`, on by default unless `-debug` is given): at start, a log file
//! over 11 MB is cut to its last 10 MB.
//!
//! The file is opened in append mode, written with one `write` per line (lines from different
//! threads never interleave), and re-opened on [`LogHandle::reopen`] (the daemon calls it on
//! SIGHUP), so `logrotate` can move it away as with bitcoind.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use config::{Config, DebugCategories, DebugCategory, LogLevel, LogSettings};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Layer, Registry};

/// Name of the log file inside the chain's data directory.
pub const LOG_FILE_NAME: &str = "debug.log";

/// Core's `RATELIMIT_MAX_BYTES`: what one source location may log in a window.
pub const RATE_LIMIT_MAX_BYTES: u64 = 1024 * 1024;
/// Core's `RATELIMIT_WINDOW`.
pub const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(3600);
/// Core's shrink threshold: a log file larger than this is shrunk at start.
pub const SHRINK_THRESHOLD: u64 = 11_000_000;
/// What shrinking keeps: the file's last bytes.
pub const SHRINK_KEEP: u64 = 10_000_000;

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

    /// Appends `bytes` in one `write`. A line that cannot be written (disk full) is dropped:
    /// logging must never take the node down or block it.
    fn write(&self, bytes: &[u8]) {
        let _ = self.file.lock().unwrap_or_else(PoisonError::into_inner).write_all(bytes);
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// What [`init`] installed: the log file, if any, for [`reopen`](LogHandle::reopen).
#[derive(Debug, Clone)]
pub struct LogHandle {
    file: Option<LogFile>,
}

impl LogHandle {
    /// The log file, unless `-nodebuglogfile`.
    pub fn file(&self) -> Option<&LogFile> {
        self.file.as_ref()
    }

    /// Re-opens the log file (nothing to do without one).
    pub fn reopen(&self) -> io::Result<()> {
        self.file.as_ref().map_or(Ok(()), LogFile::reopen)
    }
}

/// Cuts the file at `path` to its last [`SHRINK_KEEP`] bytes if it is larger than
/// [`SHRINK_THRESHOLD`] (Core's `ShrinkDebugFile`). Returns whether it did. A missing file is
/// left alone.
pub fn shrink_file(path: &Path) -> io::Result<bool> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() <= SHRINK_THRESHOLD {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-(SHRINK_KEEP as i64)))?;
    let mut tail = Vec::with_capacity(SHRINK_KEEP as usize);
    file.read_to_end(&mut tail)?;
    std::fs::write(path, tail)?;
    Ok(true)
}

/// How lines look (the `-log*` options).
#[derive(Debug, Clone, Copy)]
struct LineFormat {
    timestamps: bool,
    time_micros: bool,
    thread_names: bool,
    source_locations: bool,
}

/// One event's fields: the message first, then ` key=value` for each other field.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else if !field.name().starts_with("log.") {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// The `-debug` category an event's target names (`rpc`, `validation`, ...), if any; events of
/// other targets (module paths) are uncategorized.
fn category_of(target: &str) -> Option<&'static str> {
    DebugCategory::ALL.into_iter().map(DebugCategory::name).find(|name| *name == target)
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warning",
        Level::ERROR => "error",
    }
}

/// Core's `GetLogPrefix`.
fn prefix(category: Option<&str>, level: Level) -> String {
    match (category, level) {
        (None, Level::INFO) => String::new(),
        (None, level) => format!("[{}] ", level_name(level)),
        (Some(category), Level::DEBUG) => format!("[{category}] "),
        (Some(category), level) => format!("[{category}:{}] ", level_name(level)),
    }
}

/// `2026-11-22T06:05:01Z`, or `2026-11-22T06:05:01.123456Z` with `micros`.
fn timestamp(now: SystemTime, micros: bool) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut text =
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if micros {
        let _ = write!(text, ".{:06}", since.subsec_micros());
    }
    text.push('Z');
    text
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Core's `LogEscapeMessage`: control characters but newline as `\xNN`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c < ' ' && c != '\n') || c == '\x7f' {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

impl LineFormat {
    /// The line for an event, without the `[*] ` of active suppression.
    fn line(
        &self,
        now: SystemTime,
        thread: Option<&str>,
        meta: Location,
        level: Level,
        text: &str,
    ) -> String {
        let mut line = String::with_capacity(64 + text.len());
        if self.timestamps {
            line.push_str(&timestamp(now, self.time_micros));
            line.push(' ');
        }
        if self.thread_names {
            let _ = write!(line, "[{}] ", thread.filter(|t| !t.is_empty()).unwrap_or("unknown"));
        }
        if self.source_locations {
            let file = meta.file.strip_prefix("./").unwrap_or(meta.file);
            let _ = write!(line, "[{file}:{}] [{}] ", meta.line, meta.module);
        }
        line.push_str(&prefix(meta.category, level));
        line.push_str(&escape(text));
        if !line.ends_with('\n') {
            line.push('\n');
        }
        line
    }
}

/// Where an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Location {
    file: &'static str,
    line: u32,
    module: &'static str,
    category: Option<&'static str>,
}

/// What the limiter says about a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unsuppressed,
    NewlySuppressed,
    StillSuppressed,
}

/// Core's `LogRateLimiter`: bytes per source location per window.
#[derive(Debug)]
struct RateLimiter {
    max_bytes: u64,
    window: Duration,
    window_start: Instant,
    /// (file, line) → (bytes still allowed, bytes dropped), plus the module for messages.
    locations: HashMap<(&'static str, u32), (u64, u64, &'static str)>,
}

impl RateLimiter {
    fn new(max_bytes: u64, window: Duration, now: Instant) -> RateLimiter {
        RateLimiter { max_bytes, window, window_start: now, locations: HashMap::new() }
    }

    fn consume(&mut self, location: Location, bytes: u64) -> Status {
        let max = self.max_bytes;
        let stats = self.locations.entry((location.file, location.line)).or_insert((max, 0, location.module));
        let status = if stats.1 > 0 { Status::StillSuppressed } else { Status::Unsuppressed };
        if bytes > stats.0 {
            stats.1 += bytes;
            stats.0 = 0;
            if status == Status::Unsuppressed {
                return Status::NewlySuppressed;
            }
        } else {
            stats.0 -= bytes;
        }
        status
    }

    fn suppressing(&self) -> bool {
        self.locations.values().any(|(_, dropped, _)| *dropped > 0)
    }

    /// At the end of a window: forget the counts, and say what was dropped.
    fn reset_if_due(&mut self, now: Instant) -> Vec<String> {
        if now.duration_since(self.window_start) < self.window {
            return Vec::new();
        }
        self.window_start = now;
        let mut messages: Vec<String> = self
            .locations
            .drain()
            .filter(|(_, (_, dropped, _))| *dropped > 0)
            .map(|((file, line), (_, dropped, module))| {
                format!(
                    "Restarting logging from {file}:{line} ({module}): {dropped} bytes were dropped during the last {}s.",
                    self.window.as_secs()
                )
            })
            .collect();
        messages.sort();
        messages
    }
}

/// The layer that formats and writes every event the filter lets through.
struct CoreLayer {
    format: LineFormat,
    file: Option<LogFile>,
    console: bool,
    limiter: Option<Mutex<RateLimiter>>,
}

impl CoreLayer {
    fn write(&self, line: &str, to_file: bool) {
        if self.console {
            let _ = io::stdout().lock().write_all(line.as_bytes());
        }
        if let (true, Some(file)) = (to_file, &self.file) {
            file.write(line.as_bytes());
        }
    }

    fn log(&self, location: Location, level: Level, text: &str) {
        let now = SystemTime::now();
        let thread = std::thread::current();
        let line = self.format.line(now, thread.name(), location, level, text);
        let Some(limiter) = &self.limiter else {
            self.write(&line, true);
            return;
        };
        // The limiter's lock is held while writing, so its notices stay in order with the lines.
        let mut limiter = limiter.lock().unwrap_or_else(PoisonError::into_inner);
        let notice = |message: &str, suppressing: bool| {
            let here = Location { file: file!(), line: line!(), module: module_path!(), category: None };
            let line = self.format.line(now, thread.name(), here, Level::WARN, message);
            self.write(&if suppressing { format!("[*] {line}") } else { line }, true);
        };
        for message in limiter.reset_if_due(Instant::now()) {
            notice(&message, false);
        }
        let status = if level <= Level::INFO {
            limiter.consume(location, line.len() as u64)
        } else {
            Status::Unsuppressed
        };
        if status == Status::NewlySuppressed {
            notice(
                &format!(
                    "Excessive logging detected from {}:{} ({}): >{} bytes logged during the last time window of \
                     {}s. Suppressing logging to disk from this source location until time window resets. \
                     Console logging unaffected. Last log entry.",
                    location.file,
                    location.line,
                    location.module,
                    limiter.max_bytes,
                    limiter.window.as_secs()
                ),
                true,
            );
        }
        let line = if limiter.suppressing() { format!("[*] {line}") } else { line };
        self.write(&line, status != Status::StillSuppressed);
    }
}

impl<S: Subscriber> Layer<S> for CoreLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let location = Location {
            file: meta.file().unwrap_or("?"),
            line: meta.line().unwrap_or(0),
            module: meta.module_path().unwrap_or(meta.target()),
            category: category_of(meta.target()),
        };
        fields.message.push_str(&fields.rest);
        self.log(location, *meta.level(), &fields.message);
    }
}

fn directive(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
    }
}

/// The filter: info for everything; each enabled category at its level; uncategorized events
/// at the `all` level (default: the global one) only with `-debug=1`.
fn filter(debug: DebugCategories, settings: &LogSettings) -> EnvFilter {
    let level_of = |category: Option<DebugCategory>| {
        settings
            .category_levels
            .iter()
            .find(|(c, _)| *c == category)
            .map_or(settings.level, |(_, level)| *level)
    };
    let base = if settings.debug_all { directive(level_of(None)) } else { "info" };
    let mut directives = vec![base.to_string()];
    for category in DebugCategory::ALL {
        let level = if debug.contains(category) { directive(level_of(Some(category))) } else { "info" };
        directives.push(format!("{category}={level}"));
    }
    EnvFilter::new(directives.join(","))
}

/// Installs the process-wide subscriber for `config`'s log options: the file (`-debuglogfile`,
/// shrunk first with `-shrinkdebugfile`) and stdout with `-printtoconsole`. Returns the file so
/// the caller can [`reopen`](LogHandle::reopen) it.
pub fn init(config: &Config) -> io::Result<LogHandle> {
    let settings = &config.log;
    let file = match &settings.file {
        Some(path) => {
            if settings.shrink_debug_file {
                shrink_file(path)?;
            }
            Some(LogFile::open(path)?)
        }
        None => None,
    };
    let layer = CoreLayer {
        format: LineFormat {
            timestamps: settings.timestamps,
            time_micros: settings.time_micros,
            thread_names: settings.thread_names,
            source_locations: settings.source_locations,
        },
        file: file.clone(),
        console: config.print_to_console,
        limiter: settings
            .rate_limit
            .then(|| Mutex::new(RateLimiter::new(RATE_LIMIT_MAX_BYTES, RATE_LIMIT_WINDOW, Instant::now()))),
    };
    let (filter_layer, reload) = reload::Layer::new(filter(config.debug, settings));
    let installed = tracing_subscriber::registry().with(filter_layer).with(layer).try_init();
    if let Err(e) = installed {
        return Err(io::Error::other(format!("cannot install the logger: {e}")));
    }
    let mut control = lock(control());
    control.categories = config.debug;
    control.settings = Some(settings.clone());
    control.reload = Some(reload);
    Ok(LogHandle { file })
}

/// The enabled categories, changed at run time by the `logging` RPC (Core's `LogInstance()`'s
/// category mask): one per process, as the subscriber is.
#[derive(Default)]
struct Control {
    categories: DebugCategories,
    /// What [`init`] installed; `None` before (the categories are then only remembered).
    settings: Option<LogSettings>,
    reload: Option<reload::Handle<EnvFilter, Registry>>,
}

fn control() -> &'static Mutex<Control> {
    static CONTROL: OnceLock<Mutex<Control>> = OnceLock::new();
    CONTROL.get_or_init(Mutex::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The debug categories enabled now.
pub fn categories() -> DebugCategories {
    lock(control()).categories
}

/// Enables exactly `categories` from now on (at the levels `-loglevel` gave them).
pub fn set_categories(categories: DebugCategories) -> io::Result<()> {
    let mut control = lock(control());
    control.categories = categories;
    if let (Some(settings), Some(reload)) = (&control.settings, &control.reload) {
        reload
            .reload(filter(categories, settings))
            .map_err(|e| io::Error::other(format!("cannot change the log filter: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Location = Location { file: "node/src/x.rs", line: 7, module: "node::x", category: None };

    fn format(timestamps: bool, thread_names: bool, source_locations: bool) -> LineFormat {
        LineFormat { timestamps, time_micros: false, thread_names, source_locations }
    }

    #[test]
    fn only_category_targets_are_categories() {
        assert_eq!(category_of("rpc"), Some("rpc"));
        assert_eq!(category_of("mempoolrej"), Some("mempoolrej"));
        assert_eq!(category_of("leveldb"), Some("leveldb"));
        assert_eq!(category_of("node::rpc::server"), None);
        assert_eq!(category_of(""), None);
    }

    #[test]
    fn prefixes_are_cores() {
        assert_eq!(prefix(None, Level::INFO), "");
        assert_eq!(prefix(None, Level::WARN), "[warning] ");
        assert_eq!(prefix(None, Level::ERROR), "[error] ");
        assert_eq!(prefix(None, Level::DEBUG), "[debug] ");
        assert_eq!(prefix(Some("rpc"), Level::DEBUG), "[rpc] ");
        assert_eq!(prefix(Some("rpc"), Level::TRACE), "[rpc:trace] ");
        assert_eq!(prefix(Some("rpc"), Level::INFO), "[rpc:info] ");
        assert_eq!(prefix(Some("net"), Level::WARN), "[net:warning] ");
    }

    #[test]
    fn line_shapes() {
        let at = UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        let rpc = Location { category: Some("rpc"), ..HERE };
        assert_eq!(
            format(true, false, false).line(at, None, HERE, Level::INFO, "hi"),
            "2026-11-18T11:06:40Z hi\n"
        );
        let micros = LineFormat { time_micros: true, ..format(true, false, false) };
        assert_eq!(micros.line(at, None, HERE, Level::INFO, "hi"), "2026-11-18T11:06:40.123456Z hi\n");
        assert_eq!(format(false, true, false).line(at, Some("http"), HERE, Level::INFO, "hi"), "[http] hi\n");
        assert_eq!(format(false, true, false).line(at, None, HERE, Level::INFO, "hi"), "[unknown] hi\n");
        assert_eq!(
            format(false, false, true).line(at, None, rpc, Level::DEBUG, "hi"),
            "[node/src/x.rs:7] [node::x] [rpc] hi\n"
        );
        assert_eq!(
            format(false, false, false).line(at, None, HERE, Level::WARN, "a\x1bb\nc"),
            "[warning] a\\x1bb\nc\n"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH, false), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400), false), "2000-02-29T00:00:00Z");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(4_102_444_799), true),
            "2099-12-31T23:59:59.000000Z"
        );
    }

    #[test]
    fn filter_follows_debug_and_loglevel() {
        let mut settings = LogSettings::default();
        let mut debug = DebugCategories::none();
        let shown = |debug, settings: &LogSettings| filter(debug, settings).to_string();
        let text = shown(debug, &settings);
        assert!(text.split(',').any(|d| d == "info") && text.contains("rpc=info"), "{text}");
        debug.insert(DebugCategory::Rpc);
        settings.level = LogLevel::Trace;
        settings.category_levels = vec![(Some(DebugCategory::Rpc), LogLevel::Info), (None, LogLevel::Debug)];
        debug.insert(DebugCategory::Http);
        let text = shown(debug, &settings);
        assert!(
            text.contains("rpc=info") && text.contains("http=trace") && text.contains("net=info"),
            "{text}"
        );
        settings.debug_all = true;
        let text = shown(debug, &settings);
        assert!(text.split(',').any(|d| d == "debug"), "uncategorized at the all: level: {text}");
    }

    #[test]
    fn rate_limiter_suppresses_then_restarts() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10, Duration::from_secs(60), start);
        let other = Location { line: 8, ..HERE };
        assert_eq!(limiter.consume(HERE, 6), Status::Unsuppressed);
        assert_eq!(limiter.consume(HERE, 4), Status::Unsuppressed);
        assert!(!limiter.suppressing());
        assert_eq!(limiter.consume(HERE, 1), Status::NewlySuppressed);
        assert_eq!(limiter.consume(HERE, 5), Status::StillSuppressed);
        assert_eq!(limiter.consume(other, 5), Status::Unsuppressed, "per location");
        assert!(limiter.suppressing());
        assert!(limiter.reset_if_due(start + Duration::from_secs(59)).is_empty());
        assert_eq!(
            limiter.reset_if_due(start + Duration::from_secs(60)),
            ["Restarting logging from node/src/x.rs:7 (node::x): 6 bytes were dropped during the last 60s."]
        );
        assert!(!limiter.suppressing());
        assert_eq!(limiter.consume(HERE, 10), Status::Unsuppressed);
    }

    #[test]
    fn the_layer_writes_suppression_notices_and_keeps_the_console() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE_NAME);
        let file = LogFile::open(&path).unwrap();
        let layer = CoreLayer {
            format: format(false, false, false),
            file: Some(file),
            console: false,
            limiter: Some(Mutex::new(RateLimiter::new(10, Duration::from_secs(3600), Instant::now()))),
        };
        for i in 0..4 {
            layer.log(HERE, Level::INFO, &format!("line{i}"));
        }
        layer.log(HERE, Level::DEBUG, "debug lines are not limited");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "line0");
        assert!(lines[1].starts_with(
            "[*] [warning] Excessive logging detected from node/src/x.rs:7 (node::x): >10 bytes"
        ));
        assert_eq!(lines[2], "[*] line1", "the entry that crossed the limit is the last one written");
        assert_eq!(lines[3], "[*] [debug] debug lines are not limited");
        assert_eq!(lines.len(), 4, "{text}");
    }

    #[test]
    fn shrink_keeps_the_last_ten_megabytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE_NAME);
        assert!(!shrink_file(&path).unwrap(), "a missing file is fine");
        std::fs::write(&path, vec![b'a'; SHRINK_THRESHOLD as usize]).unwrap();
        assert!(!shrink_file(&path).unwrap(), "11 MB exactly is kept");
        let mut big = vec![b'a'; SHRINK_THRESHOLD as usize];
        big.extend_from_slice(b"end\n");
        std::fs::write(&path, &big).unwrap();
        assert!(shrink_file(&path).unwrap());
        let kept = std::fs::read(&path).unwrap();
        assert_eq!(kept.len() as u64, SHRINK_KEEP);
        assert!(kept.ends_with(b"aend\n"));
    }

    #[test]
    fn reopen_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE_NAME);
        let log = LogFile::open(&path).unwrap();
        log.write(b"first\n");
        std::fs::rename(&path, dir.path().join("debug.log.1")).unwrap();
        log.reopen().unwrap();
        log.write(b"second\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("debug.log.1")).unwrap(), "first\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second\n");
    }
}
