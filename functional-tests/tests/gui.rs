//! The real `mpx-gui` in a pseudo-terminal, driven by keys and read off the screen (a terminal
//! emulator, `vt100`), in each of its shapes: node in process, spawned multiprocess node (three
//! processes), and joined over the node's socket. The node's RPC confirms what the screen says.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use functional_tests::{
    binary, children_of, die_with_parent, is_alive, kill_9, multiprocess, Binary, RpcEndpoint, TestFramework,
};
use serde_json::json;

const ROWS: u16 = 30;
const COLS: u16 = 100;
const WAIT: Duration = Duration::from_secs(60);
/// Where `vt100` notes that the program left the alternate screen (the terminal restored).
const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";

/// A program running in a pseudo-terminal, its screen kept up to date by a reader thread.
struct Pty {
    child: Child,
    master: std::fs::File,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(exe: &Path, args: &[String]) -> Pty {
        let size = libc::winsize { ws_row: ROWS, ws_col: COLS, ws_xpixel: 0, ws_ypixel: 0 };
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes the two descriptors it opens into the integers passed and
        // reads the window size; no name buffer or termios is passed (null is allowed).
        let opened =
            unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are owned here alone.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut command = Command::new(exe);
        command
            .args(args)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        die_with_parent(&mut command);
        // SAFETY: between fork and exec only setsid and ioctl run (async-signal-safe): the
        // child gets a session of its own with the pseudo-terminal as controlling terminal.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("the gui starts");
        let master = std::fs::File::from(master);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup");
        let (screen, bytes) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            // Ends with EIO once the last holder of the terminal's other side is gone.
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                screen.lock().expect("screen").process(&buffer[..n]);
                bytes.lock().expect("bytes").extend_from_slice(&buffer[..n]);
            }
        });
        Pty { child, master, parser, raw }
    }

    fn screen(&self) -> String {
        self.parser.lock().expect("screen").screen().contents()
    }

    /// Waits until the screen shows every one of `texts`; panics with the screen if not.
    fn wait_for(&self, texts: &[&str]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return;
            }
            assert!(Instant::now() < deadline, "the screen never showed {texts:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("write keys");
        // One key press at a time, as typed.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the gui did not exit:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn restored_terminal(&self) -> bool {
        let raw = self.raw.lock().expect("bytes");
        raw.windows(LEAVE_ALTERNATE_SCREEN.len()).any(|w| w == LEAVE_ALTERNATE_SCREEN)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    vec![format!("-datadir={}", datadir.display()), format!("-rpcport={port}")]
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
