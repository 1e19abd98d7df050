//! Unix-domain socket addresses: resolving `-ipcbind` / `-ipcconnect`
//! values, listening and connecting, with Bitcoin Core's conventions.
//!
//! - `unix` is `<data_dir>/node.sock`; `unix:<path>` is `<path>`, relative to
//!   `data_dir` unless absolute. Callers pass `<datadir>/<chain>` as
//!   `data_dir`.
//! - Listening creates missing parent directories, removes a stale socket
//!   file, and makes the socket owner-only.
//! - `-ipcconnect=auto` connects like `unix` but quietly gives up when the
//!   socket is missing or nobody listens ([`ConnectMode::Auto`]).

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::sys::stat::{umask, Mode};

use crate::{Error, Result};

/// File name of the socket that the bare address `unix` means, inside the
/// data directory.
pub const DEFAULT_SOCKET_NAME: &str = "node.sock";

/// The socket path an IPC address means.
///
/// `spec` is `unix` (or `unix:`) for `<data_dir>/node.sock`, or
/// `unix:<path>` where a relative `<path>` is relative to `data_dir` and an
/// absolute one is used as is. Anything else is an [`ErrorKind::Usage`]
/// error naming `spec`. The path's length is checked when binding or
/// connecting.
///
/// [`ErrorKind::Usage`]: crate::ErrorKind::Usage
pub fn resolve_unix_address(spec: &str, data_dir: &Path) -> Result<PathBuf> {
    let path = match spec.strip_prefix("unix") {
        Some("") => "",
        Some(rest) => match rest.strip_prefix(':') {
            Some(path) => path,
            None => return Err(unrecognized(spec)),
        },
        None => return Err(unrecognized(spec)),
    };
    if path.is_empty() {
        Ok(data_dir.join(DEFAULT_SOCKET_NAME))
    } else {
        Ok(data_dir.join(path))
    }
}

fn unrecognized(spec: &str) -> Error {
    Error::usage(format!("unrecognized IPC address '{spec}': expected 'unix' or 'unix:<path>'"))
}

/// What to do when nothing listens at the address being connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectMode {
    /// Fail with an error (`-ipcconnect=unix[:<path>]`).
    Required,
    /// Carry on without a connection if the socket file is missing or
    /// refuses connections (`-ipcconnect=auto`). Other failures are still
    /// errors.
    Auto,
}

/// The socket path and mode an `-ipcconnect` value means: `auto` is
/// `<data_dir>/node.sock` in [`ConnectMode::Auto`], `0` (what
/// `-noipcconnect` sets) is `None`, and anything else is resolved by
/// [`resolve_unix_address`] in [`ConnectMode::Required`].
pub fn resolve_connect_address(spec: &str, data_dir: &Path) -> Result<Option<(PathBuf, ConnectMode)>> {
    match spec {
        "0" => Ok(None),
        "auto" => Ok(Some((data_dir.join(DEFAULT_SOCKET_NAME), ConnectMode::Auto))),
        _ => Ok(Some((resolve_unix_address(spec, data_dir)?, ConnectMode::Required))),
    }
}

/// Capacity of `sockaddr_un.sun_path` on this platform (108 on Linux),
/// including the terminating NUL.
fn sun_path_capacity() -> usize {
    // SAFETY: sockaddr_un is plain old data (an integer family and a byte
    // array); all zeroes is a valid value.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_path.len()
}

/// Rejects paths that do not fit in `sun_path` with a message that says the
/// limit.
fn check_path_length(path: &Path, doing: &str) -> Result<()> {
    let len = path.as_os_str().len();
    let capacity = sun_path_capacity();
    if len >= capacity {
        return Err(Error::usage(format!(
            "cannot {doing} unix:{}: the path is {len} bytes long, but unix socket paths are \
             limited to {} bytes ({capacity} including the terminating NUL)",
            path.display(),
            capacity - 1
        )));
    }
    Ok(())
}

/// Serializes this module's umask changes: umask is process-wide, and two
/// overlapping set/restore pairs would leave the wrong mask behind.
static UMASK_LOCK: Mutex<()> = Mutex::new(());

