//! Rate-limited log lines about clients: a client that misbehaves on purpose (wrong passwords,
//! floods, silent connections) must not be able to fill `debug.log`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lines of one kind allowed per window; the rest are counted and reported once the window ends.
const LINES_PER_WINDOW: u32 = 10;
const WINDOW: Duration = Duration::from_secs(60);

/// One kind of line ("incorrect password", "work queue full", ...).
#[derive(Debug)]
pub(crate) struct LogLimit {
    what: &'static str,
    state: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogLimit {
    /// A limit for lines described as `what` in the "suppressed" summary.
    pub(crate) const fn new(what: &'static str) -> LogLimit {
        LogLimit { what, state: Mutex::new(Window { start: None, logged: 0, suppressed: 0 }) }
    }

    /// Runs `log` unless this window's allowance is spent. When a new window starts after lines
    /// were dropped, first logs how many.
    pub(crate) fn log(&self, log: impl FnOnce()) {
        let now = Instant::now();
        let allowed = {
            let mut window = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if window.start.is_none_or(|start| now.duration_since(start) >= WINDOW) {
                if window.suppressed > 0 {
                    tracing::warn!(
                        target: "http",
                        "{} similar log lines suppressed in the last {} s: {}",
                        window.suppressed,
                        WINDOW.as_secs(),
                        self.what
                    );
                }
                *window = Window { start: Some(now), logged: 0, suppressed: 0 };
            }
            if window.logged < LINES_PER_WINDOW {
                window.logged += 1;
                true
            } else {
                window.suppressed += 1;
                false
            }
        };
        if allowed {
            log();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_allowance_per_window() {
        let limit = LogLimit::new("test");
        let mut logged = 0;
        for _ in 0..1000 {
            limit.log(|| logged += 1);
        }
        assert_eq!(logged, LINES_PER_WINDOW);
    }
}
