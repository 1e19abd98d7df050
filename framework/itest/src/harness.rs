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

/// Keeps freed buffers of up to a few MiB in the process instead of
/// returning them to the OS after every message: with glibc's defaults each
/// 1 MiB message costs fresh page faults and, with several threads, TLB
/// shootdowns, which dominate large-message throughput. An application
/// choice, not the framework's (it does not pick the process allocator).
///
/// Both settings are bounded so that peers cannot make the process keep
/// what they made it allocate: blocks of 4 MiB and more are mapped on their
/// own and unmapped when freed (a 32 MiB message's buffer goes back to the
/// OS when the message is dropped), and free memory at the top of a heap
/// beyond 16 MiB is returned. With 64 MiB and 256 MiB (the settings before),
/// four peers sending 32 MiB messages left the server 40 MB larger after
/// they had gone.
pub fn tune_allocator() {
    // SAFETY: mallopt only adjusts glibc malloc parameters; it is called
    // before any other thread allocates (at the start of main).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Allocations at least this large get their own mapping.
const MMAP_THRESHOLD: i32 = 4 << 20;
/// Free memory at the top of a heap beyond this is returned to the OS.
const TRIM_THRESHOLD: i32 = 16 << 20;
