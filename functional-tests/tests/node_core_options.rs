//! The Bitcoin Core options added for its functional tests, through the real node: each works,
//! is refused with a clear message, or (P2P) is validated and named by the start-up notice.
//! `-blocksdir`, `-prune`/`-fastprune`, `-reindex-chainstate`, `-mocktime`, the mempool and
//! wallet policy options, Core's `Command-line arg:` lines, the default pid file, `-rpcbind`
//! ports, and HTTP's 400 for a request head over 8 KiB.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use functional_tests::{binary, Binary, TestFramework};
use serde_json::json;

const ADDRESS: &str = "bcrt1qtmp74ayg7p24uslctssvjm06q5phz4yrxucgnv";

/// Starting with `args` fails with exactly `expected` as the last line on stderr.
fn refused(test: &mut TestFramework, args: &[&str], expected: &str) {
    let node = &mut test.nodes[0];
    let error = node.try_start(args).expect_err("the node must not start");
    assert!(error.ends_with(expected), "{args:?}: {error}");
}

#[test]
fn blocksdir_holds_the_blocks_and_its_lock() {
    let mut test = TestFramework::new("options_blocksdir", 2);
    let blocks = test.path("blocksdir");
    let arg = format!("-blocksdir={}", blocks.display());
    refused(
        &mut test,
        &[&arg],
        &format!("Error: Specified blocks directory \"{}\" does not exist.", blocks.display()),
    );
    std::fs::create_dir_all(&blocks).unwrap();
    test.nodes[0].start(&[&arg]);
    test.nodes[0].call("generatetoaddress", json!([3, ADDRESS]));
    assert!(blocks.join("regtest/blocks").is_dir());
    assert!(!test.nodes[0].chain_datadir().join("blocks").exists(), "nothing in the datadir's blocks");
    // The default pid file, as bitcoind's.
    let pid = std::fs::read_to_string(test.nodes[0].chain_datadir().join("bitcoind.pid")).unwrap_or_default();
    assert_eq!(pid.trim(), test.nodes[0].pid().unwrap_or(0).to_string());

    // A second node with the same blocks directory: Core's lock message naming it.
    let second = &mut test.nodes[1];
    let error = second.try_start(&[&arg]).expect_err("the blocks are in use");
    let locked = blocks.join("regtest/blocks");
    assert!(error.contains(&format!("Cannot obtain a lock on directory {}.", locked.display())), "{error}");

    test.nodes[0].stop();
    test.nodes[0].start(&[&arg, "-reindex-chainstate"]);
    assert_eq!(test.nodes[0].call("getblockcount", json!([])), json!(3));
    assert!(test.nodes[0].debug_log().contains("Rebuilding the chain state from the stored blocks"));
}

#[test]
fn refused_and_validated_options() {
    let mut test = TestFramework::new("options_refused", 1);
    let cases: &[(&[&str], &str)] = &[
        (&["-prune=1"], "Error: -prune=1 is not supported: this node cannot prune, it keeps every block in its block file (use -prune=0)"),
        (&["-prune=-1"], "Error: Prune cannot be configured with a negative value."),
        (&["-prune=5"], "Error: Prune configured below the minimum of 550 MiB.  Please use a higher number."),
        (&["-fastprune"], "Error: -fastprune is not supported: this node keeps its blocks in one file and cannot prune"),
        (&["-addresstype=legacy"], "Error: -addresstype=legacy is not supported: this wallet makes BIP84 bech32 addresses only"),
        (&["-changetype=bech23"], "Error: Unknown change type 'bech23'"),
        (&["-walletrejectlongchains"], "Error: -walletrejectlongchains is not supported: this wallet does not check mempool chain limits"),
        (&["-onlynet=abc"], "Error: Unknown network specified in -onlynet: 'abc'"),
        (&["-proxy=abc..abc:23456"], "Error: Invalid -proxy address or hostname: 'abc..abc:23456'"),
        (&["-proxy"], "Error: Error parsing command line arguments: Can not set -proxy with no value. Please specify value with -proxy=value."),
        (&["-rpcbind=127.0.0.1:notaport", "-rpcallowip=127.0.0.1"], "Error: Invalid port specified in -rpcbind: '127.0.0.1:notaport'"),
        (&["-mocktime=-5"], "Error: Mocktime cannot be negative: -5."),
    ];
    for (args, expected) in cases {
        refused(&mut test, args, expected);
    }
}

