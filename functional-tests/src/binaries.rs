//! Where the executables under test are: `$MPX_BIN_DIR`, or the cargo target directory the test
//! binary itself was built in (`target/<profile>/deps/<test>` → `target/<profile>/`).

use std::path::PathBuf;

/// An executable of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// The node daemon.
    Node,
    /// The JSON-RPC client.
    Cli,
    /// The wrapper (`mpx node`, `mpx rpc`, ...).
    Wrapper,
}

impl Binary {
    /// The file name.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Node => "mpx-node",
            Binary::Cli => "mpx-cli",
            Binary::Wrapper => "mpx",
        }
    }
}

/// The path of `which`; panics with how to build it if it is not there (a test cannot run
/// without it, and a clear message beats a confusing spawn error).
pub fn binary(which: Binary) -> PathBuf {
    let dir = match std::env::var_os("MPX_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => default_dir(),
    };
    let path = dir.join(which.name());
    assert!(
        path.is_file(),
        "{} not found in {}: build the executables first (cargo build -p mpx-node -p mpx-cli), \
         or set MPX_BIN_DIR",
        which.name(),
        dir.display()
    );
    path
}

fn default_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test binary>
    let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
    if deps.file_name().is_some_and(|name| name == "deps") {
        deps.parent().map(PathBuf::from).unwrap_or(deps)
    } else {
        deps
    }
}
