//! Recognising our own objects when their capabilities come back.

use std::collections::HashMap;
use std::rc::{Rc, Weak};

use capnp::capability::{FromClientHook, FromServer};

/// Fewest entries at which a set sweeps out servers that are gone.
const MIN_SWEEP: usize = 64;

/// Like `capnp_rpc::CapabilityServerSet`, which keeps an entry (and, through
/// its `Weak`, the server's allocation) for every server it ever made
/// unless told to sweep: this one sweeps by itself whenever it has doubled
/// since the last sweep, so a peer creating and releasing objects without
/// end cannot grow it (amortised O(1) per object).
pub(crate) struct ServerSet<S> {
    servers: HashMap<usize, Weak<S>>,
    sweep_at: usize,
}

impl<S> Default for ServerSet<S> {
    fn default() -> Self {
        Self { servers: HashMap::new(), sweep_at: MIN_SWEEP }
    }
}

impl<S> ServerSet<S> {
    /// A local capability served by `server`, recognised by this set.
    pub(crate) fn new_client<C: FromServer<S>>(&mut self, server: S) -> C {
        if self.servers.len() >= self.sweep_at {
            self.servers.retain(|_, server| server.strong_count() > 0);
            self.sweep_at = (2 * self.servers.len()).max(MIN_SWEEP);
        }
        let server = Rc::new(server);
        self.servers.insert(Rc::as_ptr(&server) as usize, Rc::downgrade(&server));
        capnp_rpc::new_client_from_rc(server)
    }

    /// The server behind `client` if it is one of this set's (the
    /// capability must be resolved: a promise is never recognised).
    pub(crate) fn get_local_server_of_resolved<C: FromClientHook>(&self, client: &C) -> Option<Rc<S>> {
        let ptr = client.as_client_hook().get_ptr();
        self.servers.get(&ptr).and_then(Weak::upgrade)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.servers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy_capnp::thread;

    struct Named(&'static str);

    impl thread::Server for Named {
        fn get_name(
            self: capnp::capability::Rc<Self>,
            _params: thread::GetNameParams,
            mut results: thread::GetNameResults,
        ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
            results.get().set_result(self.0);
            std::future::ready(Ok(()))
        }
    }

    #[test]
    fn recognises_its_servers_and_sweeps_dropped_ones() {
        let mut set = ServerSet::<Named>::default();
        let kept: thread::Client = set.new_client(Named("kept"));
        let stranger: thread::Client = capnp_rpc::new_client(Named("stranger"));
        assert_eq!(set.get_local_server_of_resolved(&kept).map(|s| s.0), Some("kept"));
        assert!(set.get_local_server_of_resolved(&stranger).is_none());
        for _ in 0..10_000 {
            let dropped: thread::Client = set.new_client(Named("dropped"));
            drop(dropped);
        }
        assert!(set.len() <= 2 * MIN_SWEEP, "{} entries", set.len());
        assert_eq!(set.get_local_server_of_resolved(&kept).map(|s| s.0), Some("kept"));
    }
}
