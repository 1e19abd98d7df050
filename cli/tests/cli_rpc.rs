//! `mpx-cli` against a fake bitcoind.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn string_result_is_printed_bare() {
    let node = Node::start();
    let out = node.cli(&["getbestblockhash"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str(), stderr(&out).as_str()),
        (Some(0), &*format!("{BEST_HASH}\n"), "")
    );
}

#[test]
fn objects_are_pretty_printed_in_server_order() {
    let node = Node::start();
    let out = node.cli(&["-regtest", "getblockchaininfo"]);
    let expect = format!(
        "{{\n  \"chain\": \"regtest\",\n  \"blocks\": 0,\n  \"bestblockhash\": \"{BEST_HASH}\",\n  \"warnings\": []\n}}\n"
    );
    assert_eq!((code(&out), stdout(&out)), (Some(0), expect));
    let out = node.cli(&["-chain=regtest", "getblockcount"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "0\n"));
}

#[test]
fn null_prints_nothing() {
    let node = Node::start();
    let out = node.cli(&["nothing"]);
    assert_eq!((code(&out), stdout(&out).as_str(), stderr(&out).as_str()), (Some(0), "", ""));
}

#[test]
fn chunked_reply() {
    let node = Node::start();
    let out = node.cli(&["big"]);
    assert_eq!((code(&out), stdout(&out)), (Some(0), format!("{}\n", "x".repeat(5000))));
}

#[test]
fn rpc_error_is_formatted_with_exit_code_1() {
    let node = Node::start();
    let out = node.cli(&["nosuchmethod"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "error code: -32601\nerror message:\nMethod not found\n");

    let out = node.cli(&["needwallet"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).starts_with("error code: -19\nerror message:\nWallet file not specified"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("-rpcwallet=<walletname>"));
}

#[test]
fn params_are_json_only_where_the_method_takes_json() {
    let node = Node::start();
    // echo takes strings (bitcoin-cli's conversion table lists none of its params).
    let out = node.cli(&["echo", "1", "abc", "true"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "[\n  \"1\",\n  \"abc\",\n  \"true\"\n]\n"));
    // echojson takes JSON.
    let out = node.cli(&["echojson", "1", "true", "null", "{\"a\":[1,2]}", "\"7\"", "1.5"]);
    let expect =
        "[\n  1,\n  true,\n  null,\n  {\n    \"a\": [\n      1,\n      2\n    ]\n  },\n  \"7\",\n  1.5\n]\n";
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), expect));
    // Text where JSON is due is bitcoin-cli's error, before anything is sent.
    let out = node.cli(&["echojson", "abc"]);
    assert_eq!((code(&out), stderr(&out).as_str()), (Some(1), "error: Error parsing JSON: abc\n"));
    // Params may look like options.
    let out = node.cli(&["echo", "-1", "-rpcport=1"]);
    assert_eq!(stdout(&out), "[\n  \"-1\",\n  \"-rpcport=1\"\n]\n");
}

