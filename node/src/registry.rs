//! [`Registry`]: subscribers that stay registered while their [`Handler`] lives — the one
//! mechanism behind chain notifications and the gui's callbacks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use interfaces::{CleanupHandler, Handler};

type Entries<T> = Mutex<Vec<(u64, Arc<T>)>>;

/// Subscribers of type `T` (a trait object such as `dyn ChainNotifications` or a callback), in
/// registration order.
pub(crate) struct Registry<T: ?Sized> {
    entries: Arc<Entries<T>>,
    next_id: AtomicU64,
}

impl<T: ?Sized> Default for Registry<T> {
    fn default() -> Self {
        Registry { entries: Arc::new(Mutex::new(Vec::new())), next_id: AtomicU64::new(0) }
    }
}

impl<T: ?Sized> std::fmt::Debug for Registry<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("subscribers", &lock(&self.entries).len()).finish()
    }
}

impl<T: ?Sized + Send + Sync + 'static> Registry<T> {
    /// Adds `subscriber` until the returned handler is disconnected or dropped.
    pub(crate) fn register(&self, subscriber: Arc<T>) -> Box<dyn Handler> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.entries).push((id, subscriber));
        let weak: Weak<Entries<T>> = Arc::downgrade(&self.entries);
        Box::new(CleanupHandler::new(move || {
            if let Some(entries) = weak.upgrade() {
                lock(&entries).retain(|(i, _)| *i != id);
            }
        }))
    }

    /// The current subscribers, copied out so they are called without the registry's lock (a
    /// subscriber may register or unregister from inside its call).
    pub(crate) fn snapshot(&self) -> Vec<Arc<T>> {
        lock(&self.entries).iter().map(|(_, s)| s.clone()).collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_unregister_on_disconnect_and_on_drop() {
        let registry: Registry<str> = Registry::default();
        let first = registry.register(Arc::from("first"));
        let second = registry.register(Arc::from("second"));
        assert_eq!(registry.snapshot().iter().map(|s| &**s).collect::<Vec<_>>(), ["first", "second"]);
        first.disconnect().unwrap();
        assert_eq!(registry.snapshot().len(), 1);
        drop(second);
        assert!(registry.snapshot().is_empty());
        drop(first);
        // A handler outliving its registry does nothing.
        let late = registry.register(Arc::from("late"));
        drop(registry);
        late.disconnect().unwrap();
    }
}