#[test]
fn accepted_options_take_effect_and_are_logged() {
    let mut test = TestFramework::new("options_accepted", 1);
    let node = &mut test.nodes[0];
    node.start(&[
        "-prune=0",
        "-addnode=some.node",
        "-proxy=127.0.0.1:1",
        "-onlynet=ipv4",
        "-torpassword=secret-torpassword",
        "-rpcuser=secret-rpcuser",
        "-rpcpassword=",
        "-permitbaremultisig=0",
        "-limitclustercount=10",
        "-limitclustersize=50",
        "-limitancestorcount=5",
        "-alertnotify=echo %s",
        "-addresstype=bech32",
        "-mocktime=1700000000",
        "-rpcallowip=[::1]",
    ]);
    let info = node.call("getmempoolinfo", json!([]));
    assert_eq!(
        (
            info["permitbaremultisig"].clone(),
            info["limitclustercount"].clone(),
            info["limitclustersize"].clone()
        ),
        (json!(false), json!(10), json!(50_000))
    );
    // The mocked clock is what block templates use.
    node.call("generatetoaddress", json!([1, ADDRESS]));
    let block = node.call("getblock", json!([node.call("getbestblockhash", json!([]))]));
    assert!(block["time"].as_u64().is_some_and(|t| (1_700_000_000..1_700_000_100).contains(&t)), "{block}");

    let log = node.debug_log();
    for line in [
        "Command-line arg: addnode=\"some.node\"",
        "Command-line arg: torpassword=****",
        "Command-line arg: rpcuser=****",
        "Command-line arg: rpcpassword=****",
        "Command-line arg: prune=\"0\"",
    ] {
        assert!(log.contains(line), "debug.log lacks {line:?}");
    }
    let not_applied = log.lines().find(|l| l.contains("not applied by this node:")).unwrap_or_default();
    assert!(
        not_applied.contains("-alertnotify=echo %s")
            && not_applied.contains("-limitancestorcount=5")
            // P2P options this node's P2P does not apply (-addnode it does), secrets masked.
            && ["-onlynet=ipv4", "-proxy=127.0.0.1:1", "-torpassword=****"].iter().all(|o| not_applied.contains(o))
            && !not_applied.contains("-addnode"),
        "{not_applied}"
    );
    assert!(!log.contains("secret-"), "a secret reached the log");
}

#[test]
fn http_heads_over_8_kib_are_bad_requests() {
    let mut test = TestFramework::new("options_http_head", 1);
    test.start_all();
    let node = &test.nodes[0];
    let request = |path_len: usize, headers: usize| -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", node.rpc_port())).unwrap();
        let mut head = format!("GET /{} HTTP/1.1\r\nHost: localhost\r\n", "x".repeat(path_len));
        for i in 0..headers {
            head.push_str(&format!("header_{i:04}: foo\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply.lines().next().unwrap_or_default().to_string()
    };
    assert_eq!(request(8192 - 1000, 0), "HTTP/1.1 404 Not Found");
    assert_eq!(request(8192, 0), "HTTP/1.1 400 Bad Request");
    assert_eq!(request(1, (8192 - 1000) / 18), "HTTP/1.1 404 Not Found");
    assert_eq!(request(1, 8192 / 18), "HTTP/1.1 400 Bad Request");
}

#[test]
fn version_names_the_executable() {
    let node = Command::new(binary(Binary::Node)).arg("-version").output().unwrap();
    let text = String::from_utf8_lossy(&node.stdout).to_string();
    let first = text.lines().next().unwrap_or_default();
    let exe = binary(Binary::Node).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    assert!(first.ends_with(&format!(" {exe}")), "{first}");
}
