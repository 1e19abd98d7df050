//! The `ThreadMap` capability a process hands each peer.

use std::rc::{Rc, Weak};

use crate::connection::ConnectionCore;
use crate::event_loop::LoopLocal;
use crate::proxy_capnp::thread_map;
use crate::Error;

struct ThreadMapServer {
    local: Weak<LoopLocal>,
    conn: Weak<ConnectionCore>,
}

/// The ThreadMap that `conn`'s peer uses to create threads here.
pub(crate) fn new_thread_map(local: &Rc<LoopLocal>, conn: &Rc<ConnectionCore>) -> thread_map::Client {
    capnp_rpc::new_client(ThreadMapServer { local: Rc::downgrade(local), conn: Rc::downgrade(conn) })
}

type Outcome = std::result::Result<(), capnp::Error>;

impl thread_map::Server for ThreadMapServer {
    fn make_thread(
        self: capnp::capability::Rc<Self>,
        params: thread_map::MakeThreadParams,
        mut results: thread_map::MakeThreadResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let outcome = (|| -> Outcome {
            let (Some(local), Some(conn)) = (self.local.upgrade(), self.conn.upgrade()) else {
                return Err(Error::disconnected("connection closed").into());
            };
            let name = params.get()?.get_name()?.to_string().map_err(capnp::Error::from)?;
            let Some(shared) = local.shared.upgrade() else {
                return Err(Error::disconnected("the event loop has stopped").into());
            };
            super::reserve_threads(&conn.thread_count, 1, &shared.config)?;
            let thread = local.threads.start_worker(local.shared.clone(), name, conn.thread_count.clone())?;
            results.get().set_result(thread);
            Ok(())
        })();
        std::future::ready(outcome)
    }

    fn make_pool(
        self: capnp::capability::Rc<Self>,
        params: thread_map::MakePoolParams,
        _results: thread_map::MakePoolResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let outcome = (|| -> Outcome {
            let Some(conn) = self.conn.upgrade() else {
                return Err(Error::disconnected("connection closed").into());
            };
            let count = params.get()?.get_count() as usize;
            let Some(shared) = self.local.upgrade().and_then(|l| l.shared.upgrade()) else {
                return Err(Error::disconnected("the event loop has stopped").into());
            };
            if count == 0 {
                return Err(Error::failed("a pool needs at least one thread").into());
            }
            super::reserve_threads(&conn.thread_count, count, &shared.config)?;
            let pool = super::start_pool(count, &conn.thread_count)?;
            if let Some(old) = conn.pool.replace(Some(pool)) {
                old.close();
            }
            Ok(())
        })();
        std::future::ready(outcome)
    }
}
