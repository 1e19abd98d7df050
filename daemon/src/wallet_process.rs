//! The node's side of its wallet process (`mpx-multiprocess-node`): [`WalletProcess`] spawns
//! `mpx-wallet -ipcfd N`, hands it a `Chain` through `Init.makeWalletLoader(chain)`, and is the
//! node's `WalletLoader` (every call forwarded to the one in the child).
//!
//! **Supervision.** A thread per child waits for its connection to end. If that happens while
//! the node is not stopping (the child crashed or was killed), the exit is logged, the child's
//! RPC methods answer "restarting" (code -28, which `-rpcwait` clients retry) instead of
//! vanishing (stand-ins registered ahead of the child's own handlers take over the moment those
//! go), and a new child is started after a back-off (1 s, doubling to 30 s; back to 1 s
//! once a child has lived a minute). The new child registers its RPCs, loads the start-up
//! wallets and every wallet the old one had loaded, and takes over. What the old child
//! committed is on disk (the wallet writes a payment before broadcasting it), so nothing
//! acknowledged is lost.
//!
//! **Stop.** `WalletLoader::stop` (the node's shutdown) asks the child to stop its wallets
//! (flushed), closes the connection and waits, bounded, for the child to exit; one that does
//! not is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use config::Config;
use interfaces::{
    BlockRef, Chain, ChainNotifications, Error, FeeEstimate, FoundBlock, FoundBlockRequest, Handler,
    RpcActor, RpcCommand, RpcError, RpcReply, RpcRequest, Wallet, WalletLoader,
};
use ipc::{ChildProcess, Connection, Ipc};
use node::app::{ChainMaker, WalletLoaderFactory};

use crate::WALLET_EXECUTABLE;

/// First wait before starting a crashed child again; doubles up to [`MAX_RESTART_DELAY`].
const FIRST_RESTART_DELAY: Duration = Duration::from_secs(1);
/// Longest wait between restarts.
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
/// A child that lived this long is taken as healthy: the next restart waits the first delay.
const HEALTHY_LIFETIME: Duration = Duration::from_secs(60);
/// How long a child may take to exit after its connection closed before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// The node's wallet-loader factory for wallets in a child process: fails at once (before the
/// chain loads) if `mpx-wallet` is not next to the node's executable.
pub fn factory(ipc: Arc<Ipc>, config: &Config) -> Result<WalletLoaderFactory, String> {
    let exe = ipc::sibling_executable(WALLET_EXECUTABLE).ok_or_else(|| {
        let own = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        format!("cannot start the wallet process: {WALLET_EXECUTABLE} not found next to {own}")
    })?;
    let args = child_args(config);
    Ok(Box::new(move |make_chain| {
        let process = WalletProcess::start(ipc, exe, args, make_chain)?;
        Ok(Box::new(process) as Box<dyn WalletLoader>)
    }))
}

/// The child's options besides `-ipcfd`: everything that decides where its wallets and its log
/// are, from the node's own configuration (not from a config file of its own, so both
/// processes always agree).
pub(crate) fn child_args(config: &Config) -> Vec<OsString> {
    let mut args =
        vec![OsString::from("-noconf"), OsString::from(format!("-datadir={}", config.datadir.display()))];
    args.extend(log_args(config).into_iter().map(OsString::from));
    args.push(OsString::from(format!("-printtoconsole={}", u8::from(config.print_to_console))));
    args.extend(config.wallets.iter().map(|name| OsString::from(format!("-wallet={name}"))));
    // The wallet options the child applies itself.
    if let Some(command) = &config.wallet_options.notify {
        args.push(OsString::from(format!("-walletnotify={command}")));
    }
    if let Some(rate) = config.wallet_options.fallback_fee {
        args.push(OsString::from(format!("-fallbackfee={}.{:08}", rate / 100_000_000, rate % 100_000_000)));
    }
    args
}

