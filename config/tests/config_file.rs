//! The TOML config file: its keys, the `[regtest]` section, precedence over
//! defaults and under the command line, `-conf`, and its errors. Every case
//! writes a real file to `$HOME/.mpx/node.toml` (see `common::check`).

mod common;

use common::{check, run};
use config::Program::{Cli, Node};

#[test]
fn keys() {
    check(
        Node,
        &[],
        "rpcport = 18500",
        "rpc_bind: [::1]:18500 127.0.0.1:18500\nrpc_connect: 127.0.0.1:18500",
    );
    check(
        Node,
        &[],
        "rpcport = '18500'",
        "rpc_bind: [::1]:18500 127.0.0.1:18500\nrpc_connect: 127.0.0.1:18500",
    );
    check(Node, &[], "printtoconsole = true\ndaemon = false", "print_to_console: true");
    check(Node, &[], "debug = ['ipc', 'rpc']", "debug: {\"ipc\", \"rpc\"}\nshrink_debug_file: false");
    check(Node, &[], "wallet = ['a']\nipcbind = ['unix']", "wallets: [\"a\"]\nipc_bind: [\"unix\"]");
    check(Node, &[], "pid = 'n.pid'", "pid_file: Some(\"n.pid\")");
    check(Node, &[], "[regtest]\nreindex = true", "reindex: true");
    check(Node, &["-noreindex"], "reindex = true", "");
    check(
        Node,
        &[],
        "rpcuser = 'u'\nrpcpassword = 'p'",
        "rpc_auth: UserPassword { user: \"u\", password: \"***\" }",
    );
    check(Node, &[], "regtest = true", "");
    check(Node, &[], "chain = 'regtest'", "");
    check(Node, &[], "chain = 'main'", "Error: only -regtest is supported; got -chain=main");
}

#[test]
fn precedence() {
    // default < top level < [regtest] < command line, for a single value ...
    let file = "rpcport = 1\n[regtest]\nrpcport = 2";
    check(Node, &[], "rpcport = 1", "rpc_bind: [::1]:1 127.0.0.1:1\nrpc_connect: 127.0.0.1:1");
    check(Node, &[], file, "rpc_bind: [::1]:2 127.0.0.1:2\nrpc_connect: 127.0.0.1:2");
    check(Node, &["-rpcport=3"], file, "rpc_bind: [::1]:3 127.0.0.1:3\nrpc_connect: 127.0.0.1:3");
    check(Node, &["-printtoconsole=0"], "printtoconsole = true", "");
    check(Node, &["-noprinttoconsole"], "[regtest]\nprinttoconsole = true", "");
    check(Node, &[], "printtoconsole = true\n[regtest]\nprinttoconsole = false", "");
    check(Node, &["-nopid"], "pid = 'x.pid'", "pid_file: None");
    // ... and for lists, which accumulate unless cleared by -noX.
    let file = "wallet = ['a']\n[regtest]\nwallet = ['b']";
    check(Node, &[], file, "wallets: [\"a\", \"b\"]");
    // (the command line's first, as Core's GetArgs orders a list)
    check(Node, &["-wallet=c"], file, "wallets: [\"c\", \"a\", \"b\"]");
    check(Node, &["-nowallet", "-wallet=c"], file, "wallets: [\"c\"]");
    check(Node, &[], "wallet = ['a']\n[regtest]\nwallet = []", "");
    // As bitcoind: -debug=0 is a value, and the command line's values come before the file's, so
    // it disregards only the categories before it; -nodebug drops the file's.
    check(Node, &["-debug=0"], "debug = ['ipc']", "debug: {\"ipc\"}\nshrink_debug_file: false");
    check(Node, &["-nodebug"], "debug = ['ipc']", "");
    check(Node, &["-debug=0"], "[regtest]\ndebug = ['ipc', 'none']", "");
}

#[test]
fn shared_between_programs() {
    // One file serves node and cli: keys of the other program's options
    // are skipped, not errors.
    let file = "rpcport = 18600\ndaemon = true\nwallet = ['a']\nrpcwait = true";
    check(
        Node,
        &[],
        file,
        "rpc_bind: [::1]:18600 127.0.0.1:18600\nrpc_connect: 127.0.0.1:18600\ndaemon: true\nwallets: [\"a\"]",
    );
    check(
        Cli,
        &[],
        file,
        "rpc_bind: [::1]:18600 127.0.0.1:18600\nrpc_connect: 127.0.0.1:18600\nrpc_wait: true",
    );
}

