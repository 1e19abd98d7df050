//! Starting a child process connected to this one by a socketpair, and, in
//! the child, finding that socket on the command line.
//!
//! The parent runs `<exe> -ipcfd <N> <args...>` (or `<exe> <N> <args...>`,
//! see [`FdArg`]) where `N` is the child's end of an `AF_UNIX` stream
//! socketpair, and keeps the other end. Every other descriptor `>= 3` is
//! closed in the child. The child calls [`ipc_fd_from_args`] to take the
//! socket back from its arguments. Turning the stream into an RPC connection
//! is another module's business.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::socket::{getsockname, AddressFamily, SockaddrLike, SockaddrStorage};
use nix::sys::stat::{fstat, SFlag};

use crate::{Error, Result};

/// Where the child's descriptor number goes on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FdArg {
    /// `<exe> -ipcfd <N> <args...>`: the convention of Bitcoin Core and
    /// libmultiprocess. The default.
    #[default]
    Flag,
    /// `<exe> <N> <args...>`: the form libmultiprocess's example programs
    /// (`mpprinter <fd>`, `mpcalculator <fd>`) expect.
    Positional,
}

/// How to start a child process: a builder for [`SpawnOptions::spawn`].
///
/// ```no_run
/// # use framework::{FdArg, SpawnOptions};
/// # use std::path::Path;
/// let (child, stream) = SpawnOptions::new()
///     .fd_arg(FdArg::Positional)
///     .spawn(Path::new("./mpprinter"))?;
/// # Ok::<(), framework::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct SpawnOptions {
    fd_arg: FdArg,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
}

impl SpawnOptions {
    /// `-ipcfd <N>`, no further arguments, environment, stdout and stderr
    /// inherited.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the descriptor number goes on the command line.
    pub fn fd_arg(mut self, style: FdArg) -> Self {
        self.fd_arg = style;
        self
    }

    /// Appends one argument after the descriptor argument(s).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments after the descriptor argument(s).
    pub fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable in the child (the rest of the
    /// environment is inherited).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// The child's standard output (inherited unless set).
    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Self {
        self.stdout = Some(stdout.into());
        self
    }

    /// The child's standard error (inherited unless set).
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Self {
        self.stderr = Some(stderr.into());
        self
    }

    /// Starts `exe` connected to this process by a fresh socketpair and
    /// returns the child and this process's end of the socket.
    ///
    /// `exe` is looked up in `PATH` if it has no slash, like `execvp(3)`.
    /// The child's standard descriptors are inherited (or set by
    /// [`stdout`](Self::stdout) / [`stderr`](Self::stderr)); every other
    /// descriptor but the socket is closed when it executes `exe`, including
    /// descriptors other threads of this process leave inheritable. This
    /// process keeps no copy of the child's end, so the stream reads
    /// end-of-file once the child exits.
    pub fn spawn(self, exe: &Path) -> Result<(ChildProcess, UnixStream)> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            Error::failed(format!("cannot spawn {}: {what}: {e}", exe.display()))
        };
        // Both ends are close-on-exec: neither leaks into processes that
        // other threads start. The child's end is made inheritable only in
        // the child, between fork and exec.
        let (ours, theirs) = UnixStream::pair().map_err(|e| fail("socketpair", &e))?;
        let theirs = above_stdio(OwnedFd::from(theirs)).map_err(|e| fail("dup", &e))?;
        let child_fd = theirs.as_raw_fd();

        let mut command = Command::new(exe);
        if self.fd_arg == FdArg::Flag {
            command.arg("-ipcfd");
        }
        command.arg(child_fd.to_string()).args(&self.args);
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(stdout) = self.stdout {
            command.stdout(stdout);
        }
        if let Some(stderr) = self.stderr {
            command.stderr(stderr);
        }
        // SAFETY: the hook runs in the forked child of a possibly
        // multi-threaded process, so it must be async-signal-safe.
        // `prepare_child_fds` only calls fcntl(2), close_range(2) and
        // getrlimit(2) on integers captured by value: it allocates nothing,
        // takes no locks and touches no shared state.
        unsafe {
            command.pre_exec(move || prepare_child_fds(child_fd));
        }
        let child = command.spawn().map_err(|e| fail("exec", &e))?;
        drop(theirs);

        let pid = child.id();
        crate::logging::ipc_debug!("Process {} pid {} launched", exe.display(), pid);
        let child = ChildProcess { child: Some(child), exe: exe.to_owned(), pid, status: None };
        Ok((child, ours))
    }
}

