//! [`Loader`]: the [`interfaces::WalletLoader`] that creates, loads, lists and unloads wallets and
//! registers the wallet RPCs.
//!
//! Lifecycle as the node drives it: [`Loader::new`] → `register_rpcs` → `load` (the start-up
//! wallets) → RPCs / `create_wallet` / `load_wallet` / `unload_wallet` → `stop` (also on drop).
//!
//! Loading a wallet, step by step: validate the name; reserve it (a second load of the same name,
//! concurrent or not, fails); open (or create) the file and read it; build the BDK wallet and its
//! signers; attach it to the chain (see [`crate::sync`]); add it to the loaded list; update the
//! load-on-startup list if asked; call the `handle_load_wallet` callbacks. No lock of the loader is
//! held while the wallet attaches, so RPCs for other wallets keep running.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bdk_wallet::chain::BlockId;
use bdk_wallet::KeychainKind;
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Network};
use interfaces::{Chain, CleanupHandler, CreateWalletOptions, Error, ErrorKind, Handler, Result, Wallet};

use crate::keys::{new_descriptors, Signers};
use crate::names;
use crate::state::{now, Keyed, State};
use crate::store::{Flags, PrivateDescriptors, Store, StoreError};
use crate::wallet::{lock, WalletHandle, WalletInner};

/// How long a start-up wallet waits for a lock another process holds.
const START_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the wallets live and which load at start-up: what the executable hands the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletSettings {
    /// The wallets directory, `<datadir>/regtest/wallets` (created when missing).
    pub wallets_dir: PathBuf,
    /// The chain the wallets are for (addresses, key derivation).
    pub network: Network,
    /// `-wallet=<name>` values, loaded at start-up before those marked load-on-startup.
    pub startup_wallets: Vec<String>,
    /// `-fallbackfee`, sat/kvB: the rate a payment uses when the node has no estimate; `None`
    /// (`-fallbackfee=0`) refuses to pay without one, as bitcoind. [`DEFAULT_FALLBACK_FEE`]
    /// when the option is not given (see the wallet README for why not bitcoind's 0).
    pub fallback_fee: Option<i64>,
    /// `-walletnotify=<cmd>`: run through the shell when a transaction enters the wallet and when
    /// it is confirmed (`%s` txid, `%w` wallet name, `%b` block hash or `unconfirmed`, `%h`
    /// height or -1), as bitcoind runs it.
    pub notify: Option<String>,
}

/// The fallback fee rate when `-fallbackfee` is not given, sat/kvB: 0.0002 BTC/kvB, what Bitcoin
/// Core's test framework and most regtest setups give bitcoind (whose own default, 0, would make
/// every payment without a fee estimate fail, and a regtest node never has one).
pub const DEFAULT_FALLBACK_FEE: i64 = 20_000;

impl WalletSettings {
    /// Regtest settings for `wallets_dir`, with no start-up wallets.
    pub fn regtest(wallets_dir: impl Into<PathBuf>) -> WalletSettings {
        WalletSettings {
            wallets_dir: wallets_dir.into(),
            network: Network::Regtest,
            startup_wallets: Vec::new(),
            fallback_fee: Some(DEFAULT_FALLBACK_FEE),
            notify: None,
        }
    }
}

type LoadCallback = Arc<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>;

/// The loader's shared part; RPC actors hold it weakly.
pub(crate) struct LoaderInner {
    pub(crate) chain: Arc<dyn Chain>,
    pub(crate) settings: WalletSettings,
    /// Loaded wallets, in load order.
    wallets: Mutex<Vec<Arc<WalletInner>>>,
    /// Names being loaded or created right now.
    loading: Mutex<HashSet<String>>,
    /// `wallets/settings.json`, one update at a time.
    startup_list: names::StartupList,
    load_callbacks: Arc<Mutex<Vec<(u64, LoadCallback)>>>,
    next_id: AtomicU64,
    rpc_handlers: Mutex<Vec<Box<dyn Handler>>>,
}

impl std::fmt::Debug for LoaderInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoaderInner").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// How a wallet comes to be loaded.
enum Open {
    Load,
    Create(CreateWalletOptions),
}