#[test]
fn named_params() {
    let node = Node::start();
    let out = node.cli(&["-named", "echo", "height=3", "label=a=b"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (Some(0), "{\n  \"height\": \"3\",\n  \"label\": \"a=b\"\n}\n")
    );
    // Positional ones travel under "args", as bitcoin-cli sends them; a JSON param with '=' whose
    // name is unknown stays positional.
    let out = node.cli(&["-named", "echojson", "5", "[\"k=v\"]", "arg9=3"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (Some(0), "{\n  \"arg9\": 3,\n  \"args\": [\n    5,\n    [\n      \"k=v\"\n    ]\n  ]\n}\n")
    );
}

#[test]
fn rpcwallet_selects_the_uri_path() {
    let node = Node::start();
    let out = node.cli(&["path"]);
    assert_eq!(stdout(&out), "/\n");
    let out = node.cli(&["-rpcwallet=w1", "path"]);
    assert_eq!(stdout(&out), "/wallet/w1\n");
    let out = node.cli(&["-rpcwallet=my wallet", "path"]);
    assert_eq!(stdout(&out), "/wallet/my%20wallet\n");
}

#[test]
fn user_and_password() {
    let node = Node::start_with("alice:s3cret", 0);
    let out = node.cli(&["-rpcuser=alice", "-rpcpassword=s3cret", "getblockcount"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "0\n"));
    // The cookie is not what this server accepts.
    let out = node.cli(&["getblockcount"]);
    assert_eq!(
        (code(&out), stderr(&out).as_str()),
        (Some(1), "error: Authorization failed: Incorrect rpcuser or rpcpassword\n")
    );
}

#[test]
fn wrong_password_is_401() {
    let node = Node::start();
    let out = node.cli(&["-rpcuser=alice", "-rpcpassword=wrong", "getblockcount"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(stderr(&out), "error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
    assert_eq!(stdout(&out), "");
}

#[test]
fn missing_cookie() {
    let node = Node::start();
    let empty = tempfile::tempdir().expect("temp dir");
    let out =
        run(CLI, &[format!("-datadir={}", empty.path().display()), node.port_arg(), "getblockcount".into()]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).starts_with("error: Could not locate RPC credentials"), "{}", stderr(&out));
}

#[test]
fn connection_refused() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        CLI,
        &[
            format!("-datadir={}", dir.path().display()),
            format!("-rpcport={port}"),
            "-rpcuser=u".into(),
            "-rpcpassword=p".into(),
            "getblockcount".into(),
        ],
    );
    assert_eq!(code(&out), Some(1));
    let expect = format!(
        "error: Could not connect to the server 127.0.0.1:{port}\n\n\
         Make sure the mpx-node server is running and that you are connecting to the correct RPC port.\n\
         Use \"mpx-cli -help\" for more info.\n"
    );
    assert_eq!(stderr(&out), expect);
}

#[test]
fn rpcwait_waits_for_the_server() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("regtest")).expect("mkdir");
    std::fs::write(dir.path().join("regtest/.cookie"), COOKIE).expect("cookie");
    let starter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1200));
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the reserved port");
        serve(listener, COOKIE.to_string(), 0, Arc::new(AtomicUsize::new(0)));
    });
    let start = Instant::now();
    let out = run(
        CLI,
        &[
            format!("-datadir={}", dir.path().display()),
            format!("-rpcport={port}"),
            "-rpcwait".into(),
            "getbestblockhash".into(),
        ],
    );
    starter.join().expect("starter");
    assert_eq!((code(&out), stdout(&out), stderr(&out)), (Some(0), format!("{BEST_HASH}\n"), String::new()));
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[test]
fn rpcwait_waits_for_the_cookie() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    let starter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1200));
        std::fs::create_dir_all(path.join("regtest")).expect("mkdir");
        std::fs::write(path.join("regtest/.cookie"), COOKIE).expect("cookie");
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the reserved port");
        serve(listener, COOKIE.to_string(), 0, Arc::new(AtomicUsize::new(0)));
    });
    let out = run(
        CLI,
        &[
            format!("-datadir={}", dir.path().display()),
            format!("-rpcport={port}"),
            "-rpcwait".into(),
            "getblockcount".into(),
        ],
    );
    starter.join().expect("starter");
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "0\n"));
}

#[test]
fn rpcwait_retries_during_warmup() {
    let node = Node::start_with(COOKIE, 2);
    let out = node.cli(&["-rpcwait", "getblockcount"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "0\n"));
    assert_eq!(node.calls.load(Ordering::SeqCst), 3);
    // Without -rpcwait the warm-up error is the answer.
    let node = Node::start_with(COOKIE, 1);
    let out = node.cli(&["getblockcount"]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).starts_with("error code: -28\n"), "{}", stderr(&out));
}