/// The node's log options for the child, so both processes write the same lines to the same
/// file. The child never shrinks the file: the node did, and has it open.
fn log_args(config: &Config) -> Vec<String> {
    let log = &config.log;
    let mut args = Vec::new();
    if log.debug_all {
        args.push("-debug=1".to_string());
        let excluded = config::DebugCategory::ALL.into_iter().filter(|c| !config.debug.contains(*c));
        args.extend(excluded.map(|category| format!("-debugexclude={category}")));
    } else {
        args.extend(config.debug.iter().map(|category| format!("-debug={category}")));
    }
    args.push(match &log.file {
        Some(file) => format!("-debuglogfile={}", file.display()),
        None => "-nodebuglogfile".to_string(),
    });
    args.push(format!("-loglevel={}", log.level));
    for (category, level) in &log.category_levels {
        let category = category.map_or("all", config::DebugCategory::name);
        args.push(format!("-loglevel={category}:{level}"));
    }
    for (name, on) in [
        ("logtimestamps", log.timestamps),
        ("logtimemicros", log.time_micros),
        ("logthreadnames", log.thread_names),
        ("logsourcelocations", log.source_locations),
        ("logratelimit", log.rate_limit),
    ] {
        args.push(format!("-{name}={}", u8::from(on)));
    }
    args.push("-noshrinkdebugfile".to_string());
    args
}

/// The node's wallet loader when the wallets live in a child process.
pub struct WalletProcess {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WalletProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletProcess").field("exe", &self.shared.exe).finish_non_exhaustive()
    }
}

/// What the loader and the supervising threads share.
struct Shared {
    ipc: Arc<Ipc>,
    exe: PathBuf,
    args: Vec<OsString>,
    make_chain: ChainMaker,
    state: Mutex<State>,
    /// Signalled when a child exits or the node starts stopping.
    changed: Condvar,
    /// A "restarting" stand-in for each RPC method a child registered, registered just before
    /// the child's first one. The dispatcher asks handlers in registration order and the
    /// stand-in passes unless it is the last: it answers only while no child's handler follows
    /// it (the child died), until a new child registers again.
    stand_ins: Mutex<BTreeMap<String, Box<dyn Handler>>>,
    /// Wallets a child has loaded (start-up, `createwallet`, `loadwallet`, less `unloadwallet`):
    /// a restarted child loads them again.
    loaded: Mutex<BTreeSet<String>>,
}

#[derive(Default)]
struct State {
    running: Option<Running>,
    /// Incremented for each child; a monitor only clears its own.
    generation: u64,
    /// The generation of the last child that has exited.
    exited: u64,
    stopping: bool,
    /// The node asked for the RPCs / the start-up load: a restarted child does the same.
    rpcs_registered: bool,
    wallets_loaded: bool,
    /// The wait before the last restart (zero before any).
    restart_delay: Duration,
}

struct Running {
    loader: Arc<dyn WalletLoader>,
    connection: Connection,
    pid: u32,
    /// Kept for the connection's lifetime: the child's bootstrap object.
    _init: Box<dyn interfaces::Init>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WalletProcess {
    fn start(
        ipc: Arc<Ipc>,
        exe: PathBuf,
        args: Vec<OsString>,
        make_chain: ChainMaker,
    ) -> interfaces::Result<Self> {
        let shared = Arc::new(Shared {
            ipc,
            exe,
            args,
            make_chain,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stand_ins: Mutex::default(),
            loaded: Mutex::default(),
        });
        Shared::spawn(&shared)?;
        Ok(WalletProcess { shared })
    }

    fn current(&self) -> interfaces::Result<Arc<dyn WalletLoader>> {
        match &lock(&self.shared.state).running {
            Some(running) => Ok(running.loader.clone()),
            None => Err(Error::unavailable("the wallet process is restarting; try again shortly")),
        }
    }
}

impl Shared {
    /// Starts a child and makes it the running one. A child that cannot be set up is killed.
    fn spawn(self: &Arc<Self>) -> interfaces::Result<()> {
        let spawned = self.ipc.spawn(&self.exe, &self.args).map_err(|e| Error::failed(e.to_string()))?;
        let ipc::SpawnedProcess { init, connection, mut child } = spawned;
        let pid = child.pid();
        let chain = RecordingChain { inner: (self.make_chain)(), shared: Arc::downgrade(self) };
        let attached = init.make_wallet_loader(Box::new(chain)).map(Arc::<dyn WalletLoader>::from);
        let loader = match attached {
            Ok(loader) => loader,
            Err(e) => {
                let _ = child.kill();
                return Err(e.context("the wallet process"));
            }
        };
        let (replay_rpcs, replay_load) = {
            let state = lock(&self.state);
            (state.rpcs_registered, state.wallets_loaded)
        };
        if let Err(e) = self.replay(&loader, replay_rpcs, replay_load) {
            let _ = child.kill();
            return Err(e);
        }
        let (generation, late) = {
            let mut state = lock(&self.state);
            state.generation += 1;
            let running = Running { loader, connection: connection.clone(), pid, _init: init };
            // The node began stopping while this child started (a restart): stop it here, as
            // `stop` would have.
            let late = if state.stopping { Some(running) } else { state.running.replace(running) };
            (state.generation, late)
        };
        if let Some(late) = late {
            if let Err(e) = late.loader.stop() {
                tracing::error!("stopping the wallets of a wallet process started during shutdown: {e}");
            }
            late.connection.disconnect();
        }
        tracing::info!("Wallet process {} pid {pid} started", self.exe.display());
        let shared = self.clone();
        let monitor = std::thread::Builder::new()
            .name("wallet-monitor".into())
            .spawn(move || shared.monitor(generation, connection, child));
        if let Err(e) = monitor {
            tracing::error!("cannot watch the wallet process: {e}");
        }
        Ok(())
    }