impl LoaderInner {
    /// The loaded wallet `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<WalletInner>> {
        lock(&self.wallets).iter().find(|w| w.name == name).cloned()
    }

    /// Every loaded wallet, in load order.
    pub(crate) fn loaded(&self) -> Vec<Arc<WalletInner>> {
        lock(&self.wallets).clone()
    }

    /// Creates wallet `name`.
    pub(crate) fn create(&self, name: &str, options: CreateWalletOptions) -> Result<Arc<WalletInner>> {
        let load_on_startup = options.load_on_startup;
        self.open(name, Open::Create(options), load_on_startup)
    }

    /// Loads wallet `name`.
    pub(crate) fn load(&self, name: &str, load_on_startup: Option<bool>) -> Result<Arc<WalletInner>> {
        self.open(name, Open::Load, load_on_startup)
    }

    fn open(&self, name: &str, how: Open, load_on_startup: Option<bool>) -> Result<Arc<WalletInner>> {
        names::validate_name(name)?;
        if self.get(name).is_some() {
            return Err(match how {
                Open::Load => Error::already_exists(format!("Wallet \"{name}\" is already loaded.")),
                Open::Create(_) => self.exists_error(name),
            });
        }
        if !lock(&self.loading).insert(name.to_string()) {
            return Err(match how {
                // Core's LoadWallet: a failed load (-4), not an already loaded wallet (-35).
                Open::Load => Error::failed("Wallet already loading."),
                Open::Create(_) => self.exists_error(name),
            });
        }
        // Another thread may have finished loading it between the check above and the reservation.
        let result = match self.get(name) {
            Some(_) => Err(Error::already_exists(format!("Wallet \"{name}\" is already loaded."))),
            None => self.open_reserved(name, how),
        };
        lock(&self.loading).remove(name);
        let wallet = result?;
        if let Some(load) = load_on_startup {
            if let Err(e) = self.startup_list.update(name, load) {
                tracing::warn!(target: "wallet", error = %e, "could not update the load-on-startup list");
            }
        }
        let callbacks: Vec<LoadCallback> =
            lock(&self.load_callbacks).iter().map(|(_, c)| c.clone()).collect();
        for callback in callbacks {
            if let Err(e) = callback(Box::new(WalletHandle(wallet.clone()))) {
                tracing::warn!(target: "wallet", error = %e, "load-wallet callback failed");
            }
        }
        Ok(wallet)
    }

    fn exists_error(&self, name: &str) -> Error {
        let path = names::wallet_dir(&self.settings.wallets_dir, name);
        Error::already_exists(format!(
            "Failed to create database path '{}'. Database already exists.",
            path.display()
        ))
    }

    fn open_reserved(&self, name: &str, how: Open) -> Result<Arc<WalletInner>> {
        let dir = names::wallet_dir(&self.settings.wallets_dir, name);
        let path = names::db_path(&self.settings.wallets_dir, name);
        let network = self.settings.network;
        // What a creation of this name killed midway left (the name is reserved: none is running).
        crate::store::remove_stale_temp_files(&path);
        let state = match how {
            Open::Create(options) => {
                if path.exists() {
                    return Err(self.exists_error(name));
                }
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::failed(format!("Failed to create database path '{}': {e}", dir.display()))
                })?;
                self.create_state(&path, options)?
            }
            Open::Load => {
                if !path.is_file() {
                    return Err(Error::not_found(format!(
                        "Wallet file verification failed. Failed to load database path '{}'. Path does not exist.",
                        dir.display()
                    )));
                }
                load_state(&path, network)?
            }
        };
        let wallet = Arc::new(WalletInner::new(
            name.to_string(),
            self.chain.clone(),
            network,
            state,
            self.settings.fallback_fee,
            self.settings.notify.clone(),
        ));
        if let Err(e) = crate::sync::attach(&wallet) {
            let _ = wallet.close();
            return Err(e.context(format!("loading wallet \"{name}\"")));
        }
        lock(&self.wallets).push(wallet.clone());
        tracing::info!(target: "wallet", wallet = %name, "wallet loaded");
        Ok(wallet)
    }

    fn create_state(&self, path: &std::path::Path, options: CreateWalletOptions) -> Result<State> {
        let network = self.settings.network;
        let genesis = self
            .chain
            .get_block_hash(0)?
            .map(BlockHash::from_byte_array)
            .unwrap_or_else(|| bitcoin::constants::genesis_block(network).block_hash());
        create_state(path, network, genesis, &options)
    }
    /// Flushes and unloads wallet `name`.
    pub(crate) fn unload(&self, name: &str, load_on_startup: Option<bool>) -> Result<()> {
        let wallet = {
            let mut wallets = lock(&self.wallets);
            let Some(pos) = wallets.iter().position(|w| w.name == name) else {
                return Err(Error::not_found("Requested wallet does not exist or is not loaded"));
            };
            wallets.remove(pos)
        };
        let result = wallet.close();
        if let Some(load) = load_on_startup {
            if let Err(e) = self.startup_list.update(name, load) {
                tracing::warn!(target: "wallet", error = %e, "could not update the load-on-startup list");
            }
        }
        result
    }

    fn stop(&self) -> Result<()> {
        let handlers: Vec<Box<dyn Handler>> = lock(&self.rpc_handlers).drain(..).collect();
        drop(handlers);
        let wallets: Vec<Arc<WalletInner>> = lock(&self.wallets).drain(..).collect();
        let mut first_error = None;
        for wallet in wallets {
            if let Err(e) = wallet.close() {
                tracing::warn!(target: "wallet", wallet = %wallet.name, error = %e, "closing failed");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Creates the wallet file at `path` (which must not exist) for `options` on the chain starting at
/// `genesis`, and the state over it.
pub(crate) fn create_state(
    path: &std::path::Path,
    network: Network,
    genesis: BlockHash,
    options: &CreateWalletOptions,
) -> Result<State> {
    let flags = Flags {
        private_keys_enabled: !options.disable_private_keys,
        blank: options.blank,
        birthtime: i64::try_from(now()).unwrap_or(i64::MAX),
    };
    let keyless_tip = BlockId { height: 0, hash: genesis };
    if options.blank || options.disable_private_keys {
        // Core: such a wallet has no descriptors until some are imported.
        let store = Store::create(path, flags, None, None, Some((0, genesis))).map_err(store_error)?;
        return Ok(State::new(
            store,
            None,
            keyless_tip,
            flags,
            network,
            Default::default(),
            Default::default(),
        ));
    }
    let descriptors = new_descriptors(network)?;
    let mut wallet = bdk_wallet::Wallet::create(descriptors.external.clone(), descriptors.internal.clone())
        .network(network)
        .genesis_hash(genesis)
        .create_wallet_no_persist()
        .map_err(|e| Error::failed(format!("creating the wallet: {e}")))?;
    let changeset = wallet.take_staged();
    let store =
        Store::create(path, flags, Some(&descriptors), changeset.as_ref(), None).map_err(store_error)?;
    let signers = Signers::new(&descriptors, &wallet, network)?;
    let keyed = Keyed {
        wallet,
        signers: Some(signers),
        imports: Default::default(),
        private_descriptors: Some(descriptors),
        own_keychains: true,
    };
    Ok(State::new(store, Some(keyed), keyless_tip, flags, network, Default::default(), Default::default()))
}

fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::Io(io) if io.kind() == std::io::ErrorKind::AlreadyExists => {
            Error::already_exists(format!("Database already exists: {io}"))
        }
        other => other.into(),
    }
}

/// Opens and reads the wallet file at `path` and builds the state over it.
pub(crate) fn load_state(path: &std::path::Path, network: Network) -> Result<State> {
    let mut store = Store::open(path).map_err(|e| match e {
        // Held by another process: maybe one that is just exiting (see `LoaderHandle::load`).
        StoreError::Locked => Error::unavailable(format!("Wallet file verification failed. {e}")),
        other => Error::failed(format!("Wallet file verification failed. {other}")),
    })?;
    let record = store.read().map_err(|e| Error::failed(format!("Wallet file verification failed. {e}")))?;
    let genesis = bitcoin::constants::genesis_block(network).block_hash();
    let keyless_tip =
        record.tip.map_or(BlockId { height: 0, hash: genesis }, |(height, hash)| BlockId { height, hash });
    let keyed =
        match &record.descriptors {
            None if !record.imports.is_empty() => return Err(Error::failed(
                "Wallet file verification failed. It holds imported descriptors but no wallet descriptors.",
            )),
            None => None,
            Some(descriptors) => {
                let wallet = load_bdk_wallet(descriptors, record.changeset, network)?;
                let signers = if record.flags.private_keys_enabled {
                    Some(Signers::new(descriptors, &wallet, network)?)
                } else {
                    None
                };
                let txs: Vec<std::sync::Arc<bitcoin::Transaction>> =
                    wallet.tx_graph().full_txs().map(|node| node.tx.clone()).collect();
                let imports =
                    crate::imports::Imports::load(record.imports, txs.iter().map(|tx| tx.as_ref()), network)
                        .map_err(|e| {
                            Error::failed(format!("Wallet file verification failed. {}", e.message()))
                        })?;
                // A wallet created without descriptors has placeholder keychains (for its imports).
                let own_keychains = !record.flags.blank && record.flags.private_keys_enabled;
                let private_descriptors =
                    (own_keychains && record.flags.private_keys_enabled).then(|| descriptors.clone());
                Some(Keyed { wallet, signers, imports, private_descriptors, own_keychains })
            }
        };
    Ok(State::new(store, keyed, keyless_tip, record.flags, network, record.notes, record.labels))
}

/// The BDK wallet of `descriptors` from everything the file holds of it (`changeset`).
pub(crate) fn load_bdk_wallet(
    descriptors: &PrivateDescriptors,
    changeset: bdk_wallet::ChangeSet,
    network: Network,
) -> Result<bdk_wallet::Wallet> {
    bdk_wallet::Wallet::load()
        .descriptor(KeychainKind::External, Some(descriptors.external.clone()))
        .descriptor(KeychainKind::Internal, Some(descriptors.internal.clone()))
        .check_network(network)
        .load_wallet_no_persist(changeset)
        .map_err(|e| Error::failed(format!("Wallet file verification failed. {e}")))?
        .ok_or_else(|| Error::failed("Wallet file verification failed. The wallet data is missing."))
}

/// The wallet side of the application: an [`interfaces::WalletLoader`].
///
/// ```
/// # fn demo(chain: Box<dyn interfaces::Chain>, datadir: &std::path::Path) -> interfaces::Result<()> {
/// use interfaces::WalletLoader;
///
/// let loader = wallet::make_wallet_loader(chain, wallet::WalletSettings::regtest(datadir.join("regtest/wallets")));
/// loader.register_rpcs()?; // createwallet, getbalance, ... through Chain::handle_rpc
/// loader.load()?;          // -wallet=<name> and load-on-startup wallets
/// // ... the node runs ...
/// loader.stop()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Loader {
    inner: Arc<LoaderInner>,
}