#[test]
fn rpcwaittimeout_gives_up() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let out = run(
        CLI,
        &[
            format!("-datadir={}", dir.path().display()),
            format!("-rpcport={port}"),
            "-rpcuser=u".into(),
            "-rpcpassword=p".into(),
            "-rpcwait".into(),
            "-rpcwaittimeout=2".into(),
            "getblockcount".into(),
        ],
    );
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: timeout on transient error: Could not connect to the server 127.0.0.1:{port}"
        )),
        "{}",
        stderr(&out)
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn bad_flags_are_one_line() {
    for (args, message) in [
        (
            &["-foo", "getblockcount"][..],
            "Error: Error parsing command line arguments: Invalid parameter -foo\n",
        ),
        (
            &["-rpcport=abc", "getblockcount"][..],
            "Error: invalid value 'abc' for -rpcport: not a port number\n",
        ),
        (&["-chain=main", "getblockcount"][..], "Error: only -regtest is supported; got -chain=main\n"),
        (
            &["-rpcwaittimeout=soon", "getblockcount"][..],
            "Error: invalid value 'soon' for -rpcwaittimeout: not a number of seconds\n",
        ),
    ] {
        let out = run(CLI, args);
        assert_eq!(
            (code(&out), stderr(&out).as_str(), stdout(&out).as_str()),
            (Some(1), message, ""),
            "{args:?}"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(CLI, &[format!("-datadir={}", dir.path().display())]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(stderr(&out).starts_with("Error: too few parameters"));
}

#[test]
fn help_lists_options() {
    let out = run(CLI, &["-help"]);
    assert_eq!(code(&out), Some(0));
    for option in ["-rpcwait", "-rpcwallet", "-rpcport", "-datadir", "-named", "-rpcwaittimeout"] {
        assert!(stdout(&out).contains(option), "{option}");
    }
}

#[test]
fn server_closing_without_reply() {
    // Accepts two connections and closes them unanswered, then serves.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("regtest")).expect("mkdir");
    std::fs::write(dir.path().join("regtest/.cookie"), COOKIE).expect("cookie");
    let args = |wait: bool| {
        let mut args = vec![format!("-datadir={}", dir.path().display()), format!("-rpcport={port}")];
        if wait {
            args.push("-rpcwait".into());
        }
        args.push("getblockcount".into());
        args
    };
    let closer = thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = listener.accept().expect("accept");
            drop(stream);
        }
        listener
    });
    let out = run(CLI, &args(false));
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).starts_with("error: no response from server"), "{}", stderr(&out));
    let out = {
        let waiter = thread::spawn({
            let args = args(true);
            move || run(CLI, &args)
        });
        let listener = closer.join().expect("closer");
        serve(listener, COOKIE.to_string(), 0, Arc::new(AtomicUsize::new(0)));
        waiter.join().expect("waiter")
    };
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), "0\n"));
}

/// Core's test framework passes arguments too long for a command line through `-stdin`.
#[test]
fn stdin_supplies_arguments() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let node = Node::start();
    let mut child = Command::new(CLI)
        .args([node.datadir_arg(), node.port_arg(), "-rpcclienttimeout=30".into(), "-stdin".into()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(b"echo\n-1\r\nabc").expect("write");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (Some(0), "[\n  \"-1\",\n  \"abc\"\n]\n"),
        "{}",
        stderr(&out)
    );
}

/// `-rpcclienttimeout=<n>` bounds the wait for a reply (Core's test framework passes it to every call).
#[test]
fn rpcclienttimeout_bounds_the_wait() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("regtest")).expect("mkdir");
    std::fs::write(dir.path().join("regtest/.cookie"), COOKIE).expect("cookie");
    // Accepts and holds the connection, never answering.
    let holder = thread::spawn(move || listener.accept().expect("accept"));
    let started = Instant::now();
    let args = [
        format!("-datadir={}", dir.path().display()),
        format!("-rpcport={port}"),
        "-rpcclienttimeout=1".to_string(),
        "getblockcount".to_string(),
    ];
    let out = run(CLI, &args);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    drop(holder.join());
    let out = run(CLI, &["-rpcclienttimeout=soon", "getblockcount"]);
    assert_eq!(stderr(&out), "Error: invalid value 'soon' for -rpcclienttimeout: not a number of seconds\n");
}
