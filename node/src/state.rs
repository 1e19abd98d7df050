//! [`NodeState`]: the chain and the mempool behind one lock, with notification fan-out and the
//! shutdown signal.
//!
//! Every change (a transaction accepted, a block mined or submitted) happens under the state lock;
//! the events it produced are collected and delivered to the registered
//! [`ChainNotifications`] after the lock is released, so a subscriber may call back into the node.
//! Events of one change are delivered in order (mempool removals, `block_connected`,
//! `updated_block_tip`); events of two changes made concurrently on different threads may
//! interleave.
//!
//! Every change takes a ticket from the notification queue before it touches the state and gives
//! it back once its events are delivered, so [`NodeState::sync_notifications`] (Bitcoin Core's
//! `SyncWithValidationInterfaceQueue`) can wait for everything changed before it was called.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, Block, BlockHash, Script, Transaction, Txid};
use interfaces::{BlockInfo, BlockTip, ChainNotifications, Handler, MempoolRemovalReason};

use crate::chain::{BlockError, ChainState, TipChange};
use crate::mempool::persist::{SavedEntry, SavedMempool};
use crate::mempool::{LimitRemoval, Mempool, MempoolError};
use crate::registry::Registry;
use crate::ui::UiSignals;

/// The chain state and the mempool, read and changed together.
#[derive(Debug)]
pub struct Inner {
    /// The chain.
    pub chain: ChainState,
    /// The mempool, valid on top of `chain`'s tip.
    pub mempool: Mempool,
}

enum Event {
    Added(Vec<u8>),
    Removed(Txid, MempoolRemovalReason),
    Connected(BlockInfo),
    Disconnected(BlockInfo),
    Tip,
}

thread_local! {
    /// Whether this thread is delivering notifications right now.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as delivering notifications until dropped (panics included).
struct DeliveringGuard {
    was: bool,
}

impl DeliveringGuard {
    fn enter() -> DeliveringGuard {
        DeliveringGuard { was: DELIVERING.with(|d| d.replace(true)) }
    }
}

impl Drop for DeliveringGuard {
    fn drop(&mut self) {
        DELIVERING.with(|d| d.set(self.was));
    }
}

/// The node: chain + mempool behind a mutex, notification subscribers, start time, shutdown flag.
pub struct NodeState {
    inner: Mutex<Inner>,
    subscribers: Registry<dyn ChainNotifications>,
    ui: Arc<UiSignals>,
    started: Instant,
    shutdown: Mutex<bool>,
    shutdown_cv: Condvar,
    /// Height of the last tip whose notifications were all delivered.
    notified_height: Mutex<u32>,
    notified_cv: Condvar,
    /// Tickets of the changes whose notifications are not delivered yet.
    queue: Mutex<NotificationQueue>,
    queue_cv: Condvar,
    /// What mining clients' waits watch (see [`NodeState::wait_watch`]).
    watch: Mutex<Watch>,
    watch_cv: Condvar,
}

/// What a mining wait watches: the tip and how often the mempool changed. Published right after
/// the state lock is released, before the notifications are delivered, so a waiting template
/// client hears of a new block first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// The tip's hash.
    pub tip: BlockHash,
    /// The tip's height.
    pub height: u32,
    /// Bumped whenever a transaction enters the mempool.
    pub mempool_changes: u64,
}

/// How [`NodeState::wait_watch`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum WaitEnd<T> {
    /// The caller's condition held.
    Ready(T),
    /// The deadline passed.
    Timeout,
    /// A shutdown was requested.
    Shutdown,
    /// The client whose request this thread serves went away.
    Cancelled,
}

/// What a wait's condition answers: done, or not yet (and when to look again at the latest).
#[derive(Debug)]
pub enum WaitPoll<T> {
    /// Done with this value.
    Ready(T),
    /// Not yet; look again at this time even if nothing changes (`None`: only on a change).
    Pending(Option<Instant>),
}

