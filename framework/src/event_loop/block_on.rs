//! Calls from synchronous threads: [`block_on`] runs a loop future for a
//! thread that waits for its outcome, serving the loop and the callbacks
//! posted to it meanwhile, and bounds how deeply such waits nest.

use std::cell::Cell;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};

use futures::future::LocalBoxFuture;

use super::{LoopShared, LoopState};
use crate::waiter::{JobKind, Waiter};
use crate::{Error, Result};

/// Most calls one thread may have waiting at once, nested through callbacks
/// (a waiting call runs the peer's callback, which calls, which waits, ...).
/// A level costs a few KiB of this thread's stack (about 4 in a debug
/// build) plus the application's own frames, so a peer bouncing callbacks
/// without end would overflow a stack (2 MiB for spawned threads) and abort
/// the process; Bitcoin Core's interfaces nest two or three deep.
const MAX_NESTED_CALLS: usize = 32;

thread_local! {
    /// Calls this thread has waiting now (see [`MAX_NESTED_CALLS`]).
    static NESTED_CALLS: Cell<usize> = const { Cell::new(0) };
}

/// Counts one waiting call on this thread while it lives.
struct NestedCall;

impl NestedCall {
    fn enter() -> Result<Self> {
        let depth = NESTED_CALLS.try_with(Cell::get).unwrap_or(0);
        if depth >= MAX_NESTED_CALLS {
            return Err(Error::overloaded(format!(
                "IPC calls nested too deeply: {depth} calls already wait on this thread, each for a \
                 callback that made the next (at most {MAX_NESTED_CALLS})"
            )));
        }
        let _ = NESTED_CALLS.try_with(|d| d.set(depth + 1));
        Ok(Self)
    }
}

impl Drop for NestedCall {
    fn drop(&mut self) {
        let _ = NESTED_CALLS.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs a loop future to completion for a synchronous caller: `start` runs
/// under the loop lock and returns the future; its output is handed back to
/// the calling thread, which serves the loop (and callbacks) meanwhile.
/// Fails without starting if [`MAX_NESTED_CALLS`] calls already wait on
/// this thread.
pub(crate) fn block_on<R: Send + 'static>(
    shared: &Arc<LoopShared>,
    start: impl FnOnce(&mut LoopState) -> Result<LocalBoxFuture<'static, Result<R>>> + Send,
) -> Result<R> {
    let _nested = NestedCall::enter()?;
    let me = Waiter::current();
    let slot: Arc<Mutex<Option<Result<R>>>> = Arc::new(Mutex::new(None));
    let task_slot = slot.clone();
    let task_waiter = me.clone();
    let stopped = &shared.stopped;
    shared.with_state(move |st| {
        // Checked under the lock, as the shutdown drops (and so fails) the
        // loop's tasks under it: a task spawned after that would never run.
        let started = if stopped.load(SeqCst) {
            Err(Error::disconnected("the event loop has stopped"))
        } else {
            start(st)
        };
        match started {
            Err(e) => {
                *task_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Err(e));
            }
            Ok(future) => {
                let delivery = Delivery { slot: Some(task_slot), waiter: task_waiter };
                st.spawn(Box::pin(async move {
                    let mut delivery = delivery;
                    let result = future.await;
                    delivery.deliver(result);
                }));
            }
        }
    })?;
    shared.wait_until(&me, false, || slot.lock().unwrap_or_else(|p| p.into_inner()).is_some());
    let result = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    result.unwrap_or_else(|| Err(Error::disconnected("call abandoned")))
}

/// Hands a call's outcome to the waiting thread; if the task is dropped
/// first (loop shutdown), hands over a disconnected error instead.
struct Delivery<R: Send + 'static> {
    slot: Option<Arc<Mutex<Option<Result<R>>>>>,
    waiter: Arc<Waiter>,
}

impl<R: Send + 'static> Delivery<R> {
    fn deliver(&mut self, result: Result<R>) {
        if let Some(slot) = self.slot.take() {
            self.waiter.post(
                Box::new(move || *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result)),
                JobKind::Result,
            );
        }
    }
}

impl<R: Send + 'static> Drop for Delivery<R> {
    fn drop(&mut self) {
        self.deliver(Err(Error::disconnected("the event loop stopped before the call completed")));
    }
}
