//! The real `mpx-gui` in a pseudo-terminal, driven by keys and read off the screen (a terminal
//! emulator, `vt100`), in each of its shapes: node in process, spawned multiprocess node (three
//! processes), and joined over the node's socket. The node's RPC confirms what the screen says.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use functional_tests::pty::{Pty, WAIT};
use functional_tests::{
    binary, children_of, is_alive, kill_9, multiprocess, Binary, RpcEndpoint, TestFramework,
};
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn endpoint(datadir: &Path, port: u16) -> RpcEndpoint {
    RpcEndpoint::new(std::net::SocketAddr::from(([127, 0, 0, 1], port)), datadir.join("regtest/.cookie"))
}

const ENTER: &str = "\r";
const ESC: &str = "\x1b";

/// Creates `alice` on the Wallets screen, mines 101 blocks to it on the Mining screen, sees
/// 50 BTC on the Overview, pays 1.5 BTC to `bob` (made over RPC) from the Send screen and sees
/// the payment in Transactions; the node's RPC confirms each step.
fn walk_through(gui: &mut Pty, rpc: &RpcEndpoint) {
    gui.wait_for(&["Tip", "height 0"]);
    gui.keys("5");
    gui.keys("c");
    for c in "alice".chars() {
        gui.keys(&c.to_string());
    }
    gui.keys(ENTER);
    gui.wait_for(&["alice", "selected"]);
    gui.keys("7");
    for c in "101".chars() {
        gui.keys(&c.to_string());
    }
    gui.keys(ENTER);
    gui.wait_for(&["Mined 101 blocks."]);
    assert_eq!(rpc.call("getblockcount", json!([])).expect("rpc"), json!(101));
    gui.keys(ESC);
    gui.keys("1");
    gui.wait_for(&["50.00000000", "height 101"]);

    rpc.call("createwallet", json!(["bob"])).expect("createwallet");
    let to = rpc.wallet_call("bob", "getnewaddress", json!([])).expect("address");
    let to = to.as_str().expect("a string").to_string();
    gui.keys("2");
    for c in to.chars() {
        gui.keys(&c.to_string());
    }
    gui.keys("\t");
    for c in "1.5".chars() {
        gui.keys(&c.to_string());
    }
    gui.keys(ENTER);
    gui.wait_for(&["1.50000000"]);
    gui.keys("y");
    let deadline = Instant::now() + WAIT;
    loop {
        let balances = rpc.wallet_call("bob", "getbalances", json!([])).expect("getbalances");
        if balances["mine"]["untrusted_pending"].to_string().as_str() == "1.50000000" {
            break;
        }
        assert!(Instant::now() < deadline, "bob never saw the payment: {balances}\n{}", gui.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The first Esc closes the "sent" message, the second leaves the form.
    gui.keys(ESC);
    gui.keys(ESC);
    gui.keys("4");
    gui.wait_for(&["-1.5"]);
}

fn quit(gui: &mut Pty) {
    gui.keys(ESC);
    gui.keys("q");
    gui.keys("y");
    let status = gui.wait_for_exit();
    assert!(status.success(), "{status}\n{}", gui.screen());
    assert!(gui.restored_terminal(), "the gui left the alternate screen");
}

/// These start the gui executables themselves: the default pass runs them (the
/// `MPX_TEST_MULTIPROCESS=1` pass would run the same again).
fn second_pass(name: &str) -> bool {
    if multiprocess() {
        eprintln!("{name}: runs in the default pass");
    }
    multiprocess()
}

fn gui_args(datadir: &Path, port: u16) -> Vec<String> {
    // -listen=0: the guis of this file run side by side; none needs a P2P port.
    vec![format!("-datadir={}", datadir.display()), format!("-rpcport={port}"), "-listen=0".to_string()]
}

fn tempdir(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(&format!("mpx-{name}-")).tempdir().expect("tempdir");
    let datadir = dir.path().join("data");
    (dir, datadir)
}

#[test]
fn the_gui_runs_its_node_in_process() {
    if second_pass("the_gui_runs_its_node_in_process") {
        return;
    }
    let (_dir, datadir) = tempdir("gui_in_process");
    let port = free_port();
    let mut gui = Pty::spawn(&binary(Binary::Gui), &gui_args(&datadir, port));
    gui.wait_for(&["Connection  in process"]);
    walk_through(&mut gui, &endpoint(&datadir, port));
    quit(&mut gui);
    assert!(
        endpoint(&datadir, port).call("getblockcount", json!([])).is_err(),
        "the node stopped with the gui"
    );
}

#[test]
fn the_multiprocess_gui_spawns_the_node_which_spawns_its_wallets() {
    if second_pass("the_multiprocess_gui_spawns_the_node_which_spawns_its_wallets") {
        return;
    }
    let (_dir, datadir) = tempdir("gui_spawned");
    let port = free_port();
    let mut gui = Pty::spawn(&binary(Binary::MultiprocessGui), &gui_args(&datadir, port));
    gui.wait_for(&["Connection  spawned node pid"]);
    let node = children_of(gui.child.id())
        .into_iter()
        .find(|(_, name)| name.starts_with("mpx-multiproces"))
        .map(|(pid, _)| pid)
        .expect("the gui's node process");
    walk_through(&mut gui, &endpoint(&datadir, port));
    let wallet = children_of(node).into_iter().find(|(_, name)| name == "mpx-wallet").map(|(pid, _)| pid);
    let wallet = wallet.expect("the node's wallet process");
    quit(&mut gui);
    assert!(!is_alive(node) && !is_alive(wallet), "the node and its wallet process are gone");
}

#[test]
fn the_gui_joins_a_running_node_and_leaves_it_running() {
    if second_pass("the_gui_joins_a_running_node_and_leaves_it_running") {
        return;
    }
    let mut test = TestFramework::new("gui_joined", 1);
    test.nodes[0].start(&["-ipcbind=unix"]);
    let node = &test.nodes[0];
    let args = vec![format!("-datadir={}", node.datadir().display()), "-ipcconnect=unix".to_string()];
    let mut gui = Pty::spawn(&binary(Binary::Gui), &args);
    gui.wait_for(&["Connection  joined unix:"]);
    walk_through(&mut gui, &node.endpoint());
    quit(&mut gui);
    assert_eq!(node.call("getblockcount", json!([])), json!(101), "the joined node still runs");
}

#[test]
fn a_killed_node_shows_a_banner_and_quitting_still_works() {
    if second_pass("a_killed_node_shows_a_banner_and_quitting_still_works") {
        return;
    }
    let (_dir, datadir) = tempdir("gui_node_killed");
    let port = free_port();
    let mut gui = Pty::spawn(&binary(Binary::MultiprocessGui), &gui_args(&datadir, port));
    gui.wait_for(&["Connection  spawned node pid", "height 0"]);
    let node = children_of(gui.child.id())
        .into_iter()
        .find(|(_, name)| name.starts_with("mpx-multiproces"))
        .map(|(pid, _)| pid)
        .expect("the gui's node process");
    kill_9(node);
    gui.wait_for(&["Node disconnected"]);
    gui.wait_for(&["height 0"]); // the last known state stays on screen
    gui.keys("q");
    gui.keys("y");
    let status = gui.wait_for_exit();
    assert!(status.code().is_some(), "exited, not killed: {status}");
    assert!(gui.restored_terminal(), "the gui left the alternate screen");
}
