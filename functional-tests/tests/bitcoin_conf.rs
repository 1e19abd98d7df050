//! `bitcoin.conf` and bitcoind's command line: the file Bitcoin Core's functional test framework
//! writes (`write_config`) and the arguments its `TestNode` passes start the real node, and the
//! options take effect: log line shape, `-debuglogfile`, notify commands, `includeconf`, and
//! Core's refusals.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use functional_tests::{binary, wait_until, Binary, TestFramework, TestNode};
use serde_json::json;

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const WAIT: Duration = Duration::from_secs(30);

/// Core's `write_config` for this node (chain regtest, autoconnect disabled), byte for byte.
fn core_bitcoin_conf(node: &TestNode, p2p_port: u16) -> String {
    format!(
        "regtest=1\n[regtest]\nport={p2p_port}\nrpcport={}\nrpcservertimeout=99000\nrpcdoccheck=1\nrpcthreads=2\n\
         fallbackfee=0.0002\nserver=1\nkeypool=1\ndiscover=0\ndnsseed=0\nfixedseeds=0\nlistenonion=0\n\
         peertimeout=999999999\nprinttoconsole=0\nnatpmp=0\nshrinkdebugfile=0\nunsafesqlitesync=1\nconnect=0\n\
         maxconnections=94\npar=2\nprevoutfetchthreads=1\nbind=127.0.0.1\n",
        node.rpc_port()
    )
}

/// The arguments `test_node.py` adds after `-datadir` (node 0, without a wallet).
const CORE_ARGS: &[&str] = &[
    "-logtimemicros",
    "-debug",
    "-debugexclude=leveldb",
    "-debugexclude=rand",
    "-uacomment=testnode0",
    "-disablewallet",
    "-logthreadnames",
    "-logsourcelocations",
    "-loglevel=trace",
    "-nologratelimit",
    "-v2transport=0",
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Whether `line` starts with `2026-11-22T06:05:01.123456Z ` (a timestamp with microseconds).
fn has_micro_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 28
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && b[19] == b'.'
        && b[26] == b'Z'
        && b[27] == b' '
        && b[20..26].iter().all(u8::is_ascii_digit)
}

#[test]
fn the_test_frameworks_config_starts_the_node_and_takes_effect() {
    let mut test = TestFramework::new("bitcoin_conf", 1);
    let started = test.path("started");
    let stopped = test.path("stopped");
    let blocks = test.path("blocks");
    let node = &mut test.nodes[0];
    write(&node.datadir().join("bitcoin.conf"), &core_bitcoin_conf(node, node.p2p_port()));

    let startup = format!("-startupnotify=touch {}", started.display());
    let shutdown = format!("-shutdownnotify=touch {}", stopped.display());
    let block = format!("-blocknotify=echo %s >> {}", blocks.display());
    let mut args = CORE_ARGS.to_vec();
    args.extend([startup.as_str(), shutdown.as_str(), block.as_str()]);
    node.start(&args);

    // -startupnotify ran once the node was up.
    wait_until("-startupnotify touched its file", WAIT, || started.exists());
    // -uacomment shows in the subversion (Core's feature_uacomment reads it there).
    let subversion = node.call("getnetworkinfo", json!([]))["subversion"].clone();
    assert!(subversion.as_str().is_some_and(|s| s.ends_with("(testnode0)/")), "{subversion}");
    // -blocknotify runs for each new tip, with the hash for %s.
    let hashes = node.call("generatetoaddress", json!([2, ADDRESS]));
    let expected: Vec<String> =
        hashes.as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string()).collect();
    wait_until("-blocknotify ran twice", WAIT, || read(&blocks).lines().count() == 2);
    let mut notified: Vec<String> = read(&blocks).lines().map(str::to_string).collect();
    notified.sort();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(notified, sorted, "one line per block, its hash");

    node.stop();
    assert!(stopped.exists(), "-shutdownnotify ran before the node exited");

    let log = node.debug_log();
    // -logtimemicros, -logthreadnames, -logsourcelocations, -debug with its category prefix.
    let rpc_line = log
        .lines()
        .find(|line| line.contains("ThreadRPCServer method=generatetoaddress"))
        .unwrap_or_else(|| panic!("-debug logs RPC calls under [rpc]:\n{log}"));
    assert!(has_micro_timestamp(rpc_line), "{rpc_line}");
    assert!(rpc_line[28..].starts_with("[httpworker."), "thread name first: {rpc_line}");
    assert!(
        rpc_line.contains("] [node/src/rpc/mod.rs:") && rpc_line.contains("] [node::rpc] [rpc] "),
        "{rpc_line}"
    );
    assert!(log.lines().all(|line| line.is_empty() || has_micro_timestamp(line)), "every line timestamped");
    assert!(log.contains(&format!("Config file: {}", node.datadir().join("bitcoin.conf").display())));
    // What of P2P is supported: said once; the node listens on the bound address.
    let p2p: Vec<&str> = log.lines().filter(|line| line.contains("P2P: v1 transport only")).collect();
    assert_eq!(p2p.len(), 1, "{log}");
    assert!(log.contains(&format!("Bound to 127.0.0.1:{}", node.p2p_port())), "{log}");
    // Options with no effect here are named, not silently dropped.
    let inert =
        log.lines().find(|line| line.contains("not applied by this node")).expect("inert options logged");
    for option in ["-par=2", "-prevoutfetchthreads=1", "-rpcdoccheck=1", "-keypool=1", "-fixedseeds=0"] {
        assert!(inert.contains(option), "{option}: {inert}");
    }
    // -fallbackfee and -txindex are applied now.
    assert!(!inert.contains("-fallbackfee") && !inert.contains("-txindex"), "{inert}");
    assert!(!log.contains("Ignoring unknown configuration value"), "every key of Core's file is known");
}