/// Starts `<exe> -ipcfd <N> <args...>` connected to this process by a
/// socketpair; shorthand for
/// `SpawnOptions::new().args(args).spawn(exe)` (see [`SpawnOptions::spawn`]).
pub fn spawn_process(exe: &Path, args: &[OsString]) -> Result<(ChildProcess, UnixStream)> {
    SpawnOptions::new().args(args).spawn(exe)
}

/// Moves `fd` to a number `>= 3` (close-on-exec), so that it cannot collide
/// with the child's standard descriptors. Only needed if this process runs
/// with a standard descriptor closed.
fn above_stdio(fd: OwnedFd) -> nix::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let new = fcntl(fd.as_raw_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned `new`, a fresh descriptor
    // nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Runs in the child between fork and exec: makes `keep` inheritable and
/// every other descriptor `>= 3` close-on-exec, so that after exec the child
/// has exactly its standard descriptors and `keep`.
///
/// Marking close-on-exec rather than closing leaves the standard library's
/// own exec-error pipe (itself close-on-exec) working, so a failed exec is
/// still reported to the parent as an error.
///
/// Async-signal-safe: no allocation, no locks; `io::Error::last_os_error`
/// only stores the errno.
fn prepare_child_fds(keep: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(2) on a descriptor number has no memory-safety
    // preconditions.
    let flags = unsafe { libc::fcntl(keep, libc::F_GETFD) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(keep, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    if keep > 3 {
        set_cloexec_range(3, keep - 1);
    }
    set_cloexec_range(keep + 1, RawFd::MAX);
    Ok(())
}

/// Marks descriptors `first..=last` close-on-exec. Async-signal-safe.
fn set_cloexec_range(first: RawFd, last: RawFd) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // close_range(2) with CLOSE_RANGE_CLOEXEC: Linux 5.11 and later.
        // SAFETY: a plain system call on integer arguments; the kernel
        // checks them.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                last as libc::c_uint,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        if rc == 0 {
            return;
        }
    }
    // Older kernels and other systems: probe every possible descriptor up to
    // the open-files limit (bounded, in case it is unlimited).
    const FALLBACK_BOUND: RawFd = 1 << 20;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit(2) writes into `limit`, a valid local.
    let bound = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
        && limit.rlim_cur != libc::RLIM_INFINITY
    {
        RawFd::try_from(limit.rlim_cur).unwrap_or(FALLBACK_BOUND).min(FALLBACK_BOUND)
    } else {
        FALLBACK_BOUND
    };
    let mut fd = first;
    while fd <= last && fd < bound {
        // SAFETY: fcntl(2) on a descriptor number has no memory-safety
        // preconditions; closed numbers fail with EBADF, which we skip.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags != -1 && flags & libc::FD_CLOEXEC == 0 {
            // SAFETY: as above.
            unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) };
        }
        fd += 1;
    }
}

/// A child process started by [`SpawnOptions::spawn`] or [`spawn_process`].
///
/// Dropping it does not kill the child — a dropped handle may belong to a
/// child that is still serving requests. If the child has not been waited
/// for, `Drop` hands it to a detached thread named `ipc-reaper` that waits
/// for it (and logs its exit), so it never stays a zombie. Call
/// [`kill`](Self::kill) first to stop it.
#[derive(Debug)]
pub struct ChildProcess {
    /// `None` once [`wait`](Self::wait) or `Drop` took it.
    child: Option<Child>,
    exe: PathBuf,
    pid: u32,
    /// Set once the child has been reaped (and its exit logged).
    status: Option<ExitStatus>,
}

