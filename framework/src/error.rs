//! The framework's error type: what went wrong with a cross-process call, in
//! a shape that tells the caller how to react.

use std::fmt;

/// How a caller should react to an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The remote implementation returned an error, or panicked, or the
    /// request was rejected. Retrying the same call will fail the same way.
    Failed,
    /// The peer is gone (process exited, socket closed). Every pending and
    /// later call on the connection fails with this kind.
    Disconnected,
    /// The peer does not implement the method.
    Unimplemented,
    /// A limit was hit: message too large, too many threads.
    Overloaded,
    /// A value could not be converted to or from its wire form (out of
    /// range, malformed, missing).
    Conversion,
    /// The call was made where it cannot be served, e.g. a synchronous call
    /// from code running on the event loop.
    Usage,
}

/// An error from the framework or from the remote side of a call.
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

    /// A [`ErrorKind::Failed`] error.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }

    /// A [`ErrorKind::Disconnected`] error.
    pub fn disconnected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Disconnected, message)
    }

    /// A [`ErrorKind::Conversion`] error.
    pub fn conversion(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conversion, message)
    }

    /// A [`ErrorKind::Overloaded`] error.
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Overloaded, message)
    }

    /// A [`ErrorKind::Usage`] error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// How to react.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the transport's prefixes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the peer is gone.
    pub fn is_disconnected(&self) -> bool {
        self.kind == ErrorKind::Disconnected
    }

    /// Prefixes the message with where the error happened (a method or a
    /// field name), keeping the kind.
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

/// Prefix that C++ peers put in front of an exception's message; our
/// servers send it too, so Bitcoin Core's clients read our errors as theirs.
pub(crate) const STD_EXCEPTION_PREFIX: &str = "std::exception: ";
const REMOTE_PREFIX: &str = "remote exception: ";

impl From<capnp::Error> for Error {
    fn from(e: capnp::Error) -> Self {
        let kind = match e.kind {
            capnp::ErrorKind::Disconnected => ErrorKind::Disconnected,
            capnp::ErrorKind::Unimplemented => ErrorKind::Unimplemented,
            capnp::ErrorKind::Overloaded => ErrorKind::Overloaded,
            _ => ErrorKind::Failed,
        };
        let mut message = e.extra.as_str();
        message = message.strip_prefix(REMOTE_PREFIX).unwrap_or(message);
        message = message.strip_prefix(STD_EXCEPTION_PREFIX).unwrap_or(message);
        Self::new(kind, message)
    }
}

impl From<Error> for capnp::Error {
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::Disconnected => capnp::ErrorKind::Disconnected,
            ErrorKind::Unimplemented => capnp::ErrorKind::Unimplemented,
            ErrorKind::Overloaded => capnp::ErrorKind::Overloaded,
            _ => capnp::ErrorKind::Failed,
        };
        capnp::Error { kind, extra: format!("{STD_EXCEPTION_PREFIX}{}", e.message) }
    }
}

impl From<capnp::NotInSchema> for Error {
    fn from(e: capnp::NotInSchema) -> Self {
        Self::conversion(format!("enum value {} is not in the schema", e.0))
    }
}

/// Application traits have error types that know nothing of this crate. They
/// receive framework errors through `From<std::io::Error>`: the io error's
/// kind says disconnected (`ConnectionAborted`), unsupported or other, and
/// its inner error is this [`Error`] for callers who want the details.
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::Disconnected => std::io::ErrorKind::ConnectionAborted,
            ErrorKind::Unimplemented => std::io::ErrorKind::Unsupported,
            ErrorKind::Conversion => std::io::ErrorKind::InvalidData,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// Result with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_prefixes_are_stripped_and_kind_kept() {
        let remote = capnp::Error {
            kind: capnp::ErrorKind::Failed,
            extra: "remote exception: std::exception: bad thing".into(),
        };
        let e = Error::from(remote);
        assert_eq!(e.kind(), ErrorKind::Failed);
        assert_eq!(e.message(), "bad thing");
    }

    #[test]
    fn outgoing_errors_look_like_cpp_exceptions() {
        let e: capnp::Error = Error::failed("nope").into();
        assert_eq!(e.extra, "std::exception: nope");
    }

    #[test]
    fn disconnects_become_connection_aborted_io_errors() {
        let io: std::io::Error = Error::disconnected("peer gone").into();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionAborted);
        let inner = io.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert_eq!(inner.map(Error::kind), Some(ErrorKind::Disconnected));
    }
}
