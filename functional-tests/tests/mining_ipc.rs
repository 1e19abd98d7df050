//! Mining over the node's socket as a Stratum v2 template provider does it (a pycapnp client
//! written as Bitcoin Core's are), and mining over JSON-RPC (`getblocktemplate` ->
//! `submitblock`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use functional_tests::{wait_until, TestFramework};
use serde_json::json;

/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_template_provider_mines_through_the_socket() {
    functional_tests::pycapnp::require_pycapnp();
    let mut test = TestFramework::new("mining_ipc", 1);
    test.nodes[0].start(&["-ipcbind=unix", "-debug=ipc"]);
    let node = &test.nodes[0];
    node.call("createwallet", json!(["payer"]));
    node.call("createwallet", json!(["miner"]));
    let payer = node.wallet_call("payer", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, payer]));
    let payout = node.wallet_call("miner", "getnewaddress", json!([]));
    let payout = payout.as_str().expect("an address");

    let imports = functional_tests::pycapnp::schema_imports(test.root());
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mining_ipc_client.py"))
        .arg(node.chain_datadir().join("node.sock"))
        .arg(functional_tests::pycapnp::schema_dir())
        .arg(&imports)
        .args([payout, "payer", ELSEWHERE])
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 29, "{stdout}");
    assert!(stdout.contains("disconnecting during waitNext"), "{stdout}");

    // The wallet the client's coinbase paid sees the block.
    wait_until("the miner wallet sees its coinbase", WAIT, || {
        node.wallet_call("miner", "getbalances", json!([]))["mine"]["immature"].as_f64() == Some(50.0)
    });
    // The disconnect canceled the wait, in libmultiprocess's words, and the node goes on.
    wait_until("the node cancels the wait", WAIT, || {
        let log = node.debug_log();
        log.contains("canceled while executing.") && log.contains("IPC server: socket disconnected.")
    });
    assert_eq!(node.call("getblockcount", json!([])), json!(103));
}

