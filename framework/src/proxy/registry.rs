//! Which trait objects are proxies, so that sending one back over its own
//! connection passes the underlying capability instead of wrapping it in a
//! new server (the peer then sees its own object again).
//!
//! A trait object carries no type we could test (the application traits
//! have no `Any` supertrait), only its data address and its vtable. So an
//! entry records the address of a proxy the moment it is put in its owner
//! (`Box` or `Arc`, by the generated `FromCapability`), the wide pointer it
//! was unsized to (address *and* vtable) and that owner. A lookup matches
//! only the same address, the same vtable and the same kind of owner:
//!
//! - The contents of a `Box<dyn Trait>` or `Arc<dyn Trait>` never move to
//!   another box or `Arc` (an unsized value cannot be moved out). The one
//!   move there is, `Arc::from(Box<dyn Trait>)`, copies the proxy into a new
//!   allocation and frees the box without running any code of ours, which
//!   leaves the box's entry behind (it goes when that proxy is dropped).
//!   An unrelated object allocated at that address has another vtable, so
//!   it is not taken for the proxy. A proxy moved there (a moved proxy lives
//!   in an `Arc` now) is looked up as `Arc`-held and misses the `Box`-held
//!   entry. Every `Box<dyn Trait>` that holds a proxy was registered when it
//!   was made, which replaced whatever entry its address had.
//! - A moved proxy is no longer recognised: sent back, it is wrapped in a
//!   new server like any local object (the peer sees a forwarder, which
//!   works, rather than its own object).
//! - Entries carry the proxy's serial number: a proxy removes only its own
//!   entry, never the one a later proxy made at the same address.
//! - A proxy whose capability went back to its owner sends no `destroy`
//!   when dropped (it only releases the capability): the owner holds the
//!   object again, and a server releases the object on `destroy`.
//!
//! Nothing here is ever dereferenced: a wrong match could only send the
//! wrong capability, and the checks above rule that out for any object but
//! one with an identical vtable at the address a proxy still owns.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{FromProxyClient, Interface};
use crate::convert::BuildContext;

#[derive(Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) loop_id: u64,
    pub(crate) conn: u64,
    pub(crate) cap: u64,
}

/// The owner an imported proxy was put in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A `Box<dyn Trait>`.
    Boxed,
    /// An `Arc<dyn Trait>`.
    Shared,
}

/// The wide pointer a proxy was unsized to: compared, never dereferenced.
struct Wide<T: ?Sized>(*const T);

// SAFETY: the pointer is only compared with `std::ptr::eq`, never read
// through, so sharing it between threads cannot touch the pointee.
unsafe impl<T: ?Sized> Send for Wide<T> {}

struct Entry {
    serial: u64,
    held: Held,
    identity: Identity,
    /// The proxy's `handed_back` flag, set when its capability is reused.
    handed_back: Arc<AtomicBool>,
    /// A `Wide<dyn Trait>`: its type is the trait, its value the vtable.
    wide: Box<dyn Any + Send>,
}

fn registry() -> MutexGuard<'static, HashMap<usize, Entry>> {
    static REGISTRY: OnceLock<Mutex<HashMap<usize, Entry>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

fn address<T: ?Sized>(object: *const T) -> usize {
    object as *const () as usize
}

/// What a proxy's entry needs from it, taken before it is unsized (after,
/// only the trait is known). Unsizing keeps the allocation, so the address
/// stays the key.
struct Pending {
    key: usize,
    serial: u64,
    identity: Identity,
    handed_back: Arc<AtomicBool>,
}

impl Pending {
    fn of<C: Interface, P: FromProxyClient<C>>(proxy: &P) -> Self {
        let key = address(proxy as *const P);
        let base = proxy.proxy_client();
        base.registered_at.store(key, Ordering::SeqCst);
        Self { key, serial: base.serial, identity: base.identity(), handed_back: base.handed_back.clone() }
    }

    fn record<T: ?Sized + 'static>(self, object: *const T, held: Held) {
        debug_assert_eq!(address(object), self.key);
        let entry = Entry {
            serial: self.serial,
            held,
            identity: self.identity,
            handed_back: self.handed_back,
            wide: Box::new(Wide(object)),
        };
        registry().insert(self.key, entry);
    }
}

/// Removes the entry at `key` if proxy `serial` made it.
pub(crate) fn unregister(key: usize, serial: u64) {
    if key == 0 {
        return;
    }
    let mut registry = registry();
    if registry.get(&key).is_some_and(|e| e.serial == serial) {
        registry.remove(&key);
    }
}

/// Boxes a freshly imported proxy as the trait object `unsize` makes of it,
/// and records it (generated code, on import).
pub fn register_proxy<C, P, T>(proxy: Box<P>, unsize: fn(Box<P>) -> Box<T>) -> Box<T>
where
    C: Interface,
    P: FromProxyClient<C>,
    T: ?Sized + 'static,
{
    let pending = Pending::of(&*proxy);
    let object = unsize(proxy);
    pending.record(&*object as *const T, Held::Boxed);
    object
}

/// Like [`register_proxy`] for an `Arc<dyn Trait>`.
pub fn register_proxy_arc<C, P, T>(proxy: Arc<P>, unsize: fn(Arc<P>) -> Arc<T>) -> Arc<T>
where
    C: Interface,
    P: FromProxyClient<C>,
    T: ?Sized + 'static,
{
    let pending = Pending::of(&*proxy);
    let object = unsize(proxy);
    pending.record(&*object as *const T, Held::Shared);
    object
}

/// The capability behind `object`, held in a `held`, if it is a proxy on
/// `ctx`'s loop and connection (generated code, when sending an object).
pub fn reuse_proxy<C: Interface, T: ?Sized + 'static>(
    ctx: &BuildContext<'_>,
    object: &T,
    held: Held,
) -> Option<C> {
    let link = ctx.link?;
    let object = object as *const T;
    let (identity, handed_back) = {
        let registry = registry();
        let entry = registry.get(&address(object))?;
        let wide = entry.wide.downcast_ref::<Wide<T>>()?;
        // Same address, same vtable (a comparison, no read), same owner.
        if entry.held != held || !std::ptr::eq(wide.0, object) {
            return None;
        }
        (entry.identity, entry.handed_back.clone())
    };
    let loop_id = link.local.shared.upgrade()?.id();
    if identity.loop_id != loop_id || identity.conn != link.conn.id {
        return None;
    }
    let client = link.local.cap(identity.cap).map(|c| C::new(c.hook))?;
    // The owner holds its object again: the proxy must not destroy it.
    handed_back.store(true, Ordering::SeqCst);
    Some(client)
}
