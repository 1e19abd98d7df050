//! The gui on an in-memory stand-in node (no wallets), to try the screens
//! and keys without a real node:
//!
//! ```sh
//! cargo run -p mpx-gui --example demo
//! ```
//!
//! The console answers `getblockcount` and `generatetoaddress N x`; mining
//! needs a wallet, so the Mining screen says so. The real executable is
//! `mpx-gui` in the daemon crate.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use interfaces::{BlockTip, CleanupHandler, Error, Handler, Node, Progress, Result, WalletLoader};

type TipFn = dyn Fn(BlockTip) -> Result<()> + Send + Sync;
type MessageFn = dyn Fn(String) -> Result<()> + Send + Sync;

#[derive(Default)]
struct DemoNode {
    height: AtomicU32,
    tips: Arc<Mutex<Vec<Arc<TipFn>>>>,
    messages: Mutex<Vec<Box<MessageFn>>>,
}

impl DemoNode {
    fn tip(&self) -> BlockTip {
        let height = self.height.load(Ordering::SeqCst);
        BlockTip {
            hash: [height as u8; 32],
            height,
            time: 1_700_000_000 + i64::from(height) * 600,
            ..Default::default()
        }
    }
}

impl Node for DemoNode {
    fn init(&self) -> Result<()> {
        for message in self.messages.lock().map_err(|_| Error::failed("poisoned"))?.iter() {
            message("Loading block index...".into())?;
            message("Done loading".into())?;
        }
        Ok(())
    }
    fn start_shutdown(&self) -> Result<()> {
        Ok(())
    }
    fn shutdown_requested(&self) -> Result<bool> {
        Ok(false)
    }
    fn shutdown(&self) -> Result<()> {
        Ok(())
    }
    fn get_block_count(&self) -> Result<u32> {
        Ok(self.height.load(Ordering::SeqCst))
    }
    fn get_best_block_hash(&self) -> Result<[u8; 32]> {
        Ok(self.tip().hash)
    }
    fn get_last_block_time(&self) -> Result<i64> {
        Ok(self.tip().time)
    }
    fn get_mempool_size(&self) -> Result<u64> {
        Ok(0)
    }
    fn get_verification_progress(&self) -> Result<f64> {
        Ok(1.0)
    }
    fn is_initial_block_download(&self) -> Result<bool> {
        Ok(false)
    }
    fn execute_rpc(&self, request: String, _uri: String) -> Result<String> {
        if request.contains("\"getblockcount\"") {
            return Ok(format!(r#"{{"result":{},"error":null,"id":1}}"#, self.height.load(Ordering::SeqCst)));
        }
        if request.contains("\"generatetoaddress\"") {
            let n: u32 = request
                .split("\"params\":[")
                .nth(1)
                .and_then(|p| p.split(',').next()?.parse().ok())
                .unwrap_or(1);
            for _ in 0..n {
                self.height.fetch_add(1, Ordering::SeqCst);
                let tips: Vec<Arc<TipFn>> = self.tips.lock().map_err(|_| Error::failed("poisoned"))?.clone();
                for tip in tips {
                    tip(self.tip())?;
                }
            }
            return Ok(r#"{"result":[],"error":null,"id":1}"#.into());
        }
        Ok(r#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}"#.into())
    }
    fn list_rpc_commands(&self) -> Result<Vec<String>> {
        Ok(vec!["generatetoaddress".into(), "getblockcount".into()])
    }
    fn wallet_loader(&self) -> Result<Box<dyn WalletLoader>> {
        Err(Error::unavailable("the demo node has no wallets"))
    }
    fn handle_notify_block_tip(&self, callback: Box<TipFn>) -> Result<Box<dyn Handler>> {
        self.tips.lock().map_err(|_| Error::failed("poisoned"))?.push(Arc::from(callback));
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
    fn handle_init_message(
        &self,
        callback: Box<dyn Fn(String) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        self.messages.lock().map_err(|_| Error::failed("poisoned"))?.push(callback);
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
    fn handle_show_progress(
        &self,
        _callback: Box<dyn Fn(Progress) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
}

fn main() -> ExitCode {
    let node = DemoNode::default();
    node.height.store(100, Ordering::SeqCst);
    match gui::run(Box::new(node), gui::RunOptions::new(true, "demo (in memory)")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpx-gui demo: {e}");
            ExitCode::FAILURE
        }
    }
}
