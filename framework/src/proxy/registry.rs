//! Which boxed trait objects are proxies, so that sending one back over
//! its own connection passes the underlying capability instead of wrapping
//! it in a new server (the peer then sees its own object again).
//!
//! Keys are the addresses of the heap-allocated proxies: stable for their
//! lifetime, and removed by the proxy's `Drop` before the memory is freed.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{FromProxyClient, Interface};
use crate::convert::BuildContext;

#[derive(Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) loop_id: u64,
    pub(crate) conn: u64,
    pub(crate) cap: u64,
}

fn registry() -> MutexGuard<'static, HashMap<usize, Identity>> {
    static REGISTRY: OnceLock<Mutex<HashMap<usize, Identity>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

fn register<C: Interface, P: FromProxyClient<C>>(proxy: &P) {
    let key = proxy as *const P as usize;
    let base = proxy.proxy_client();
    base.registered_at.store(key, Ordering::SeqCst);
    registry().insert(key, base.identity());
}

pub(crate) fn unregister(key: usize) {
    if key != 0 {
        registry().remove(&key);
    }
}

/// Records a freshly boxed proxy (generated code, on import).
pub fn register_proxy<C: Interface, P: FromProxyClient<C>>(proxy: Box<P>) -> Box<P> {
    register(&*proxy);
    proxy
}

/// Records a freshly allocated shared proxy (generated code, on import).
pub fn register_proxy_arc<C: Interface, P: FromProxyClient<C>>(proxy: Arc<P>) -> Arc<P> {
    register(&*proxy);
    proxy
}

/// The capability behind `object` (a trait object's data pointer) if it is
/// a proxy on `ctx`'s loop and connection.
pub fn reuse_proxy<C: Interface>(ctx: &BuildContext<'_>, object: *const ()) -> Option<C> {
    let link = ctx.link?;
    let identity = *registry().get(&(object as usize))?;
    let loop_id = link.local.shared.upgrade()?.id();
    if identity.loop_id != loop_id || identity.conn != link.conn.id {
        return None;
    }
    link.local.cap(identity.cap).map(|c| C::new(c.hook))
}