impl Loader {
    /// A loader for `settings` whose wallets use `chain`.
    pub fn new(chain: Arc<dyn Chain>, settings: WalletSettings) -> Loader {
        Loader {
            inner: Arc::new(LoaderInner {
                chain,
                startup_list: names::StartupList::new(settings.wallets_dir.clone()),
                settings,
                wallets: Mutex::new(Vec::new()),
                loading: Mutex::new(HashSet::new()),
                load_callbacks: Arc::new(Mutex::new(Vec::new())),
                next_id: AtomicU64::new(0),
                rpc_handlers: Mutex::new(Vec::new()),
            }),
        }
    }
}

/// The wallet loader for `chain` and `settings`, as `Init::make_wallet_loader` hands it out.
pub fn make_wallet_loader(
    chain: Box<dyn Chain>,
    settings: WalletSettings,
) -> Box<dyn interfaces::WalletLoader> {
    Box::new(Loader::new(Arc::from(chain), settings))
}

impl interfaces::WalletLoader for Loader {
    fn register_rpcs(&self) -> Result<()> {
        if !lock(&self.inner.rpc_handlers).is_empty() {
            return Ok(()); // registered already
        }
        let handlers = crate::rpc::register(&self.inner)?;
        lock(&self.inner.rpc_handlers).extend(handlers);
        Ok(())
    }

