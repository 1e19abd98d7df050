//! Block templates: the one block assembler behind `generatetoaddress`, `generateblock`,
//! `getblocktemplate` and the IPC `Mining.createNewBlock` ([`assemble`], [`build_block`]), and
//! the `interfaces::Mining` / `interfaces::BlockTemplate` a mining client drives
//! ([`NodeMining`]).
//!
//! # Waiting
//!
//! `waitTipChanged` and `BlockTemplate.waitNext` block the thread serving the call (over IPC,
//! the client's own mapped server thread) on [`NodeState::wait_watch`]: a condition variable
//! the node signals right after a block is connected or a transaction enters the mempool, so a
//! waiter costs no busy thread and hears of a new tip at once. A wait ends with `None` on its
//! timeout, on `interrupt` / `interruptWait` (a flag set, then the waiters woken; the flag is
//! consumed by the wait it ends, or by the next one, as in Core), on shutdown, and when the
//! client went away (checked every half second).
//!
//! [`NodeState::wait_watch`]: crate::NodeState::wait_watch

mod assembler;
mod interface;

pub(crate) use assembler::build_block;
pub use assembler::{
    assemble, coinbase_merkle_path, grind, last_block_stats, AssembleOptions, Assembled,
    MINIMUM_BLOCK_RESERVED_WEIGHT, TEMPLATE_BLOCK_VERSION,
};
pub use interface::{block_reject, NodeMining};
