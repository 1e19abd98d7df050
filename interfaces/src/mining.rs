//! [`Mining`]: the mining interface `Init::make_mining` returns.

use crate::Result;

/// What a mining client (a Stratum v2 template provider) asks of the node
/// (Bitcoin Core's `interfaces::Mining`, schema `mining.capnp`).
///
/// A placeholder until the mining issue: it has only Bitcoin Core's first
/// method, so the interface exists on the wire and `Init::make_mining`
/// has something to return.
pub trait Mining: Send + Sync {
    /// Whether the node runs a test chain (regtest, testnet, signet).
    fn is_test_chain(&self) -> Result<bool>;
}
