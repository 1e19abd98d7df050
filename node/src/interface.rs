//! The node as other components see it: [`NodeInit`] (`interfaces::Init`, the factory a
//! process hands out first) and the `interfaces::Node` it makes, for a front end.
//!
//! A gui in this process, or in another one through the IPC glue, drives the node only through
//! these: it subscribes to start-up messages, calls `Node::init`, shows the tip as it changes,
//! runs RPC commands in its console, reaches the wallets through `Node::wallet_loader`, and
//! finally calls `Node::shutdown`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bitcoin::hashes::Hash;
use config::Config;
use interfaces::{BlockTip, Chain, Echo, Error, Handler, Init, Mining, Node, Progress, Rpc, WalletLoader};

use crate::app::{App, DatadirLock, WalletLoaderFactory};
use crate::rpc::Dispatcher;
use crate::ui::UiSignals;
use crate::{NodeChain, NodeState};

/// What every handle of one node shares.
struct Shared {
    config: Config,
    wallets: Mutex<Option<WalletLoaderFactory>>,
    ui: Arc<UiSignals>,
    app: Mutex<Option<App>>,
    /// A shutdown asked for before `init` finished (or before it was called).
    early_shutdown: AtomicBool,
    /// `Node::init` runs once.
    init_called: AtomicBool,
    /// `Node::shutdown` was called: a start still in progress must stop what it started.
    shutdown_called: AtomicBool,
    /// Held while the node stops.
    stopping: Mutex<()>,
}

impl Shared {
    fn app(&self) -> MutexGuard<'_, Option<App>> {
        self.app.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shutdown(&self) {
        self.early_shutdown.store(true, Ordering::SeqCst);
        self.shutdown_called.store(true, Ordering::SeqCst);
        // A second caller returns only once the first one's stop is complete (the daemon exits
        // after its own call: a stop a front end started must not be cut short).
        let _stopping = self.stopping.lock().unwrap_or_else(PoisonError::into_inner);
        // Out of the app lock first: stopping waits for RPC calls in flight, which may use the
        // node.
        let app = self.app().take();
        if let Some(app) = app {
            app.stop();
        }
    }

    /// The running node's state and dispatcher, cloned out of the lock.
    fn running(&self) -> interfaces::Result<(Arc<NodeState>, Arc<Dispatcher>)> {
        match &*self.app() {
            Some(app) => Ok((app.state().clone(), app.dispatcher().clone())),
            None => Err(Error::unavailable("the node is not running (call init first)")),
        }
    }
}

/// The node process's `Init`: makes [`Node`] handles (all for the same node), and, once the node
/// runs, `Chain`s, `Rpc`s, `Echo`s and `Mining`s (`mining::NodeMining`). Clones share the node.
#[derive(Clone)]
pub struct NodeInit {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for NodeInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeInit").field("datadir", &self.shared.config.datadir).finish_non_exhaustive()
    }
}

impl NodeInit {
    /// The node `config` describes, not started yet; `wallets` makes its wallet loader at
    /// `Node::init` (`None`: no wallets).
    pub fn new(config: Config, wallets: Option<WalletLoaderFactory>) -> NodeInit {
        let shared = Shared {
            config,
            wallets: Mutex::new(wallets),
            ui: Arc::default(),
            app: Mutex::new(None),
            early_shutdown: AtomicBool::new(false),
            init_called: AtomicBool::new(false),
            shutdown_called: AtomicBool::new(false),
            stopping: Mutex::new(()),
        };
        NodeInit { shared: Arc::new(shared) }
    }

    /// A node its daemon already started with `ui` as its signals: `Node::init` answers that it
    /// was called, everything else serves `app` (the daemon hands this to its `-ipcbind` clients).
    pub fn running(config: Config, app: App, ui: Arc<UiSignals>) -> NodeInit {
        let shared = Shared {
            config,
            wallets: Mutex::new(None),
            ui,
            app: Mutex::new(Some(app)),
            early_shutdown: AtomicBool::new(false),
            init_called: AtomicBool::new(true),
            shutdown_called: AtomicBool::new(false),
            stopping: Mutex::new(()),
        };
        NodeInit { shared: Arc::new(shared) }
    }

    /// The chain, mempool and shutdown signal, while the node runs.
    pub fn state(&self) -> Option<Arc<NodeState>> {
        self.shared.app().as_ref().map(|app| app.state().clone())
    }

    /// Blocks until a shutdown is requested (`stop`, a signal, `Node::start_shutdown`); at once
    /// if the node does not run.
    pub fn wait_for_shutdown(&self) {
        if let Some(state) = self.state() {
            state.wait_for_shutdown();
        }
    }

    /// Stops the node (see [`App::stop`]) if it runs; later calls do nothing.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }
}

impl Init for NodeInit {
    fn make_node(&self) -> interfaces::Result<Box<dyn Node>> {
        Ok(Box::new(NodeHandle { shared: self.shared.clone() }))
    }

    fn make_chain(&self) -> interfaces::Result<Box<dyn Chain>> {
        let (_, dispatcher) = self.shared.running()?;
        Ok(Box::new(NodeChain::new(dispatcher)))
    }

    fn make_echo(&self) -> interfaces::Result<Box<dyn Echo>> {
        Ok(Box::new(EchoServer))
    }

