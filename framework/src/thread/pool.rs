//! The pool that runs Context calls which name no thread (`makePool`).

use std::sync::{Arc, Weak};

use crate::event_loop::LoopShared;
use crate::waiter::Waiter;
use crate::{Error, Result};

/// Starts `count` pool threads sharing one queue; returns the queue. Pool
/// threads never poll the loop: they only take jobs, in arrival order.
pub(crate) fn start_pool(_shared: Weak<LoopShared>, count: usize) -> Result<Arc<Waiter>> {
    let queue = Arc::new(Waiter::new("ipc-pool".into()));
    for i in 0..count {
        let q = queue.clone();
        std::thread::Builder::new()
            .name(format!("ipc-pool-{i}"))
            .spawn(move || run_pool_thread(q))
            .map_err(|e| Error::overloaded(format!("cannot start a pool thread: {e}")))?;
    }
    Ok(queue)
}

fn run_pool_thread(queue: Arc<Waiter>) {
    loop {
        match queue.pop() {
            Some(posted) => (posted.job)(),
            None if queue.is_closed() => return,
            None => {
                queue.sleep();
            }
        }
    }
}
