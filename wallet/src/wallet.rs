//! [`WalletInner`]: one loaded wallet (its state behind a lock, its chain registration, its
//! transaction callbacks) and [`WalletHandle`], the [`interfaces::Wallet`] over it.
//!
//! Locks, in the order they may be taken:
//! - `send_lock` (one payment at a time, held from building it to the end of its broadcast, so a
//!   payment that spends another's change is never broadcast before it; see [`SendLock`]);
//! - `sync_lock` (block processing, one at a time);
//! - `state` (everything else: a send builds, signs and records under it, so two sends never pick
//!   the same coins).
//!
//! `state` and `sync_lock` are never held while calling a [`Chain`] method that can produce
//! notifications (`broadcast_transaction`): the node delivers notifications on the calling thread,
//! and they take `state` and `sync_lock`. Notifications never take `send_lock`. Callbacks run with
//! no lock held except that a send's own callbacks (its transaction recorded, then accepted by the
//! mempool) run on the sending thread inside `send_lock`: a `handle_transaction_changed` callback
//! must not send from the same wallet synchronously (it gets an error; hand the send to another
//! thread instead).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use bdk_wallet::KeychainKind;
use bitcoin::hashes::Hash;
use bitcoin::{Address, Network, Txid};
use interfaces::{
    Balances, Chain, ChangeType, CleanupHandler, Error, Handler, Result, SendOptions, Utxo, WalletTx,
};

use crate::state::{sat_i64, State};

/// A `handle_transaction_changed` callback.
pub(crate) type TxCallback = Arc<dyn Fn([u8; 32], ChangeType) -> Result<()> + Send + Sync>;

type Callbacks = Mutex<Vec<(u64, TxCallback)>>;

/// Locks `m`, recovering from poisoning (state changes are all-or-nothing per lock hold: a
/// panic leaves at worst unpersisted staged changes, written by the next persist).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One payment at a time per wallet: a mutex that knows its holder, so a send started from
/// inside the holder's own send (a transaction callback on the sending thread) is refused instead
/// of deadlocking.
#[derive(Debug, Default)]
pub(crate) struct SendLock {
    owner: Mutex<Option<ThreadId>>,
    released: Condvar,
}

/// Holds a [`SendLock`] until dropped.
#[derive(Debug)]
pub(crate) struct SendGuard<'a>(&'a SendLock);

impl SendLock {
    /// Waits until no other send of the wallet runs; an error if this thread is running one.
    pub(crate) fn acquire(&self) -> Result<SendGuard<'_>> {
        let me = std::thread::current().id();
        let mut owner = lock(&self.owner);
        if *owner == Some(me) {
            return Err(Error::failed(
                "a send cannot start inside a transaction callback of the same wallet's send; \
                 send from another thread",
            ));
        }
        while owner.is_some() {
            owner = self.released.wait(owner).unwrap_or_else(PoisonError::into_inner);
        }
        *owner = Some(me);
        Ok(SendGuard(self))
    }
}

impl Drop for SendGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.owner) = None;
        self.0.released.notify_one();
    }
}

/// One loaded wallet.
pub(crate) struct WalletInner {
    pub(crate) name: String,
    pub(crate) chain: Arc<dyn Chain>,
    pub(crate) network: Network,
    /// `None` once unloaded.
    state: Mutex<Option<State>>,
    pub(crate) sync_lock: Mutex<()>,
    /// Held by a payment from building to the end of its broadcast (see the module docs).
    pub(crate) send_lock: SendLock,
    callbacks: Arc<Callbacks>,
    next_callback: AtomicU64,
    /// The chain notification registration; dropping it unregisters.
    pub(crate) notifications: Mutex<Option<Box<dyn Handler>>>,
    /// `-fallbackfee` (sat/kvB), `None` when disabled.
    pub(crate) fallback_fee: Option<i64>,
    /// `-walletnotify`'s command.
    notify: Option<String>,
}

impl std::fmt::Debug for WalletInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletInner").field("name", &self.name).finish_non_exhaustive()
    }
}

