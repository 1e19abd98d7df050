//! The `ipc-release` thread: where the objects a peer released are dropped.
//!
//! An object served to a peer is application code, and its `Drop` may take
//! application locks (a handler unregistering itself, say). The loop drops
//! the object's adapter when the peer releases it, under the loop lock, on
//! whichever thread drives the loop at that moment: an application thread
//! inside its own call, possibly holding that very lock, or any thread while
//! another one holds the lock and waits for the loop. So the adapter keeps a
//! second reference to the object (`ServerBase`); when the adapter goes,
//! that reference is staged on the loop, and once the thread that ran the
//! loop has let go of the loop lock it is handed to this thread, which drops
//! it holding no lock at all.
//!
//! Step by step:
//! 1. `ServerBase::drop` (under the loop lock) pushes its reference onto
//!    `LoopLocal::released`; the adapter then drops its own reference, which
//!    is therefore never the last.
//! 2. At the end of `LoopShared::with_state`, still under the lock, the
//!    staged references are taken out (every adapter drop that staged one has
//!    finished by then); after the lock is released they are queued here.
//! 3. This thread drops them in order. A `Drop` that panics is logged and
//!    the next one runs.
//! 4. At loop shutdown the loop's objects are staged and queued the same
//!    way, then the thread is told to stop; it drops what is queued and
//!    exits, and dropping the [`EventLoop`](super::EventLoop) joins it
//!    (unless it is itself the thread dropping the loop).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A reference to an application object, dropped off the loop.
pub(crate) type Released = Box<dyn Send>;

/// The queue of the `ipc-release` thread.
#[derive(Default)]
pub(crate) struct Releaser {
    queue: Mutex<Queue>,
    cv: Condvar,
}

#[derive(Default)]
struct Queue {
    items: Vec<Released>,
    stop: bool,
}

impl Releaser {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `items` to be dropped on the release thread. After
    /// [`stop`](Self::stop) they stay queued until the releaser itself is
    /// dropped.
    pub(crate) fn send(&self, items: Vec<Released>) {
        if items.is_empty() {
            return;
        }
        let mut queue = self.lock();
        queue.items.extend(items);
        drop(queue);
        self.cv.notify_one();
    }

    /// Tells the thread to exit once its queue is empty.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.cv.notify_one();
    }

    /// The release thread's body.
    pub(crate) fn run(self: Arc<Self>) {
        loop {
            let mut queue = self.lock();
            while queue.items.is_empty() && !queue.stop {
                queue = self.cv.wait(queue).unwrap_or_else(|p| p.into_inner());
            }
            if queue.items.is_empty() {
                return;
            }
            let batch = std::mem::take(&mut queue.items);
            drop(queue);
            for item in batch {
                if catch_unwind(AssertUnwindSafe(move || drop(item))).is_err() {
                    tracing::error!(
                        target: crate::logging::TARGET,
                        "the Drop of an object released by the peer panicked"
                    );
                }
            }
        }
    }
}
