//! [`WalletInit`]: the wallet side's `interfaces::Init`, the factory a process hands out for its
//! wallets. In one process the node calls it directly; with the wallet in its own process the
//! node calls the same method through an IPC proxy, passing its `Chain` across.

use interfaces::{Chain, Init, WalletLoader};

use crate::loader::{make_wallet_loader, WalletSettings};

/// Makes wallet loaders over the `Chain` a node hands in; provides nothing else.
#[derive(Debug, Clone)]
pub struct WalletInit {
    settings: WalletSettings,
}

impl WalletInit {
    /// The factory for wallets living where `settings` says.
    pub fn new(settings: WalletSettings) -> WalletInit {
        WalletInit { settings }
    }
}

impl Init for WalletInit {
    fn make_wallet_loader(&self, chain: Box<dyn Chain>) -> interfaces::Result<Box<dyn WalletLoader>> {
        Ok(make_wallet_loader(chain, self.settings.clone()))
    }
}
