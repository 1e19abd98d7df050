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
    /// The implementation says the named thing does not exist.
    NotFound,
    /// The implementation says the thing to create exists already.
    AlreadyExists,
    /// The implementation says an argument was malformed or out of range.
    InvalidArgument,
    /// The implementation says the service is not available (yet, or any more).
    Unavailable,
    /// The implementation refused the request: a rule or a policy says no (not a failure to
    /// carry it out).
    Refused,
}

impl ErrorKind {
    /// The kinds an implementation's error keeps across the wire between
    /// two framework peers (see [`crate::register_error_kind`]), by their
    /// wire names. Other kinds travel as Cap'n Proto's exception types.
    const APPLICATION: [(ErrorKind, &'static str); 5] = [
        (ErrorKind::NotFound, "not-found"),
        (ErrorKind::AlreadyExists, "already-exists"),
        (ErrorKind::InvalidArgument, "invalid-argument"),
        (ErrorKind::Unavailable, "unavailable"),
        (ErrorKind::Refused, "refused"),
    ];

    pub(crate) fn wire_name(self) -> Option<&'static str> {
        Self::APPLICATION.iter().find(|(k, _)| *k == self).map(|(_, name)| *name)
    }

    pub(crate) fn from_wire_name(name: &str) -> Option<Self> {
        Self::APPLICATION.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The kind for an `std::io::Error` of kind `io`.
    pub(crate) fn from_io(io: std::io::ErrorKind) -> Self {
        match io {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            std::io::ErrorKind::InvalidInput => ErrorKind::InvalidArgument,
            std::io::ErrorKind::ResourceBusy => ErrorKind::Unavailable,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Refused,
            _ => ErrorKind::Failed,
        }
    }
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

/// How an application kind ([`ErrorKind::wire_name`]) rides in a
/// `capnp::Error` inside this process: after the message, behind this
/// character. It never reaches a peer as part of the reason: the transport
/// moves it to the exception's `trace` field on the way out (see
/// `connection/transport.rs`), and back on the way in, so C++ and pycapnp
/// peers read exactly `std::exception: <message>`.
pub(crate) const KIND_MARK: char = '\u{1}';

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
        // A foreign message that happens to hold the mark stays whole.
        let (message, app_kind) = match message.rsplit_once(KIND_MARK) {
            Some((head, name)) => match ErrorKind::from_wire_name(name) {
                Some(kind) => (head, Some(kind)),
                None => (message, None),
            },
            None => (message, None),
        };
        // Only a failure carries an application kind: a disconnect stays one.
        let kind = match app_kind {
            Some(app_kind) if kind == ErrorKind::Failed => app_kind,
            _ => kind,
        };
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
        let extra = match e.kind.wire_name() {
            Some(name) => format!("{STD_EXCEPTION_PREFIX}{}{KIND_MARK}{name}", e.message),
            None => format!("{STD_EXCEPTION_PREFIX}{}", e.message),
        };
        capnp::Error { kind, extra }
    }
}

impl From<capnp::NotInSchema> for Error {
    fn from(e: capnp::NotInSchema) -> Self {
        Self::conversion(format!("enum value {} is not in the schema", e.0))
    }
}

/// Application traits have error types that know nothing of this crate. They
/// receive framework errors through `From<std::io::Error>`: the io error's
/// kind says disconnected (`ConnectionAborted`), unsupported, not found,
/// already exists, invalid input or other, and its inner error is this
/// [`Error`] for callers who want the details.
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::Disconnected => std::io::ErrorKind::ConnectionAborted,
            ErrorKind::Unimplemented => std::io::ErrorKind::Unsupported,
            ErrorKind::Conversion => std::io::ErrorKind::InvalidData,
            ErrorKind::NotFound => std::io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => std::io::ErrorKind::AlreadyExists,
            ErrorKind::InvalidArgument => std::io::ErrorKind::InvalidInput,
            // So that application error types, which know only `std::io::Error`, get every
            // kind that travels back (see `ErrorKind::from_io`, its inverse).
            ErrorKind::Unavailable => std::io::ErrorKind::ResourceBusy,
            ErrorKind::Refused => std::io::ErrorKind::PermissionDenied,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// Result with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Finds the [`ErrorKind`] of an implementation's error, by its type.
type KindOf = Box<dyn Fn(&dyn std::any::Any) -> Option<ErrorKind> + Send + Sync>;

fn kind_finders() -> std::sync::MutexGuard<'static, Vec<KindOf>> {
    static FINDERS: std::sync::OnceLock<std::sync::Mutex<Vec<KindOf>>> = std::sync::OnceLock::new();
    FINDERS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Tells the framework the [`ErrorKind`] of an implementation's error type
/// `E`, so that a server sends it along (e.g. `NotFound`) and a framework
/// client receives it as that kind (C++ and pycapnp peers see the message
/// as before). Application error types know nothing of this crate, so the
/// crate that knows both registers the mapping, once, at start-up. Without
/// it, `framework::Error` and `std::io::Error` are understood; any other
/// error is [`ErrorKind::Failed`]. Only the application kinds (`NotFound`,
/// `AlreadyExists`, `InvalidArgument`, `Unavailable`, `Refused`) travel; a
/// `Disconnected` of the implementation's own arrives as a failure.
///
/// ```
/// struct WalletError {
///     missing: bool,
/// }
///
/// framework::register_error_kind::<WalletError>(|e| {
///     if e.missing {
///         framework::ErrorKind::NotFound
///     } else {
///         framework::ErrorKind::Failed
///     }
/// });
/// ```
pub fn register_error_kind<E: 'static>(kind_of: fn(&E) -> ErrorKind) {
    kind_finders().push(Box::new(move |e| e.downcast_ref::<E>().map(kind_of)));
}

/// The kind an implementation's error `e` goes out with.
pub(crate) fn kind_of_app_error(e: &dyn std::any::Any) -> ErrorKind {
    let kind = if let Some(e) = e.downcast_ref::<Error>() {
        e.kind
    } else if let Some(e) = e.downcast_ref::<std::io::Error>() {
        match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
            Some(inner) => inner.kind,
            None => ErrorKind::from_io(e.kind()),
        }
    } else {
        kind_finders().iter().find_map(|find| find(e)).unwrap_or(ErrorKind::Failed)
    };
    if kind.wire_name().is_some() {
        kind
    } else {
        ErrorKind::Failed
    }
}

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
    fn an_application_kind_rides_behind_the_message_and_is_stripped() {
        let e: capnp::Error = Error::new(ErrorKind::NotFound, "no such wallet").into();
        assert_eq!(e.kind, capnp::ErrorKind::Failed);
        assert_eq!(e.extra, "std::exception: no such wallet\u{1}not-found");
        let back =
            Error::from(capnp::Error { kind: e.kind, extra: format!("remote exception: {}", e.extra) });
        assert_eq!((back.kind(), back.message()), (ErrorKind::NotFound, "no such wallet"));
        // Framework kinds that are no application's stay off the message.
        let e: capnp::Error = Error::conversion("bad").into();
        assert_eq!(e.extra, "std::exception: bad");
        // Text that only looks like it is kept.
        let odd = Error::from(capnp::Error::failed("a\u{1}b".into()));
        assert_eq!((odd.kind(), odd.message()), (ErrorKind::Failed, "a\u{1}b"));
    }

    #[test]
    fn disconnects_become_connection_aborted_io_errors() {
        let io: std::io::Error = Error::disconnected("peer gone").into();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionAborted);
        let inner = io.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert_eq!(inner.map(Error::kind), Some(ErrorKind::Disconnected));
    }
}
