//! `-debug=ipc` trace lines, in the shapes Bitcoin Core prints them.
//!
//! Every line is a `tracing` event with target `ipc` at DEBUG level. Message
//! contents are formatted only when such events are enabled, so tracing off
//! costs one cached check per call.

use std::fmt::Debug;

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

/// Whether `-debug=ipc` lines are enabled; cheap (a cached callsite check).
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
}

/// A message's Cap'n Proto text form, cut at `max_chars`.
pub(crate) fn message_text(message: &dyn Debug, max_chars: usize) -> String {
    let mut text = format!("{message:?}");
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
        let text = message_text(&long, 11);
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
