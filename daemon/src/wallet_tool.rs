//! `mpx-wallet -wallet=<name> create|info` (`mpx wallet ...`): the offline wallet tool, Bitcoin
//! Core's `bitcoin-wallet`. It opens the wallet files directly with no node running: the wallet
//! gets a [`NoNode`] chain that has no blocks and refuses everything that needs a node, so a
//! wallet made here is synced when a node loads it next.

use std::process::ExitCode;
use std::sync::Arc;

use config::Config;
use interfaces::{
    BlockRef, Chain, ChainNotifications, CleanupHandler, CreateWalletOptions, Error, FeeEstimate, FoundBlock,
    FoundBlockRequest, Handler, Init, RpcCommand, Wallet,
};

/// Runs `command` on the wallet `-wallet` names.
pub(crate) fn run(config: &Config, command: &str) -> ExitCode {
    let name = match config.wallets.as_slice() {
        [name] => name.clone(),
        [] => {
            return failure(
                "Wallet name must be provided when creating a new wallet or using info (-wallet=<name>)",
            )
        }
        _ => return failure("Only one -wallet may be given"),
    };
    let loader =
        wallet::WalletInit::new(crate::wallet_daemon::settings(config)).make_wallet_loader(Box::new(NoNode));
    let loader = match loader {
        Ok(loader) => loader,
        Err(e) => return failure(&e.to_string()),
    };
    let result = match command {
        "create" => {
            loader.create_wallet(name.clone(), CreateWalletOptions::default()).and_then(|w| info(&*w))
        }
        "info" => loader.load_wallet(name.clone()).and_then(|w| info(&*w)),
        other => return failure(&format!("Invalid command: {other} (commands: create, info)")),
    };
    let stopped = loader.stop();
    match result.and_then(|text| stopped.map(|()| text)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => failure(&e.to_string()),
    }
}

/// `bitcoin-wallet info`'s summary, with what this wallet has.
fn info(wallet: &dyn Wallet) -> interfaces::Result<String> {
    let name = wallet.get_wallet_name()?;
    let transactions = wallet.list_transactions()?.len();
    Ok(format!(
        "Wallet info\n===========\nName: {name}\nFormat: sqlite\nDescriptors: yes\nEncrypted: no\n\
         HD (hd seed available): yes\nTransactions: {transactions}\n"
    ))
}

fn failure(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::FAILURE
}

/// The chain of a wallet opened with no node: no blocks, no mempool, nothing to subscribe to.
struct NoNode;

fn no_node() -> Error {
    Error::unavailable("no node: the wallet tool works offline")
}

impl Chain for NoNode {
    fn get_height(&self) -> interfaces::Result<Option<u32>> {
        Ok(None)
    }
    fn get_tip(&self) -> interfaces::Result<Option<BlockRef>> {
        Ok(None)
    }
    fn get_block_hash(&self, _height: u32) -> interfaces::Result<Option<[u8; 32]>> {
        Ok(None)
    }
    fn find_block(
        &self,
        _hash: [u8; 32],
        _request: FoundBlockRequest,
    ) -> interfaces::Result<Option<FoundBlock>> {
        Ok(None)
    }
    fn is_in_mempool(&self, _txid: [u8; 32]) -> interfaces::Result<bool> {
        Ok(false)
    }
    fn broadcast_transaction(&self, _tx: Vec<u8>, _max_tx_fee: i64) -> interfaces::Result<[u8; 32]> {
        Err(no_node())
    }
    fn estimate_fee(&self, _target_blocks: u32) -> interfaces::Result<Option<FeeEstimate>> {
        Ok(None)
    }
    fn relay_min_fee(&self) -> interfaces::Result<i64> {
        Err(no_node())
    }
    fn handle_notifications(
        &self,
        _notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        Ok(Box::new(CleanupHandler::new(|| {})))
    }
    fn wait_for_notifications_if_tip_changed(&self, _old_tip: [u8; 32]) -> interfaces::Result<()> {
        Ok(())
    }
    fn handle_rpc(&self, _command: RpcCommand) -> interfaces::Result<Box<dyn Handler>> {
        Err(no_node())
    }
    fn request_mempool_transactions(
        &self,
        _notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<()> {
        Ok(())
    }
    fn init_message(&self, _message: String) -> interfaces::Result<()> {
        Ok(())
    }
    fn show_progress(&self, _title: String, _percent: u32, _resume_possible: bool) -> interfaces::Result<()> {
        Ok(())
    }
    fn shutdown_requested(&self) -> interfaces::Result<bool> {
        Ok(false)
    }
}
