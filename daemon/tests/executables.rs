//! The executables' command lines: help, version, and the refusals a user sees before any
//! process or socket is set up. (Behaviour across processes is tested in functional-tests.)

use std::process::{Command, Output};

fn run(exe: &str, args: &[&str]) -> Output {
    let path = match exe {
        "mpx-node" => env!("CARGO_BIN_EXE_mpx-node"),
        "mpx-multiprocess-node" => env!("CARGO_BIN_EXE_mpx-multiprocess-node"),
        "mpx-gui" => env!("CARGO_BIN_EXE_mpx-gui"),
        "mpx-multiprocess-gui" => env!("CARGO_BIN_EXE_mpx-multiprocess-gui"),
        _ => env!("CARGO_BIN_EXE_mpx-wallet"),
    };
    Command::new(path).args(args).output().expect("the executable runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn each_executable_names_itself_in_help_and_version() {
    for exe in ["mpx-node", "mpx-multiprocess-node", "mpx-wallet", "mpx-gui", "mpx-multiprocess-gui"] {
        let help = run(exe, &["-help"]);
        assert!(help.status.success(), "{exe}: {}", stderr(&help));
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.starts_with(&format!("Usage: {exe} ")), "{exe}: {text}");
        let version = run(exe, &["-version"]);
        let version = String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or_default().to_string();
        assert!(version.starts_with(&format!("{exe} ")) && version.contains(" version "), "{version}");
        if exe.ends_with("-node") {
            // bitcoind's shape: the executable's name ends the first line.
            assert!(version.ends_with(&format!(" {exe}")), "{version}");
        }
    }
}

#[test]
fn the_wallet_process_needs_a_node() {
    let out = run("mpx-wallet", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("Error: nothing to do: join a node with -ipcconnect"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_wallet_process_refuses_a_descriptor_it_was_not_given() {
    // Descriptor 1 (stdout) is no inherited socket: refused before anything is set up.
    let out = run("mpx-wallet", &["-ipcfd", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-ipcfd"), "{}", stderr(&out));
}

#[test]
fn joining_fails_in_one_line_when_no_node_listens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let datadir = format!("-datadir={}", dir.path().display());
    let out = run("mpx-wallet", &[&datadir, "-ipcconnect=unix"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("cannot connect to unix:") && text.contains("node.sock"), "{text}");
}

#[test]
fn the_node_refuses_a_bad_ipc_address_before_starting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let datadir = format!("-datadir={}", dir.path().display());
    let long = format!("-ipcbind=unix:{}", "x".repeat(200));
    let out = run("mpx-node", &[&datadir, &long]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains("unix socket paths are limited to 107 bytes"), "{text}");
    assert!(!dir.path().join("regtest/blocks").exists(), "refused before the chain loads");
}

#[test]
fn the_gui_without_a_terminal_says_so_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let datadir = format!("-datadir={}", dir.path().display());
    for exe in ["mpx-gui", "mpx-multiprocess-gui"] {
        // `output()` gives the child pipes, not a terminal.
        let out = run(exe, &[&datadir]);
        assert_eq!(out.status.code(), Some(1), "{exe}");
        let text = stderr(&out);
        assert_eq!(text.lines().count(), 1, "{exe}: {text}");
        assert!(text.contains("needs a terminal"), "{exe}: {text}");
    }
    let out = run("mpx-gui", &[&datadir, "-daemon"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Invalid parameter -daemon"), "{}", stderr(&out));
}
