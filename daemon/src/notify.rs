//! bitcoind's notification commands (`-startupnotify`, `-shutdownnotify`, `-blocknotify`), run
//! as Core runs them: through the shell (`sh -c <cmd>`), a failure logged, never fatal; and the
//! start-up lines that say which options this node takes but does not apply.

use std::process::Command;
use std::sync::Arc;

use config::Config;
use interfaces::{BlockInfo, ChainNotifications, Handler, MempoolRemovalReason};
use node::NodeState;

/// Options accepted with Core's syntax and checked, whose effect this node does not have (yet):
/// named at start so that none is silently ignored. P2P ones are [`config::P2P_NOT_APPLIED`].
const NOT_APPLIED: &[&str] = &[
    // Core runs it for a large-work invalid chain or unknown version bits becoming active; this
    // node has no fork warnings and does not track version bits, so it never alerts.
    "alertnotify",
    "keypool",
    // Core's wallet reads these for -walletrejectlongchains, which this wallet refuses.
    "limitancestorcount",
    "limitdescendantcount",
    "par",
    "prevoutfetchthreads",
    "rpcdoccheck",
    "unsafesqlitesync",
];

/// Logs what reading the options found, what of P2P is supported, and the options given that
/// this node does not apply.
pub(crate) fn log_options(config: &Config) {
    for file in &config.config_files {
        tracing::info!("Config file: {}", file.display());
    }
    for note in &config.notes {
        tracing::info!("{note}");
    }
    for line in &config.arg_lines {
        tracing::info!("{line}");
    }
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    for warning in &config.console_warnings {
        // bitcoind writes these to stderr as it reads its files (Core's feature_includeconf
        // expects the line there).
        eprintln!("warning: {warning}");
        tracing::warn!("{warning}");
    }
    let given = |names: &[&str]| -> Vec<String> {
        config
            .options_given
            .iter()
            .filter(|option| {
                let name = option.trim_start_matches('-').split('=').next().unwrap_or_default();
                names.contains(&name) || name.strip_prefix("no").is_some_and(|name| names.contains(&name))
            })
            .cloned()
            .collect()
    };
    tracing::info!(
        "P2P: v1 transport only (no BIP324 v2; -v2transport connections fall back to v1), manual \
         connections only (-connect, -addnode, addnode RPC; no address relay, discovery or seeds), \
         headers-first block sync and transaction relay; no compact blocks, bloom filters, orphan \
         pool, banning or eviction"
    );
    let mut inert = given(NOT_APPLIED);
    inert.extend(given(config::P2P_NOT_APPLIED));
    if !inert.is_empty() {
        tracing::info!(
            "Options accepted for compatibility but not applied by this node: {}",
            inert.join(" ")
        );
    }
}

/// Runs `command` with `sh -c` and logs a failure (Core's `runCommand`).
fn run(command: &str) {
    match Command::new("sh").arg("-c").arg(command).status() {
        Ok(status) if status.success() => {}
        Ok(status) => tracing::warn!("runCommand error: system({command}) returned {status}"),
        Err(e) => tracing::warn!("runCommand error: cannot run sh -c {command}: {e}"),
    }
}

/// Runs `command` on its own thread, not waited for (`-startupnotify`, `-blocknotify`).
pub(crate) fn run_detached(command: String) {
    let spawned = std::thread::Builder::new().name("notify".to_string()).spawn(move || run(&command));
    if let Err(e) = spawned {
        tracing::warn!("cannot start a thread for a notify command: {e}");
    }
}

/// Runs every command at once and waits for them all (`-shutdownnotify`).
pub(crate) fn run_and_wait(commands: &[String]) {
    let threads: Vec<_> = commands
        .iter()
        .filter_map(|command| {
            let command = command.clone();
            std::thread::Builder::new().name("shutoff".to_string()).spawn(move || run(&command)).ok()
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
}

/// `-blocknotify`: runs its command, `%s` replaced by the block hash, for every block connected
/// to the active chain (so once per block `generatetoaddress` mines, as bitcoind does).
#[derive(Debug)]
pub(crate) struct BlockNotify {
    command: String,
}

impl BlockNotify {
    /// Subscribes `command` to `state`'s new blocks, for as long as the returned handler lives.
    pub(crate) fn subscribe(state: &NodeState, command: String) -> Box<dyn Handler> {
        state.handle_notifications(Arc::new(BlockNotify { command }))
    }
}

impl ChainNotifications for BlockNotify {
    fn transaction_added_to_mempool(&self, _tx: Vec<u8>) -> interfaces::Result<()> {
        Ok(())
    }

    fn transaction_removed_from_mempool(
        &self,
        _txid: [u8; 32],
        _reason: MempoolRemovalReason,
    ) -> interfaces::Result<()> {
        Ok(())
    }

    fn block_connected(&self, block: BlockInfo) -> interfaces::Result<()> {
        let hash: String = block.hash.iter().rev().map(|byte| format!("{byte:02x}")).collect();
        run_detached(self.command.replace("%s", &hash));
        Ok(())
    }

    fn block_disconnected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        Ok(())
    }

    fn updated_block_tip(&self) -> interfaces::Result<()> {
        Ok(())
    }
}