    /// Brings a restarted child to where the node had the previous one.
    fn replay(&self, loader: &Arc<dyn WalletLoader>, rpcs: bool, load: bool) -> interfaces::Result<()> {
        if rpcs {
            loader.register_rpcs()?;
        }
        if load {
            loader.load()?;
            let already: BTreeSet<String> = loader.list_wallets()?.into_iter().collect();
            let wanted: Vec<String> =
                lock(&self.loaded).iter().filter(|n| !already.contains(*n)).cloned().collect();
            for name in wanted {
                if let Err(e) = loader.load_wallet(name.clone()) {
                    tracing::error!("the restarted wallet process cannot load wallet \"{name}\": {e}");
                }
            }
        }
        Ok(())
    }

    /// Waits for child `generation` to go, reaps it, and starts another unless the node stops.
    fn monitor(self: Arc<Self>, generation: u64, connection: Connection, child: ChildProcess) {
        let started = Instant::now();
        connection.wait_disconnected();
        let pid = child.pid();
        let status = crate::child::reap_within(child, EXIT_GRACE, |pid| {
            tracing::error!(
                "the wallet process pid {pid} did not exit after its connection closed; killing it"
            )
        });
        let stopping = {
            let mut state = lock(&self.state);
            if state.running.as_ref().is_some_and(|r| r.pid == pid) {
                state.running = None;
            }
            state.exited = state.exited.max(generation);
            self.changed.notify_all();
            state.stopping
        };
        if stopping {
            return;
        }
        tracing::error!(
            "Wallet process {} pid {pid} exited unexpectedly ({status}); restarting it",
            self.exe.display()
        );
        // A child that keeps dying young is started less and less often.
        let mut delay = {
            let mut state = lock(&self.state);
            state.restart_delay = if started.elapsed() >= HEALTHY_LIFETIME {
                FIRST_RESTART_DELAY
            } else {
                (state.restart_delay * 2).clamp(FIRST_RESTART_DELAY, MAX_RESTART_DELAY)
            };
            state.restart_delay
        };
        loop {
            if self.sleep_unless_stopping(delay) {
                return;
            }
            match Shared::spawn(&self) {
                Ok(()) => return,
                Err(e) => {
                    delay = (delay * 2).min(MAX_RESTART_DELAY);
                    tracing::error!("cannot restart the wallet process (next try in {delay:?}): {e}");
                }
            }
        }
    }

