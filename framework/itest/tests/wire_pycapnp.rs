//! Wire compatibility: pycapnp (C++ Cap'n Proto under Python) drives a
//! framework server over a unix socket. `.ci/run` installs pycapnp; without
//! it this test fails and says how to install it.
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn pycapnp_client_speaks_to_a_framework_server() {
    let has_pycapnp = Command::new("python3")
        .args(["-c", "import capnp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(has_pycapnp, "pycapnp is missing: python3 -m pip install pycapnp==2.2.4 (what .ci/run does)");

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("foo.sock");
    let imports = dir.path().join("imports");
    std::fs::create_dir_all(imports.join("mp")).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(manifest.join("../schema/proxy.capnp"), imports.join("mp/proxy.capnp")).unwrap();

    let mut server = Command::new(common::FOO_SERVER).arg("-listen").arg(&sock).arg("8").spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "foo-server did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = Command::new("python3")
        .arg(manifest.join("tests/pycapnp_client.py"))
        .arg(&sock)
        .arg(manifest.join("schema"))
        .arg(&imports)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pycapnp client failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
