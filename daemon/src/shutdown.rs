//! [`ShutdownRequest`]: a signal's request to stop, which may arrive before the node it is for
//! has started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use node::NodeState;

/// A shutdown request that may come before the node state it is for exists.
#[derive(Default)]
pub(crate) struct ShutdownRequest {
    requested: AtomicBool,
    state: OnceLock<Arc<NodeState>>,
}

impl ShutdownRequest {
    pub(crate) fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        if let Some(state) = self.state.get() {
            state.request_shutdown();
        }
    }

    /// From now on requests go to `state`; one made earlier is passed on now.
    pub(crate) fn attach(&self, state: Arc<NodeState>) {
        let state = self.state.get_or_init(|| state);
        if self.requested.load(Ordering::SeqCst) {
            state.request_shutdown();
        }
    }
}
