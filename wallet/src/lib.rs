//! The wallet: BDK descriptor wallets stored in SQLite, kept in step with the node only through
//! [`interfaces::Chain`], offering bitcoind's wallet RPCs and [`interfaces::WalletLoader`] /
//! [`interfaces::Wallet`].
//!
//! **What it is for.** Creating, loading and unloading wallets under
//! `<datadir>/regtest/wallets/` ([`Loader`], [`WalletSettings`]); keys (BIP84 P2WPKH from a random
//! seed, private descriptors kept in the wallet file); following blocks and mempool transactions
//! through [`interfaces::ChainNotifications`]; balances with Bitcoin Core's rules; paying with
//! BDK's coin selection and signer; the RPCs `createwallet`, `loadwallet`, `unloadwallet`,
//! `listwallets`, `listwalletdir`, `getwalletinfo`, `getnewaddress`, `getbalance`, `getbalances`,
//! `sendtoaddress`, `listunspent`, `listtransactions`, `gettransaction`, `importdescriptors`
//! (imported descriptors beside the BDK wallet's two, see `imports`), `listdescriptors`,
//! `getaddressinfo`, `getrawchangeaddress`, registered through
//! [`interfaces::Chain::handle_rpc`].
//!
//! **What it is not for.** It knows no node internals and no IPC: no `mpx-node`, `framework`,
//! `ipc` or capnp dependency. Whether the `Chain` it gets is the node in this process or a proxy
//! is the executable's business. It does not validate blocks; it trusts the node's active chain.
//!
//! # Wiring it into a process
//!
//! ```
//! # fn wire(chain: Box<dyn interfaces::Chain>, datadir: &std::path::Path) -> interfaces::Result<()> {
//! use interfaces::WalletLoader;
//!
//! let settings = wallet::WalletSettings {
//!     wallets_dir: datadir.join("regtest").join("wallets"),
//!     network: bitcoin::Network::Regtest,
//!     startup_wallets: vec!["w1".into()], // -wallet=w1
//!     fallback_fee: Some(wallet::DEFAULT_FALLBACK_FEE),
//!     notify: None,
//! };
//! let loader = wallet::make_wallet_loader(chain, settings);
//! loader.register_rpcs()?;
//! loader.load()?;
//! // ... serve until shutdown ...
//! loader.stop()?;
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - `init`: [`WalletInit`], the `interfaces::Init` that makes loaders.
//! - `loader`: [`Loader`] (the `WalletLoader`), [`WalletSettings`], load/create/unload.
//! - `names`: wallet names, paths, the load-on-startup list (`wallets/settings.json`).
//! - `store`: the SQLite file (BDK's tables plus keys, flags, comments, labels).
//! - `keys`: fresh descriptors and signers.
//! - `imports`: imported descriptors (`importdescriptors`) beside the BDK wallet's two.
//! - `rescan`: reading old blocks again for a new import.
//! - `state`: one wallet's data and Core's balance / trust / maturity rules.
//! - `wallet`: a loaded wallet, its locks and callbacks; the `interfaces::Wallet`.
//! - `sync`: catch-up and chain notifications.
//! - `send`: building, signing, recording and broadcasting a payment.
//! - `rpc`: the RPC methods, parameter and amount parsing.
//!
//! Logging: tracing target `wallet` for INFO and above, `walletdb` for DEBUG lines (shown with
//! `-debug=walletdb`).
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

mod imports;
mod init;
mod keys;
mod loader;
mod names;
mod rescan;
mod rpc;
mod send;
mod state;
mod store;
mod sync;
mod wallet;

pub use init::WalletInit;
pub use loader::{make_wallet_loader, Loader, WalletSettings, DEFAULT_FALLBACK_FEE};
pub use rpc::wallet_from_uri;