    fn make_rpc(&self) -> interfaces::Result<Box<dyn Rpc>> {
        let (_, dispatcher) = self.shared.running()?;
        Ok(Box::new(dispatcher))
    }

    fn make_mining(&self) -> interfaces::Result<Box<dyn Mining>> {
        let (state, _) = self.shared.running()?;
        Ok(Box::new(crate::mining::NodeMining::new(state)))
    }
}

/// Answers what it is given.
struct EchoServer;

impl Echo for EchoServer {
    fn echo(&self, echo: String) -> interfaces::Result<String> {
        Ok(echo)
    }
}

/// One front end's handle on the node.
struct NodeHandle {
    shared: Arc<Shared>,
}

impl Node for NodeHandle {
    fn init(&self) -> interfaces::Result<()> {
        if self.shared.init_called.swap(true, Ordering::SeqCst) {
            return Err(Error::already_exists("init was already called"));
        }
        let wallets = self.shared.wallets.lock().unwrap_or_else(PoisonError::into_inner).take();
        // Without the app lock: start-up messages go to callbacks that may call back in here.
        let config = &self.shared.config;
        let started = DatadirLock::acquire(&config.chain_datadir)
            .and_then(|lock| App::start(config, lock, wallets, self.shared.ui.clone()))
            .map_err(|e| Error::failed(e.to_string()))?;
        let mut app = self.shared.app();
        if self.shared.shutdown_called.load(Ordering::SeqCst) {
            // `shutdown` ran while this was starting: it found nothing to stop, so stop here.
            drop(app);
            started.stop();
            return Err(Error::unavailable("the node was shut down while it started"));
        }
        if self.shared.early_shutdown.load(Ordering::SeqCst) {
            started.state().request_shutdown();
        }
        *app = Some(started);
        Ok(())
    }

    fn start_shutdown(&self) -> interfaces::Result<()> {
        self.shared.early_shutdown.store(true, Ordering::SeqCst);
        if let Some(app) = &*self.shared.app() {
            app.state().request_shutdown();
        }
        Ok(())
    }

    fn shutdown_requested(&self) -> interfaces::Result<bool> {
        Ok(self.shared.early_shutdown.load(Ordering::SeqCst)
            || self.shared.app().as_ref().is_some_and(|app| app.state().shutdown_requested()))
    }

    fn shutdown(&self) -> interfaces::Result<()> {
        self.shared.shutdown();
        Ok(())
    }

    fn get_block_count(&self) -> interfaces::Result<u32> {
        let (state, _) = self.shared.running()?;
        let height = state.lock().chain.height();
        Ok(height)
    }

    fn get_best_block_hash(&self) -> interfaces::Result<[u8; 32]> {
        let (state, _) = self.shared.running()?;
        let tip = state.lock().chain.tip();
        Ok(tip.to_byte_array())
    }

    fn get_last_block_time(&self) -> interfaces::Result<i64> {
        let (state, _) = self.shared.running()?;
        let inner = state.lock();
        let tip = inner.chain.tip();
        Ok(inner.chain.header(&tip).map_or(0, |header| i64::from(header.time)))
    }

    fn get_mempool_size(&self) -> interfaces::Result<u64> {
        let (state, _) = self.shared.running()?;
        let size = state.lock().mempool.len();
        Ok(u64::try_from(size).unwrap_or(u64::MAX))
    }

    fn get_verification_progress(&self) -> interfaces::Result<f64> {
        // Blocks are only ever made here: the chain is always fully verified.
        Ok(1.0)
    }

    fn is_initial_block_download(&self) -> interfaces::Result<bool> {
        Ok(false)
    }

    fn execute_rpc(&self, request: String, uri: String) -> interfaces::Result<String> {
        let (_, dispatcher) = self.shared.running()?;
        Ok(dispatcher.execute(&request, &uri, "").body)
    }

    fn list_rpc_commands(&self) -> interfaces::Result<Vec<String>> {
        let (_, dispatcher) = self.shared.running()?;
        let mut names: Vec<String> = dispatcher.method_list().into_iter().map(|(_, name, _)| name).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn wallet_loader(&self) -> interfaces::Result<Box<dyn WalletLoader>> {
        match self.shared.app().as_ref().map(App::wallet_loader) {
            Some(Some(loader)) => Ok(Box::new(loader)),
            Some(None) => Err(Error::unavailable("wallets are disabled")),
            None => Err(Error::unavailable("the node is not running (call init first)")),
        }
    }

    fn handle_notify_block_tip(
        &self,
        callback: Box<dyn Fn(BlockTip) -> interfaces::Result<()> + Send + Sync>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        Ok(self.shared.ui.handle_notify_block_tip(Arc::from(callback)))
    }

    fn handle_init_message(
        &self,
        callback: Box<dyn Fn(String) -> interfaces::Result<()> + Send + Sync>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        Ok(self.shared.ui.handle_init_message(Arc::from(callback)))
    }

    fn handle_show_progress(
        &self,
        callback: Box<dyn Fn(Progress) -> interfaces::Result<()> + Send + Sync>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        Ok(self.shared.ui.handle_show_progress(Arc::from(callback)))
    }
}
