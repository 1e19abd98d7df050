//! The crate's invariant, stated as an absence: the node knows nothing of IPC.

#[test]
fn node_does_not_depend_on_ipc_or_the_framework() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    for line in manifest.lines().map(str::trim) {
        let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
        for forbidden in ["capnp", "capnp-rpc", "capnpc", "mpx-framework", "framework", "mpx-ipc", "ipc"] {
            assert_ne!(name, forbidden, "node must not depend on {forbidden}: {line}");
        }
    }
}