/// How often a waiting thread checks whether its client went away (the IPC layer only sets a
/// flag): bounds how long a disconnected client's wait holds its thread.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug, Default)]
struct NotificationQueue {
    next: u64,
    pending: BTreeSet<u64>,
}

/// A change's place in the notification queue, given back when dropped (after its events were
/// delivered, or when the change failed).
struct Ticket<'a> {
    node: &'a NodeState,
    number: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        lock(&self.node.queue).pending.remove(&self.number);
        self.node.queue_cv.notify_all();
    }
}

impl std::fmt::Debug for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeState").field("inner", &self.inner).finish_non_exhaustive()
    }
}

/// How `import_mempool` treats the file (Core's `importmempool` options; a start-up load uses
/// [`MempoolImport::default`]: the file's times, its fee deltas and its unbroadcast set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolImport {
    /// Entry times become now instead of the file's.
    pub use_current_time: bool,
    /// The file's fee deltas are applied (`prioritisetransaction`).
    pub apply_fee_delta_priority: bool,
    /// The file's unbroadcast set is taken.
    pub apply_unbroadcast_set: bool,
}

impl Default for MempoolImport {
    fn default() -> MempoolImport {
        MempoolImport { use_current_time: false, apply_fee_delta_priority: true, apply_unbroadcast_set: true }
    }
}

/// What reading a `mempool.dat` did (Core's log line counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MempoolImported {
    /// Accepted.
    pub succeeded: usize,
    /// Refused.
    pub failed: usize,
    /// Older than `-mempoolexpiry`.
    pub expired: usize,
    /// In the pool already.
    pub already_there: usize,
    /// In the file's unbroadcast set and accepted.
    pub unbroadcast: usize,
}

fn removal_reason(why: LimitRemoval) -> MempoolRemovalReason {
    match why {
        LimitRemoval::Expiry => MempoolRemovalReason::Expiry,
        LimitRemoval::SizeLimit => MempoolRemovalReason::SizeLimit,
    }
}

fn block_info(block: &Block, height: u32) -> BlockInfo {
    let prev = block.header.prev_blockhash;
    BlockInfo {
        hash: block.block_hash().to_byte_array(),
        prev_hash: (prev != BlockHash::all_zeros()).then(|| prev.to_byte_array()),
        height,
        time: i64::from(block.header.time),
        data: serialize(block),
    }
}

impl NodeState {
    /// A node over `chain` with an empty mempool.
    pub fn new(chain: ChainState) -> NodeState {
        NodeState::with_ui(chain, Arc::default())
    }

    /// A node over `chain` reporting to the front end's subscriptions `ui`.
    pub fn with_ui(chain: ChainState, ui: Arc<UiSignals>) -> NodeState {
        let height = chain.height();
        let chain_tip = chain.tip();
        NodeState {
            notified_height: Mutex::new(height),
            notified_cv: Condvar::new(),
            inner: Mutex::new(Inner { chain, mempool: Mempool::new() }),
            subscribers: Registry::default(),
            ui,
            started: Instant::now(),
            shutdown: Mutex::new(false),
            shutdown_cv: Condvar::new(),
            queue: Mutex::default(),
            queue_cv: Condvar::new(),
            watch: Mutex::new(Watch { tip: chain_tip, height, mempool_changes: 0 }),
            watch_cv: Condvar::new(),
        }
    }

    /// Locks the chain and mempool (a poisoned lock is recovered: the state is only changed
    /// through validated, all-or-nothing steps).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds since the node started.
    pub fn uptime(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Sets the node's clock (`setmocktime`): `Some(time)` mocks it, `None` goes back to the
    /// system clock. Block templates, the future-time rule and mempool entry times follow it;
    /// [`NodeState::uptime`] does not.
    pub fn set_mock_time(&self, time: Option<u32>) {
        self.lock().chain.set_mock_time(time);
    }

    /// Takes a place in the notification queue; take it before changing the state.
    fn ticket(&self) -> Ticket<'_> {
        let mut queue = lock(&self.queue);
        let number = queue.next;
        queue.next += 1;
        queue.pending.insert(number);
        Ticket { node: self, number }
    }

