//! [`App`]: the running node as the daemon assembles it from a [`Config`], and its start and
//! stop sequences (Bitcoin Core's `AppInitMain` and `Shutdown`).
//!
//! Start: the caller locks `<chain datadir>/.lock` first ([`DatadirLock`], before anything
//! writes there, the log included, so a second node cannot touch the first one's files); then
//! `App::start` writes the pid file, load the chain from
//! `<chain datadir>/blocks` (rebuilt from its intact blocks with `-reindex`; a damaged block file
//! otherwise refuses the start, before any wallet is loaded), create the wallet loader through the factory the executable gives
//! (in process today; a wallet process later: the node only sees `interfaces::WalletLoader`),
//! register the wallet RPCs, load the wallets, then open the JSON-RPC server, so a client that
//! gets an answer talks to a fully started node. Stop runs the same steps backwards.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use config::Config;
use interfaces::{Chain, WalletLoader};
use nix::fcntl::Flock;

use crate::net::{Connman, NetConfig};
use crate::rpc::{Dispatcher, RpcServer, RpcServerConfig};
use crate::ui::UiSignals;
use crate::{ChainState, NodeChain, NodeState, OpenMode, StorageError};

/// Name of the directory under the chain datadir holding the block file.
pub const BLOCKS_DIR_NAME: &str = "blocks";

/// Makes a new chain view of the running node (one per chain client: a wallet loader, or a
/// wallet process started again after it died).
pub type ChainMaker = Arc<dyn Fn() -> Box<dyn Chain> + Send + Sync>;

/// Makes the wallet loader from the chain views the node hands it (called once, at start).
pub type WalletLoaderFactory =
    Box<dyn FnOnce(ChainMaker) -> interfaces::Result<Box<dyn WalletLoader>> + Send>;

/// Why the node could not start; each is one line for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Another node uses the data directory.
    #[error("Cannot obtain a lock on directory {0}. mpx-node is probably already running.")]
    DatadirLocked(PathBuf),
    /// A file or directory could not be created, read or written, or the block file is
    /// damaged ([`StorageError::Corrupt`], the way out is `-reindex`).
    #[error("{0}")]
    Storage(StorageError),
    /// The pid file could not be written.
    #[error("cannot write the pid file {path}: {source}")]
    PidFile {
        /// The pid file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The wallets could not be set up or loaded.
    #[error("wallet: {0}")]
    Wallet(interfaces::Error),
    /// P2P networking could not start (a `-bind` address taken, no port to listen on).
    #[error("{0}")]
    Net(crate::net::NetError),
    /// The JSON-RPC server could not start (no address could be bound, or the cookie could
    /// not be written).
    #[error("Unable to start HTTP server: {0}")]
    Rpc(crate::rpc::RpcServerError),
}

impl From<StorageError> for StartError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Locked(path) => {
                StartError::DatadirLocked(path.parent().map(Path::to_path_buf).unwrap_or(path))
            }
            other => StartError::Storage(other),
        }
    }
}

/// The running node: chain, mempool, wallets, RPC server, and the files that mark it running.
pub struct App {
    state: Arc<NodeState>,
    dispatcher: Arc<Dispatcher>,
    rpc: Option<RpcServer>,
    net: Option<Arc<Connman>>,
    wallets: Option<Arc<dyn WalletLoader>>,
    pid_file: Option<PathFileGuard>,
    /// Where the pool is written at shutdown (`-persistmempool`).
    persist_mempool: Option<PathBuf>,
    _datadir_lock: DatadirLock,
}

/// Core's mempool file, in the chain's data directory.
pub const MEMPOOL_FILE_NAME: &str = "mempool.dat";

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("rpc", &self.rpc)
            .field("wallets", &self.wallets.is_some())
            .finish_non_exhaustive()
    }
}

/// A file removed when dropped (the pid file).
#[derive(Debug)]
struct PathFileGuard(PathBuf);

