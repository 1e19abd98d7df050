//! Bad input gets bitcoind's error and loses nothing: malformed requests, unknown methods, wrong
//! parameter types, bad credentials, bad command-line flags. The node keeps serving throughout.

use std::process::Command;

use functional_tests::{binary, Binary, RpcFailure, TestFramework};
use serde_json::{json, Value};

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn rpc_error(code: i64, message: &str) -> Result<Value, RpcFailure> {
    Err(RpcFailure::Rpc { code, message: message.to_string() })
}

#[test]
fn bad_rpc_requests_get_bitcoind_errors_and_the_node_keeps_serving() {
    let mut test = TestFramework::new("bad_rpc", 1);
    test.start_all();
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([3, ADDRESS]));

    assert_eq!(node.rpc("nosuchmethod", json!([])), rpc_error(-32601, "Method not found"));
    assert_eq!(
        node.rpc("getblockhash", json!(["one"])),
        rpc_error(-3, "JSON value of type string is not of expected type number")
    );
    assert_eq!(node.rpc("getblockhash", json!([4])), rpc_error(-8, "Block height out of range"));
    assert_eq!(
        node.rpc("generatetoaddress", json!([1, "bcrt1qnotanaddress"])),
        rpc_error(-5, "Error: Invalid address")
    );
    assert_eq!(
        node.rpc("generatetoaddress", json!([1, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"])),
        rpc_error(-5, "Error: Invalid address"),
        "a mainnet address is not a regtest one"
    );
    assert_eq!(node.rpc("sendrawtransaction", json!(["zz"])).unwrap_err().code(), Some(-22));
    assert_eq!(node.rpc("getblockcount", json!([1])).unwrap_err().code(), Some(-1), "too many parameters");

    // Not JSON at all: HTTP 500 with a parse error, as bitcoind.
    let (status, body) = node.post_raw("/", b"{\"method\":").unwrap();
    assert_eq!(status, 500);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], json!({"code": -32700, "message": "Parse error"}));

    // A batch answers each request, errors included.
    let (status, body) = node
        .post_raw("/", br#"[{"method":"getblockcount","id":1},{"method":"nosuch","id":2},{"id":3}]"#)
        .unwrap();
    assert_eq!(status, 200);
    let replies: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(replies[0]["result"], json!(3));
    assert_eq!(replies[1]["error"]["code"], json!(-32601));
    assert_eq!(replies[2]["error"]["code"], json!(-32600));

    // Wrong credentials: 401 and nothing else.
    let addr = format!("127.0.0.1:{}", node.rpc_port()).parse().unwrap();
    let reply = cli::http::post(addr, "/", "Basic eDp5", b"{\"method\":\"stop\"}").unwrap();
    assert_eq!(reply.status, 401);

    // After all that, the node still works and still has its chain.
    assert_eq!(node.call("getblockcount", json!([])), json!(3));
    assert!(node.debug_log().contains("incorrect password attempt"));
}

/// Runs `mpx-node` with `args` and expects a one-line error naming `expected` and exit code 1.
fn expect_flag_error(datadir: &std::path::Path, args: &[&str], expected: &str) {
    let output = Command::new(binary(Binary::Node))
        .arg(format!("-datadir={}", datadir.display()))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line expected, got {stderr:?}");
    assert!(stderr.starts_with("Error: ") && stderr.contains(expected), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
}

#[test]
fn bad_flags_are_one_clear_line_and_exit_code_1() {
    let test = TestFramework::new("bad_flags", 0);
    let datadir = test.path("data");
    expect_flag_error(
        &datadir,
        &["-nosuchoption"],
        "Error parsing command line arguments: Invalid parameter -nosuchoption",
    );
    expect_flag_error(&datadir, &["-rpcport=abc"], "-rpcport");
    expect_flag_error(&datadir, &["-rpcport=70000"], "-rpcport");
    expect_flag_error(&datadir, &["-chain=main"], "only -regtest is supported");
    expect_flag_error(&datadir, &["-testnet"], "testnet");
    expect_flag_error(&datadir, &["-debug=nosuch"], "Unsupported logging category -debug=nosuch.");
    expect_flag_error(&datadir, &["-rpcpassword=secret"], "-rpcpassword requires -rpcuser");
    // A bad value in the config file is reported the same way, naming the file's setting.
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::write(datadir.join("node.toml"), "rpcport = \"high\"\n").unwrap();
    expect_flag_error(&datadir, &[], "rpcport");
    // Nothing was started, so nothing was written but the config file.
    let entries: Vec<_> = std::fs::read_dir(&datadir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("node.toml")]);

    let help = Command::new(binary(Binary::Node)).arg("-help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for option in
        ["-datadir", "-rpcport", "-daemon", "-pid", "-wallet", "-debug", "-printtoconsole", "-ipcbind"]
    {
        assert!(help.contains(option), "-help does not list {option}");
    }
}