    /// Waits until the notifications of every change begun before this call have been delivered
    /// to the subscribers (Bitcoin Core's `SyncWithValidationInterfaceQueue`). Returns at once
    /// when called from inside a notification, whose own delivery could never finish first.
    pub fn sync_notifications(&self) {
        if DELIVERING.with(Cell::get) {
            return;
        }
        let mut queue = lock(&self.queue);
        let last = queue.next;
        while queue.pending.first().is_some_and(|first| *first < last) {
            queue = self.queue_cv.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Registers `notifications` until the returned handler is disconnected or dropped.
    pub fn handle_notifications(&self, notifications: Arc<dyn ChainNotifications>) -> Box<dyn Handler> {
        self.subscribers.register(notifications)
    }

    /// The front end's subscriptions.
    pub fn ui(&self) -> &Arc<UiSignals> {
        &self.ui
    }

    fn notify(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let _delivering = DeliveringGuard::enter();
        for sub in self.subscribers.snapshot() {
            for event in &events {
                // A subscriber's bug must not stop the others, nor leave the notified height
                // behind (wallet RPCs wait for it).
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match event {
                    Event::Added(tx) => sub.transaction_added_to_mempool(tx.clone()),
                    Event::Removed(txid, reason) => {
                        sub.transaction_removed_from_mempool(txid.to_byte_array(), *reason)
                    }
                    Event::Connected(info) => sub.block_connected(info.clone()),
                    Event::Disconnected(info) => sub.block_disconnected(info.clone()),
                    Event::Tip => sub.updated_block_tip(),
                }));
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(target: "validation", error = %e, "chain notification failed")
                    }
                    Err(_) => {
                        tracing::error!(target: "validation", "a chain notification subscriber panicked")
                    }
                }
            }
        }
        let new_tip = events.iter().rev().find_map(|event| match event {
            Event::Connected(info) => Some(info),
            _ => None,
        });
        if let Some(info) = new_tip {
            self.ui.notify_block_tip(&BlockTip {
                hash: info.hash,
                height: info.height,
                time: info.time,
                verification_progress: 1.0,
                initial_download: false,
            });
        }
    }

    /// Accepts `tx` into the mempool (see [`Mempool::accept`]) and notifies the subscribers.
    pub fn submit_transaction(&self, tx: Transaction, max_fee: Option<Amount>) -> Result<Txid, MempoolError> {
        let bytes = serialize(&tx);
        let wanted = tx.compute_txid();
        let _ticket = self.ticket();
        let (txid, removed) = {
            let mut guard = self.lock();
            let Inner { chain, mempool } = &mut *guard;
            let accepted = mempool.accept(chain, tx, max_fee);
            let removed = mempool.take_limit_removals();
            match accepted {
                Ok((txid, _)) => (txid, removed),
                Err(e) => {
                    tracing::debug!(target: "mempoolrej", "{wanted} was not accepted: {}", e.reject_reason());
                    return Err(e);
                }
            }
        };
        tracing::debug!(target: "mempool", "AcceptToMemoryPool: accepted {txid}");
        self.publish(None, true);
        let mut events = vec![Event::Added(bytes)];
        events.extend(removed.into_iter().map(|(t, why)| Event::Removed(t, removal_reason(why))));
        self.notify(events);
        Ok(txid)
    }

    /// Reads a `mempool.dat` (at start with `-persistmempool`, or `importmempool`) into the pool:
    /// each transaction that has not expired is accepted with its entry time and fee delta, as
    /// Core's `LoadMempool`; the others are counted. Subscribers hear of every addition.
    pub fn import_mempool(&self, path: &Path, options: &MempoolImport) -> std::io::Result<MempoolImported> {
        let saved = crate::mempool::persist::load(path)?;
        tracing::info!("Loading {} mempool transactions from file...", saved.entries.len());
        let mut report = MempoolImported::default();
        let mut events = Vec::new();
        {
            let mut guard = self.lock();
            let Inner { chain, mempool } = &mut *guard;
            let now = i64::from(chain.now());
            let oldest = now.saturating_sub(i64::try_from(mempool.limits().expiry_secs).unwrap_or(i64::MAX));
            for entry in saved.entries {
                let txid = entry.tx.compute_txid();
                let time = if options.use_current_time { now } else { entry.time };
                if entry.fee_delta != 0 && options.apply_fee_delta_priority {
                    mempool.prioritise(txid, entry.fee_delta);
                }
                if time <= oldest {
                    report.expired += 1;
                    continue;
                }
                let bytes = serialize(&entry.tx);
                match mempool.accept_at(chain, entry.tx, None, u64::try_from(time).ok()) {
                    Ok(_) => {
                        report.succeeded += 1;
                        events.push(Event::Added(bytes));
                    }
                    Err(_) if mempool.contains(&txid) => report.already_there += 1,
                    Err(_) => report.failed += 1,
                }
            }
            if options.apply_fee_delta_priority {
                for (txid, delta) in saved.deltas {
                    mempool.prioritise(txid, delta);
                }
            }
            if options.apply_unbroadcast_set {
                report.unbroadcast = saved.unbroadcast.iter().filter(|t| mempool.contains(t)).count();
            }
            let removed = mempool.take_limit_removals();
            events.extend(removed.into_iter().map(|(t, why)| Event::Removed(t, removal_reason(why))));
        }
        tracing::info!(
            "Imported mempool transactions from file: {} succeeded, {} failed, {} expired, {} already there, {} waiting for initial broadcast",
            report.succeeded,
            report.failed,
            report.expired,
            report.already_there,
            report.unbroadcast
        );
        if !events.is_empty() {
            self.publish(None, true);
            self.notify(events);
        }
        Ok(report)
    }

    /// Writes the pool to `path` in Core's `mempool.dat` format (at shutdown with
    /// `-persistmempool`, and `savemempool`). Returns the bytes written.
    pub fn save_mempool(&self, path: &Path) -> std::io::Result<u64> {
        let started = Instant::now();
        let saved = {
            let inner = self.lock();
            let pool = &inner.mempool;
            let entries: Vec<SavedEntry> = pool
                .entries()
                .map(|(txid, e)| SavedEntry {
                    tx: e.tx.clone(),
                    time: i64::try_from(e.time).unwrap_or(i64::MAX),
                    fee_delta: pool.deltas().get(txid).copied().unwrap_or(0),
                })
                .collect();
            let deltas =
                pool.deltas().iter().filter(|(t, _)| !pool.contains(t)).map(|(t, d)| (*t, *d)).collect();
            SavedMempool { entries, deltas, unbroadcast: Vec::new() }
        };
        let copied = started.elapsed();
        tracing::info!("Writing {} mempool transactions to file...", saved.entries.len());
        let bytes = crate::mempool::persist::save(&saved, path)?;
        tracing::info!(
            "Dumped mempool: {:.3}s to copy, {:.3}s to dump, {bytes} bytes dumped to file",
            copied.as_secs_f64(),
            (started.elapsed() - copied).as_secs_f64()
        );
        Ok(bytes)
    }

    fn connect_events(inner: &mut Inner, block: &Block, events: &mut Vec<Event>) {
        let Inner { chain, mempool } = inner;
        let (_mined, conflicts) = mempool.block_connected(chain, block);
        events.extend(conflicts.into_iter().map(|t| Event::Removed(t, MempoolRemovalReason::Conflict)));
        events.push(Event::Connected(block_info(block, chain.height())));
    }

    /// Mines `count` blocks paying to `script_pubkey`, each with the mempool's transactions (in
    /// dependency order). Returns the block hashes. The state lock is taken per block, so other
    /// requests are served in between, and mining stops early when a shutdown is requested.
    pub fn generate(&self, script_pubkey: &Script, count: u32) -> Result<Vec<BlockHash>, BlockError> {
        let _ticket = self.ticket();
        let mut hashes = Vec::new();
        let mut events = Vec::new();
        let mut result = Ok(());
        for _ in 0..count {
            if self.shutdown_requested() {
                break;
            }
            let mut guard = self.lock();
            // The block assembler every template comes from. The pool is valid on the tip by
            // construction; should a block from it still be refused, an empty one is mined
            // instead and the refusal logged: mining never stalls on the pool.
            let mut options = crate::mining::AssembleOptions::paying_to(script_pubkey.to_owned());
            let mine =
                |chain: &mut ChainState, mempool: &Mempool, options: &crate::mining::AssembleOptions| {
                    let mut block = crate::mining::assemble(chain, mempool, options)?.block;
                    crate::mining::grind(&mut block, chain.params().pow_limit)?;
                    chain.accept_block(block.clone()).map(|_| block)
                };
            let Inner { chain, mempool } = &mut *guard;
            let mut accepted = mine(chain, mempool, &options);
            if let Err(e) = &accepted {
                if !mempool.is_empty() && !matches!(e, BlockError::Storage(_)) {
                    tracing::error!(target: "validation", "a block from the mempool was refused ({e}); mining an empty one");
                    options.use_mempool = false;
                    accepted = mine(chain, mempool, &options);
                }
            }
            match accepted {
                Ok(block) => {
                    Self::connect_events(&mut guard, &block, &mut events);
                    hashes.push(block.block_hash());
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if !hashes.is_empty() {
            events.push(Event::Tip);
        }
        let (tip, height) = {
            let inner = self.lock();
            (inner.chain.tip(), inner.chain.height())
        };
        if !hashes.is_empty() {
            self.publish(Some((tip, height)), false);
        }
        self.notify(events);
        self.set_notified(height);
        result.map(|()| hashes)
    }

    /// Mines one block paying to `script_pubkey` with exactly `txs` (in order), as Core's
    /// `generateblock`: the coinbase claims the subsidy, not the fees
    /// ([`ChainState::create_block_without_fees`]).
    pub fn generate_block(
        &self,
        script_pubkey: &Script,
        txs: Vec<Transaction>,
    ) -> Result<BlockHash, BlockError> {
        let block = self.lock().chain.create_block_without_fees(script_pubkey, txs)?;
        // Two callers building on the same tip in the same second make the same block: the
        // second finds it known, which bitcoind's generateblock answers with its hash too.
        match self.submit_block(block.clone()) {
            Err(BlockError::Duplicate(hash)) if self.lock().chain.is_active(&hash) => Ok(hash),
            other => other,
        }
    }

    /// Validates and accepts `block` (a new tip, a side branch, or a reorganisation to its
    /// branch), updates the mempool and notifies. A block stored on a side branch with less work
    /// is accepted without moving the tip: `submitblock` tells by the tip.
    pub fn submit_block(&self, block: Block) -> Result<BlockHash, BlockError> {
        let hash = block.block_hash();
        let mut change = self.change_tip(|chain| chain.accept_block(block))?;
        // The block itself failed when its branch was connected: that is its answer.
        if let Some(pos) = change.failed.iter().position(|(h, _)| *h == hash) {
            return Err(change.failed.swap_remove(pos).1);
        }
        Ok(hash)
    }

    /// `invalidateblock`: takes `hash` and the blocks on it off the active chain for good (until
    /// [`NodeState::reconsider_block`]); the mempool takes back their transactions.
    pub fn invalidate_block(&self, hash: &BlockHash) -> Result<(), BlockError> {
        self.change_tip(|chain| chain.invalidate_block(hash)).map(|_| ())
    }

    /// `reconsiderblock`: clears the invalid marks of `hash` and activates the best chain.
    pub fn reconsider_block(&self, hash: &BlockHash) -> Result<(), BlockError> {
        self.change_tip(|chain| chain.reconsider_block(hash)).map(|_| ())
    }

    /// Runs a change of the chain, then brings the mempool and the subscribers along.
    fn change_tip(
        &self,
        change: impl FnOnce(&mut ChainState) -> Result<TipChange, BlockError>,
    ) -> Result<TipChange, BlockError> {
        let _ticket = self.ticket();
        let mut events = Vec::new();
        let (change, tip, height) = {
            let mut guard = self.lock();
            let change = change(&mut guard.chain)?;
            Self::tip_change_events(&mut guard, &change, &mut events);
            (change, guard.chain.tip(), guard.chain.height())
        };
        if change.connected.is_empty() && change.disconnected.is_empty() {
            return Ok(change);
        }
        self.publish(Some((tip, height)), !change.disconnected.is_empty());
        events.push(Event::Tip);
        self.notify(events);
        self.set_notified(height);
        Ok(change)
    }

    /// The mempool's and the subscribers' side of a chain change. Extending the tip updates the
    /// pool block by block; a reorganisation rebuilds it against the new tip from the
    /// disconnected blocks' transactions (oldest first) and then the pool's own, as Core's
    /// `MaybeUpdateMempoolForReorg` does: what is no longer valid leaves with reason Reorg (or
    /// Conflict when a connected block spent its inputs).
    fn tip_change_events(inner: &mut Inner, change: &TipChange, events: &mut Vec<Event>) {
        if change.disconnected.is_empty() {
            for (block, _) in &change.connected {
                Self::connect_events(inner, block, events);
            }
            return;
        }
        let Inner { chain, mempool } = inner;
        for (block, height) in &change.disconnected {
            events.push(Event::Disconnected(block_info(block, *height)));
        }
        let mut mined: std::collections::HashSet<Txid> = std::collections::HashSet::new();
        let mut spent_by_blocks: std::collections::HashSet<bitcoin::OutPoint> =
            std::collections::HashSet::new();
        for (block, height) in &change.connected {
            events.push(Event::Connected(block_info(block, *height)));
            for tx in &block.txdata {
                mined.insert(tx.compute_txid());
                spent_by_blocks.extend(tx.input.iter().map(|i| i.previous_output));
            }
        }
        let pool = mempool.take_transactions();
        let resurrected = change.disconnected.iter().rev().flat_map(|(block, _)| block.txdata.iter().skip(1));
        for tx in resurrected {
            let txid = tx.compute_txid();
            if mined.contains(&txid) {
                continue;
            }
            if mempool.accept(chain, tx.clone(), None).is_ok() {
                events.push(Event::Added(serialize(tx)));
            }
        }
        for tx in pool {
            let txid = tx.compute_txid();
            if mined.contains(&txid) || mempool.contains(&txid) {
                continue;
            }
            if mempool.accept(chain, tx.clone(), None).is_err() {
                let reason = if tx.input.iter().any(|i| spent_by_blocks.contains(&i.previous_output)) {
                    MempoolRemovalReason::Conflict
                } else {
                    MempoolRemovalReason::Reorg
                };
                events.push(Event::Removed(txid, reason));
            }
        }
    }

    fn set_notified(&self, height: u32) {
        let mut notified = lock(&self.notified_height);
        *notified = (*notified).max(height);
        self.notified_cv.notify_all();
    }

    /// Returns once the notifications for the current tip have been delivered, if the tip is no
    /// longer `old_tip` (immediately otherwise). Waits at most 60 s.
    pub fn wait_for_notified_tip(&self, old_tip: BlockHash) {
        if DELIVERING.with(Cell::get) {
            // Called from inside a notification (a subscriber calling back into the node on the
            // delivering thread): the events it waits for come after this one returns.
            return;
        }
        let (tip, height) = {
            let inner = self.lock();
            (inner.chain.tip(), inner.chain.height())
        };
        if tip == old_tip {
            return;
        }
        let notified = lock(&self.notified_height);
        let _ = self
            .notified_cv
            .wait_timeout_while(notified, std::time::Duration::from_secs(60), |n| *n < height)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }

    /// Adds `delta` satoshis to the fee block templates count for `txid`
    /// (`prioritisetransaction`); wakes template waits as a mempool change does.
    pub fn prioritise_transaction(&self, txid: Txid, delta: i64) {
        self.lock().mempool.prioritise(txid, delta);
        self.publish(None, true);
    }

    /// Asks the node to shut down; wakes [`NodeState::wait_for_shutdown`] and every
    /// [`NodeState::wait_watch`].
    pub fn request_shutdown(&self) {
        *lock(&self.shutdown) = true;
        self.shutdown_cv.notify_all();
        self.wake_waiters();
    }

    fn publish(&self, tip: Option<(BlockHash, u32)>, mempool_changed: bool) {
        let mut watch = lock(&self.watch);
        if let Some((hash, height)) = tip {
            watch.tip = hash;
            watch.height = height;
        }
        if mempool_changed {
            watch.mempool_changes = watch.mempool_changes.wrapping_add(1);
        }
        self.watch_cv.notify_all();
    }

    /// What mining waits watch, now.
    pub fn watch(&self) -> Watch {
        *lock(&self.watch)
    }

    /// Wakes every [`NodeState::wait_watch`] to look at its condition again (after a flag it
    /// reads was set, e.g. an `interrupt`). Takes only the watch lock, briefly: callable from
    /// the IPC event loop.
    pub fn wake_waiters(&self) {
        let _watch = lock(&self.watch);
        self.watch_cv.notify_all();
    }

    /// Blocks until `poll` answers [`WaitPoll::Ready`] (asked with the watch lock held, at the
    /// start, on every change and at the times it asks for), `deadline` passes, a shutdown is
    /// requested, or the client of the IPC request this thread serves goes away
    /// ([`interfaces::call_cancelled`], checked every half second). The waiting thread is
    /// asleep in between: a waiting client costs no busy thread.
    pub fn wait_watch<T>(
        &self,
        deadline: Option<Instant>,
        mut poll: impl FnMut(&Watch) -> WaitPoll<T>,
    ) -> WaitEnd<T> {
        let mut watch = lock(&self.watch);
        loop {
            let again = match poll(&watch) {
                WaitPoll::Ready(value) => return WaitEnd::Ready(value),
                WaitPoll::Pending(again) => again,
            };
            if self.shutdown_requested() {
                return WaitEnd::Shutdown;
            }
            if interfaces::call_cancelled() {
                return WaitEnd::Cancelled;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return WaitEnd::Timeout;
            }
            let mut until = now + CANCEL_POLL;
            for t in [deadline, again].into_iter().flatten() {
                until = until.min(t);
            }
            let slice = until.saturating_duration_since(now);
            watch =
                self.watch_cv.wait_timeout(watch, slice).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
    }

    /// Whether a shutdown was requested.
    pub fn shutdown_requested(&self) -> bool {
        *lock(&self.shutdown)
    }

    /// Blocks until a shutdown is requested (e.g. by the `stop` RPC).
    pub fn wait_for_shutdown(&self) {
        let mut flag = lock(&self.shutdown);
        while !*flag {
            flag = self.shutdown_cv.wait(flag).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Waits up to `timeout` for a shutdown request; returns whether one was made.
    pub fn wait_for_shutdown_timeout(&self, timeout: std::time::Duration) -> bool {
        let flag = lock(&self.shutdown);
        let (flag, _) = self
            .shutdown_cv
            .wait_timeout_while(flag, timeout, |f| !*f)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *flag
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
