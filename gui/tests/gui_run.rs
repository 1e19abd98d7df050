//! `gui::run` outside a terminal, and the crate's dependency rule.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use gui::{GuiError, RunOptions};
use interfaces::{BlockTip, Error, Handler, Node, Progress, Result, WalletLoader};

/// A node that counts calls and provides nothing.
#[derive(Default)]
struct CountingNode(Arc<AtomicU32>);

impl CountingNode {
    fn call<T>(&self) -> Result<T> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(Error::unavailable("stub"))
    }
}

impl Node for CountingNode {
    fn init(&self) -> Result<()> {
        self.call()
    }
    fn start_shutdown(&self) -> Result<()> {
        self.call()
    }
    fn shutdown_requested(&self) -> Result<bool> {
        self.call()
    }
    fn shutdown(&self) -> Result<()> {
        self.call()
    }
    fn get_block_count(&self) -> Result<u32> {
        self.call()
    }
    fn get_best_block_hash(&self) -> Result<[u8; 32]> {
        self.call()
    }
    fn get_last_block_time(&self) -> Result<i64> {
        self.call()
    }
    fn get_mempool_size(&self) -> Result<u64> {
        self.call()
    }
    fn get_verification_progress(&self) -> Result<f64> {
        self.call()
    }
    fn is_initial_block_download(&self) -> Result<bool> {
        self.call()
    }
    fn execute_rpc(&self, _request: String, _uri: String) -> Result<String> {
        self.call()
    }
    fn list_rpc_commands(&self) -> Result<Vec<String>> {
        self.call()
    }
    fn wallet_loader(&self) -> Result<Box<dyn WalletLoader>> {
        self.call()
    }
    fn handle_notify_block_tip(
        &self,
        _callback: Box<dyn Fn(BlockTip) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        self.call()
    }
    fn handle_init_message(
        &self,
        _callback: Box<dyn Fn(String) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        self.call()
    }
    fn handle_show_progress(
        &self,
        _callback: Box<dyn Fn(Progress) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        self.call()
    }
}

const CHILD: &str = "GUI_RUN_TEST_CHILD";

/// Runs this test binary again, with stdin from /dev/null and stdout a pipe
/// (so the result does not depend on how `cargo test` was started); the
/// child half below calls `run` and prints the error.
#[test]
fn without_a_terminal_run_refuses_with_one_clear_line() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "without_a_terminal_run_refuses_with_one_clear_line", "--nocapture"])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains(
            "gui error: mpx-gui needs a terminal: stdin and stdout must be a tty (for scripts use mpx-cli)\n"
        ),
        "{stdout}"
    );
}

fn child() {
    let calls = Arc::new(AtomicU32::new(0));
    let error = gui::run(Box::new(CountingNode(calls.clone())), RunOptions::new(true, "in process"))
        .expect_err("no terminal");
    assert!(matches!(error, GuiError::NoTerminal), "{error:?}");
    assert_eq!(error.to_string().lines().count(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the node is not touched without a terminal");
    println!("gui error: {error}");
}

/// The crate's invariant, read from its manifest: it depends only on the
/// contracts, UI and utility crates (libc, serde_json), never on node,
/// wallet, ipc, framework or capnp.
#[test]
fn manifest_depends_only_on_interfaces_and_ui_crates() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).expect("manifest");
    let mut section = String::new();
    let mut dependencies = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        if !section.ends_with("dependencies") || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim().trim_end_matches(".workspace").to_owned();
        let package =
            value.split("package").nth(1).and_then(|rest| rest.split('"').nth(1)).map_or(key, str::to_owned);
        dependencies.push((section.clone(), package));
    }
    let normal: Vec<&str> =
        dependencies.iter().filter(|(s, _)| s == "dependencies").map(|(_, p)| p.as_str()).collect();
    assert_eq!(normal, ["mpx-interfaces", "ratatui", "qrcode", "libc", "serde_json"]);
    let forbidden = ["mpx-node", "mpx-wallet", "mpx-ipc", "mpx-daemon", "framework", "capnp", "capnp-rpc"];
    for (section, package) in &dependencies {
        assert!(!forbidden.contains(&package.as_str()), "[{section}] {package}");
    }
}
