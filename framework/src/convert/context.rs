//! The state a conversion may need besides the value itself: the connection
//! a capability is sent over or arrived on. Only capability conversions
//! (generated code) look inside; value conversions pass the context along.

use std::marker::PhantomData;

/// Passed to every building conversion.
#[derive(Debug)]
pub struct BuildContext<'a> {
    pub(crate) _conn: PhantomData<&'a ()>,
}

/// Passed to every reading conversion.
#[derive(Debug)]
pub struct ReadContext<'a> {
    pub(crate) _conn: PhantomData<&'a ()>,
}

impl BuildContext<'_> {
    /// A context that belongs to no connection: for building messages that
    /// carry no capabilities (tests, stored messages).
    pub fn detached() -> Self {
        Self { _conn: PhantomData }
    }
}

impl ReadContext<'_> {
    /// A context that belongs to no connection: for reading messages that
    /// carry no capabilities (tests, stored messages).
    pub fn detached() -> Self {
        Self { _conn: PhantomData }
    }
}
