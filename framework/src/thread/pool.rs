//! The pool that runs Context calls which name no thread (`makePool`).

use std::sync::Arc;

use super::{Counted, ThreadCount};
use crate::waiter::Waiter;
use crate::{Error, Result};

/// Starts `count` pool threads sharing one queue, counted in `threads`
/// (already reserved by the caller); returns the queue. Pool threads never
/// poll the loop: they only take jobs, in arrival order.
pub(crate) fn start_pool(count: usize, threads: &ThreadCount) -> Result<Arc<Waiter>> {
    let queue = Arc::new(Waiter::new("ipc-pool".into()));
    for i in 0..count {
        let q = queue.clone();
        let counted = Counted(threads.clone());
        let started = std::thread::Builder::new().name(format!("ipc-pool-{i}")).spawn(move || {
            let _counted = counted;
            run_pool_thread(q);
        });
        if let Err(e) = started {
            // The threads already started exit; the ones never started give
            // back their reservation.
            queue.close();
            super::unreserve_threads(threads, count - i - 1);
            return Err(Error::overloaded(format!("cannot start a pool thread: {e}")));
        }
    }
    Ok(queue)
}

fn run_pool_thread(queue: Arc<Waiter>) {
    loop {
        match queue.pop(true) {
            Some(posted) => (posted.job)(),
            None if queue.is_closed() => return,
            None => {
                queue.sleep(true);
            }
        }
    }
}
