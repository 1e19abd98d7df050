//! `mpx wallet -wallet=<name> create|info`: the offline wallet tool (Bitcoin Core's
//! `bitcoin-wallet`), and a node using what it made.

use std::process::Command;

use functional_tests::{binary, Binary, TestFramework};
use serde_json::json;

fn wallet_tool(datadir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(binary(Binary::Wrapper))
        .arg("wallet")
        .arg(format!("-datadir={}", datadir.display()))
        .args(args)
        .output()
        .expect("mpx runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn a_wallet_made_offline_is_used_by_a_node() {
    let mut test = TestFramework::new("wallet_tool", 1);
    let datadir = test.nodes[0].datadir().to_path_buf();
    let (code, stdout, stderr) = wallet_tool(&datadir, &["-wallet=cold", "create"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("Wallet info\n===========\nName: cold\n"), "{stdout}");
    let (code, _, stderr) = wallet_tool(&datadir, &["-wallet=cold", "create"]);
    assert_eq!(code, Some(1));
    assert!(stderr.ends_with("Database already exists.\n"), "{stderr}");
    let (code, _, stderr) = wallet_tool(&datadir, &["-wallet=nosuch", "info"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("Path does not exist"), "{stderr}");
    let (code, _, stderr) = wallet_tool(&datadir, &["create"]);
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("Error: Wallet name must be provided"), "{stderr}");

    let node = &mut test.nodes[0];
    node.start(&["-wallet=cold"]);
    let address = node.wallet_call("cold", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    assert_eq!(node.wallet_call("cold", "getbalance", json!([])).to_string(), "50.00000000");
    node.stop();
    let (code, stdout, _) = wallet_tool(&datadir, &["-wallet=cold", "info"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("Transactions: 101\n"), "{stdout}");
}