impl WalletInner {
    pub(crate) fn new(
        name: String,
        chain: Arc<dyn Chain>,
        network: Network,
        state: State,
        fallback_fee: Option<i64>,
        notify: Option<String>,
    ) -> WalletInner {
        WalletInner {
            name,
            chain,
            network,
            state: Mutex::new(Some(state)),
            sync_lock: Mutex::new(()),
            send_lock: SendLock::default(),
            callbacks: Arc::new(Mutex::new(Vec::new())),
            next_callback: AtomicU64::new(0),
            notifications: Mutex::new(None),
            fallback_fee,
            notify,
        }
    }

    /// Runs `f` on the state; an error once the wallet is unloaded.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.state);
        match guard.as_mut() {
            Some(state) => f(state),
            None => Err(Error::not_found(format!("Wallet \"{}\" is not loaded", self.name))),
        }
    }

    /// Whether the wallet is still loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        lock(&self.state).is_some()
    }

    /// Unregisters from the chain, writes what is pending and closes the file.
    pub(crate) fn close(&self) -> Result<()> {
        let handler = lock(&self.notifications).take();
        drop(handler);
        // Wait for block processing in flight.
        let _sync = lock(&self.sync_lock);
        let state = lock(&self.state).take();
        match state {
            Some(mut state) => {
                let result = state.persist();
                drop(state);
                tracing::info!(target: "wallet", wallet = %self.name, "wallet unloaded");
                result
            }
            None => Ok(()),
        }
    }

    /// Calls the transaction callbacks for `changed` (no lock held).
    pub(crate) fn fire(&self, changed: &[(Txid, ChangeType)]) {
        if changed.is_empty() {
            return;
        }
        self.run_notify(changed);
        let callbacks: Vec<TxCallback> = lock(&self.callbacks).iter().map(|(_, c)| c.clone()).collect();
        for (txid, kind) in changed {
            tracing::debug!(target: "walletdb", wallet = %self.name, %txid, ?kind, "transaction changed");
            for callback in &callbacks {
                if let Err(e) = callback(txid.to_byte_array(), *kind) {
                    tracing::warn!(target: "wallet", error = %e, "transaction callback failed");
                }
            }
        }
    }

    /// `-walletnotify`: the command for each transaction that entered the wallet or changed
    /// (confirmed, or unconfirmed again by a reorganisation), each on a thread of its own so a
    /// slow command holds nothing up; a failure is logged.
    fn run_notify(&self, changed: &[(Txid, ChangeType)]) {
        let Some(template) = &self.notify else { return };
        for (txid, kind) in changed {
            if *kind == ChangeType::Deleted {
                continue;
            }
            let confirmed =
                self.with_state(|s| Ok(s.transaction(*txid).and_then(|v| v.confirmed_in))).ok().flatten();
            let (block, height) = match confirmed {
                Some((block, _)) => (block.hash.to_string(), i64::from(block.height)),
                None => ("unconfirmed".to_string(), -1),
            };
            let command = template
                .replace("%s", &txid.to_string())
                .replace("%b", &block)
                .replace("%h", &height.to_string())
                .replace("%w", &shell_quote(&self.name));
            let spawned = std::thread::Builder::new().name("walletnotify".into()).spawn(move || {
                match std::process::Command::new("sh").arg("-c").arg(&command).status() {
                    Ok(status) if status.success() => {}
                    Ok(status) => tracing::warn!(target: "wallet", "walletnotify command exited with {status}: {command}"),
                    Err(e) => tracing::warn!(target: "wallet", "walletnotify command could not run ({e}): {command}"),
                }
            });
            if let Err(e) = spawned {
                tracing::warn!(target: "wallet", "cannot start a thread for walletnotify: {e}");
            }
        }
    }

    fn add_callback(&self, callback: TxCallback) -> Box<dyn Handler> {
        let id = self.next_callback.fetch_add(1, Ordering::Relaxed);
        lock(&self.callbacks).push((id, callback));
        let weak = Arc::downgrade(&self.callbacks);
        Box::new(CleanupHandler::new(move || {
            if let Some(callbacks) = weak.upgrade() {
                lock(&callbacks).retain(|(i, _)| *i != id);
            }
        }))
    }

    /// Waits until the node has delivered the notifications of its current tip, if the wallet's
    /// tip is not it (Core's `BlockUntilSyncedToCurrentChain`). Every RPC calls this first.
    pub(crate) fn block_until_synced(&self) -> Result<()> {
        let tip = self.with_state(|s| Ok(s.tip().hash))?;
        self.chain.wait_for_notifications_if_tip_changed(tip.to_byte_array())
    }

    /// A fresh change address (Core's `getrawchangeaddress`), written to the file before it is
    /// returned.
    pub(crate) fn new_change_address(&self) -> Result<Address> {
        self.with_state(|state| {
            let keyed = state.keyed_mut()?;
            let address = keyed.wallet.reveal_next_address(KeychainKind::Internal).address;
            state.persist()?;
            Ok(address)
        })
    }

    /// A fresh receiving address labelled `label`, written to the file before it is returned.
    pub(crate) fn new_address(&self, label: String) -> Result<Address> {
        self.with_state(|state| {
            let keyed = state.keyed_mut()?;
            let info = keyed.wallet.reveal_next_address(KeychainKind::External);
            let address = info.address;
            state.set_label(address.to_string(), label);
            state.persist()?;
            Ok(address)
        })
    }
}

