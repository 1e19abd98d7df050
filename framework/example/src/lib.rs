//! The framework's example, in the shape of libmultiprocess's `mpexample`:
//! a driver spawns a calculator process and a printer process, hands the
//! printer to the calculator, and feeds it equations from stdin. The
//! calculator prints each answer through the printer, so that call travels
//! calculator -> driver -> printer.
//!
//! The schemas carry libmultiprocess's file IDs, names and ordinals, and the
//! children accept its command line (`<exe> <fd>`), so these processes mix
//! with the C++ ones.

pub mod equation;
mod processes;

pub use processes::{init_logging, serve_child, spawn_child};

use std::fmt;

/// The example's error: a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}

/// Prints text (served by `mpprinter`).
pub trait Printer: Send + Sync {
    /// Prints `text` as is.
    fn print(&self, text: String) -> Result<(), Error>;
}

/// Solves equations and prints the answers (served by `mpcalculator`).
pub trait Calculator: Send + Sync {
    /// Solves `eqn` and prints the answer through its printer.
    fn solve_equation(&self, eqn: String) -> Result<(), Error>;
}

/// What each child process bootstraps with.
pub trait Init: Send + Sync {
    /// A calculator that prints through `print`.
    fn make_calculator(&self, print: Box<dyn Printer>) -> Result<Box<dyn Calculator>, Error>;
    /// A printer.
    fn make_printer(&self) -> Result<Box<dyn Printer>, Error>;
}

/// Generated bindings: capnp types and the proxies/adapters of the traits above.
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod init_capnp {
    include!(concat!(env!("OUT_DIR"), "/init_capnp.rs"));
}
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod calculator_capnp {
    include!(concat!(env!("OUT_DIR"), "/calculator_capnp.rs"));
}
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod printer_capnp {
    include!(concat!(env!("OUT_DIR"), "/printer_capnp.rs"));
}
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod init_proxy {
    include!(concat!(env!("OUT_DIR"), "/init_proxy.rs"));
}
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod calculator_proxy {
    include!(concat!(env!("OUT_DIR"), "/calculator_proxy.rs"));
}
#[allow(clippy::all, missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod printer_proxy {
    include!(concat!(env!("OUT_DIR"), "/printer_proxy.rs"));
}