    /// Waits `delay`; `true` if the node started stopping meanwhile.
    fn sleep_unless_stopping(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut state = lock(&self.state);
        while !state.stopping {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state =
                self.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    fn stop(&self) -> interfaces::Result<()> {
        let running = {
            let mut state = lock(&self.state);
            state.stopping = true;
            self.changed.notify_all();
            state.running.take()
        };
        lock(&self.stand_ins).clear();
        let Some(running) = running else { return Ok(()) };
        let result = running.loader.stop();
        let generation = lock(&self.state).generation;
        let Running { loader, connection, pid, _init } = running;
        drop(loader);
        drop(_init);
        connection.disconnect();
        // The monitor reaps the child (killing it after EXIT_GRACE); wait for that.
        let deadline = Instant::now() + EXIT_GRACE + Duration::from_secs(2);
        let mut state = lock(&self.state);
        while state.exited < generation {
            let now = Instant::now();
            if now >= deadline {
                tracing::error!("the wallet process pid {pid} did not exit");
                break;
            }
            state =
                self.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        result
    }

    /// Registers the stand-in for `command`'s method, unless there is one.
    fn add_stand_in(&self, command: &RpcCommand) {
        let mut stand_ins = lock(&self.stand_ins);
        if stand_ins.contains_key(&command.name) || lock(&self.state).stopping {
            return;
        }
        let stand_in = RpcCommand { actor: Arc::new(Restarting), ..command.clone() };
        match (self.make_chain)().handle_rpc(stand_in) {
            Ok(handler) => {
                stand_ins.insert(command.name.clone(), handler);
            }
            Err(e) => tracing::error!("cannot register a stand-in for {}: {e}", command.name),
        }
    }
}

/// The "restarting" stand-in for a wallet method while no child runs.
struct Restarting;

impl RpcActor for Restarting {
    fn execute(&self, request: RpcRequest) -> interfaces::Result<RpcReply> {
        Ok(restarting_reply(request.last_handler))
    }
}

/// What a method of a dead child answers: "restarting" (Bitcoin Core's warm-up code, which
/// `-rpcwait` clients retry) when no later handler may serve the call, else "not mine".
fn restarting_reply(last_handler: bool) -> RpcReply {
    if !last_handler {
        return RpcReply::not_handled();
    }
    RpcReply::error(
        RpcError::IN_WARMUP,
        "Wallet process restarting (the previous one exited); try again shortly",
    )
}

impl WalletLoader for WalletProcess {
    fn register_rpcs(&self) -> interfaces::Result<()> {
        lock(&self.shared.state).rpcs_registered = true;
        self.current()?.register_rpcs()
    }

    fn load(&self) -> interfaces::Result<()> {
        lock(&self.shared.state).wallets_loaded = true;
        let loader = self.current()?;
        loader.load()?;
        lock(&self.shared.loaded).extend(loader.list_wallets()?);
        Ok(())
    }

    fn flush(&self) -> interfaces::Result<()> {
        self.current()?.flush()
    }

    fn stop(&self) -> interfaces::Result<()> {
        self.shared.stop()
    }

    fn create_wallet(
        &self,
        name: String,
        options: interfaces::CreateWalletOptions,
    ) -> interfaces::Result<Box<dyn Wallet>> {
        let wallet = self.current()?.create_wallet(name.clone(), options)?;
        lock(&self.shared.loaded).insert(name);
        Ok(wallet)
    }

    fn load_wallet(&self, name: String) -> interfaces::Result<Box<dyn Wallet>> {
        let wallet = self.current()?.load_wallet(name.clone())?;
        lock(&self.shared.loaded).insert(name);
        Ok(wallet)
    }

    fn unload_wallet(&self, name: String) -> interfaces::Result<()> {
        self.current()?.unload_wallet(name.clone())?;
        lock(&self.shared.loaded).remove(&name);
        Ok(())
    }

    fn list_wallets(&self) -> interfaces::Result<Vec<String>> {
        self.current()?.list_wallets()
    }

    fn list_wallet_dir(&self) -> interfaces::Result<Vec<String>> {
        self.current()?.list_wallet_dir()
    }

    fn get_wallet(&self, name: String) -> interfaces::Result<Box<dyn Wallet>> {
        self.current()?.get_wallet(name)
    }

    fn get_wallets(&self) -> interfaces::Result<Vec<Box<dyn Wallet>>> {
        self.current()?.get_wallets()
    }

    fn handle_load_wallet(
        &self,
        callback: Box<dyn Fn(Box<dyn Wallet>) -> interfaces::Result<()> + Send + Sync>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        self.current()?.handle_load_wallet(callback)
    }
}

/// The chain a child gets: the node's, noting each RPC method the child registers (for the
/// stand-ins) and watching the wallet methods that load and unload wallets (for a restart).
struct RecordingChain {
    inner: Box<dyn Chain>,
    shared: std::sync::Weak<Shared>,
}

impl Chain for RecordingChain {
    fn get_height(&self) -> interfaces::Result<Option<u32>> {
        self.inner.get_height()
    }
    fn get_tip(&self) -> interfaces::Result<Option<BlockRef>> {
        self.inner.get_tip()
    }
    fn get_block_hash(&self, height: u32) -> interfaces::Result<Option<[u8; 32]>> {
        self.inner.get_block_hash(height)
    }
    fn find_block(
        &self,
        hash: [u8; 32],
        request: FoundBlockRequest,
    ) -> interfaces::Result<Option<FoundBlock>> {
        self.inner.find_block(hash, request)
    }
    fn is_in_mempool(&self, txid: [u8; 32]) -> interfaces::Result<bool> {
        self.inner.is_in_mempool(txid)
    }
    fn broadcast_transaction(&self, tx: Vec<u8>, max_tx_fee: i64) -> interfaces::Result<[u8; 32]> {
        self.inner.broadcast_transaction(tx, max_tx_fee)
    }
    fn estimate_fee(&self, target_blocks: u32) -> interfaces::Result<Option<FeeEstimate>> {
        self.inner.estimate_fee(target_blocks)
    }
    fn relay_min_fee(&self) -> interfaces::Result<i64> {
        self.inner.relay_min_fee()
    }
    fn handle_notifications(
        &self,
        notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        self.inner.handle_notifications(notifications)
    }
    fn wait_for_notifications_if_tip_changed(&self, old_tip: [u8; 32]) -> interfaces::Result<()> {
        self.inner.wait_for_notifications_if_tip_changed(old_tip)
    }
    fn handle_rpc(&self, command: RpcCommand) -> interfaces::Result<Box<dyn Handler>> {
        let Some(shared) = self.shared.upgrade() else {
            return self.inner.handle_rpc(command);
        };
        shared.add_stand_in(&command);
        let actor = Arc::new(WatchingActor { inner: command.actor.clone(), shared: Arc::downgrade(&shared) });
        self.inner.handle_rpc(RpcCommand { actor, ..command })
    }
    fn request_mempool_transactions(
        &self,
        notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<()> {
        self.inner.request_mempool_transactions(notifications)
    }
    fn init_message(&self, message: String) -> interfaces::Result<()> {
        self.inner.init_message(message)
    }
    fn show_progress(&self, title: String, percent: u32, resume_possible: bool) -> interfaces::Result<()> {
        self.inner.show_progress(title, percent, resume_possible)
    }
    fn shutdown_requested(&self) -> interfaces::Result<bool> {
        self.inner.shutdown_requested()
    }
}

/// A child's RPC method, noting which wallets `createwallet`, `loadwallet` and `unloadwallet`
/// load and unload.
struct WatchingActor {
    inner: Arc<dyn RpcActor>,
    shared: std::sync::Weak<Shared>,
}

impl RpcActor for WatchingActor {
    fn execute(&self, request: RpcRequest) -> interfaces::Result<RpcReply> {
        let method = request.method.clone();
        let last_handler = request.last_handler;
        let unloading = (method == "unloadwallet").then(|| unloaded_wallet_name(&request)).flatten();
        let reply = match self.inner.execute(request) {
            Ok(reply) => reply,
            // The child died before the node noticed: the same answer as the stand-ins give.
            Err(e) if e.is_disconnected() => return Ok(restarting_reply(last_handler)),
            Err(e) => return Err(e),
        };
        if !reply.handled || reply.error.is_some() {
            return Ok(reply);
        }
        let Some(shared) = self.shared.upgrade() else { return Ok(reply) };
        match method.as_str() {
            "createwallet" | "loadwallet" => {
                let result: serde_json::Value = serde_json::from_str(&reply.result).unwrap_or_default();
                if let Some(name) = result.get("name").and_then(serde_json::Value::as_str) {
                    lock(&shared.loaded).insert(name.to_owned());
                }
            }
            "unloadwallet" => {
                if let Some(name) = unloading {
                    lock(&shared.loaded).remove(&name);
                }
            }
            _ => {}
        }
        Ok(reply)
    }
}

/// The wallet `unloadwallet` names: its first parameter, else the `/wallet/<name>` endpoint.
fn unloaded_wallet_name(request: &RpcRequest) -> Option<String> {
    let params: serde_json::Value = serde_json::from_str(&request.params).unwrap_or_default();
    if let Some(name) = params.get(0).and_then(serde_json::Value::as_str) {
        return Some(name.to_owned());
    }
    wallet::wallet_from_uri(&request.uri)
}
