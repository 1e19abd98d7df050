//! [`UiSignals`]: what a front end subscribes to through `interfaces::Node` — start-up messages,
//! progress of long tasks, new tips. They exist before the node starts (a gui registers first,
//! then calls `Node::init` and shows the messages on its splash screen).

use std::sync::Arc;

use interfaces::{BlockTip, Handler, Progress};

use crate::registry::Registry;

/// A start-up message callback.
pub type InitMessageFn = dyn Fn(String) -> interfaces::Result<()> + Send + Sync;
/// A progress callback.
pub type ProgressFn = dyn Fn(Progress) -> interfaces::Result<()> + Send + Sync;
/// A new-tip callback.
pub type BlockTipFn = dyn Fn(BlockTip) -> interfaces::Result<()> + Send + Sync;

/// The front end's subscriptions. A failing callback (a gui process that went away) is logged
/// and skipped; it never stops the node.
#[derive(Debug, Default)]
pub struct UiSignals {
    init_message: Registry<InitMessageFn>,
    progress: Registry<ProgressFn>,
    block_tip: Registry<BlockTipFn>,
}

impl UiSignals {
    /// Subscribes `callback` to start-up messages.
    pub fn handle_init_message(&self, callback: Arc<InitMessageFn>) -> Box<dyn Handler> {
        self.init_message.register(callback)
    }

    /// Subscribes `callback` to progress reports.
    pub fn handle_show_progress(&self, callback: Arc<ProgressFn>) -> Box<dyn Handler> {
        self.progress.register(callback)
    }

    /// Subscribes `callback` to new tips.
    pub fn handle_notify_block_tip(&self, callback: Arc<BlockTipFn>) -> Box<dyn Handler> {
        self.block_tip.register(callback)
    }

    /// Logs `message` and passes it to the subscribers.
    pub fn init_message(&self, message: &str) {
        tracing::info!("init message: {message}");
        for callback in self.init_message.snapshot() {
            report(callback(message.to_string()));
        }
    }

    /// Logs the progress and passes it to the subscribers.
    pub fn show_progress(&self, progress: Progress) {
        tracing::info!("{}: {}%", progress.title, progress.percent);
        for callback in self.progress.snapshot() {
            report(callback(progress.clone()));
        }
    }

    /// Passes a new tip to the subscribers.
    pub fn notify_block_tip(&self, tip: &BlockTip) {
        for callback in self.block_tip.snapshot() {
            report(callback(tip.clone()));
        }
    }
}

fn report(result: interfaces::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "a front-end callback failed");
    }
}