#[test]
fn getblocktemplate_then_submitblock_over_rpc() {
    use bitcoin::consensus::{deserialize, serialize};
    use bitcoin::hashes::Hash;
    use bitcoin::{
        absolute, block, Address, Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut,
    };
    use std::str::FromStr;

    let mut test = TestFramework::new("mining_gbt", 1);
    test.nodes[0].start(&[]);
    let node = &test.nodes[0];
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    let txid = node.wallet_call("w", "sendtoaddress", json!([ELSEWHERE, 1]));
    let txid = txid.as_str().expect("a txid");

    let failure = |params: serde_json::Value| {
        let e = node.rpc("getblocktemplate", params).expect_err("refused");
        (e.code(), e.to_string())
    };
    let (code, text) = failure(json!([]));
    assert_eq!(code, Some(-8));
    assert!(
        text.contains(
            r#"getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})"#
        ),
        "{text}"
    );
    assert_eq!(failure(json!([{"mode": "bogus", "rules": ["segwit"]}])).0, Some(-8));
    assert!(failure(json!([{"mode": 5}])).1.contains("Invalid mode"));

    // prioritisetransaction and its listing.
    let e = node.rpc("prioritisetransaction", json!([txid, 1, 100])).expect_err("dummy must be 0");
    assert!(e.to_string().contains("Priority is no longer supported"), "{e}");
    assert_eq!(node.call("prioritisetransaction", json!([txid, 0, 10_000])), json!(true));
    let fee = node.call("getmempoolentry", json!([txid]))["fees"]["base"].as_f64().expect("fee");
    let fee_sat = (fee * 1e8).round() as i64;
    assert_eq!(
        node.call("getprioritisedtransactions", json!([])),
        json!({txid: {"fee_delta": 10_000, "in_mempool": true, "modified_fee": fee_sat + 10_000}})
    );

    let gbt = node.call("getblocktemplate", json!([{"rules": ["segwit"]}]));
    let keys: Vec<&str> = gbt.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "capabilities",
            "version",
            "rules",
            "vbavailable",
            "vbrequired",
            "previousblockhash",
            "transactions",
            "coinbaseaux",
            "coinbasevalue",
            "longpollid",
            "target",
            "mintime",
            "mutable",
            "noncerange",
            "sigoplimit",
            "sizelimit",
            "weightlimit",
            "curtime",
            "bits",
            "height",
            "default_witness_commitment"
        ]
    );
    assert_eq!(gbt["rules"], json!(["csv", "!segwit", "taproot"]));
    assert_eq!(gbt["height"], json!(102));
    assert_eq!(gbt["bits"], json!("207fffff"));
    let txs = gbt["transactions"].as_array().expect("transactions");
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["txid"], json!(txid));
    assert_eq!(txs[0]["fee"], json!(fee_sat), "the real fee, not the prioritised one");
    assert_eq!(txs[0]["depends"], json!([]));
    assert_eq!(gbt["coinbasevalue"], json!(5_000_000_000i64 + fee_sat));

    // A miner builds the block from the template and submits it.
    let height = 102i64;
    let script = Address::from_str(address.as_str().expect("address"))
        .expect("parse")
        .assume_checked()
        .script_pubkey();
    let commitment = ScriptBuf::from_bytes(
        (0..gbt["default_witness_commitment"].as_str().expect("hex").len() / 2)
            .map(|i| {
                u8::from_str_radix(
                    &gbt["default_witness_commitment"].as_str().unwrap_or("")[2 * i..2 * i + 2],
                    16,
                )
                .unwrap_or(0)
            })
            .collect(),
    );
    let coinbase = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: bitcoin::script::Builder::new().push_int(height).push_int(7).into_script(),
            sequence: Sequence::MAX,
            witness: bitcoin::Witness::from_slice(&[[0u8; 32]]),
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat(gbt["coinbasevalue"].as_u64().expect("value")),
                script_pubkey: script,
            },
            TxOut { value: Amount::ZERO, script_pubkey: commitment },
        ],
    };
    let mut txdata = vec![coinbase];
    for tx in txs {
        let hex = tx["data"].as_str().expect("data");
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        txdata.push(deserialize(&bytes).expect("a transaction"));
    }
    let mut blk = Block {
        header: block::Header {
            version: block::Version::from_consensus(gbt["version"].as_i64().expect("version") as i32),
            prev_blockhash: gbt["previousblockhash"].as_str().expect("prev").parse().expect("hash"),
            merkle_root: bitcoin::TxMerkleNode::all_zeros(),
            time: gbt["curtime"].as_u64().expect("time") as u32,
            bits: bitcoin::CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata,
    };
    blk.header.merkle_root = blk.compute_merkle_root().expect("root");
    while !blk.header.target().is_met_by(blk.block_hash()) {
        blk.header.nonce += 1;
    }
    let hex: String = serialize(&blk).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(node.call("getblocktemplate", json!([{"mode": "proposal", "data": hex}])), json!(null));
    assert_eq!(node.call("submitblock", json!([hex])), json!(null));
    assert_eq!(node.call("getbestblockhash", json!([])), json!(blk.block_hash().to_string()));
    assert_eq!(node.call("submitblock", json!([hex])), json!("duplicate"));
    assert_eq!(node.call("getblocktemplate", json!([{"mode": "proposal", "data": hex}])), json!("duplicate"));
    assert_eq!(node.call("getprioritisedtransactions", json!([])), json!({}), "mined: the delta is gone");

    let info = node.call("getmininginfo", json!([]));
    assert_eq!(info["blocks"], json!(102));
    assert_eq!(info["pooledtx"], json!(0));
    assert_eq!(info["chain"], json!("regtest"));
    assert_eq!(info["next"]["height"], json!(103));
    assert_eq!(info["currentblocktx"], json!(1), "the template above");

    // Long polling: the request with the template's longpollid returns once the tip moves.
    let gbt = node.call("getblocktemplate", json!([{"rules": ["segwit"]}]));
    let longpollid = gbt["longpollid"].clone();
    let endpoint = node.endpoint();
    let started = std::time::Instant::now();
    let poll = std::thread::spawn(move || {
        endpoint.call("getblocktemplate", json!([{"rules": ["segwit"], "longpollid": longpollid}]))
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!poll.is_finished(), "the long poll waits for a change");
    let mined = node.call("generatetoaddress", json!([1, ELSEWHERE]));
    let next = poll.join().expect("the poll thread").expect("a template");
    assert_eq!(next["previousblockhash"], mined[0]);
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// Threads and resident memory of process `pid` (from `/proc`).
fn threads_and_rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("Threads:"), field("VmRSS:"))
}

