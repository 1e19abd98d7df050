//! `split-cost`: what running the wallets in their own process costs, measured against the
//! monolithic node in the same run.
//!
//! A benchmark, not a test: it prints figures and never fails on them. It starts `mpx-node`
//! and `mpx-multiprocess-node` side by side on temporary datadirs, gives each a funded wallet,
//! then for `--rounds` rounds runs every shape on each node in turn (interleaved, so load
//! swings hit both modes alike):
//!
//! * `getbalance`, `getnewaddress`, `sendtoaddress` (to an address of another wallet of the
//!   same node): `--calls` calls each, timed one by one;
//! * `generatetoaddress 100` to an address of the wallet, then `getbalance` (which waits until
//!   the wallet has seen every block): every block is a notification to the wallet, across a
//!   socket in the multiprocess node.
//!
//! Per shape and mode it prints the median over rounds of the per-round median call time, the
//! ratio multiprocess/monolithic, and the load average (`/proc/loadavg`) at the start and end:
//!
//! ```text
//! split-cost getbalance      mono_us=412 multi_us=590 ratio=1.43
//! ```
//!
//! ```text
//! cargo build --release -p mpx-daemon -p mpx-functional-tests --bin split-cost
//! target/release/split-cost --rounds 7 --calls 200
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use functional_tests::{Binary, TestFramework, TestNode};
use serde_json::{json, Value};

const USAGE: &str = "\
usage: split-cost [--rounds N] [--calls N]
  --rounds N   interleaved rounds (default 5)
  --calls N    calls per shape and round (default 100)";

fn main() -> ExitCode {
    let mut rounds = 5usize;
    let mut calls = 100usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok()).filter(|v| *v > 0);
        match (arg.as_str(), value) {
            ("--rounds", Some(v)) => rounds = v,
            ("--calls", Some(v)) => calls = v,
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("split-cost rounds={rounds} calls={calls} load_start={}", load());
    let mut test = TestFramework::new("split-cost", 2);
    test.nodes[1].use_binary(Binary::MultiprocessNode);
    test.nodes[0].use_binary(Binary::MonolithicNode);
    for node in &mut test.nodes {
        node.start(&[]);
        node.call("createwallet", json!(["bench"]));
        node.call("createwallet", json!(["payee"]));
        let address = new_address(node, "bench");
        node.call("generatetoaddress", json!([200, address]));
    }
    let shapes = ["getbalance", "getnewaddress", "sendtoaddress", "generatetoaddress 100"];
    // [shape][mode] -> per-round medians (µs per call; per block for generatetoaddress).
    let mut results = vec![[Vec::new(), Vec::new()]; shapes.len()];
    for _ in 0..rounds {
        for (index, shape) in shapes.iter().enumerate() {
            for (mode, node) in test.nodes.iter().enumerate() {
                let per_call = run_shape(node, shape, calls);
                results[index][mode].push(per_call);
            }
        }
    }
    for (index, shape) in shapes.iter().enumerate() {
        let mono = median(&results[index][0]);
        let multi = median(&results[index][1]);
        let unit = if shape.starts_with("generate") { "per_block" } else { "per_call" };
        println!(
            "split-cost {shape:<22} {unit} mono_us={:.0} multi_us={:.0} ratio={:.2}",
            mono,
            multi,
            multi / mono
        );
    }
    println!("split-cost load_end={}", load());
    for node in &mut test.nodes {
        node.stop();
    }
    ExitCode::SUCCESS
}

fn new_address(node: &TestNode, wallet: &str) -> String {
    node.wallet_call(wallet, "getnewaddress", json!([])).as_str().unwrap_or_default().to_string()
}

/// One round of `shape` on `node`: the median microseconds per call (per block for
/// `generatetoaddress`).
fn run_shape(node: &TestNode, shape: &str, calls: usize) -> f64 {
    let mut times = Vec::with_capacity(calls);
    match shape {
        "generatetoaddress 100" => {
            let address = new_address(node, "bench");
            let started = Instant::now();
            node.call("generatetoaddress", json!([100, address]));
            // The wallet has seen every block once it answers.
            node.wallet_call("bench", "getbalance", json!([]));
            return started.elapsed().as_secs_f64() * 1e6 / 100.0;
        }
        "sendtoaddress" => {
            let to = new_address(node, "payee");
            for _ in 0..calls {
                times.push(time(|| node.wallet_call("bench", "sendtoaddress", json!([to, 0.0001]))));
            }
            // Confirm them, so the next round spends confirmed coins again.
            let address = new_address(node, "bench");
            node.call("generatetoaddress", json!([1, address]));
        }
        method => {
            for _ in 0..calls {
                times.push(time(|| node.wallet_call("bench", method, json!([]))));
            }
        }
    }
    median(&times)
}

fn time(call: impl FnOnce() -> Value) -> f64 {
    let started = Instant::now();
    call();
    let elapsed: Duration = started.elapsed();
    elapsed.as_secs_f64() * 1e6
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `/proc/loadavg`'s three averages, as `uptime` prints them.
fn load() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(",")
}