/// Listens on the unix socket at `path`.
///
/// Creates missing parent directories. A socket file already at `path` is
/// removed if nothing listens on it (a stale file from a process that
/// exited); if something does, the error says the address is already in
/// use. Any other kind of file at `path` is left alone and is an error.
///
/// The socket is created owner-only (`srwx------`) by setting the umask to
/// `077` around `bind(2)`. The umask is process-wide: a file another thread
/// creates in that instant also gets owner-only permissions.
///
/// Logs `Listening for IPC requests on address unix:<path>` (target `ipc`,
/// info level).
pub fn bind_unix(path: &Path) -> Result<UnixListener> {
    let fail = |what: String| Error::failed(format!("cannot listen on unix:{}: {what}", path.display()));
    check_path_length(path, "listen on")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| fail(format!("cannot create directory {}: {e}", parent.display())))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => return Err(fail("address already in use: another process is listening on it".into())),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => match std::fs::remove_file(path) {
                Ok(()) => {
                    crate::logging::ipc_debug!("Removed stale socket file {}", path.display());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(format!("cannot remove stale socket file: {e}"))),
            },
            Err(e) => return Err(fail(format!("cannot check existing socket file: {e}"))),
        },
        Ok(_) => return Err(fail("a file that is not a socket is in the way".into())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }

    let listener = {
        let _guard = UMASK_LOCK.lock().unwrap_or_else(|poison| poison.into_inner());
        let previous = umask(Mode::from_bits_truncate(0o077));
        let result = UnixListener::bind(path);
        umask(previous);
        result
    };
    let listener = listener.map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            fail(format!("address already in use: {e}"))
        } else {
            fail(e.to_string())
        }
    })?;
    tracing::info!(target: "ipc", "Listening for IPC requests on address unix:{}", path.display());
    Ok(listener)
}

/// Connects to the unix socket at `path`; an error says why if nothing
/// listens there (`cannot connect to unix:<path>: ...`).
pub fn connect_unix(path: &Path) -> Result<UnixStream> {
    check_path_length(path, "connect to")?;
    UnixStream::connect(path)
        .map_err(|e| Error::failed(format!("cannot connect to unix:{}: {e}", path.display())))
}