#[test]
fn a_thousand_clients_leaving_mid_wait_leave_nothing_behind() {
    let mut test = TestFramework::new("mining_cycles", 1);
    test.nodes[0].start(&["-ipcbind=unix"]);
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    let pid = node.pid().expect("running");
    let imports = functional_tests::pycapnp::schema_imports(test.root());
    let run = |cycles: u32| {
        let output = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mining_ipc_cycles.py"))
            .arg(node.chain_datadir().join("node.sock"))
            .arg(functional_tests::pycapnp::schema_dir())
            .arg(&imports)
            .arg(cycles.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stdout.contains(&format!("done {cycles}")), "stdout:\n{stdout}\nstderr:\n{stderr}");
    };
    // Threads before any mining client; every client's server thread must be gone again.
    let (idle_threads, _) = threads_and_rss_kib(pid);
    let settled = |what: &str| {
        let mut now = threads_and_rss_kib(pid);
        wait_until(what, WAIT, || {
            now = threads_and_rss_kib(pid);
            now.0 <= idle_threads
        });
        now
    };
    // Warm up (allocator arenas, capnp buffers), then take the memory baseline.
    run(50);
    let before = settled("the warm-up clients' threads exit");
    let started = std::time::Instant::now();
    run(1000);
    let elapsed = started.elapsed();
    let after = settled("every canceled wait ends and its thread exits");
    eprintln!(
        "1000 cycles in {:.1} s; threads {} idle, {} -> {}; VmRSS {} -> {} KiB",
        elapsed.as_secs_f64(),
        idle_threads,
        before.0,
        after.0,
        before.1,
        after.1
    );
    assert!(
        after.1 <= before.1 + 16 * 1024,
        "resident memory grew by more than 16 MiB: {before:?} -> {after:?}"
    );
    // The node still serves.
    assert_eq!(node.call("getblockcount", json!([])), json!(1));
}

/// CPU time (user + system) of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

#[test]
fn hundreds_of_waiting_templates_cost_no_busy_thread_and_all_wake_on_a_block() {
    use std::io::{BufRead, BufReader, Write};

    let mut test = TestFramework::new("mining_many_waits", 1);
    test.nodes[0].start(&["-ipcbind=unix"]);
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    let pid = node.pid().expect("running");
    let imports = functional_tests::pycapnp::schema_imports(test.root());
    let (idle_threads, _) = threads_and_rss_kib(pid);
    let mut python = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mining_ipc_cycles.py"))
        .arg(node.chain_datadir().join("node.sock"))
        .arg(functional_tests::pycapnp::schema_dir())
        .arg(&imports)
        .args(["100", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut lines = BufReader::new(python.stdout.take().expect("stdout")).lines();
    let holding = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(holding, "holding 300");
    std::thread::sleep(Duration::from_millis(500));
    let (threads, _) = threads_and_rss_kib(pid);
    let ticks = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(pid) - ticks;
    let hz = 100; // USER_HZ on Linux
    eprintln!("300 waits: {threads} threads ({idle_threads} idle), {used} ticks of CPU in 3 s");
    assert!(threads <= idle_threads + 300 + 2, "one sleeping thread per wait: {threads}");
    assert!(used * 100 / (3 * hz) < 20, "300 waits used {used} ticks in 3 s: waiting must not spin");
    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    python.stdin.take().expect("stdin").write_all(b"go\n").expect("write");
    let woke = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(woke, "woke 300", "every waiting client gets the new tip's template");
    assert!(python.wait().expect("exit").success());
    wait_until("the waits' threads exit", WAIT, || threads_and_rss_kib(pid).0 <= idle_threads);
}