impl Drop for PathFileGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            tracing::warn!(path = %self.0.display(), error = %e, "cannot remove the pid file");
        }
    }
}

/// The exclusive lock on `<chain datadir>/.lock`: whoever holds it owns the data directory.
/// Taken first, before anything (the log included) is written there.
#[derive(Debug)]
pub struct DatadirLock {
    /// Held, never read: dropping it releases the lock.
    _lock: Flock<File>,
}

impl DatadirLock {
    /// Locks `chain_datadir` (which must exist); [`StartError::DatadirLocked`] if another process
    /// holds it.
    pub fn acquire(chain_datadir: &Path) -> Result<DatadirLock, StartError> {
        Ok(DatadirLock { _lock: crate::storage::lock_dir(chain_datadir)? })
    }
}

impl App {
    /// Starts the node described by `config` in the data directory `lock` holds; `wallets`
    /// makes the wallet loader, `None` runs without wallets; start-up messages, progress and
    /// new tips go to `ui`'s subscribers.
    pub fn start(
        config: &Config,
        lock: DatadirLock,
        wallets: Option<WalletLoaderFactory>,
        ui: Arc<UiSignals>,
    ) -> Result<App, StartError> {
        let pid_file = match &config.pid_file {
            Some(path) => Some(write_pid_file(path)?),
            None => None,
        };
        let mode = if config.reindex {
            ui.init_message("Reindexing blocks…");
            OpenMode::Reindex
        } else {
            ui.init_message("Loading block index…");
            OpenMode::Normal
        };
        if config.storage.reindex_chainstate && !config.reindex {
            // Every start rebuilds the chain state from the stored blocks (each is validated
            // again), which is what -reindex-chainstate asks for.
            tracing::info!("Rebuilding the chain state from the stored blocks (-reindex-chainstate)");
        }
        let blocks_dir = &config.storage.blocks_dir;
        let chain = ChainState::open_with(blocks_dir, crate::ChainParams::regtest(), mode)?;
        let state = Arc::new(NodeState::with_ui(chain, ui.clone()));
        {
            let mut inner = state.lock();
            inner.mempool.set_policy(config.mempool_policy.clone());
            inner.mempool.set_limits(crate::MempoolLimits {
                max_usage_bytes: config.mempool.max_size_mb.saturating_mul(1_000_000),
                expiry_secs: config.mempool.expiry_hours.saturating_mul(3600),
                min_relay_fee_per_kvb: config.mempool.min_relay_fee,
                ..crate::MempoolLimits::default()
            });
            let mut standard = *inner.mempool.standard();
            standard.dust_relay_fee_per_kvb = config.mempool.dust_relay_fee;
            inner.mempool.set_standard(standard);
        }
        // Core's mempool.dat, read back before anything can add to the pool.
        let mempool_file = config.chain_datadir.join(MEMPOOL_FILE_NAME);
        if config.mempool.persist && mempool_file.exists() {
            ui.init_message("Loading mempool…");
            if let Err(e) = state.import_mempool(&mempool_file, &crate::MempoolImport::default()) {
                tracing::warn!("Failed to deserialize mempool data on file: {e}. Continuing anyway.");
            }
        }
        if config.mock_time.is_some() {
            state.set_mock_time(config.mock_time);
        }
        let dispatcher = Arc::new(Dispatcher::new(state.clone()));
        dispatcher.set_log_path(config.chain_datadir.join(crate::logging::LOG_FILE_NAME));
        dispatcher.set_subversion(config.subversion());
        dispatcher.set_txindex(config.txindex);
        dispatcher.set_mempool_file(mempool_file.clone());
        let persist_mempool = config.mempool.persist.then_some(mempool_file);
        let mut app = App {
            state,
            dispatcher,
            rpc: None,
            net: None,
            wallets: None,
            pid_file,
            persist_mempool,
            _datadir_lock: lock,
        };
        if let Some(factory) = wallets {
            ui.init_message("Loading wallets…");
            // `app` is dropped on error, which stops whatever started so far.
            app.wallets = Some(app.start_wallets(factory).map_err(StartError::Wallet)?);
        }
        ui.init_message("Starting network threads…");
        let net =
            Connman::start(app.state.clone(), NetConfig::from_config(config)).map_err(StartError::Net)?;
        let net = Arc::new(net);
        app.dispatcher.set_net(Some(net.clone()));
        app.net = Some(net);
        if config.server {
            let rpc_config = RpcServerConfig::from_config(config);
            let server = RpcServer::start(app.dispatcher.clone(), &rpc_config).map_err(StartError::Rpc)?;
            app.rpc = Some(server);
        } else {
            tracing::info!("-server=0: no JSON-RPC server (stop the node with a signal)");
        }
        ui.init_message("Done loading");
        tracing::info!("init done");
        Ok(app)
    }