/// Connects to the unix socket at `path` according to `mode`: in
/// [`ConnectMode::Auto`], a missing socket file or one nobody listens on
/// gives `Ok(None)` (logged at debug level); every other failure, and every
/// failure in [`ConnectMode::Required`], is an error as from
/// [`connect_unix`].
pub fn try_connect_unix(path: &Path, mode: ConnectMode) -> Result<Option<UnixStream>> {
    check_path_length(path, "connect to")?;
    match UnixStream::connect(path) {
        Ok(stream) => Ok(Some(stream)),
        Err(e)
            if mode == ConnectMode::Auto
                && matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused) =>
        {
            crate::logging::ipc_debug!(
                "Not connecting to unix:{}: {e}; continuing without it",
                path.display()
            );
            Ok(None)
        }
        Err(e) => Err(Error::failed(format!("cannot connect to unix:{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spawn::test_log;
    use crate::ErrorKind;
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn resolves_unix_addresses() {
        let data = Path::new("/data/regtest");
        assert_eq!(resolve_unix_address("unix", data).unwrap(), data.join("node.sock"));
        assert_eq!(resolve_unix_address("unix:", data).unwrap(), data.join("node.sock"));
        assert_eq!(
            resolve_unix_address("unix:sub/my.sock", data).unwrap(),
            Path::new("/data/regtest/sub/my.sock")
        );
        assert_eq!(resolve_unix_address("unix:/tmp/x.sock", data).unwrap(), Path::new("/tmp/x.sock"));
        for bad in ["", "tcp:127.0.0.1:8000", "unixx", "Unix", "auto", "unix/x"] {
            let err = resolve_unix_address(bad, data).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(err.message().contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn resolves_connect_addresses() {
        let data = Path::new("/d");
        assert_eq!(resolve_connect_address("0", data).unwrap(), None);
        assert_eq!(
            resolve_connect_address("auto", data).unwrap(),
            Some((data.join("node.sock"), ConnectMode::Auto))
        );
        assert_eq!(
            resolve_connect_address("unix:a.sock", data).unwrap(),
            Some((data.join("a.sock"), ConnectMode::Required))
        );
        assert!(resolve_connect_address("tcp:1", data).is_err());
    }

    #[test]
    fn bind_creates_dirs_and_accepts_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/node.sock");
        let listener = bind_unix(&path).unwrap();
        let mut client = connect_unix(&path).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn socket_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.sock");
        let _listener = bind_unix(&path).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    }

    /// Leaves a socket file nobody listens on at `path`.
    ///
    /// A child that another test thread is forking holds a copy of the
    /// listening socket until it executes, so wait until connections are
    /// refused.
    fn make_stale_socket(path: &Path) {
        drop(bind_unix(path).unwrap());
        assert!(path.exists(), "std leaves the socket file behind");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while UnixStream::connect(path).is_ok() {
            assert!(std::time::Instant::now() < deadline, "socket still accepts connections");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.sock");
        make_stale_socket(&path);
        let listener = bind_unix(&path).unwrap();
        let _client = connect_unix(&path).unwrap();
        listener.accept().unwrap();
    }

    #[test]
    fn address_in_use_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.sock");
        let listener = bind_unix(&path).unwrap();
        let err = bind_unix(&path).unwrap_err();
        assert!(err.message().contains("already in use"), "{err}");
        assert!(err.message().contains(&format!("unix:{}", path.display())), "{err}");
        // The first listener is untouched.
        let _client = connect_unix(&path).unwrap();
        listener.accept().unwrap();
    }

    #[test]
    fn other_files_are_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.sock");
        std::fs::write(&path, "data").unwrap();
        let err = bind_unix(&path).unwrap_err();
        assert!(err.message().contains("not a socket"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data");
    }

    #[test]
    fn too_long_paths_are_rejected_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x".repeat(120));
        let limit = sun_path_capacity() - 1;
        for err in [bind_unix(&path).unwrap_err(), connect_unix(&path).unwrap_err()] {
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(err.message().contains(&format!("limited to {limit} bytes")), "{err}");
        }
        assert!(try_connect_unix(&path, ConnectMode::Auto).is_err());
        // Nothing was created.
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn longest_allowed_path_works() {
        let dir = tempfile::tempdir().unwrap();
        let limit = sun_path_capacity() - 1;
        let base = dir.path().as_os_str().len() + 1;
        let path = dir.path().join("y".repeat(limit - base));
        assert_eq!(path.as_os_str().len(), limit);
        let listener = bind_unix(&path).unwrap();
        let _client = connect_unix(&path).unwrap();
        listener.accept().unwrap();
    }

    #[test]
    fn connecting_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.sock");
        let err = connect_unix(&missing).unwrap_err();
        assert!(
            err.message().starts_with(&format!("cannot connect to unix:{}: ", missing.display())),
            "{err}"
        );
        assert!(try_connect_unix(&missing, ConnectMode::Required).is_err());
        assert!(try_connect_unix(&missing, ConnectMode::Auto).unwrap().is_none());

        // A stale socket file refuses connections.
        let stale = dir.path().join("stale.sock");
        make_stale_socket(&stale);
        let err = connect_unix(&stale).unwrap_err();
        assert!(err.message().contains("refused"), "{err}");
        assert!(try_connect_unix(&stale, ConnectMode::Auto).unwrap().is_none());

        // Auto still connects when something listens...
        let live = dir.path().join("live.sock");
        let _listener = bind_unix(&live).unwrap();
        assert!(try_connect_unix(&live, ConnectMode::Auto).unwrap().is_some());

        // ...and still reports other failures.
        let not_dir = dir.path().join("file");
        std::fs::write(&not_dir, "").unwrap();
        assert!(try_connect_unix(&not_dir.join("x.sock"), ConnectMode::Auto).is_err());
    }

    #[test]
    fn listening_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.sock");
        let logs = test_log::Capture::default();
        let _listener = logs.run(|| bind_unix(&path)).unwrap();
        let text = logs.text();
        let expected = format!("Listening for IPC requests on address unix:{}", path.display());
        assert!(text.contains(&expected), "{text}");
        assert!(text.contains("INFO"), "{text}");
    }
}