    fn load(&self) -> Result<()> {
        let dir = &self.inner.settings.wallets_dir;
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::failed(format!("cannot create the wallets directory {}: {e}", dir.display()))
        })?;
        let mut seen = HashSet::new();
        let from_flags = self.inner.settings.startup_wallets.iter().map(|n| (n.clone(), true));
        let from_file = self.inner.startup_list.read()?.into_iter().map(|n| (n, false));
        for (name, explicit) in from_flags.chain(from_file).collect::<Vec<_>>() {
            if !seen.insert(name.clone()) {
                continue;
            }
            match load_at_start(&self.inner, &name) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    // Core: "Skipping -wallet path that doesn't exist."
                    tracing::warn!(target: "wallet", wallet = %name, explicit, "skipping a start-up wallet that does not exist");
                }
                Err(e) => return Err(e.context(format!("loading wallet \"{name}\" at start-up"))),
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        for wallet in self.inner.loaded() {
            wallet.with_state(State::persist)?;
        }
        Ok(())
    }

    fn stop(&self) -> Result<()> {
        self.inner.stop()
    }

    fn create_wallet(&self, name: String, options: CreateWalletOptions) -> Result<Box<dyn Wallet>> {
        Ok(Box::new(WalletHandle(self.inner.create(&name, options)?)))
    }

    fn load_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        Ok(Box::new(WalletHandle(self.inner.load(&name, None)?)))
    }

    fn unload_wallet(&self, name: String) -> Result<()> {
        self.inner.unload(&name, None)
    }

    fn list_wallets(&self) -> Result<Vec<String>> {
        Ok(self.inner.loaded().iter().map(|w| w.name.clone()).collect())
    }

    fn list_wallet_dir(&self) -> Result<Vec<String>> {
        names::list_wallet_dir(&self.inner.settings.wallets_dir)
    }

    fn get_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        self.inner
            .get(&name)
            .map(|w| Box::new(WalletHandle(w)) as Box<dyn Wallet>)
            .ok_or_else(|| Error::not_found(format!("Wallet \"{name}\" is not loaded")))
    }

    fn get_wallets(&self) -> Result<Vec<Box<dyn Wallet>>> {
        Ok(self.inner.loaded().into_iter().map(|w| Box::new(WalletHandle(w)) as Box<dyn Wallet>).collect())
    }

    fn handle_load_wallet(
        &self,
        callback: Box<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.load_callbacks).push((id, Arc::from(callback)));
        let weak = Arc::downgrade(&self.inner.load_callbacks);
        Ok(Box::new(CleanupHandler::new(move || {
            if let Some(callbacks) = weak.upgrade() {
                lock(&callbacks).retain(|(i, _)| *i != id);
            }
        })))
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        if let Err(e) = self.inner.stop() {
            tracing::warn!(target: "wallet", error = %e, "stopping the wallets failed");
        }
    }
}

/// Loads a start-up wallet, waiting up to [`START_LOCK_WAIT`] while another process holds its
/// file: after a crash, the previous wallet process (the child of a killed node) may still be
/// exiting when the restarted node loads its wallets. `loadwallet` does not wait.
fn load_at_start(loader: &LoaderInner, name: &str) -> Result<Arc<WalletInner>> {
    let deadline = std::time::Instant::now() + START_LOCK_WAIT;
    let mut logged = false;
    loop {
        match loader.load(name, None) {
            Err(e) if e.kind() == ErrorKind::Unavailable && std::time::Instant::now() < deadline => {
                if !logged {
                    tracing::info!(target: "wallet", wallet = %name,
                        "wallet file is locked by another process; waiting up to {} s", START_LOCK_WAIT.as_secs());
                    logged = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}
