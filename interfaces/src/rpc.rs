//! JSON-RPC across interfaces: [`Rpc`] (a whole request in, a whole
//! response out) and the types with which a wallet registers its RPC
//! methods with the node's dispatcher ([`RpcCommand`], [`RpcActor`]).
//!
//! JSON travels as text. This crate does not parse it; the node's
//! dispatcher and the wallet do.
//!
//! How a registered command is called, step by step:
//! 1. The wallet calls [`Chain::handle_rpc`](crate::Chain::handle_rpc) with
//!    an [`RpcCommand`] per method and keeps the returned handlers.
//! 2. The node's HTTP server receives a request and its dispatcher finds the
//!    commands registered under the method's name (several wallet processes
//!    may register the same name), maps named parameters to positions using
//!    [`RpcCommand::arg_names`], and calls each actor in registration order
//!    with an [`RpcRequest`] (`last_handler` set on the last one).
//! 3. The first [`RpcReply`] with `handled` set is the answer; its `result`
//!    or `error` becomes the JSON-RPC response (1.0 or 2.0 shape, with the
//!    request's id: that is the dispatcher's job, not the actor's).
//! 4. Dropping the handler removes the command.

use std::fmt;
use std::sync::Arc;

use crate::Result;

/// Executes a complete JSON-RPC request, as the node's HTTP server would
/// (Bitcoin Core's `Rpc`, schema `rpc.capnp`).
pub trait Rpc: Send + Sync {
    /// Executes `request`, a JSON-RPC request text (one object or a batch
    /// array), for the HTTP path `uri` (`/` or `/wallet/<name>`) on behalf of
    /// the authenticated `user`. Returns the JSON-RPC response text, which
    /// carries RPC errors itself (with their bitcoind codes); `Err` is only
    /// for failures to run the request at all.
    fn execute_rpc(&self, request: String, uri: String, user: String) -> Result<String>;
}

/// A shared executor is an executor (the node hands out its one dispatcher).
impl<T: Rpc + ?Sized> Rpc for Arc<T> {
    fn execute_rpc(&self, request: String, uri: String, user: String) -> Result<String> {
        (**self).execute_rpc(request, uri, user)
    }
}

/// The callback behind one registered RPC method: runs one call.
pub trait RpcActor: Send + Sync {
    /// Runs one call. `Err` is an internal failure, which the dispatcher
    /// reports as an RPC internal error; RPC errors meant for the client
    /// (bad parameter, wallet not found, ...) are `Ok` replies with `error`
    /// set, so their codes survive a process boundary.
    fn execute(&self, request: RpcRequest) -> Result<RpcReply>;
}

/// An RPC method offered to the node's dispatcher (Bitcoin Core's
/// `CRPCCommand`). The dispatcher lists it in `help` and calls `actor`.
#[derive(Clone)]
pub struct RpcCommand {
    /// Category heading in `help` output, e.g. `wallet`.
    pub category: String,
    /// Method name, e.g. `getbalance`.
    pub name: String,
    /// Parameter names in positional order, used to map named parameters
    /// (`-named` / a JSON object) to positions.
    pub arg_names: Vec<String>,
    /// Text `help <name>` shows; its first line is the synopsis that `help`
    /// lists.
    pub help: String,
    /// Runs the calls.
    pub actor: Arc<dyn RpcActor>,
}

impl fmt::Debug for RpcCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcCommand")
            .field("category", &self.category)
            .field("name", &self.name)
            .field("arg_names", &self.arg_names)
            .field("help", &self.help)
            .finish_non_exhaustive()
    }
}

/// One call as an [`RpcActor`] receives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpcRequest {
    /// Method name.
    pub method: String,
    /// Parameters as JSON array text, always positional (the dispatcher
    /// has mapped named parameters using [`RpcCommand::arg_names`]); `[]`
    /// when there are none.
    pub params: String,
    /// The HTTP path the request came on: `/`, or `/wallet/<name>` (URL
    /// encoded) to select a wallet.
    pub uri: String,
    /// The authenticated user (`__cookie__` for cookie auth).
    pub user: String,
    /// Whether no other actor is registered after this one for the method.
    /// An actor that serves only some wallets answers a request for a wallet
    /// it does not have with [`RpcReply::not_handled`] unless this is set,
    /// and with a "wallet not found" error if it is.
    pub last_handler: bool,
}

/// What an [`RpcActor`] answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpcReply {
    /// `false`: not this actor's call, try the next one (the other fields
    /// are ignored).
    pub handled: bool,
    /// The result as JSON text (`null` when `error` is set).
    pub result: String,
    /// The RPC error to return to the client instead of a result.
    pub error: Option<RpcError>,
}

impl RpcReply {
    /// A successful reply with `result` (JSON text).
    pub fn result(result: impl Into<String>) -> Self {
        Self { handled: true, result: result.into(), error: None }
    }

    /// An error reply with a bitcoind error `code` (see the [`RpcError`]
    /// constants) and `message`.
    pub fn error(code: i32, message: impl Into<String>) -> Self {
        Self { handled: true, result: "null".into(), error: Some(RpcError::new(code, message)) }
    }

    /// "Not mine": the dispatcher tries the next registered actor.
    pub fn not_handled() -> Self {
        Self { handled: false, result: "null".into(), error: None }
    }
}

