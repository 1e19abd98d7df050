//! The rpc client and the wrapper against a real node: output formats, errors, `-rpcwait`,
//! `-named`, and `mpx rpc` / `mpx node` running the right executables.

use std::process::Command;

use functional_tests::{binary, die_with_parent, Binary, TestFramework};
use serde_json::{json, Value};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cli_prints_results_and_errors_like_bitcoin_cli() {
    let mut test = TestFramework::new("cli", 1);
    test.start_all();
    let node = &test.nodes[0];

    let count = node.cli(&["getblockcount"]);
    assert!(count.status.success());
    assert_eq!(text(&count.stdout), "0\n");

    // Strings bare, objects as pretty JSON.
    let genesis = node.cli(&["getblockhash", "0"]);
    assert_eq!(text(&genesis.stdout), "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206\n");
    let info = node.cli(&["getblockchaininfo"]);
    let shown = text(&info.stdout);
    assert!(shown.starts_with("{\n  \"chain\": \"regtest\","), "{shown}");
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), node.call("getblockchaininfo", json!([])));

    // Amounts exactly as bitcoin-cli shows bitcoind's: eight decimals.
    let mined = node.call("generatetoaddress", json!([1, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]));
    let block = node.cli(&["getblock", mined[0].as_str().unwrap(), "2"]);
    assert!(text(&block.stdout).contains("\"value\": 50.00000000,"), "{}", text(&block.stdout));

    let named = node.cli(&["-named", "getblockhash", "height=0"]);
    assert_eq!(named.stdout, genesis.stdout);

    let unknown = node.cli(&["nosuchmethod"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(text(&unknown.stderr), "error code: -32601\nerror message:\nMethod not found\n");
    assert!(unknown.stdout.is_empty());
}

#[test]
fn rpcwait_waits_for_a_node_that_is_still_starting() {
    let mut test = TestFramework::new("rpcwait", 1);
    let args = test.nodes[0].base_args();
    // The client starts first; it must wait for the cookie and the port rather than fail.
    let waiting = std::thread::spawn(move || {
        let mut command = Command::new(binary(Binary::Wrapper));
        command.arg("rpc").args(&args).args(["-rpcwait", "-rpcwaittimeout=60", "getblockcount"]);
        die_with_parent(&mut command);
        command.output().unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    test.nodes[0].start(&[]);
    let output = waiting.join().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "0\n");

    // Without -rpcwait, a stopped node is an immediate, clear error.
    test.nodes[0].stop();
    let refused = test.nodes[0].cli(&["getblockcount"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).starts_with("error: "), "{}", text(&refused.stderr));
}

#[test]
fn wrapper_runs_the_node_and_the_client() {
    let version = Command::new(binary(Binary::Wrapper)).args(["node", "-version"]).output().unwrap();
    assert!(version.status.success());
    let first = text(&version.stdout).lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("mpx-node daemon version v"), "{first}");
    assert!(first.ends_with(" mpx-node"), "the executable's name ends the first line: {first}");

    let mut test = TestFramework::new("wrapper", 1);
    test.start_all();
    let node = &test.nodes[0];
    let output = Command::new(binary(Binary::Wrapper))
        .arg("rpc")
        .args(node.base_args())
        .args(["-chain=regtest", "getbestblockhash"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(json!(text(&output.stdout).trim()), node.call("getbestblockhash", json!([])));
}

#[test]
fn getinfo_generate_and_stdinrpcpass_as_bitcoin_cli() {
    let mut test = TestFramework::new("cli_commands", 1);
    // A user of -rpcauth (salted HMAC-SHA256 of the password), so the cookie stays for the
    // framework's own calls.
    let salt = "0123456789abcdef";
    let mut engine = bitcoin::hashes::hmac::HmacEngine::<bitcoin::hashes::sha256::Hash>::new(salt.as_bytes());
    bitcoin::hashes::HashEngine::input(&mut engine, b"s3cret");
    let digest =
        <bitcoin::hashes::hmac::Hmac<bitcoin::hashes::sha256::Hash> as bitcoin::hashes::Hash>::from_engine(
            engine,
        );
    test.nodes[0].start(&[&format!("-rpcauth=alice:{salt}${digest}")]);
    let node = &test.nodes[0];
    let auth = ["-rpcuser=alice", "-rpcpassword=s3cret"];
    let cli = |extra: &[&str]| {
        let mut args: Vec<&str> = auth.to_vec();
        args.extend_from_slice(extra);
        node.cli(&args)
    };
    assert!(cli(&["createwallet", "w"]).status.success());

    // -generate: a new address of the wallet, then generatetoaddress; bitcoin-cli's errors.
    let generated = cli(&["-generate", "3"]);
    let shown: Value = serde_json::from_slice(&generated.stdout).expect("JSON");
    assert_eq!(shown["blocks"].as_array().map(Vec::len), Some(3), "{shown}");
    assert!(shown["address"].as_str().is_some_and(|a| a.starts_with("bcrt1")));
    let zero = cli(&["-generate", "0"]);
    assert_eq!(zero.status.code(), Some(1));
    assert!(text(&zero.stderr).starts_with("error: the first argument (number of blocks to generate"));
    assert_eq!(
        text(&cli(&["-generate", "1", "2", "3"]).stderr),
        "error: too many arguments (maximum 2 for nblocks and maxtries)\n"
    );
    assert_eq!(text(&cli(&["-generate", "foo"]).stderr), "error: Error parsing JSON: foo\n");
    cli(&["-generate", "98"]);

    // -getinfo: the report bitcoin-cli prints, its numbers the node's.
    let report = text(&cli(&["-getinfo"]).stdout);
    for line in [
        "Chain: regtest\n",
        "Blocks: 101\n",
        "Verification progress: 100.0000%\n",
        "Network: in 0, out 0, total 0\n",
        "Proxies: n/a\n",
        "Min tx relay fee rate (BTC/kvB): 0.00000100\n",
        "Wallet: w\n",
        "Balance: 50.00000000\n",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
    assert!(report.ends_with("Warnings: (none)\n"), "{report}");
    assert_eq!(text(&cli(&["-getinfo", "x"]).stderr), "error: -getinfo takes no arguments\n");

    // -stdinrpcpass: the password is standard input's first line (then -stdin's arguments).
    let run = |stdin: &str, extra: &[&str]| {
        let mut command = Command::new(binary(Binary::Cli));
        command.args(node.base_args()).arg("-rpcuser=alice").args(extra);
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("mpx-cli runs");
        use std::io::Write as _;
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
        child.wait_with_output().expect("mpx-cli ends")
    };
    assert_eq!(text(&run("s3cret\n", &["-stdinrpcpass", "getblockcount"]).stdout), "101\n");
    let wrong = run("nope\n", &["-stdinrpcpass", "getblockcount"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).contains("Incorrect rpcuser or rpcpassword"), "{}", text(&wrong.stderr));
    assert_eq!(
        text(&run("s3cret\nfoo\nbar", &["-stdin", "-stdinrpcpass", "echo"]).stdout),
        "[\n  \"foo\",\n  \"bar\"\n]\n"
    );
}