impl ChildProcess {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The executable the child was started from, as given.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// Waits for the child to exit and returns its status.
    ///
    /// Logs `Process <exe> pid <pid> exited with status <n>` (target `ipc`,
    /// debug level) where `n` is the raw `waitpid(2)` status, as Bitcoin
    /// Core prints it: the exit code times 256, or the signal number.
    pub fn wait(mut self) -> Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let Some(mut child) = self.child.take() else {
            return Err(Error::usage("child process already reaped"));
        };
        match child.wait() {
            Ok(status) => {
                self.status = Some(status);
                log_exit(&self.exe, self.pid, status);
                Ok(status)
            }
            Err(e) => {
                // Put it back so that Drop still reaps it.
                self.child = Some(child);
                Err(self.error("wait", &e))
            }
        }
    }

    /// The child's status if it has exited, without blocking. Logs the exit
    /// like [`wait`](Self::wait) the first time it is seen.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(child) = self.child.as_mut() else {
            return Err(Error::usage("child process already reaped"));
        };
        let status = child.try_wait().map_err(|e| self.error("wait", &e))?;
        if let Some(status) = status {
            self.status = Some(status);
            log_exit(&self.exe, self.pid, status);
        }
        Ok(status)
    }

    /// Kills the child with `SIGKILL`; does nothing if it was already
    /// reaped. Does not wait: call [`wait`](Self::wait) to reap it and get
    /// its status.
    pub fn kill(&mut self) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        match self.child.as_mut() {
            Some(child) => child.kill().map_err(|e| self.error("kill", &e)),
            None => Ok(()),
        }
    }

    fn error(&self, what: &str, e: &io::Error) -> Error {
        Error::failed(format!("{what} process {} pid {}: {e}", self.exe.display(), self.pid))
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(status)) = child.try_wait() {
            log_exit(&self.exe, self.pid, status);
            return;
        }
        let (exe, pid) = (std::mem::take(&mut self.exe), self.pid);
        let reaper =
            std::thread::Builder::new().name("ipc-reaper".into()).spawn(move || match child.wait() {
                Ok(status) => log_exit(&exe, pid, status),
                Err(e) => {
                    let exe = exe.display();
                    tracing::warn!(target: "ipc", "cannot wait for process {exe} pid {pid}: {e}");
                }
            });
        if let Err(e) = reaper {
            tracing::warn!(
                target: "ipc",
                "process pid {pid} will not be reaped: cannot start reaper thread: {e}"
            );
        }
    }
}

fn log_exit(exe: &Path, pid: u32, status: ExitStatus) {
    crate::logging::ipc_debug!(
        "Process {} pid {} exited with status {}",
        exe.display(),
        pid,
        status.into_raw()
    );
}

/// Descriptor numbers [`ipc_fd_from_args`] has taken ownership of, so that
/// a second call cannot make a second owner of the same descriptor.
static CLAIMED_FDS: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

/// In a spawned child: finds the IPC socket named on the command line and
/// takes ownership of it.
///
/// `args` are the process's arguments *without* the program name
/// (`std::env::args_os().skip(1)`). Recognized forms:
/// - `-ipcfd <N>` or `-ipcfd=<N>` (also with `--`), anywhere in `args`;
/// - a first argument made only of digits: `<exe> <N> ...` ([`FdArg::Positional`]).
///
/// Returns `Ok(None)` if there is no such argument (the process was not
/// spawned by a parent), otherwise the socket and the arguments with the
/// descriptor argument(s) removed. `N` must be an open, connected
/// unix-domain stream socket other than the standard descriptors, inherited
/// from the parent (close-on-exec clear); the error names the argument,
/// e.g. `-ipcfd 7: not an open socket (descriptor is closed)`. The socket is
/// made close-on-exec again so it does not leak into this process's own
/// children.
///
/// The descriptor is taken over because the command line hands it to this
/// process for exactly this purpose: nothing else in the process may use it.
/// A number naming a descriptor this process opened itself (close-on-exec
/// set, as Rust and most libraries open every descriptor), or a listening
/// socket, is refused, and each descriptor number can be taken once per
/// process: a forged argument cannot make two owners of one descriptor.
pub fn ipc_fd_from_args<I>(args: I) -> Result<Option<(UnixStream, Vec<OsString>)>>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut found: Option<(usize, usize, OsString)> = None; // (index, arg count, value)
    for (i, arg) in args.iter().enumerate() {
        let bytes = arg.as_bytes();
        // `--ipcfd` means `-ipcfd`, as in Bitcoin Core's argument parser.
        let bytes = if bytes.starts_with(b"--") { &bytes[1..] } else { bytes };
        let this = if bytes == b"-ipcfd" {
            let value = args
                .get(i + 1)
                .ok_or_else(|| Error::usage("-ipcfd: missing file descriptor number".to_string()))?;
            (i, 2, value.clone())
        } else if let Some(value) = bytes.strip_prefix(b"-ipcfd=") {
            (i, 1, OsStr::from_bytes(value).to_owned())
        } else {
            continue;
        };
        if found.is_some() {
            return Err(Error::usage("-ipcfd given more than once"));
        }
        found = Some(this);
    }
    let (label, index, count, value) = match found {
        Some((index, count, value)) => ("-ipcfd", index, count, value),
        None => match args.first() {
            Some(first) if !first.is_empty() && first.as_bytes().iter().all(u8::is_ascii_digit) => {
                ("IPC fd argument", 0, 1, first.clone())
            }
            _ => return Ok(None),
        },
    };
    let stream = claim_socket_fd(label, &value)?;
    args.drain(index..index + count);
    Ok(Some((stream, args)))
}

