//! The error every interface method returns.
//!
//! A kind tells the caller how to react; the message is for humans. Across
//! processes only the message travels (the framework sends it as
//! `std::exception: <message>`), and the receiving side sees
//! [`ErrorKind::Failed`], [`ErrorKind::Disconnected`] or
//! [`ErrorKind::Unimplemented`] through `From<std::io::Error>`. So a method
//! whose callers must tell outcomes apart says so in its return value (an
//! `Option`, a flag) rather than in an error kind.

use std::fmt;

/// How a caller should react to an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The call failed; retrying the same call will fail the same way.
    /// Also what every remote error that is not a disconnect arrives as.
    Failed,
    /// The other side is gone (its process exited, the socket closed). Every
    /// later call on the same object fails the same way.
    Disconnected,
    /// An argument was malformed or out of range (bad address, bad hex,
    /// unknown option).
    InvalidParameter,
    /// The named thing (wallet, block, transaction) does not exist.
    NotFound,
    /// The thing to create (a wallet) exists already, or is already loaded.
    AlreadyExists,
    /// The wallet cannot pay the amount plus fees.
    InsufficientFunds,
    /// A transaction was refused (mempool policy, consensus, fee above the
    /// limit); the message says why.
    Rejected,
    /// The service is not available in this process or not yet (wallet
    /// disabled, node still starting, shutting down).
    Unavailable,
    /// The implementation does not provide this method.
    Unimplemented,
}

impl ErrorKind {
    /// A short lowercase name, e.g. `insufficient funds`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Failed => "failed",
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::InvalidParameter => "invalid parameter",
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::InsufficientFunds => "insufficient funds",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unimplemented => "unimplemented",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every interface method: a [`ErrorKind`] and a message.
///
/// ```
/// use interfaces::{Error, ErrorKind};
///
/// let e = Error::not_found("wallet \"w1\" is not loaded");
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// assert_eq!(e.to_string(), "wallet \"w1\" is not loaded");
///
/// // How the framework reports a lost peer:
/// let lost = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "peer gone");
/// assert!(Error::from(lost).is_disconnected());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with a human-readable `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// An [`ErrorKind::Failed`] error.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }

    /// An [`ErrorKind::Disconnected`] error.
    pub fn disconnected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Disconnected, message)
    }

    /// An [`ErrorKind::InvalidParameter`] error.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    /// An [`ErrorKind::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An [`ErrorKind::AlreadyExists`] error.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }

    /// An [`ErrorKind::InsufficientFunds`] error.
    pub fn insufficient_funds(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InsufficientFunds, message)
    }

    /// An [`ErrorKind::Rejected`] error.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Rejected, message)
    }

    /// An [`ErrorKind::Unavailable`] error.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// An [`ErrorKind::Unimplemented`] error.
    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unimplemented, message)
    }

    /// How to react.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the other side is gone.
    pub fn is_disconnected(&self) -> bool {
        self.kind == ErrorKind::Disconnected
    }

    /// Prefixes the message with where the error happened, keeping the kind:
    /// `Error::failed("disk full").context("flush")` reads `flush: disk full`.
    pub fn context(mut self, place: impl fmt::Display) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// How errors from the framework (and any io error) become interface errors.
///
/// The framework reports a lost peer as `ConnectionAborted`; a reset or
/// broken connection means the same. `Unsupported` is a method the peer does
/// not implement. Everything else is [`ErrorKind::Failed`]. The message is
/// the io error's text.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        // The IPC layer hands a peer's error kind over as these io kinds (and nothing else here
        // knows the IPC layer): the kind a wallet or node error had crosses processes.
        let kind = match e.kind() {
            Io::ConnectionAborted | Io::ConnectionReset | Io::BrokenPipe => ErrorKind::Disconnected,
            Io::Unsupported => ErrorKind::Unimplemented,
            Io::NotFound => ErrorKind::NotFound,
            Io::AlreadyExists => ErrorKind::AlreadyExists,
            Io::InvalidInput => ErrorKind::InvalidParameter,
            Io::ResourceBusy => ErrorKind::Unavailable,
            Io::PermissionDenied => ErrorKind::Rejected,
            _ => ErrorKind::Failed,
        };
        Self::new(kind, e.to_string())
    }
}

