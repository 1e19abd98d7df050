//! Where the executables under test are: `$MPX_BIN_DIR`, or the cargo target directory the test
//! binary itself was built in (`target/<profile>/deps/<test>` → `target/<profile>/`).
//!
//! Which node runs: `mpx-node` (wallets in process), or with `MPX_TEST_MULTIPROCESS=1` set,
//! `mpx-multiprocess-node` (wallets in a spawned `mpx-wallet`), so every scenario runs against
//! both, as Bitcoin Core's functional tests run against `bitcoind` and `bitcoin-node`.

use std::path::PathBuf;

/// An executable of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// The node daemon under test: [`Binary::MonolithicNode`], or
    /// [`Binary::MultiprocessNode`] when `MPX_TEST_MULTIPROCESS=1`.
    Node,
    /// `mpx-node`, whatever `MPX_TEST_MULTIPROCESS` says.
    MonolithicNode,
    /// `mpx-multiprocess-node`, whatever `MPX_TEST_MULTIPROCESS` says.
    MultiprocessNode,
    /// The wallet process.
    Wallet,
    /// The gui with its node in process (or joining one).
    Gui,
    /// The gui that spawns the multiprocess node.
    MultiprocessGui,
    /// The JSON-RPC client.
    Cli,
    /// The wrapper (`mpx node`, `mpx rpc`, ...).
    Wrapper,
}

impl Binary {
    /// The file name.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Node if multiprocess() => "mpx-multiprocess-node",
            Binary::Node | Binary::MonolithicNode => "mpx-node",
            Binary::MultiprocessNode => "mpx-multiprocess-node",
            Binary::Wallet => "mpx-wallet",
            Binary::Gui => "mpx-gui",
            Binary::MultiprocessGui => "mpx-multiprocess-gui",
            Binary::Cli => "mpx-cli",
            Binary::Wrapper => "mpx",
        }
    }
}

/// Whether the tests run the multiprocess node (`MPX_TEST_MULTIPROCESS=1`).
pub fn multiprocess() -> bool {
    std::env::var_os("MPX_TEST_MULTIPROCESS").is_some_and(|v| v == "1")
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
        "{} not found in {}: build the executables first (cargo build -p mpx-daemon -p mpx-cli), \
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
