//! The `mpx` wrapper.

mod common;

use common::*;

#[test]
fn rpc_runs_mpx_cli() {
    let node = Node::start();
    let args = [
        node.datadir_arg(),
        node.port_arg(),
        "-chain=regtest".into(),
        "-rpcwait".into(),
        "getblockchaininfo".into(),
    ];
    let direct = run(CLI, &args);
    let mut wrapped_args = vec!["rpc".to_string()];
    wrapped_args.extend(args.iter().cloned());
    let wrapped = run(MPX, &wrapped_args);
    assert_eq!(code(&direct), Some(0));
    assert_eq!(
        (code(&wrapped), stdout(&wrapped), stderr(&wrapped)),
        (code(&direct), stdout(&direct), stderr(&direct))
    );
    // Errors and exit codes pass through too.
    let wrapped = run(MPX, &["rpc".to_string(), node.datadir_arg(), node.port_arg(), "nosuchmethod".into()]);
    assert_eq!(
        (code(&wrapped), stderr(&wrapped).as_str()),
        (Some(1), "error code: -32601\nerror message:\nMethod not found\n")
    );
}

#[test]
fn unknown_command() {
    let out = run(MPX, &["frobnicate", "x"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(stderr(&out), "Error: unknown command 'frobnicate'; run 'mpx help' for the list\n");
}

#[test]
fn help_lists_commands() {
    for flag in ["help", "-h", "--help"] {
        let out = run(MPX, &[flag]);
        assert_eq!(code(&out), Some(0));
        for command in ["node", "rpc", "wallet", "gui"] {
            assert!(stdout(&out).contains(&format!("  {command} ")), "{command}");
        }
    }
    let out = run(MPX, &[] as &[&str]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).starts_with("Usage: mpx"));
}

#[test]
fn missing_executable() {
    let (dir, mpx) = lone_mpx();
    let empty = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(&mpx).arg("node").env("PATH", empty.path()).output().expect("run");
    assert_eq!(code(&out), Some(1));
    let expect = format!(
        "Error: cannot run mpx-node: not found next to {} or in PATH\n",
        dir.path().join("mpx").display()
    );
    assert_eq!(stderr(&out), expect);
}

fn fake_executable(path: &std::path::Path, tag: &str) {
    let script =
        format!("#!/bin/sh\nprintf '{tag}'\nfor a in \"$@\"; do printf ' [%s]' \"$a\"; done\necho\n");
    // Written by a child process: a file open for writing in this
    // (multi-threaded) test process could leak into a concurrent fork and
    // make exec fail with ETXTBSY.
    let status = std::process::Command::new("sh")
        .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", &script])
        .arg(path)
        .status()
        .expect("run sh");
    assert!(status.success());
}

#[test]
fn finds_the_executable_beside_then_in_path() {
    let (dir, mpx) = lone_mpx();
    let bin = tempfile::tempdir().expect("temp dir");
    fake_executable(&bin.path().join("mpx-node"), "path");
    let out = std::process::Command::new(&mpx)
        .args(["node", "-regtest", "a b", ""])
        .env("PATH", bin.path())
        .output()
        .expect("run");
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "path [-regtest] [a b] []\n"));
    fake_executable(&dir.path().join("mpx-node"), "beside");
    let out = std::process::Command::new(&mpx)
        .args(["node", "-daemon"])
        .env("PATH", bin.path())
        .output()
        .expect("run");
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "beside [-daemon]\n"));
}

#[test]
fn multiprocess_flag_picks_the_multiprocess_node() {
    let (dir, mpx) = lone_mpx();
    fake_executable(&dir.path().join("mpx-node"), "monolithic");
    fake_executable(&dir.path().join("mpx-multiprocess-node"), "multiprocess");
    fake_executable(&dir.path().join("mpx-cli"), "cli");
    let empty = tempfile::tempdir().expect("temp dir");
    let run_with = |args: &[&str]| {
        let out =
            std::process::Command::new(&mpx).args(args).env("PATH", empty.path()).output().expect("run");
        (code(&out), stdout(&out))
    };
    assert_eq!(run_with(&["node", "-x"]), (Some(0), "monolithic [-x]\n".to_string()));
    assert_eq!(run_with(&["-m", "node", "-x"]), (Some(0), "multiprocess [-x]\n".to_string()));
    assert_eq!(run_with(&["--multiprocess", "node"]), (Some(0), "multiprocess\n".to_string()));
    // Commands without a multiprocess executable run their own; `-m` after the command is
    // the command's argument.
    assert_eq!(run_with(&["-m", "rpc", "-m"]), (Some(0), "cli [-m]\n".to_string()));
    assert_eq!(run_with(&["node", "-m"]), (Some(0), "monolithic [-m]\n".to_string()));
}
