//! The state a conversion may need besides the value itself: the loop and
//! connection a capability is sent over or arrived on. Only capability
//! conversions (generated code) look inside; value conversions pass the
//! context along.

use std::rc::Rc;

use crate::connection::ConnectionCore;
use crate::event_loop::LoopLocal;

#[derive(Clone, Copy)]
pub(crate) struct Link<'a> {
    pub(crate) local: &'a Rc<LoopLocal>,
    pub(crate) conn: &'a Rc<ConnectionCore>,
}

/// Passed to every building conversion.
pub struct BuildContext<'a> {
    pub(crate) link: Option<Link<'a>>,
}

/// Passed to every reading conversion.
pub struct ReadContext<'a> {
    pub(crate) link: Option<Link<'a>>,
}

impl BuildContext<'_> {
    /// A context that belongs to no connection: for building messages that
    /// carry no capabilities (tests, stored messages).
    pub fn detached() -> Self {
        Self { link: None }
    }
}

impl ReadContext<'_> {
    /// A context that belongs to no connection: for reading messages that
    /// carry no capabilities (tests, stored messages).
    pub fn detached() -> Self {
        Self { link: None }
    }
}

impl std::fmt::Debug for BuildContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext").field("connection", &self.link.map(|l| l.conn.id)).finish()
    }
}

impl std::fmt::Debug for ReadContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadContext").field("connection", &self.link.map(|l| l.conn.id)).finish()
    }
}