#[test]
fn debuglogfile_includeconf_and_refusals() {
    let mut test = TestFramework::new("bitcoin_conf_files", 1);
    let included_marker = test.path("included");
    let node = &mut test.nodes[0];
    let datadir = node.datadir().to_path_buf();
    let chain_dir = node.chain_datadir();

    // includeconf (relative to the datadir), an unknown key (a warning), -debuglogfile.
    write(
        &datadir.join("bitcoin.conf"),
        "regtest=1\nincludeconf=more.conf\ndbcache=300\n[regtest]\nrpcthreads=2\n",
    );
    write(
        &datadir.join("more.conf"),
        &format!("startupnotify=touch {}\nincludeconf=nested.conf\n", included_marker.display()),
    );
    node.start(&["-debuglogfile=other.log"]);
    wait_until("the included file's -startupnotify ran", WAIT, || included_marker.exists());
    node.stop();
    let other = read(&chain_dir.join("other.log"));
    assert!(
        other.contains("init done") && other.contains("Included configuration file more.conf"),
        "{other}"
    );
    assert!(other.contains("[warning] Ignoring unknown configuration value dbcache"), "{other}");
    assert!(!chain_dir.join("debug.log").exists(), "-debuglogfile replaces debug.log");
    // An included file cannot include: bitcoind says so on stderr (Core's feature_includeconf).
    let stderr = read(&datadir.join("stderr.log"));
    assert!(
        stderr.contains(
            "warning: -includeconf cannot be used from included files; ignoring -includeconf=nested.conf\n"
        ),
        "{stderr}"
    );

    // -nodebuglogfile: no file at all.
    node.start(&["-nodebuglogfile"]);
    node.stop();
    assert!(!chain_dir.join("debug.log").exists());

    // An unknown option is refused with bitcoind's words; nothing starts.
    let error = node.try_start(&["-foo=1"]).unwrap_err();
    assert!(
        error.ends_with("stderr: Error: Error parsing command line arguments: Invalid parameter -foo=1"),
        "{error}"
    );

    // A network-only option at the top level is refused as Core refuses it.
    write(&datadir.join("bitcoin.conf"), "regtest=1\nport=18999\n");
    let error = node.try_start(&[]).unwrap_err();
    assert!(
        error.ends_with(
            "Error: Config setting for -port only applied on regtest network when in [regtest] section."
        ),
        "{error}"
    );
    // A bitcoin.conf syntax error, with Core's words.
    write(&datadir.join("bitcoin.conf"), "regtest=1\nnolisten\n");
    let output =
        Command::new(binary(Binary::Node)).arg(format!("-datadir={}", datadir.display())).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Error: Error reading configuration file: parse error on line 2: nolisten, if you intended to specify a \
         negated option, use nolisten=1 instead\n"
    );
    // -server=0 (here from the file): the node runs without an RPC server until a signal.
    write(&datadir.join("bitcoin.conf"), "regtest=1\nserver=0\n");
    let mut child = Command::new(binary(Binary::Node))
        .arg(format!("-datadir={}", datadir.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = chain_dir.join("debug.log");
    wait_until("the node without RPC server started", WAIT, || read(&log).contains("init done"));
    assert!(read(&log).contains("-server=0: no JSON-RPC server"));
    assert!(!node.cookie_file().exists(), "no RPC server, no cookie");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());

    // And the node still starts once the file is right.
    write(&datadir.join("bitcoin.conf"), "regtest=1\n[regtest]\nport=18999\n");
    node.start(&[]);
    assert_eq!(node.call("getblockcount", json!([])), json!(0));
}
