//! [`WalletLoader`] and [`Wallet`]: what the node and a gui need from the
//! wallet.

use crate::{BlockRef, Handler, Result};

/// Options of [`WalletLoader::create_wallet`] (the `createwallet` RPC's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateWalletOptions {
    /// A watch-only wallet: no private keys.
    pub disable_private_keys: bool,
    /// No descriptors (and so no addresses) until some are imported.
    pub blank: bool,
    /// Add the wallet to (`Some(true)`) or remove it from (`Some(false)`)
    /// the list loaded at start-up; `None` leaves the list alone.
    pub load_on_startup: Option<bool>,
}

/// Options of [`Wallet::send_to_address`] (the `sendtoaddress` RPC's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendOptions {
    /// Take the fee out of the amount sent instead of adding it.
    pub subtract_fee_from_amount: bool,
    /// Fee rate in satoshis per 1000 vbytes (`fee_rate` in sat/vB times
    /// 1000); `None` uses `conf_target` or the wallet's default.
    pub fee_rate_sat_per_kvb: Option<i64>,
    /// Confirmation target in blocks for fee estimation; `None` uses the
    /// wallet's default.
    pub conf_target: Option<u32>,
    /// Signal BIP125 replaceability; `None` uses the wallet's default.
    pub replaceable: Option<bool>,
    /// A note kept in the wallet (not sent).
    pub comment: String,
}

/// A wallet's balances in satoshis (the `getbalances` RPC's `mine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Balances {
    /// Confirmed, plus unconfirmed change and sends from this wallet.
    pub trusted: i64,
    /// Unconfirmed receipts from others.
    pub untrusted_pending: i64,
    /// Coinbase outputs that are not mature yet (fewer than 100
    /// confirmations).
    pub immature: i64,
}

/// A transaction that concerns the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalletTx {
    /// Transaction id, internal byte order.
    pub txid: [u8; 32],
    /// Consensus bytes with witness.
    pub tx: Vec<u8>,
    /// Satoshis this transaction pays to the wallet.
    pub received: i64,
    /// Satoshis of the wallet's coins this transaction spends.
    pub sent: i64,
    /// The fee, when the wallet knows every input's value.
    pub fee: Option<i64>,
    /// The block that confirms it in the active chain; `None` while
    /// unconfirmed.
    pub confirmed_in: Option<BlockRef>,
    /// When the wallet first saw it (or its block's time if earlier),
    /// seconds since the UNIX epoch.
    pub time: i64,
    /// Whether it is a coinbase transaction.
    pub is_coinbase: bool,
}

/// An unspent output the wallet can spend.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utxo {
    /// Id of the transaction that created it, internal byte order.
    pub txid: [u8; 32],
    /// Output index in that transaction.
    pub vout: u32,
    /// Value in satoshis.
    pub value: i64,
    /// The output script.
    pub script_pubkey: Vec<u8>,
    /// The address the script pays to, if it has one.
    pub address: Option<String>,
    /// The block that confirms it; `None` while unconfirmed.
    pub confirmed_in: Option<BlockRef>,
    /// Whether it is change (the wallet's internal keychain).
    pub is_change: bool,
    /// Whether it is a coinbase output.
    pub is_coinbase: bool,
}

/// What happened to a wallet transaction (Bitcoin Core's `ChangeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeType {
    /// The wallet learned of it.
    New,
    /// Its state changed (confirmed, unconfirmed by a reorg, replaced).
    Updated,
    /// It was removed from the wallet.
    Deleted,
}

/// Creates, loads and lists wallets; also the wallet side's lifecycle as
/// the node drives it (Bitcoin Core's `WalletLoader` with its `ChainClient`
/// methods, flattened into one trait since the code generator maps no trait
/// inheritance).
///
/// Implemented by the wallet; the node gets it from
/// [`Init::make_wallet_loader`](crate::Init::make_wallet_loader), handing
/// over the [`Chain`](crate::Chain) the wallets will use. Wallet names are
/// directory names under `<datadir>/<chain>/wallets/` (`""` is the default
/// wallet).
pub trait WalletLoader: Send + Sync {
    /// Registers the wallet RPC methods with the node through
    /// [`Chain::handle_rpc`](crate::Chain::handle_rpc). Called once, before
    /// [`load`](WalletLoader::load).
    fn register_rpcs(&self) -> Result<()>;

    /// Loads the wallets named at start-up (`-wallet=<name>` and those
    /// marked load-on-startup) and catches them up with the chain.
    fn load(&self) -> Result<()>;

    /// Writes every loaded wallet's state to disk.
    fn flush(&self) -> Result<()>;