#[test]
fn errors_name_key_and_file() {
    let file = "config file $TMP/.mpx/node.toml";
    check(Node, &[], "foo = 1", &format!("Error: {file}: unknown key 'foo'"));
    check(Cli, &[], "[regtest]\nbar = 1", &format!("Error: {file}: unknown key 'bar'"));
    check(
        Node,
        &[],
        "datadir = '/x'",
        &format!("Error: {file}: option 'datadir' cannot be set in a config file"),
    );
    check(Node, &[], "help = true", &format!("Error: {file}: option 'help' cannot be set in a config file"));
    check(
        Node,
        &[],
        "rpcport = 'abc'",
        &format!("Error: {file}: invalid value 'abc' for -rpcport: not a port number"),
    );
    // Checked even where the reading program skips the key.
    check(Cli, &[], "daemon = 'yes'", "");
    check(
        Node,
        &[],
        "daemon = 'yes'",
        &format!("Error: {file}: invalid value 'yes' for -daemon: not a boolean (use 1 or 0)"),
    );
    // Core's message, which names no file (as bitcoind's does not).
    check(Node, &[], "debug = ['ipc', 'nosuch']", "Error: Unsupported logging category -debug=nosuch.");
    check(
        Node,
        &[],
        "rpcport = [1]",
        &format!("Error: {file}: invalid value for key 'rpcport': takes one value, not a list (1 items)"),
    );
    check(
        Node,
        &[],
        "rpcport = 1\nrpcport = 2",
        "Error: config file $TMP/.mpx/node.toml is not valid TOML: line 2: duplicate key",
    );
    check(
        Node,
        &[],
        "\n\nrpcport = = 1",
        "Error: config file $TMP/.mpx/node.toml is not valid TOML: line 3: extra `=`, expected nothing",
    );
}

#[test]
fn conf_option() {
    // Relative to the datadir, or absolute; an explicit file must exist.
    let home = tempfile::tempdir().unwrap();
    let datadir = home.path().join(".mpx");
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::write(datadir.join("other.toml"), "rpcport = 7").unwrap();
    std::fs::write(home.path().join("abs.toml"), "rpcport = 8").unwrap();
    std::fs::write(datadir.join("node.toml"), "rpcport = 9").unwrap();

    let config = run(Node, &[], home.path()).unwrap();
    assert_eq!(config.rpc_connect.port(), 9);
    assert_eq!(config.config_file, Some(datadir.join("node.toml")));

    let config = run(Node, &["-conf=other.toml"], home.path()).unwrap();
    assert_eq!(config.rpc_connect.port(), 7);
    assert_eq!(config.config_file, Some(datadir.join("other.toml")));

    let abs = format!("-conf={}", home.path().join("abs.toml").display());
    assert_eq!(run(Node, &[&abs], home.path()).unwrap().rpc_connect.port(), 8);

    let config = run(Node, &["-noconf"], home.path()).unwrap();
    assert_eq!((config.rpc_connect.port(), config.config_file), (18443, None));

    // -datadir moves where the default and relative files are looked for.
    let other = format!("-datadir={}", home.path().display());
    let config = run(Node, &[&other, "-conf=abs.toml"], home.path()).unwrap();
    assert_eq!(config.rpc_connect.port(), 8);

    let e = run(Node, &["-conf=missing.toml"], home.path()).unwrap_err();
    let missing = datadir.join("missing.toml");
    assert_eq!(
        e.to_string(),
        format!("cannot read config file {}: No such file or directory (os error 2)", missing.display())
    );
    check(Node, &["-conf="], "", "Error: invalid value '' for -conf: empty path");
}

#[test]
fn missing_default_file_is_fine() {
    check(Node, &["-datadir=$TMP/nonexistent"], "", "datadir: $TMP/nonexistent\nchain_datadir: $TMP/nonexistent/regtest\nrpc_auth: Cookie { path: \"$TMP/nonexistent/regtest/.cookie\" }");
}