    fn start_wallets(&self, factory: WalletLoaderFactory) -> interfaces::Result<Arc<dyn WalletLoader>> {
        let dispatcher = self.dispatcher.clone();
        let make_chain: ChainMaker =
            Arc::new(move || -> Box<dyn Chain> { Box::new(NodeChain::new(dispatcher.clone())) });
        let loader = factory(make_chain)?;
        loader.register_rpcs()?;
        loader.load()?;
        Ok(Arc::from(loader))
    }

    /// The wallet loader, when the node runs wallets.
    pub fn wallet_loader(&self) -> Option<Arc<dyn WalletLoader>> {
        self.wallets.clone()
    }

    /// The chain, mempool and shutdown signal.
    pub fn state(&self) -> &Arc<NodeState> {
        &self.state
    }

    /// The RPC dispatcher.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// The P2P subsystem (where it listens, its peers).
    pub fn net(&self) -> Option<&Arc<Connman>> {
        self.net.as_ref()
    }

    /// Where the RPC server listens.
    pub fn rpc_addr(&self) -> Option<std::net::SocketAddr> {
        self.rpc.as_ref().map(RpcServer::local_addr)
    }

    /// Blocks until a shutdown is requested (`stop`, a signal, [`NodeState::request_shutdown`]).
    pub fn wait_for_shutdown(&self) {
        self.state.wait_for_shutdown();
    }

    /// Stops the RPC server (answering requests in flight first, removing the cookie), flushes
    /// and closes the wallets, closes the chain, removes the pid file and unlocks the datadir.
    pub fn stop(mut self) {
        tracing::info!("Shutdown: in progress...");
        self.shutdown();
        tracing::info!("Shutdown: done");
    }

    fn shutdown(&mut self) {
        self.state.request_shutdown();
        // Peers first (as Core's `StopNode`): nothing arrives while the rest stops.
        if let Some(net) = self.net.take() {
            self.dispatcher.set_net(None);
            net.stop();
        }
        if let Some(rpc) = self.rpc.take() {
            rpc.stop();
        }
        if let Some(wallets) = self.wallets.take() {
            if let Err(e) = wallets.stop() {
                tracing::error!(error = %e, "stopping the wallets failed");
            }
        }
        // The chain needs no flush: every block is on disk before it becomes the tip. The pool is
        // written down for the next start (-persistmempool), as bitcoind does at shutdown.
        if let Some(path) = self.persist_mempool.take() {
            if let Err(e) = self.state.save_mempool(&path) {
                tracing::warn!("Failed to dump mempool: {e}. Continuing anyway.");
            }
        }
        self.pid_file.take();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn write_pid_file(path: &Path) -> Result<PathFileGuard, StartError> {
    std::fs::write(path, format!("{}\n", std::process::id()))
        .map_err(|source| StartError::PidFile { path: path.to_owned(), source })?;
    Ok(PathFileGuard(path.to_owned()))
}
