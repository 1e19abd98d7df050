//! The threads that execute requests (`-rpcthreads`) and the bounded queue in front of them
//! (`-rpcworkqueue`), as bitcoind's HTTP worker pool: a request that finds the queue full is
//! refused at once (503 "Work queue depth exceeded") instead of waiting without bound. Only
//! complete, authenticated requests are queued: reading a request never holds a thread.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// Why a job was not queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `-rpcworkqueue` jobs are already waiting.
    Full,
    /// The pool is stopping.
    Stopping,
}

/// The worker threads and their queue.
#[derive(Debug)]
pub(crate) struct WorkQueue {
    sender: Option<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl WorkQueue {
    /// Starts `threads` workers (named `httpworker.N`, as bitcoind's) behind a queue of `depth`.
    pub(crate) fn start(threads: usize, depth: usize) -> std::io::Result<WorkQueue> {
        let (sender, receiver) = mpsc::sync_channel::<Job>(depth);
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let mut pool = WorkQueue { sender: Some(sender), threads: Vec::with_capacity(threads) };
        for n in 0..threads {
            let receiver = receiver.clone();
            let thread = std::thread::Builder::new().name(format!("httpworker.{n}")).spawn(move || loop {
                // The lock is held only while taking the next job, never while running it.
                let job = receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                match job {
                    // A panicking job loses its reply (the client gets a 500), not the worker.
                    Ok(job) => {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                    Err(mpsc::RecvError) => return,
                }
            })?;
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    /// A handle that submits jobs. Workers run until [`WorkQueue::stop`] and every submitter is
    /// dropped (the HTTP thread, which holds them, is joined first).
    pub(crate) fn submitter(&self) -> Submitter {
        Submitter { sender: self.sender.clone() }
    }

    /// Lets queued jobs run, then joins the workers; call after every [`Submitter`] is dropped.
    pub(crate) fn stop(&mut self) {
        self.sender = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Submits jobs to a [`WorkQueue`] from the HTTP thread.
#[derive(Debug, Clone)]
pub(crate) struct Submitter {
    sender: Option<SyncSender<Job>>,
}

impl Submitter {
    /// Queues `job` if there is room.
    pub(crate) fn submit(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Refused> {
        let sender = self.sender.as_ref().ok_or(Refused::Stopping)?;
        sender.try_send(Box::new(job)).map_err(|e| match e {
            TrySendError::Full(_) => Refused::Full,
            TrySendError::Disconnected(_) => Refused::Stopping,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    #[test]
    fn a_full_queue_refuses_and_a_panicking_job_keeps_its_worker() {
        let mut pool = WorkQueue::start(1, 1).unwrap();
        let submitter = pool.submitter();
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel::<()>();
        submitter
            .submit(move || {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            })
            .unwrap();
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        submitter.submit(|| panic!("a bug in a job")).unwrap();
        assert_eq!(submitter.submit(|| {}), Err(Refused::Full));
        release.send(()).unwrap();
        // The one worker survives the panic and runs the next job.
        let (done_tx, done) = channel();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut job = Some(move || done_tx.send(()).unwrap());
        while let Some(next) = job.take() {
            if let Err(Refused::Full) = submitter.submit(next.clone()) {
                assert!(std::time::Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(10));
                job = Some(next);
            }
        }
        done.recv_timeout(Duration::from_secs(10)).unwrap();
        drop(submitter);
        pool.stop();
        assert!(pool.submitter().submit(|| {}).is_err(), "a stopped pool takes nothing");
    }
}
