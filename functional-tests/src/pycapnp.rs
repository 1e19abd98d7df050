//! What a test needs to drive the node's socket from pycapnp (Cap'n Proto's C++ library under
//! Python), as Bitcoin Core's Python IPC clients do: pycapnp itself, and our schemas with the
//! `/mp/proxy.capnp` import they name.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Fails the test at once, saying how to install it, if pycapnp is missing (`scripts/test`
/// installs it).
pub fn require_pycapnp() {
    let present = Command::new("python3")
        .args(["-c", "import capnp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(present, "pycapnp is missing: python3 -m pip install pycapnp==2.2.4");
}

/// The directory of the application's schemas (`ipc/schema`).
pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ipc/schema")
}

/// Makes `<dir>/imports/mp/proxy.capnp` (the framework's proxy schema where our schemas import
/// it from) and returns `<dir>/imports`, the import path to give pycapnp.
pub fn schema_imports(dir: &Path) -> PathBuf {
    let imports = dir.join("imports");
    std::fs::create_dir_all(imports.join("mp")).expect("imports dir");
    let proxy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../framework/schema/proxy.capnp");
    std::fs::copy(proxy, imports.join("mp/proxy.capnp")).expect("copy proxy.capnp");
    imports
}
