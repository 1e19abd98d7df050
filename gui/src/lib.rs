//! The terminal gui: a keyboard-first front end for a regtest node and its
//! wallets, the counterpart of Bitcoin Core's `bitcoin-qt` on ratatui.
//!
//! **What it owns.** The screens (Overview, Send, Receive, Transactions,
//! Wallets, Console, Mining), the start-up and quit dialogue with the node,
//! and the thread that talks to it. It reaches the node and the wallets
//! **only** through the [`interfaces`] traits (`Node`, `WalletLoader`,
//! `Wallet`, `Handler`): whether the node runs in this process, was spawned
//! or was joined over a socket is the executable's business, which hands
//! [`run`] a `Box<dyn Node>`.
//!
//! **What it must not touch.** It depends on no node, wallet, ipc,
//! framework or capnp crate (only `interfaces`, ratatui, qrcode, libc for
//! the quit signals and the workspace's serde_json for the console's
//! JSON-RPC text), does not parse options, install a logger or choose
//! processes: that is the `mpx-gui` executable's job in the `daemon` crate.
//!
//! # Design
//!
//! - [`Model`] is the state; [`handle_key`] turns a key into model changes
//!   and [`Command`]s; [`draw`] draws the model. All three are pure, so
//!   tests drive them with ratatui's `TestBackend`.
//! - The UI thread never calls the node (it may be an IPC proxy): the
//!   backend thread ([`spawn_backend`]) owns the interface objects, runs the
//!   commands and sends [`Update`]s back. Updates come from the node's
//!   notifications (new tip, wallet transaction changed, init messages,
//!   progress), never from polling. See the `backend` module docs for the
//!   protocol step by step and [`run`] for the UI loop.
//! - A call that fails because the other side is gone
//!   ([`interfaces::Error::is_disconnected`]) shows a banner over the last
//!   known state; quitting still works.
//!
//! # Example
//!
//! Drawing a model without a terminal:
//!
//! ```
//! use ratatui::{backend::TestBackend, Terminal};
//!
//! let mut model = gui::Model::new(true, "in process");
//! model.apply(gui::Update::InitMessage("Loading block index...".into()));
//! let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
//! terminal.draw(|frame| gui::draw(frame, &model)).unwrap();
//! let text: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
//! assert!(text.contains("Loading block index..."));
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod app;
mod backend;
mod console;
mod keys;
mod message;
mod model;
mod view;

pub use app::{run, GuiError, NodeWatch, RunOptions};
pub use backend::{spawn_backend, BackendHandle, UpdateSink, MINE_BATCH};
pub use keys::{handle_key, KEYS};
pub use message::{ChainState, Command, Peer, Update};
pub use model::{
    ConsoleLine, ConsoleState, Dialog, MiningState, Model, Phase, Screen, SendErrors, SendField, SendForm,
    SendRequest, Status, TextInput, WalletsState,
};
pub use view::{draw, MIN_SIZE};
