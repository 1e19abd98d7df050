//! [`Echo`]: the smallest interface, for testing a connection.

use crate::Result;

/// Returns what it is given. Used to check that a process answers (Bitcoin
/// Core's `Echo`, schema `echo.capnp`).
pub trait Echo: Send + Sync {
    /// Returns `echo` unchanged. (The parameter is named like the schema's
    /// field so the generated glue matches it.)
    fn echo(&self, echo: String) -> Result<String>;
}