/// [`interfaces::Wallet`] over a loaded wallet.
#[derive(Debug, Clone)]
pub(crate) struct WalletHandle(pub(crate) Arc<WalletInner>);

impl interfaces::Wallet for WalletHandle {
    fn get_wallet_name(&self) -> Result<String> {
        Ok(self.0.name.clone())
    }

    fn get_new_address(&self, label: String) -> Result<String> {
        self.0.new_address(label).map(|a| a.to_string())
    }

    fn get_balances(&self) -> Result<Balances> {
        self.0.with_state(|s| Ok(s.balances()))
    }

    fn send_to_address(&self, address: String, amount: i64, options: SendOptions) -> Result<[u8; 32]> {
        let address = crate::send::parse_address(&address, self.0.network)?;
        let amount = u64::try_from(amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| Error::invalid_parameter("Invalid amount for send"))?;
        let request = crate::send::SendRequest {
            recipients: vec![crate::send::Recipient {
                address,
                amount: bitcoin::Amount::from_sat(amount),
                subtract_fee: options.subtract_fee_from_amount,
            }],
            fee_rate_sat_per_kvb: options.fee_rate_sat_per_kvb,
            conf_target: options.conf_target,
            replaceable: options.replaceable,
            comment: options.comment,
            comment_to: String::new(),
        };
        crate::send::send(&self.0, request).map(|sent| sent.txid.to_byte_array()).map_err(|e| e.error)
    }

    fn list_transactions(&self) -> Result<Vec<WalletTx>> {
        self.0.with_state(|s| Ok(s.transactions().iter().map(State::to_wallet_tx).collect()))
    }

    fn get_transaction(&self, txid: [u8; 32]) -> Result<Option<WalletTx>> {
        let txid = Txid::from_byte_array(txid);
        self.0.with_state(|s| Ok(s.transaction(txid).as_ref().map(State::to_wallet_tx)))
    }

    fn list_unspent(&self) -> Result<Vec<Utxo>> {
        self.0.with_state(|s| {
            let coins = s.coins();
            Ok(coins
                .iter()
                .filter(|c| c.available() && !c.immature)
                .map(|c| Utxo {
                    txid: c.output.outpoint.txid.to_byte_array(),
                    vout: c.output.outpoint.vout,
                    value: sat_i64(c.output.txout.value),
                    script_pubkey: c.output.txout.script_pubkey.to_bytes(),
                    address: Address::from_script(&c.output.txout.script_pubkey, s.network)
                        .ok()
                        .map(|a| a.to_string()),
                    confirmed_in: c
                        .confirmed_in
                        .map(|b| interfaces::BlockRef { hash: b.hash.to_byte_array(), height: b.height }),
                    is_change: c.output.keychain == KeychainKind::Internal,
                    is_coinbase: c.is_coinbase,
                })
                .collect())
        })
    }

    fn handle_transaction_changed(
        &self,
        callback: Box<dyn Fn([u8; 32], ChangeType) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        Ok(self.0.add_callback(Arc::from(callback)))
    }
}

/// A wallet name for the shell, single-quoted as Core's `ShellEscape` quotes it.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\"'\"'"))
}
