//! The wallet RPCs, registered with the node through `Chain::handle_rpc`.
//!
//! One [`Actor`] serves every method. A call, step by step:
//! 1. Find the method; parse the positional parameters; check their count (bitcoind's `-1` with
//!    the synopsis when too many or a required one is missing).
//! 2. Methods that act on a wallet select it ([`select`], Core's `GetWalletForJSONRPCRequest`):
//!    the URL-decoded name after `/wallet/` in the URI, else the only loaded wallet; several loaded
//!    and none named is `-19`, none loaded `-18`. A wallet this loader does not have is answered
//!    `not handled` (another wallet process may have it) unless this actor is the last handler,
//!    which answers `-18`.
//! 3. Wait until the wallet has seen the node's current tip
//!    ([`WalletInner::block_until_synced`]), so a block just mined is reflected.
//! 4. Run it; the result goes back as JSON text with amounts printed to 8 decimals.
//!
//! Modules: [`amount`] and [`params`] parse, [`manage`] holds the loader's methods
//! (`createwallet`, `loadwallet`, `unloadwallet`, `listwallets`, `listwalletdir`), [`info`] the
//! wallet state (`getwalletinfo`, `getnewaddress`, `getbalance`, `getbalances`), [`history`] the
//! transaction views (`listtransactions`, `gettransaction`, `listunspent`), [`send`]
//! `sendtoaddress`, [`import`] `importdescriptors`, [`descriptors`] `listdescriptors`, [`address`]
//! `getaddressinfo`.

mod address;
pub(crate) mod amount;
mod coins;
mod descriptors;
mod history;
mod import;
mod info;
mod manage;
pub(crate) mod params;
mod send;

use std::sync::{Arc, Weak};

use interfaces::{Error, ErrorKind, Handler, RpcActor, RpcCommand, RpcError, RpcReply, RpcRequest};
use serde_json::Value;

use crate::loader::LoaderInner;
use crate::wallet::WalletInner;
use params::Params;

/// Why a call did not produce a result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An RPC error for the client.
    Rpc(RpcError),
    /// Not this loader's wallet: let the next registered actor try.
    NotMine,
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Failure {
        Failure::Rpc(e)
    }
}

pub(crate) type CallResult = Result<Value, Failure>;

/// What a method receives.
pub(crate) struct Call<'a> {
    pub(crate) loader: &'a LoaderInner,
    /// The selected wallet (methods with `wallet: true`).
    pub(crate) wallet: Option<Arc<WalletInner>>,
    /// The wallet named by the URI, if any.
    pub(crate) uri_wallet: Option<String>,
    pub(crate) last_handler: bool,
    pub(crate) params: Params,
}

impl Call<'_> {
    /// The selected wallet.
    pub(crate) fn wallet(&self) -> Result<&Arc<WalletInner>, Failure> {
        self.wallet.as_ref().ok_or_else(|| Failure::Rpc(not_found()))
    }
}

/// One wallet RPC method.
pub(crate) struct Method {
    pub(crate) name: &'static str,
    pub(crate) args: &'static [&'static str],
    pub(crate) required: usize,
    /// Whether it acts on a selected wallet.
    pub(crate) wallet: bool,
    pub(crate) help: &'static str,
    pub(crate) run: fn(&Call<'_>) -> CallResult,
}

/// Every method, in `help` order.
pub(crate) static METHODS: &[Method] = &[
    manage::BACKUPWALLET,
    manage::CREATEWALLET,
    address::GETADDRESSINFO,
    info::GETBALANCE,
    info::GETBALANCES,
    info::GETNEWADDRESS,
    info::GETRAWCHANGEADDRESS,
    history::GETTRANSACTION,
    info::GETWALLETINFO,
    import::IMPORTDESCRIPTORS,
    descriptors::LISTDESCRIPTORS,
    coins::LISTLOCKUNSPENT,
    history::LISTTRANSACTIONS,
    history::LISTUNSPENT,
    manage::LISTWALLETDIR,
    manage::LISTWALLETS,
    manage::LOADWALLET,
    coins::LOCKUNSPENT,
    send::SENDMANY,
    send::SENDTOADDRESS,
    manage::UNLOADWALLET,
];

impl Method {
    /// `name "required" ( "optional" ... )`, as the node's built-ins show it.
    pub(crate) fn synopsis(&self) -> String {
        let mut s = self.name.to_string();
        let optional: Vec<&str> = self.args.iter().skip(self.required).copied().collect();
        for a in self.args.iter().take(self.required) {
            s.push_str(&format!(" \"{a}\""));
        }
        if !optional.is_empty() {
            s.push_str(" ( ");
            s.push_str(&optional.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(" "));
            s.push_str(" )");
        }
        s
    }
}

/// Registers every method with the node; the handlers unregister when dropped.
pub(crate) fn register(loader: &Arc<LoaderInner>) -> interfaces::Result<Vec<Box<dyn Handler>>> {
    let actor: Arc<dyn RpcActor> = Arc::new(Actor { loader: Arc::downgrade(loader) });
    METHODS
        .iter()
        .map(|m| {
            loader.chain.handle_rpc(RpcCommand {
                category: "wallet".into(),
                name: m.name.into(),
                arg_names: m.args.iter().map(|a| a.to_string()).collect(),
                help: format!("{}\n\n{}", m.synopsis(), m.help),
                actor: actor.clone(),
            })
        })
        .collect()
}

/// Runs the wallet RPCs for one loader.
struct Actor {
    loader: Weak<LoaderInner>,
}