    /// Flushes and closes every wallet; the last call before shutdown.
    fn stop(&self) -> Result<()>;

    /// Creates the wallet `name` and loads it.
    /// [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists) if it
    /// exists.
    fn create_wallet(&self, name: String, options: CreateWalletOptions) -> Result<Box<dyn Wallet>>;

    /// Loads the existing wallet `name`.
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if it does not
    /// exist, [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// if it is loaded.
    fn load_wallet(&self, name: String) -> Result<Box<dyn Wallet>>;

    /// Flushes and unloads the wallet `name`.
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if it is not
    /// loaded.
    fn unload_wallet(&self, name: String) -> Result<()>;

    /// Names of the loaded wallets, in load order.
    fn list_wallets(&self) -> Result<Vec<String>>;

    /// Names of the wallets on disk, loaded or not, sorted.
    fn list_wallet_dir(&self) -> Result<Vec<String>>;

    /// The loaded wallet `name`.
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) if it is not
    /// loaded.
    fn get_wallet(&self, name: String) -> Result<Box<dyn Wallet>>;

    /// Every loaded wallet, in load order (Bitcoin Core's `getWallets`).
    fn get_wallets(&self) -> Result<Vec<Box<dyn Wallet>>>;

    /// Calls `callback` with each wallet loaded or created from now on,
    /// until the handler goes.
    fn handle_load_wallet(
        &self,
        callback: Box<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>>;
}

/// One loaded wallet. Implemented by the wallet; obtained from a
/// [`WalletLoader`]. Amounts are satoshis as `i64`.
pub trait Wallet: Send + Sync {
    /// The wallet's name (`""` for the default wallet).
    fn get_wallet_name(&self) -> Result<String>;

    /// A fresh receiving address (bech32 P2WPKH by default) labelled
    /// `label`.
    fn get_new_address(&self, label: String) -> Result<String>;

    /// The wallet's balances.
    fn get_balances(&self) -> Result<Balances>;

    /// Pays `amount` satoshis to `address`, records the transaction in the
    /// wallet before broadcasting it, and returns its txid.
    /// [`ErrorKind::InsufficientFunds`](crate::ErrorKind::InsufficientFunds)
    /// when the wallet cannot pay,
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// for a bad address or amount.
    fn send_to_address(&self, address: String, amount: i64, options: SendOptions) -> Result<[u8; 32]>;

    /// Every transaction of the wallet, oldest first.
    fn list_transactions(&self) -> Result<Vec<WalletTx>>;

    /// The wallet's transaction `txid`; `None` if it has none such.
    fn get_transaction(&self, txid: [u8; 32]) -> Result<Option<WalletTx>>;

    /// Every output the wallet can spend, confirmed or not.
    fn list_unspent(&self) -> Result<Vec<Utxo>>;

    /// Calls `callback` with the txid and what happened whenever a wallet
    /// transaction is added, updated or removed, until the handler goes.
    fn handle_transaction_changed(
        &self,
        callback: Box<dyn Fn([u8; 32], ChangeType) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>>;
}

/// A shared loader is a loader: the node keeps its loader and hands the same one to a front
/// end ([`Node::wallet_loader`](crate::Node::wallet_loader)).
impl<T: WalletLoader + ?Sized> WalletLoader for std::sync::Arc<T> {
    fn register_rpcs(&self) -> Result<()> {
        (**self).register_rpcs()
    }

    fn load(&self) -> Result<()> {
        (**self).load()
    }

    fn flush(&self) -> Result<()> {
        (**self).flush()
    }

    fn stop(&self) -> Result<()> {
        (**self).stop()
    }

    fn create_wallet(&self, name: String, options: CreateWalletOptions) -> Result<Box<dyn Wallet>> {
        (**self).create_wallet(name, options)
    }

    fn load_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        (**self).load_wallet(name)
    }

    fn unload_wallet(&self, name: String) -> Result<()> {
        (**self).unload_wallet(name)
    }

    fn list_wallets(&self) -> Result<Vec<String>> {
        (**self).list_wallets()
    }

    fn list_wallet_dir(&self) -> Result<Vec<String>> {
        (**self).list_wallet_dir()
    }

    fn get_wallet(&self, name: String) -> Result<Box<dyn Wallet>> {
        (**self).get_wallet(name)
    }
    fn get_wallets(&self) -> Result<Vec<Box<dyn Wallet>>> {
        (**self).get_wallets()
    }

    fn handle_load_wallet(
        &self,
        callback: Box<dyn Fn(Box<dyn Wallet>) -> Result<()> + Send + Sync>,
    ) -> Result<Box<dyn Handler>> {
        (**self).handle_load_wallet(callback)
    }
}
