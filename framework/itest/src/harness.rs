//! Starting `foo-server` processes for tests and benchmarks.

use std::path::Path;

use framework::{ChildProcess, Connection, EventLoop, SpawnOptions};

use crate::foo_capnp::foo_init;
use crate::FooInit;

/// A spawned `foo-server` and its bootstrap object.
pub struct SpawnedFoo {
    /// The server's Init.
    pub init: Box<dyn FooInit>,
    /// The connection to it.
    pub connection: Connection,
    /// The process.
    pub child: ChildProcess,
}

impl std::fmt::Debug for SpawnedFoo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnedFoo").field("pid", &self.child.pid()).finish_non_exhaustive()
    }
}

/// Spawns `exe` (the `foo-server` binary) with `-ipcfd N` and connects.
pub fn spawn_foo(event_loop: &EventLoop, exe: &Path) -> framework::Result<SpawnedFoo> {
    let (child, stream) = SpawnOptions::new().spawn(exe)?;
    let (init, connection) =
        event_loop.handle().connect_stream::<foo_init::Client, Box<dyn FooInit>>(stream)?;
    Ok(SpawnedFoo { init, connection, child })
}

/// Keeps freed large buffers in the process instead of returning them to
/// the OS after every message: with glibc's defaults each 1 MiB message
/// costs fresh page faults and, with several threads, TLB shootdowns, which
/// dominate large-message throughput. An application choice, not the
/// framework's (it does not pick the process allocator).
pub fn tune_allocator() {
    // SAFETY: mallopt only adjusts glibc malloc parameters; it is called
    // before any other thread allocates (at the start of main).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
