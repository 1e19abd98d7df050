//! [`Handler`]: what a callback registration returns, and
//! [`CleanupHandler`], the implementation most registrations need.

use std::fmt;
use std::sync::Mutex;

use crate::Result;

/// A registration (of a callback or notification object) that stays active
/// while this value lives.
///
/// `disconnect` unregisters at once; dropping the handler unregisters too, so
/// a caller that wants to stay registered keeps the handler for as long as
/// it does. After either, the callback is not called again (a call already
/// running may finish). Across processes, dropping the proxy destroys the
/// remote handler, which unregisters there.
pub trait Handler: Send + Sync {
    /// Unregisters now. Calling it again does nothing.
    fn disconnect(&self) -> Result<()>;
}

/// A [`Handler`] that runs a cleanup closure once: on the first
/// [`disconnect`](Handler::disconnect) or on drop, whichever comes first
/// (Bitcoin Core's `MakeCleanupHandler`).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use interfaces::{CleanupHandler, Handler};
///
/// let runs = Arc::new(AtomicU32::new(0));
/// let counter = runs.clone();
/// let handler: Box<dyn Handler> = Box::new(CleanupHandler::new(move || {
///     counter.fetch_add(1, Ordering::SeqCst);
/// }));
/// handler.disconnect().unwrap();
/// drop(handler);
/// assert_eq!(runs.load(Ordering::SeqCst), 1);
/// ```
pub struct CleanupHandler {
    cleanup: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl CleanupHandler {
    /// A handler that runs `cleanup` when disconnected or dropped.
    pub fn new(cleanup: impl FnOnce() + Send + 'static) -> Self {
        Self { cleanup: Mutex::new(Some(Box::new(cleanup))) }
    }

    fn run(&self) {
        // Take the closure out first so it runs without the lock held (it
        // may take other locks) and at most once even if it panics.
        let cleanup = match self.cleanup.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(cleanup) = cleanup {
            cleanup();
        }
    }
}

impl Handler for CleanupHandler {
    fn disconnect(&self) -> Result<()> {
        self.run();
        Ok(())
    }
}

impl Drop for CleanupHandler {
    fn drop(&mut self) {
        self.run();
    }
}

impl fmt::Debug for CleanupHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.cleanup.lock().map(|g| g.is_some()).unwrap_or(false);
        f.debug_struct("CleanupHandler").field("pending", &pending).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn counting() -> (Arc<AtomicU32>, CleanupHandler) {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        (
            runs,
            CleanupHandler::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn drop_runs_cleanup_once() {
        let (runs, handler) = counting();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        drop(handler);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn disconnect_twice_then_drop_runs_cleanup_once() {
        let (runs, handler) = counting();
        assert!(format!("{handler:?}").contains("pending: true"));
        handler.disconnect().unwrap();
        handler.disconnect().unwrap();
        assert!(format!("{handler:?}").contains("pending: false"));
        drop(handler);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn cleanup_may_reenter_the_handler() {
        // A cleanup that calls disconnect on its own handler must not deadlock.
        let slot: Arc<Mutex<Option<Arc<CleanupHandler>>>> = Arc::new(Mutex::new(None));
        let inner = slot.clone();
        let handler = Arc::new(CleanupHandler::new(move || {
            if let Some(h) = inner.lock().unwrap().take() {
                h.disconnect().unwrap();
            }
        }));
        *slot.lock().unwrap() = Some(handler.clone());
        handler.disconnect().unwrap();
    }
}
