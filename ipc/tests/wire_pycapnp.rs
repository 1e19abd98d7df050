//! Wire compatibility of the Bitcoin Core schemas: pycapnp, loading our
//! schema files, calls an `Init` served by this process over a unix socket
//! the way Bitcoin Core's Python IPC tests do (including the exact error
//! text of the deprecated `makeMiningOld2`). Needs pycapnp
//! (`python3 -m pip install pycapnp==2.2.4`, as framework/itest does).

mod common;

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestInit;

#[test]
fn pycapnp_calls_init_like_bitcoin_cores_clients() {
    let has_pycapnp = Command::new("python3")
        .args(["-c", "import capnp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(has_pycapnp, "pycapnp is missing: python3 -m pip install pycapnp==2.2.4");

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("node.sock");
    let imports = dir.path().join("imports");
    std::fs::create_dir_all(imports.join("mp")).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(manifest.join("../framework/schema/proxy.capnp"), imports.join("mp/proxy.capnp")).unwrap();

    let listener = UnixListener::bind(&sock).unwrap();
    let event_loop = framework::EventLoop::new().unwrap();
    let mut client = Command::new("python3")
        .arg(manifest.join("tests/pycapnp_client.py"))
        .arg(&sock)
        .arg(manifest.join("schema"))
        .arg(&imports)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Accept the client's connection, failing (not hanging) if it never comes.
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = client.try_wait().unwrap() {
                    let output = client.wait_with_output().unwrap();
                    panic!("pycapnp client exited ({status}) before connecting: {output:?}");
                }
                assert!(Instant::now() < deadline, "pycapnp client did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    let _connection = ipc::serve_init(&event_loop.handle(), stream, Box::new(TestInit)).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.wait_with_output());
    });
    let output = rx.recv_timeout(Duration::from_secs(60)).expect("pycapnp client finished in time").unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pycapnp client failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    println!("{stdout}");
}
