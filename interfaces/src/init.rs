//! [`Init`]: the first object a process hands out, which makes the others.

use crate::{Chain, Echo, Error, Mining, Node, Result, Rpc, WalletLoader};

/// What [`Init::make_mining_old2`] answers, word for word Bitcoin Core's.
pub const OLD_MINING_MESSAGE: &str = "Old mining interface (@2) not supported. Please update your client!";

/// The factory each executable implements, and the bootstrap object of its
/// IPC connections (Bitcoin Core's `interfaces::Init`, schema `init.capnp`).
///
/// Each process provides only some of the interfaces: the node makes a
/// [`Node`], [`Chain`]s, [`Rpc`]s and [`Echo`]s; a wallet process makes
/// [`WalletLoader`]s; a gui makes none. Methods a process does not override
/// return [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable), like
/// Bitcoin Core's null defaults.
pub trait Init: Send + Sync {
    /// The node, for a front end.
    fn make_node(&self) -> Result<Box<dyn Node>> {
        Err(Error::unavailable("this process does not provide a Node"))
    }

    /// A chain view for one chain client (each wallet loader gets its own).
    fn make_chain(&self) -> Result<Box<dyn Chain>> {
        Err(Error::unavailable("this process does not provide a Chain"))
    }

    /// A wallet loader whose wallets use `chain`.
    fn make_wallet_loader(&self, chain: Box<dyn Chain>) -> Result<Box<dyn WalletLoader>> {
        drop(chain);
        Err(Error::unavailable("this process does not provide a WalletLoader"))
    }

    /// An echo object, to test the connection.
    fn make_echo(&self) -> Result<Box<dyn Echo>> {
        Err(Error::unavailable("this process does not provide an Echo"))
    }

    /// A JSON-RPC executor.
    fn make_rpc(&self) -> Result<Box<dyn Rpc>> {
        Err(Error::unavailable("this process does not provide an Rpc"))
    }

    /// The mining interface (Bitcoin Core's `Mining`: block templates for mining clients).
    fn make_mining(&self) -> Result<Box<dyn Mining>> {
        Err(Error::unavailable("this process does not provide a Mining"))
    }

    /// The mining interface that Bitcoin Core removed (schema ordinal `@2`);
    /// kept so old clients get Bitcoin Core's error message rather than an
    /// unknown-method error. Implementations keep this default.
    fn make_mining_old2(&self) -> Result<()> {
        Err(Error::unimplemented(OLD_MINING_MESSAGE))
    }
}