/// The integer socket option `option` (at level `SOL_SOCKET`) of `fd`.
fn socket_option(fd: RawFd, option: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the integer options asked for write at most one c_int; `value`
    // and `len` are valid locals of the right sizes.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, option, (&mut value as *mut libc::c_int).cast(), &mut len)
    };
    (rc == 0).then_some(value)
}

/// Validates that `value` names an open unix stream socket and takes
/// ownership of it.
fn claim_socket_fd(label: &str, value: &OsStr) -> Result<UnixStream> {
    let shown = value.to_string_lossy();
    let usage = |why: &str| Error::usage(format!("{label} {shown}: {why}"));
    let fd: RawFd = match value.to_str() {
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().map_err(|_| usage("not a file descriptor number"))?
        }
        _ => return Err(usage("not a file descriptor number")),
    };
    if fd <= 2 {
        return Err(usage("is a standard descriptor, not an IPC socket"));
    }
    let not_socket = |why: &str| usage(&format!("not an open socket ({why})"));
    let stat = match fstat(fd) {
        Ok(stat) => stat,
        Err(nix::errno::Errno::EBADF) => return Err(not_socket("descriptor is closed")),
        Err(e) => return Err(not_socket(&e.to_string())),
    };
    let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
    if kind != SFlag::S_IFSOCK {
        let what = match kind {
            SFlag::S_IFREG => "a regular file",
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFIFO => "a pipe",
            SFlag::S_IFCHR => "a character device",
            _ => "not a socket",
        };
        return Err(not_socket(what));
    }
    let family = getsockname::<SockaddrStorage>(fd).ok().and_then(|a| a.family());
    if family != Some(AddressFamily::Unix) {
        return Err(not_socket("not a unix-domain socket"));
    }
    if socket_option(fd, libc::SO_TYPE) != Some(libc::SOCK_STREAM) {
        return Err(not_socket("not a stream socket"));
    }
    if socket_option(fd, libc::SO_ACCEPTCONN) != Some(0) {
        return Err(not_socket("a listening socket, not a connection"));
    }

    let mut claimed = CLAIMED_FDS.lock().unwrap_or_else(|poison| poison.into_inner());
    if claimed.contains(&fd) {
        return Err(usage("descriptor already taken by an earlier call"));
    }
    // A descriptor handed over by a parent survived exec, so close-on-exec
    // is clear. One with it set was opened by this process (Rust and most
    // libraries open every descriptor close-on-exec) and has an owner here
    // already: a forged number must not make a second one.
    let flags = fcntl(fd, FcntlArg::F_GETFD)
        .map_err(|e| Error::failed(format!("{label} {fd}: cannot read descriptor flags: {e}")))?;
    if FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC) {
        return Err(usage(
            "not a descriptor handed to this process (close-on-exec is set: it was opened here, not inherited)",
        ));
    }
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::failed(format!("{label} {fd}: cannot set close-on-exec: {e}")))?;
    claimed.push(fd);
    // SAFETY: `fd` is open (fstat succeeded) and is a connected unix stream
    // socket. It was inherited across exec (close-on-exec was clear), and
    // the command line designates it as handed to this process for IPC, so
    // nothing else in the process owns it; CLAIMED_FDS guarantees this
    // function creates at most one owner for it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(UnixStream::from(owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::fs::File;
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::AsFd;
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};

    /// Writes an executable bash script (dash cannot redirect descriptors
    /// above 9, and parallel tests push the socket's number past that).
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/bash\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Spawns, retrying on ETXTBSY: a fork in another test thread may still
    /// hold the script's write descriptor open for a moment.
    fn spawn_retry(options: impl Fn() -> SpawnOptions, exe: &Path) -> (ChildProcess, UnixStream) {
        let mut attempts = 0;
        loop {
            match options().spawn(exe) {
                Err(e) if e.message().contains("Text file busy") && attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other.unwrap(),
            }
        }
    }

    fn read_line(stream: &UnixStream) -> String {
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line
    }

    /// Parses `ls -l /proc/<pid>/fd` output into (fd, link target) pairs.
    fn parse_fd_listing(text: &str) -> Vec<(RawFd, String)> {
        text.lines()
            .filter_map(|line| {
                let (left, target) = line.split_once(" -> ")?;
                let fd = left.split_whitespace().last()?.parse().ok()?;
                Some((fd, target.to_string()))
            })
            .collect()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn child_gets_ipcfd_args_only_the_socket_and_talks() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(
            dir.path(),
            "child.sh",
            r#"for a in "$@"; do printf 'arg:%s\n' "$a"; done
ls -l /proc/$$/fd
read line <&$2 || exit 9
echo "got:$line" >&$2
exit 3
"#,
        );
        // An inheritable descriptor in the parent must not reach the child.
        let leak = File::open("/dev/null").unwrap();
        fcntl(leak.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
        let out_path = dir.path().join("out.txt");

        let (child, stream) =
            spawn_retry(|| SpawnOptions::new().stdout(File::create(&out_path).unwrap()), &exe);
        (&stream).write_all(b"hello\n").unwrap();
        assert_eq!(read_line(&stream), "got:hello\n");
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(3));
        drop(leak);

        let out = std::fs::read_to_string(&out_path).unwrap();
        let args: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("arg:")).collect();
        assert_eq!(args.len(), 2, "{out}");
        assert_eq!(args[0], "-ipcfd");
        let n: RawFd = args[1].parse().unwrap();
        assert!(n >= 3);
        // The shell keeps its script open on a descriptor of its own; every
        // other descriptor >= 3 must be the socket.
        let script_path = exe.to_str().unwrap();
        let extra: Vec<(RawFd, String)> = parse_fd_listing(&out)
            .into_iter()
            .filter(|(fd, target)| *fd >= 3 && target != script_path)
            .collect();
        assert_eq!(extra.len(), 1, "unexpected descriptors in the child: {extra:?}\n{out}");
        assert_eq!(extra[0].0, n);
        assert!(extra[0].1.starts_with("socket:"), "{extra:?}");
    }

    #[test]
    fn positional_style_extra_args_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(
            dir.path(),
            "child.sh",
            r#"fd=$1
shift
printf '%s|' "$#" "$@" "$IPC_TEST_VALUE" >&$fd
echo >&$fd
"#,
        );
        let (child, stream) = spawn_retry(
            || {
                SpawnOptions::new()
                    .fd_arg(FdArg::Positional)
                    .arg("a b")
                    .args(["c"])
                    .env("IPC_TEST_VALUE", "xyz")
            },
            &exe,
        );
        assert_eq!(read_line(&stream), "2|a b|c|xyz|\n");
        assert!(child.wait().unwrap().success());
    }

    #[test]
    fn spawn_process_passes_ipcfd_then_args() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "printf '%s|' \"$@\" >&$2\necho >&$2\n");
        let args = [OsString::from("-x"), OsString::from("y")];
        let mut attempts = 0;
        let (child, stream) = loop {
            match spawn_process(&exe, &args) {
                Err(e) if e.message().contains("Text file busy") && attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.unwrap(),
            }
        };
        let line = read_line(&stream);
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(fields[0], "-ipcfd");
        assert!(fields[1].parse::<RawFd>().unwrap() >= 3);
        assert_eq!(&fields[2..], ["-x", "y", ""]);
        assert!(child.wait().unwrap().success());
    }

    #[test]
    fn child_sees_eof_when_parent_drops_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "read line <&$2 && exit 4\nexit 5\n");
        let (child, stream) = spawn_retry(SpawnOptions::new, &exe);
        drop(stream);
        assert_eq!(child.wait().unwrap().code(), Some(5));
    }

    #[test]
    fn parent_sees_eof_when_child_exits() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "exit 0\n");
        let (child, stream) = spawn_retry(SpawnOptions::new, &exe);
        assert_eq!(read_line(&stream), "");
        assert!(child.wait().unwrap().success());
    }

    #[test]
    fn try_wait_kill_and_signal_status() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "read line <&$2\n");
        let (mut child, _stream) = spawn_retry(SpawnOptions::new, &exe);
        assert_eq!(child.try_wait().unwrap(), None);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(status.into_raw(), libc::SIGKILL);
    }

    #[test]
    fn try_wait_reports_exit_then_wait_returns_it() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "exit 7\n");
        let (mut child, stream) = spawn_retry(SpawnOptions::new, &exe);
        assert_eq!(read_line(&stream), "");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "child did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(7));
        child.kill().unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(7));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn dropped_handle_is_reaped_in_background_without_killing() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "read line <&$2\necho \"still here:$line\" >&$2\n");
        let (child, stream) = spawn_retry(SpawnOptions::new, &exe);
        let pid = child.pid();
        drop(child);
        // Not killed: it still answers.
        (&stream).write_all(b"x\n").unwrap();
        assert_eq!(read_line(&stream), "still here:x\n");
        // Reaped: no zombie left in /proc.
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while proc_dir.exists() {
            assert!(Instant::now() < deadline, "pid {pid} was not reaped");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn missing_executable_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("does-not-exist");
        let err = spawn_process(&exe, &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Failed);
        assert!(err.message().contains("does-not-exist"), "{err}");
        assert!(err.message().contains("No such file"), "{err}");
    }

    #[test]
    fn launch_and_exit_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "child.sh", "exit 2\n");
        let logs = test_log::Capture::default();
        let pid = logs.run(|| {
            let (child, _stream) = spawn_retry(SpawnOptions::new, &exe);
            let pid = child.pid();
            child.wait().unwrap();
            pid
        });
        let text = logs.text();
        let exe = exe.display();
        assert!(text.contains(&format!("Process {exe} pid {pid} launched")), "{text}");
        assert!(text.contains(&format!("Process {exe} pid {pid} exited with status 512")), "{text}");
    }

    /// Moves a fresh socket end to a descriptor number no other test uses,
    /// so the once-per-number claim registry cannot make tests interfere,
    /// without close-on-exec, as a parent hands it over.
    fn socket_at(min_fd: RawFd) -> (RawFd, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        let fd = fcntl(a.as_raw_fd(), FcntlArg::F_DUPFD(min_fd)).unwrap();
        drop(a);
        (fd, b)
    }

    fn talk(mine: &UnixStream, peer: &UnixStream) {
        (&*mine).write_all(b"ping\n").unwrap();
        assert_eq!(read_line(peer), "ping\n");
    }

    #[test]
    fn ipc_fd_from_args_recognizes_all_forms() {
        let (fd1, peer1) = socket_at(901);
        let (fd2, peer2) = socket_at(921);
        let (fd3, peer3) = socket_at(941);
        // The descriptor was handed over without FD_CLOEXEC; it gets it back.

        let (s1, rest) =
            ipc_fd_from_args(["-ipcfd".to_string(), fd1.to_string(), "-x".into()]).unwrap().unwrap();
        assert_eq!(rest, ["-x"]);
        assert_eq!(s1.as_raw_fd(), fd1);
        let flags = fcntl(fd1, FcntlArg::F_GETFD).unwrap();
        assert!(FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC));
        talk(&s1, &peer1);
        talk(&peer1, &s1);

        let (s2, rest) = ipc_fd_from_args(["a".to_string(), format!("--ipcfd={fd2}")]).unwrap().unwrap();
        assert_eq!(rest, ["a"]);
        talk(&s2, &peer2);

        let (s3, rest) = ipc_fd_from_args([fd3.to_string(), "b".into()]).unwrap().unwrap();
        assert_eq!(rest, ["b"]);
        talk(&peer3, &s3);

        // Taking the same descriptor twice would make two owners.
        let err = ipc_fd_from_args(["-ipcfd".to_string(), fd1.to_string()]).unwrap_err();
        assert!(err.message().contains("already taken"), "{err}");
        drop((s1, s2, s3));
    }

    /// A forged `-ipcfd N` naming a socket this process opened itself (a
    /// connection or a listener it owns) must not make a second owner of it.
    #[test]
    fn ipc_fd_from_args_refuses_sockets_this_process_owns() {
        // Opened close-on-exec, as Rust (and most libraries) open every descriptor.
        let (mine, _peer) = UnixStream::pair().unwrap();
        let fd = mine.as_raw_fd();
        match ipc_fd_from_args(["-ipcfd".to_string(), fd.to_string()]) {
            Ok(Some((second, _))) => {
                // Two owners now: let only `mine` close it.
                std::mem::forget(second);
                panic!("took over descriptor {fd}, which this process already owns");
            }
            Ok(None) => panic!("no descriptor found"),
            Err(err) => {
                assert_eq!(
                    err.message(),
                    format!(
                        "-ipcfd {fd}: not a descriptor handed to this process \
                         (close-on-exec is set: it was opened here, not inherited)"
                    )
                );
            }
        }
        (&mine).write_all(b"still mine\n").unwrap();
        assert_eq!(read_line(&_peer), "still mine\n");

        // A listening socket is no connection, even one without close-on-exec.
        let dir = tempfile::tempdir().unwrap();
        let listener = std::os::unix::net::UnixListener::bind(dir.path().join("s")).unwrap();
        let fd = fcntl(listener.as_raw_fd(), FcntlArg::F_DUPFD(961)).unwrap();
        // SAFETY: `fd` was just created by F_DUPFD and is owned by nobody else.
        let listening = unsafe { OwnedFd::from_raw_fd(fd) };
        match ipc_fd_from_args([fd.to_string()]) {
            Ok(Some((second, _))) => {
                std::mem::forget(second);
                panic!("took a listening socket as a connection");
            }
            Ok(None) => panic!("no descriptor found"),
            Err(err) => assert_eq!(
                err.message(),
                format!("IPC fd argument {fd}: not an open socket (a listening socket, not a connection)")
            ),
        }
        drop((mine, listening, listener));
    }

    #[test]
    fn ipc_fd_from_args_without_fd_is_none() {
        assert!(ipc_fd_from_args(Vec::<OsString>::new()).unwrap().is_none());
        assert!(ipc_fd_from_args(["-printtoconsole", "12"]).unwrap().is_none());
        assert!(ipc_fd_from_args(["12x"]).unwrap().is_none());
    }

    #[test]
    fn ipc_fd_from_args_errors_are_clear() {
        let err = ipc_fd_from_args(["-ipcfd", "seven"]).unwrap_err();
        assert_eq!(err.message(), "-ipcfd seven: not a file descriptor number");
        assert_eq!(err.kind(), ErrorKind::Usage);

        let err = ipc_fd_from_args(["-ipcfd"]).unwrap_err();
        assert_eq!(err.message(), "-ipcfd: missing file descriptor number");

        let err = ipc_fd_from_args(["-ipcfd=1"]).unwrap_err();
        assert!(err.message().starts_with("-ipcfd 1: "), "{err}");

        let err = ipc_fd_from_args(["-ipcfd=3", "-ipcfd=4"]).unwrap_err();
        assert_eq!(err.message(), "-ipcfd given more than once");

        // Far above any descriptor this process has open.
        let err = ipc_fd_from_args(["-ipcfd", "1000000"]).unwrap_err();
        assert_eq!(err.message(), "-ipcfd 1000000: not an open socket (descriptor is closed)");

        let err = ipc_fd_from_args(["99999999999"]).unwrap_err();
        assert_eq!(err.message(), "IPC fd argument 99999999999: not a file descriptor number");

        let file = File::open("/dev/null").unwrap();
        let fd = file.as_fd().as_raw_fd();
        let err = ipc_fd_from_args(["-ipcfd".to_string(), fd.to_string()]).unwrap_err();
        assert_eq!(err.message(), format!("-ipcfd {fd}: not an open socket (a character device)"));

        let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let fd = a.as_raw_fd();
        let err = ipc_fd_from_args([fd.to_string()]).unwrap_err();
        assert_eq!(err.message(), format!("IPC fd argument {fd}: not an open socket (not a stream socket)"));
        // Failed validation takes no ownership: `file` and `a` still own
        // their descriptors and close them once.
        drop((file, a));
    }
}

/// Captures `tracing` output of the current thread for tests.
#[cfg(test)]
pub(crate) mod test_log {
    use std::io;
    use std::sync::{Arc, Mutex, OnceLock};

    /// Collects formatted log lines.
    #[derive(Clone, Default)]
    pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Capture {
        /// Runs `f` with every event (all levels) it logs on this thread
        /// written here.
        pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
            let sink = self.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .finish();
            // With a single registered dispatcher, tracing computes a call
            // site's interest from the default of whichever thread reaches
            // it first: a test thread without a subscriber would cache
            // "never" for our call sites. A second, permanent dispatcher
            // makes it combine all registered dispatchers instead.
            static KEEPALIVE: OnceLock<tracing::Dispatch> = OnceLock::new();
            KEEPALIVE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
            tracing::subscriber::with_default(subscriber, f)
        }

        /// Everything logged so far.
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }
}
