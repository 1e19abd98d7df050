//! The loop's task set: a single-threaded executor whose state may be run
//! by whichever thread holds the loop lock.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

#[derive(Default)]
pub(crate) struct Executor {
    tasks: FuturesUnordered<LocalBoxFuture<'static, ()>>,
    /// Tasks spawned while the task set is being polled.
    incoming: Rc<RefCell<Vec<LocalBoxFuture<'static, ()>>>>,
}

/// Spawns onto the loop from code running inside a loop task.
#[derive(Clone)]
pub(crate) struct Spawner(Rc<RefCell<Vec<LocalBoxFuture<'static, ()>>>>);

impl Spawner {
    pub(crate) fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.0.borrow_mut().push(task);
    }
}

impl Executor {
    pub(crate) fn spawner(&self) -> Spawner {
        Spawner(self.incoming.clone())
    }

    pub(crate) fn has_incoming(&self) -> bool {
        !self.incoming.borrow().is_empty()
    }

    /// Adds the tasks spawned since the last pass, then polls the woken ones
    /// until none is ready (or the task set yields). Tasks spawned meanwhile
    /// wait for the next pass (see [`has_incoming`](Self::has_incoming)).
    pub(crate) fn poll_ready(&mut self, waker: &Waker) {
        let mut cx = Context::from_waker(waker);
        let new: Vec<_> = std::mem::take(&mut *self.incoming.borrow_mut());
        self.tasks.extend(new);
        while let Poll::Ready(Some(())) = self.tasks.poll_next_unpin(&mut cx) {}
    }

    /// Drops every task (at shutdown), which fails the calls they carried.
    pub(crate) fn clear(&mut self) {
        self.incoming.borrow_mut().clear();
        self.tasks.clear();
    }
}