/// The result of every interface method.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn check_io(kind: io::ErrorKind, expect: ErrorKind) {
        let e = Error::from(io::Error::new(kind, "some text"));
        assert_eq!(e.kind(), expect, "io kind {kind:?}");
        assert_eq!(e.message(), "some text");
    }

    #[test]
    fn io_errors_map_to_kinds() {
        check_io(io::ErrorKind::ConnectionAborted, ErrorKind::Disconnected);
        check_io(io::ErrorKind::ConnectionReset, ErrorKind::Disconnected);
        check_io(io::ErrorKind::BrokenPipe, ErrorKind::Disconnected);
        check_io(io::ErrorKind::Unsupported, ErrorKind::Unimplemented);
        check_io(io::ErrorKind::Other, ErrorKind::Failed);
        check_io(io::ErrorKind::InvalidData, ErrorKind::Failed);
        check_io(io::ErrorKind::NotFound, ErrorKind::NotFound);
        check_io(io::ErrorKind::AlreadyExists, ErrorKind::AlreadyExists);
        check_io(io::ErrorKind::InvalidInput, ErrorKind::InvalidParameter);
        check_io(io::ErrorKind::ResourceBusy, ErrorKind::Unavailable);
        check_io(io::ErrorKind::PermissionDenied, ErrorKind::Rejected);
        check_io(io::ErrorKind::TimedOut, ErrorKind::Failed);
    }

    #[test]
    fn io_error_with_inner_error_keeps_its_message() {
        // The framework wraps its own error type; its Display is the message.
        let inner = Error::failed("std::exception stripped");
        let io = io::Error::new(io::ErrorKind::ConnectionAborted, inner);
        let e: Error = io.into();
        assert!(e.is_disconnected());
        assert_eq!(e.to_string(), "std::exception stripped");
    }

    #[test]
    fn question_mark_converts_io_errors() {
        fn call() -> Result<()> {
            Err(io::Error::new(io::ErrorKind::ConnectionAborted, "peer gone"))?;
            Ok(())
        }
        assert_eq!(call(), Err(Error::disconnected("peer gone")));
    }

    #[test]
    fn constructors_set_their_kind() {
        type Make = fn(&'static str) -> Error;
        let cases: [(Make, ErrorKind); 9] = [
            (|m| Error::failed(m), ErrorKind::Failed),
            (|m| Error::disconnected(m), ErrorKind::Disconnected),
            (|m| Error::invalid_parameter(m), ErrorKind::InvalidParameter),
            (|m| Error::not_found(m), ErrorKind::NotFound),
            (|m| Error::already_exists(m), ErrorKind::AlreadyExists),
            (|m| Error::insufficient_funds(m), ErrorKind::InsufficientFunds),
            (|m| Error::rejected(m), ErrorKind::Rejected),
            (|m| Error::unavailable(m), ErrorKind::Unavailable),
            (|m| Error::unimplemented(m), ErrorKind::Unimplemented),
        ];
        for (make, kind) in cases {
            let e = make("msg");
            assert_eq!(e.kind(), kind);
            assert_eq!(e.message(), "msg");
            assert_eq!(e.is_disconnected(), kind == ErrorKind::Disconnected);
            assert!(!kind.as_str().is_empty());
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn display_is_the_message_and_context_prefixes_it() {
        let e = Error::insufficient_funds("need 5 BTC").context("sendtoaddress");
        assert_eq!(e.to_string(), "sendtoaddress: need 5 BTC");
        assert_eq!(e.kind(), ErrorKind::InsufficientFunds);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert_eq!(boxed.to_string(), "sendtoaddress: need 5 BTC");
    }
}