/// Core's message for a wallet that is not loaded.
pub(crate) fn not_found() -> RpcError {
    RpcError::new(RpcError::WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded")
}

/// The wallet name in `uri` (`/wallet/<url-encoded name>`), if any.
pub fn wallet_from_uri(uri: &str) -> Option<String> {
    uri.strip_prefix("/wallet/").map(url_decode)
}

/// Percent-decoding (`%2F` → `/`); `+` stays, malformed escapes stay literal, as libevent does.
pub(crate) fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Core's `GetWalletForJSONRPCRequest` (see the module docs).
pub(crate) fn select(
    loader: &LoaderInner,
    uri_wallet: Option<&str>,
    last_handler: bool,
) -> Result<Arc<WalletInner>, Failure> {
    if let Some(name) = uri_wallet {
        return match loader.get(name) {
            Some(w) => Ok(w),
            None if last_handler => Err(Failure::Rpc(not_found())),
            None => Err(Failure::NotMine),
        };
    }
    let loaded = loader.loaded();
    match loaded.as_slice() {
        [one] => Ok(one.clone()),
        [] if last_handler => Err(Failure::Rpc(RpcError::new(
            RpcError::WALLET_NOT_FOUND,
            "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. \
             (Note: A default wallet is no longer automatically created)",
        ))),
        [] => Err(Failure::NotMine),
        _ => Err(Failure::Rpc(RpcError::new(
            RpcError::WALLET_NOT_SPECIFIED,
            "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
        ))),
    }
}

/// An interface error as an RPC error: `-6` insufficient funds, `-8` bad parameter, `-18` not
/// found, `-26` refused by the node, `-4` anything else.
pub(crate) fn rpc_error(e: &Error) -> RpcError {
    let code = match e.kind() {
        ErrorKind::InsufficientFunds => RpcError::WALLET_INSUFFICIENT_FUNDS,
        ErrorKind::InvalidParameter => RpcError::INVALID_PARAMETER,
        ErrorKind::NotFound => RpcError::WALLET_NOT_FOUND,
        ErrorKind::Rejected => RpcError::VERIFY_REJECTED,
        _ => RpcError::WALLET_ERROR,
    };
    RpcError::new(code, e.message())
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Rpc(rpc_error(&e))
    }
}

impl RpcActor for Actor {
    fn execute(&self, request: RpcRequest) -> interfaces::Result<RpcReply> {
        let Some(method) = METHODS.iter().find(|m| m.name == request.method) else {
            return Ok(RpcReply::not_handled());
        };
        let Some(loader) = self.loader.upgrade() else {
            return Ok(if request.last_handler {
                RpcReply::error(RpcError::WALLET_NOT_FOUND, "The wallet is shutting down")
            } else {
                RpcReply::not_handled()
            });
        };
        Ok(match run(&loader, method, &request) {
            Ok(value) => RpcReply::result(value.to_string()),
            Err(Failure::Rpc(e)) => RpcReply::error(e.code, e.message),
            Err(Failure::NotMine) => RpcReply::not_handled(),
        })
    }
}

fn run(loader: &LoaderInner, method: &Method, request: &RpcRequest) -> CallResult {
    let params = Params::parse(&request.params)?;
    let usage = || Failure::Rpc(RpcError::new(RpcError::MISC_ERROR, method.synopsis()));
    if params.len() > method.args.len() || (0..method.required).any(|i| params.get(i).is_none()) {
        return Err(usage());
    }
    let uri_wallet = wallet_from_uri(&request.uri);
    let wallet = if method.wallet {
        let wallet = select(loader, uri_wallet.as_deref(), request.last_handler)?;
        wallet.block_until_synced()?;
        Some(wallet)
    } else {
        None
    };
    let call = Call { loader, wallet, uri_wallet, last_handler: request.last_handler, params };
    (method.run)(&call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(wallet_from_uri("/"), None);
        assert_eq!(wallet_from_uri("/wallet/"), Some(String::new()));
        assert_eq!(wallet_from_uri("/wallet/w1"), Some("w1".into()));
        assert_eq!(wallet_from_uri("/wallet/my%20wallet"), Some("my wallet".into()));
        assert_eq!(wallet_from_uri("/wallet/a%2Fb"), Some("a/b".into()));
        assert_eq!(wallet_from_uri("/wallet/a+b%zz%4"), Some("a+b%zz%4".into()));
        assert_eq!(wallet_from_uri("/wallet/%C3%BC"), Some("ü".into()));
    }

    #[test]
    fn synopses_and_names() {
        let send = METHODS.iter().find(|m| m.name == "sendtoaddress").unwrap();
        assert!(send.synopsis().starts_with("sendtoaddress \"address\" \"amount\" ( \"comment\""));
        let list = METHODS.iter().find(|m| m.name == "listwallets").unwrap();
        assert_eq!(list.synopsis(), "listwallets");
        let mut names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(names, sorted, "help order is alphabetical");
        names.dedup();
        assert_eq!(names.len(), METHODS.len());
    }

    #[test]
    fn error_codes() {
        assert_eq!(rpc_error(&Error::insufficient_funds("Insufficient funds")).code, -6);
        assert_eq!(rpc_error(&Error::invalid_parameter("x")).code, -8);
        assert_eq!(rpc_error(&Error::not_found("x")).code, -18);
        assert_eq!(rpc_error(&Error::rejected("x")).code, -26);
        assert_eq!(rpc_error(&Error::failed("x")).code, -4);
    }
}
