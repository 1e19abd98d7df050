//! `gui-latency`: how long the gui takes from a key press to the redrawn frame while the node is
//! busy, in each of its shapes (node in process, spawned multiprocess node, joined over the
//! socket).
//!
//! A benchmark, not a test: it prints figures and never fails on them. For each shape it starts
//! the gui in a pseudo-terminal (100x30), keeps the node busy with `generatetoaddress 1000`
//! calls from another client for the whole run, and presses `4` and `1` alternately
//! (Transactions, Overview) `--presses` times, timing each press until the terminal emulator
//! shows the new screen's title. The time includes the emulator's own parsing and a 200 µs
//! polling step, so it is an upper bound of what the gui takes.
//!
//! ```text
//! gui-latency in-process presses=200 p50_ms=3.1 p99_ms=9.8 max_ms=14.2 blocks_meanwhile=4000 load=1.90,1.20,0.80
//! ```
//!
//! ```text
//! cargo build --release -p mpx-daemon -p mpx-functional-tests --bin gui-latency
//! target/release/gui-latency --presses 200
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use functional_tests::pty::Pty;
use functional_tests::{binary, Binary, RpcEndpoint, TestFramework};
use serde_json::json;

/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const PRESS_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let mut presses = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--presses", Some(n)) if n > 0 => presses = n,
            _ => {
                eprintln!("usage: gui-latency [--presses N]");
                return ExitCode::FAILURE;
            }
        }
    }
    for shape in ["in-process", "spawned", "joined"] {
        measure(shape, presses);
    }
    ExitCode::SUCCESS
}

fn measure(shape: &str, presses: usize) {
    let mut test = TestFramework::new(&format!("gui-latency-{shape}"), 1);
    let datadir = test.nodes[0].datadir().to_path_buf();
    let (exe, args, rpc) = match shape {
        "joined" => {
            test.nodes[0].use_binary(Binary::MonolithicNode);
            test.nodes[0].start(&["-ipcbind=unix"]);
            let args = vec![format!("-datadir={}", datadir.display()), "-ipcconnect=unix".to_string()];
            (binary(Binary::Gui), args, test.nodes[0].endpoint())
        }
        _ => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap_or(18_999);
            let args = vec![format!("-datadir={}", datadir.display()), format!("-rpcport={port}")];
            let exe = if shape == "spawned" { binary(Binary::MultiprocessGui) } else { binary(Binary::Gui) };
            let rpc = RpcEndpoint::new(([127, 0, 0, 1], port).into(), datadir.join("regtest/.cookie"));
            (exe, args, rpc)
        }
    };
    let mut gui = Pty::spawn(&exe, &args);
    gui.wait_for(&["Tip", "height"]);
    while rpc.call("getblockcount", json!([])).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mined = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, mined, rpc) = (stop.clone(), mined.clone(), rpc.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if rpc.call("generatetoaddress", json!([1000, ELSEWHERE])).is_ok() {
                    mined.fetch_add(1000, Ordering::SeqCst);
                }
            }
        })
    };
    let mut times = Vec::with_capacity(presses);
    let mut missed = 0;
    for i in 0..presses {
        let (key, title) = if i % 2 == 0 { ("4", "┌ Transactions") } else { ("1", "┌ Overview") };
        gui.send(key);
        match gui.time_until(title, PRESS_TIMEOUT) {
            Some(took) => times.push(took.as_secs_f64() * 1e3),
            None => missed += 1,
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = load.join();
    times.sort_by(f64::total_cmp);
    let at =
        |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    println!(
        "gui-latency {shape} presses={presses} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} missed={missed} \
         blocks_meanwhile={} load={}",
        at(0.5),
        at(0.99),
        times.last().copied().unwrap_or(f64::NAN),
        mined.load(Ordering::SeqCst),
        loadavg()
    );
    gui.keys("q");
    gui.keys("y");
    let _ = gui.wait_for_exit();
}

fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(",")
}
