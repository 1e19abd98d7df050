//! `-debug=ipc` trace lines, in the shapes Bitcoin Core prints them.
//!
//! Every line is a `tracing` event with target `ipc` at DEBUG level. Message
//! contents are formatted only when such events are enabled, so tracing off
//! costs one cached check per call.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The tracing target of every framework event.
pub const TARGET: &str = "ipc";

/// Name of the running executable (file name only).
pub(crate) fn exe_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn gettid() -> i64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() as i64 }
}

/// `<thread name>-<tid>` of the calling thread.
pub(crate) fn thread_label() -> String {
    let current = std::thread::current();
    let name = current.name().unwrap_or("thread");
    format!("{name}-{}", gettid())
}

/// `{<exe>-<pid>/<thread name>-<tid>}` of the calling thread.
pub(crate) fn thread_tag(exe: &str) -> String {
    format!("{{{exe}-{}/{}}}", std::process::id(), thread_label())
}

thread_local! {
    static TAG: String = thread_tag(&exe_name());
}

/// The calling thread's tag, computed once per thread.
pub(crate) fn current_tag() -> String {
    TAG.try_with(Clone::clone).unwrap_or_else(|_| thread_tag(&exe_name()))
}

/// A `-debug=ipc` line: DEBUG on target `ipc`, prefixed with the calling
/// thread's tag as libmultiprocess prints it. Arguments are only formatted
/// when the line is enabled.
macro_rules! ipc_debug {
    ($($arg:tt)*) => {
        if $crate::logging::enabled() {
            ::tracing::debug!(
                target: $crate::logging::TARGET,
                "{} {}",
                $crate::logging::current_tag(),
                format_args!($($arg)*)
            );
        }
    };
}
pub(crate) use ipc_debug;

/// Whether `-debug=ipc` lines are enabled; cheap (a cached callsite check).
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
}

static MAX_MESSAGE_CHARS: AtomicUsize = AtomicUsize::new(2000);

/// Sets how much of each message `-debug=ipc` lines show (process-wide).
pub fn set_max_message_chars(chars: usize) {
    MAX_MESSAGE_CHARS.store(chars, Ordering::Relaxed);
}

/// A message's Cap'n Proto text form, cut at the configured length.
pub(crate) fn message_text(message: &dyn Debug) -> String {
    cut_text(format!("{message:?}"), MAX_MESSAGE_CHARS.load(Ordering::Relaxed))
}

fn cut_text(mut text: String, max_chars: usize) -> String {
    if text.len() > max_chars {
        let mut cut = max_chars;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_char_boundaries() {
        let long = "é".repeat(100);
        let text = cut_text(long, 11);
        assert!(text.ends_with("..."));
        assert!(text.len() <= 11 + 3);
    }

    #[test]
    fn thread_tag_names_exe_pid_and_thread() {
        let tag = std::thread::Builder::new()
            .name("worker".into())
            .spawn(|| thread_tag("prog"))
            .unwrap()
            .join()
            .unwrap();
        assert!(tag.starts_with(&format!("{{prog-{}/worker-", std::process::id())), "{tag}");
        assert!(tag.ends_with('}'));
    }
}