/// A JSON-RPC error with bitcoind's code. The associated constants are
/// Bitcoin Core's codes (`src/rpc/protocol.h`) that the node and the wallet
/// share.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpcError {
    /// bitcoind's error code, e.g. [`RpcError::INVALID_PARAMETER`].
    pub code: i32,
    /// The message shown to the client.
    pub message: String,
}

impl RpcError {
    /// Invalid JSON was received (JSON-RPC standard).
    pub const PARSE_ERROR: i32 = -32700;
    /// The JSON is not a valid request object (JSON-RPC standard).
    pub const INVALID_REQUEST: i32 = -32600;
    /// The method does not exist (JSON-RPC standard).
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid method parameters (JSON-RPC standard; bitcoind uses it for
    /// unknown or duplicated named parameters).
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal error (JSON-RPC standard).
    pub const INTERNAL_ERROR: i32 = -32603;
    /// bitcoind: a general error.
    pub const MISC_ERROR: i32 = -1;
    /// bitcoind: a parameter has the wrong JSON type.
    pub const TYPE_ERROR: i32 = -3;
    /// bitcoind: invalid address or key.
    pub const INVALID_ADDRESS_OR_KEY: i32 = -5;
    /// bitcoind: ran out of memory.
    pub const OUT_OF_MEMORY: i32 = -7;
    /// bitcoind: a parameter has a bad value.
    pub const INVALID_PARAMETER: i32 = -8;
    /// bitcoind: database error.
    pub const DATABASE_ERROR: i32 = -20;
    /// bitcoind: could not decode a transaction or block.
    pub const DESERIALIZATION_ERROR: i32 = -22;
    /// bitcoind: general error while verifying a transaction or block.
    pub const VERIFY_ERROR: i32 = -25;
    /// bitcoind: a transaction or block was rejected by network rules.
    pub const VERIFY_REJECTED: i32 = -26;
    /// bitcoind: the transaction is already in the chain.
    pub const VERIFY_ALREADY_IN_CHAIN: i32 = -27;
    /// bitcoind: the client is still warming up.
    pub const IN_WARMUP: i32 = -28;
    /// bitcoind: the method is deprecated.
    pub const METHOD_DEPRECATED: i32 = -32;
    /// bitcoind wallet: an unspecified wallet problem.
    pub const WALLET_ERROR: i32 = -4;
    /// bitcoind wallet: not enough funds in the wallet.
    pub const WALLET_INSUFFICIENT_FUNDS: i32 = -6;
    /// bitcoind wallet: invalid label name.
    pub const WALLET_INVALID_LABEL_NAME: i32 = -11;
    /// bitcoind wallet: the wallet is locked and needs a passphrase.
    pub const WALLET_UNLOCK_NEEDED: i32 = -13;
    /// bitcoind wallet: the wallet named in the request is not loaded or
    /// does not exist.
    pub const WALLET_NOT_FOUND: i32 = -18;
    /// bitcoind wallet: several wallets are loaded and none was named.
    pub const WALLET_NOT_SPECIFIED: i32 = -19;
    /// bitcoind wallet: the wallet is already loaded.
    pub const WALLET_ALREADY_LOADED: i32 = -35;
    /// bitcoind wallet: a wallet with that name already exists.
    pub const WALLET_ALREADY_EXISTS: i32 = -36;

    /// An error with `code` and `message`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl fmt::Display for RpcError {
    /// `message (code N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl RpcActor for Fixed {
        fn execute(&self, request: RpcRequest) -> Result<RpcReply> {
            Ok(match request.method.as_str() {
                "ok" => RpcReply::result("42"),
                "bad" => RpcReply::error(RpcError::INVALID_PARAMETER, "bad value"),
                _ => RpcReply::not_handled(),
            })
        }
    }

    #[test]
    fn reply_constructors() {
        let command = RpcCommand {
            category: "test".into(),
            name: "ok".into(),
            arg_names: vec!["a".into()],
            help: "ok a\nReturns 42.".into(),
            actor: Arc::new(Fixed),
        };
        let call = |method: &str| {
            command.actor.execute(RpcRequest {
                method: method.into(),
                params: "[]".into(),
                ..Default::default()
            })
        };
        assert_eq!(call("ok").unwrap(), RpcReply { handled: true, result: "42".into(), error: None });
        let bad = call("bad").unwrap();
        assert!(bad.handled);
        assert_eq!(bad.result, "null");
        assert_eq!(bad.error, Some(RpcError { code: -8, message: "bad value".into() }));
        assert!(!call("other").unwrap().handled);
        let shown = format!("{command:?}");
        assert!(shown.contains("\"ok\"") && shown.contains(".."), "{shown}");
    }

    #[test]
    fn error_display_and_codes() {
        assert_eq!(
            RpcError::new(RpcError::WALLET_NOT_FOUND, "no wallet").to_string(),
            "no wallet (code -18)"
        );
        // Spot-check against Bitcoin Core's src/rpc/protocol.h.
        assert_eq!(RpcError::METHOD_NOT_FOUND, -32601);
        assert_eq!(RpcError::WALLET_INSUFFICIENT_FUNDS, -6);
        assert_eq!(RpcError::VERIFY_REJECTED, -26);
        assert_eq!(RpcError::WALLET_ALREADY_EXISTS, -36);
    }
}
