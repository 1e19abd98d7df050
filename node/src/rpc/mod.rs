//! JSON-RPC over HTTP/1.1, shaped like bitcoind's.
//!
//! * [`Dispatcher`]: parses a request body (one object or a batch array), maps named parameters to
//!   positions, runs the built-in methods (one file per category, as Bitcoin Core's `src/rpc/`:
//!   `blockchain`, `mempool`, `mining`, `rawtransaction`, `control`, ...; each file has a
//!   `METHODS` table and [`TABLES`] collects them) or the commands registered with
//!   [`Dispatcher::register`] (the wallet's, through `interfaces::Chain::handle_rpc`), and builds
//!   1.0-style (`{"result","error","id"}`) or 2.0-style (`{"jsonrpc":"2.0",...}`) replies with the
//!   HTTP status bitcoind would use. It also implements [`interfaces::Rpc`].
//! * [`RpcServer`]: HTTP/1.1 on the configured addresses (hyper on a one-thread tokio runtime)
//!   with bitcoind's authentication (cookie, `-rpcuser`/`-rpcpassword`, `-rpcauth`), client
//!   networks (`-rpcallowip`), worker pool and queue (`-rpcthreads`, `-rpcworkqueue`), timeouts
//!   and limits, and a clean stop. See [`http`] for its threads and limits.

#[macro_use]
mod util;
pub mod amount;
mod blockchain;
mod chain_tips;
mod control;
mod fees;
pub mod http;
mod mempool;
mod mining;
mod net;
mod node;
mod output_script;
mod rawtransaction;
mod script;
mod signmessage;
mod txoutproof;
mod utxo_set;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use interfaces::{CleanupHandler, Handler, RpcCommand, RpcError, RpcRequest};
use serde_json::{json, Map, Value};

pub use http::{RpcAuth, RpcServer, RpcServerConfig, RpcServerError, COOKIE_USER};
pub use node::{set_echo_provider, EchoProvider};

use crate::NodeState;
use util::Builtin;

/// Every file's method table, in `help` order of categories.
static TABLES: &[&[Builtin]] = &[
    blockchain::METHODS,
    chain_tips::METHODS,
    blockchain::stats::METHODS,
    blockchain::wait::METHODS,
    mempool::METHODS,
    control::METHODS,
    mining::METHODS,
    net::METHODS,
    rawtransaction::METHODS,
    fees::METHODS,
    node::METHODS,
    output_script::METHODS,
    utxo_set::METHODS,
    txoutproof::METHODS,
    signmessage::METHODS,
];

/// Every built-in method.
fn builtins() -> impl Iterator<Item = &'static Builtin> {
    TABLES.iter().flat_map(|table| table.iter())
}

/// The built-in method `name`.
fn find_builtin(name: &str) -> Option<&'static Builtin> {
    builtins().find(|b| b.name == name)
}

/// The result of one call: a JSON value or a bitcoind-coded error.
pub type CallResult = Result<Value, RpcError>;

type Registered = Mutex<BTreeMap<String, Vec<(u64, RpcCommand)>>>;

/// Executes JSON-RPC requests against a [`NodeState`].
pub struct Dispatcher {
    node: Arc<NodeState>,
    registered: Arc<Registered>,
    next_id: AtomicU64,
    /// Requests being executed (`getrpcinfo`): id, method, start.
    active: Mutex<Vec<(u64, String, Instant)>>,
    /// The debug log's path (`getrpcinfo`'s `logpath`).
    log_path: Mutex<Option<PathBuf>>,
    /// `getnetworkinfo`'s `subversion` (with the `-uacomment`s) when the daemon set it.
    subversion: Mutex<Option<String>>,
    /// `-txindex`: confirmed transactions may be looked up by txid (a chain scan here).
    txindex: std::sync::atomic::AtomicBool,
    /// Where `savemempool` writes.
    mempool_file: Mutex<Option<PathBuf>>,
    /// The P2P subsystem, when the daemon started one (`getpeerinfo`, `addnode`, ...).
    net: Mutex<Option<Arc<crate::net::Connman>>>,
}

/// Removes a request from the active list when it ends (panics included).
struct ActiveGuard<'a> {
    dispatcher: &'a Dispatcher,
    id: u64,
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        lock(&self.dispatcher.active).retain(|(id, _, _)| *id != self.id);
    }
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

/// What [`Dispatcher::execute`] answers: an HTTP status and a body (empty for 204).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// HTTP status code.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Bitcoind's HTTP status for a 1.0 error reply.
fn error_status(code: i32) -> u16 {
    match code {
        RpcError::INVALID_REQUEST => 400,
        RpcError::METHOD_NOT_FOUND => 404,
        _ => 500,
    }
}

fn error_json(e: &RpcError) -> Value {
    json!({"code": e.code, "message": e.message})
}

enum Version {
    V1,
    V2,
}

impl Dispatcher {
    /// A dispatcher for `node` with only the built-in methods.
    pub fn new(node: Arc<NodeState>) -> Dispatcher {
        Dispatcher {
            node,
            registered: Arc::new(Mutex::new(BTreeMap::new())),
            next_id: AtomicU64::new(0),
            active: Mutex::new(Vec::new()),
            log_path: Mutex::new(None),
            subversion: Mutex::new(None),
            txindex: std::sync::atomic::AtomicBool::new(false),
            mempool_file: Mutex::new(None),
            net: Mutex::new(None),
        }
    }

    /// Sets the file `savemempool` writes (`<datadir>/regtest/mempool.dat`).
    pub fn set_mempool_file(&self, path: PathBuf) {
        *lock(&self.mempool_file) = Some(path);
    }

    /// The file `savemempool` writes, when set.
    pub fn mempool_file(&self) -> Option<PathBuf> {
        lock(&self.mempool_file).clone()
    }

    /// Turns the transaction index on (`-txindex`).
    pub fn set_txindex(&self, enabled: bool) {
        self.txindex.store(enabled, Ordering::SeqCst);
    }

    /// Whether `-txindex` is on.
    pub fn txindex(&self) -> bool {
        self.txindex.load(Ordering::SeqCst)
    }

    /// Sets the subversion `getnetworkinfo` reports (`Config::subversion()`: `-uacomment`s included).
    pub fn set_subversion(&self, subversion: String) {
        *lock(&self.subversion) = Some(subversion);
    }

    /// The subversion `getnetworkinfo` reports.
    pub fn subversion(&self) -> String {
        lock(&self.subversion).clone().unwrap_or_else(net::subversion)
    }

    /// Gives the P2P methods their subsystem (`None`: P2P disabled, as before start and after stop).
    pub fn set_net(&self, net: Option<Arc<crate::net::Connman>>) {
        *lock(&self.net) = net;
    }

    /// The P2P subsystem, if running.
    pub fn net(&self) -> Option<Arc<crate::net::Connman>> {
        lock(&self.net).clone()
    }

    /// Sets the debug log's path that `getrpcinfo` reports.
    pub fn set_log_path(&self, path: PathBuf) {
        *lock(&self.log_path) = Some(path);
    }

    /// The debug log's path, when set.
    pub fn log_path(&self) -> Option<PathBuf> {
        lock(&self.log_path).clone()
    }

    /// The requests being executed now: method and time since it started, oldest first.
    pub fn active_commands(&self) -> Vec<(String, Duration)> {
        lock(&self.active).iter().map(|(_, method, start)| (method.clone(), start.elapsed())).collect()
    }

    /// The node.
    pub fn node(&self) -> &Arc<NodeState> {
        &self.node
    }

    /// Registers `command` until the returned handler is disconnected or dropped. Several
    /// commands may share a name; they are tried in registration order.
    pub fn register(&self, command: RpcCommand) -> Box<dyn Handler> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let name = command.name.clone();
        lock(&self.registered).entry(name.clone()).or_default().push((id, command));
        let weak: Weak<Registered> = Arc::downgrade(&self.registered);
        Box::new(CleanupHandler::new(move || {
            if let Some(reg) = weak.upgrade() {
                let mut reg = lock(&reg);
                if let Some(list) = reg.get_mut(&name) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        reg.remove(&name);
                    }
                }
            }
        }))
    }

    /// `(category, name, synopsis)` of every method, built-in and registered.
    pub fn method_list(&self) -> Vec<(String, String, String)> {
        let mut list: Vec<(String, String, String)> =
            builtins().map(|m| (m.category.to_string(), m.name.to_string(), m.synopsis())).collect();
        for (name, cmds) in lock(&self.registered).iter() {
            if let Some((_, c)) = cmds.first() {
                let synopsis = c.help.lines().next().unwrap_or(name).to_string();
                list.push((c.category.clone(), name.clone(), synopsis));
            }
        }
        list
    }

    /// Help text for one method.
    pub fn method_help(&self, name: &str) -> Option<String> {
        if let Some(m) = find_builtin(name) {
            return Some(format!("{}\n\n{}", m.synopsis(), m.help));
        }
        lock(&self.registered).get(name).and_then(|c| c.first().map(|(_, c)| c.help.clone()))
    }

    /// Executes a request body for `uri` on behalf of `user`.
    pub fn execute(&self, body: &str, uri: &str, user: &str) -> HttpReply {
        let value: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(_) => {
                let e = RpcError::new(RpcError::PARSE_ERROR, "Parse error");
                return HttpReply {
                    status: 500,
                    body: json!({"result": null, "error": error_json(&e), "id": null}).to_string(),
                };
            }
        };
        match value {
            Value::Array(items) => {
                let replies: Vec<Value> =
                    items.iter().filter_map(|item| self.execute_one(item, uri, user).1).collect();
                if replies.is_empty() && !items.is_empty() {
                    // Only notifications: nothing to answer (an empty batch still gets `[]`).
                    return HttpReply { status: 204, body: String::new() };
                }
                HttpReply { status: 200, body: Value::Array(replies).to_string() }
            }
            Value::Object(_) => match self.execute_one(&value, uri, user) {
                (status, Some(reply)) => HttpReply { status, body: reply.to_string() },
                (_, None) => HttpReply { status: 204, body: String::new() },
            },
            _ => {
                let e = RpcError::new(RpcError::PARSE_ERROR, "Top-level object parse error");
                HttpReply {
                    status: 500,
                    body: json!({"result": null, "error": error_json(&e), "id": null}).to_string(),
                }
            }
        }
    }

    /// One request object: the HTTP status it alone would get and its reply (`None` for a 2.0
    /// notification).
    fn execute_one(&self, request: &Value, uri: &str, user: &str) -> (u16, Option<Value>) {
        let Some(obj) = request.as_object() else {
            let e = RpcError::new(RpcError::INVALID_REQUEST, "Invalid Request object");
            return (400, Some(json!({"result": null, "error": error_json(&e), "id": null})));
        };
        // bitcoind echoes `id` only when the request has one (a 1.0 request may have none).
        let id = obj.get("id").cloned();
        let with_id = |mut reply: Value| {
            if let (Some(id), Value::Object(o)) = (&id, &mut reply) {
                o.insert("id".into(), id.clone());
            }
            reply
        };
        let version = match obj.get("jsonrpc") {
            Some(Value::String(v)) if v == "2.0" => Version::V2,
            None | Some(Value::Null) => Version::V1,
            Some(Value::String(v)) if v == "1.0" => Version::V1,
            Some(other) => {
                let message = if other.is_string() {
                    "JSON-RPC version not supported"
                } else {
                    "jsonrpc field must be a string"
                };
                let e = RpcError::new(RpcError::INVALID_REQUEST, message);
                return (400, Some(with_id(json!({"result": null, "error": error_json(&e)}))));
            }
        };
        let is_notification = matches!(version, Version::V2) && !obj.contains_key("id");
        // A bug in a method fails that request only, whichever way it came (HTTP or a front
        // end's Node::execute_rpc), and never takes the calling thread down.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.call(obj, uri, user)))
            .unwrap_or_else(|_| Err(RpcError::new(RpcError::INTERNAL_ERROR, "Internal error")));
        if is_notification {
            return (204, None);
        }
        match (version, result) {
            (Version::V1, Ok(r)) => (200, Some(with_id(json!({"result": r, "error": null})))),
            (Version::V1, Err(e)) => {
                (error_status(e.code), Some(with_id(json!({"result": null, "error": error_json(&e)}))))
            }
            (Version::V2, Ok(r)) => (200, Some(with_id(json!({"jsonrpc": "2.0", "result": r})))),
            (Version::V2, Err(e)) => (200, Some(with_id(json!({"jsonrpc": "2.0", "error": error_json(&e)})))),
        }
    }

    fn call(&self, obj: &Map<String, Value>, uri: &str, user: &str) -> CallResult {
        let method = match obj.get("method") {
            Some(Value::String(m)) => m.as_str(),
            None => return Err(RpcError::new(RpcError::INVALID_REQUEST, "Missing method")),
            Some(_) => return Err(RpcError::new(RpcError::INVALID_REQUEST, "Method must be a string")),
        };
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        tracing::debug!(target: "rpc", "ThreadRPCServer method={method} user={user} uri={uri}");
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.active).push((id, method.to_string(), Instant::now()));
        let _active = ActiveGuard { dispatcher: self, id };
        if let Some(builtin) = find_builtin(method) {
            let args = positional(params, builtin.args)?;
            return (builtin.run)(self, &args);
        }
        let commands: Vec<RpcCommand> = lock(&self.registered)
            .get(method)
            .map(|l| l.iter().map(|(_, c)| c.clone()).collect())
            .unwrap_or_default();
        if commands.is_empty() {
            return Err(RpcError::new(RpcError::METHOD_NOT_FOUND, "Method not found"));
        }
        let count = commands.len();
        for (i, command) in commands.into_iter().enumerate() {
            let names: Vec<&str> = command.arg_names.iter().map(String::as_str).collect();
            let args = positional(params.clone(), &names)?;
            let request = RpcRequest {
                method: method.to_string(),
                params: Value::Array(args).to_string(),
                uri: uri.to_string(),
                user: user.to_string(),
                last_handler: i + 1 == count,
            };
            let reply = command
                .actor
                .execute(request)
                .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
            if !reply.handled {
                continue;
            }
            if let Some(e) = reply.error {
                return Err(e);
            }
            return serde_json::from_str(&reply.result)
                .map_err(|_| RpcError::new(RpcError::INTERNAL_ERROR, "handler returned invalid JSON"));
        }
        Err(RpcError::new(RpcError::METHOD_NOT_FOUND, "Method not found"))
    }
}

/// Positional arguments from `params`: an array as is, null as none, an object by bitcoind's
/// rules for named arguments (`transformNamedArguments`):
/// * each of `names` given (a value, `null` included) takes its position; a position left out
///   before a given one becomes null, those after the last given one are not sent (a method may
///   act on how many arguments it got);
/// * `args` (when no parameter has that name) is an array of positional arguments that come
///   first, the named ones filling the positions after it; a name that also has a position in
///   `args` is an error (`Parameter <name> specified twice both as positional and named argument`);
/// * a name `a|b` (Core's aliases, as `verbosity|verbose`) is filled by either;
/// * any other name is an error (`Unknown named parameter <name>`).
fn positional(params: Value, names: &[&str]) -> Result<Vec<Value>, RpcError> {
    let mut map = match params {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => return Ok(a),
        Value::Object(map) => map,
        _ => return Err(RpcError::new(RpcError::INVALID_REQUEST, "Params must be an array or object")),
    };
    let mut args = Vec::new();
    let mut hole = 0;
    let mut initial_hole = 0;
    let mut first_given: Option<&str> = None;
    for name in names {
        // `verbosity|verbose`: Core's aliases, either name fills the position.
        match name.split('|').find_map(|alias| map.remove(alias)) {
            Some(value) => {
                args.extend(std::iter::repeat_n(Value::Null, hole));
                hole = 0;
                first_given.get_or_insert(name);
                args.push(value);
            }
            None => {
                hole += 1;
                if args.is_empty() {
                    initial_hole = hole;
                }
            }
        }
    }
    if let Some(Value::Array(given)) = map.remove("args") {
        if let Some(name) = first_given.filter(|_| initial_hole < given.len()) {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                format!("Parameter {name} specified twice both as positional and named argument"),
            ));
        }
        let named = std::mem::replace(&mut args, given);
        let start = args.len();
        args.extend(named.into_iter().skip(start));
    }
    match map.keys().next() {
        Some(key) => {
            Err(RpcError::new(RpcError::INVALID_PARAMETER, format!("Unknown named parameter {key}")))
        }
        None => Ok(args),
    }
}

/// Bitcoin Core's `Rpc.executeRpc` (`bitcoin-cli -ipcconnect`): the reply is the JSON-RPC reply
/// text, RPC errors inside it; a request that is no JSON at all fails the call with Core's
/// message (the HTTP path answers it with a parse-error reply instead).
impl interfaces::Rpc for Dispatcher {
    fn execute_rpc(&self, request: String, uri: String, user: String) -> interfaces::Result<String> {
        if serde_json::from_str::<Value>(&request).is_err() {
            return Err(interfaces::Error::invalid_parameter("invalid JSON received over IPC"));
        }
        Ok(self.execute(&request, &uri, &user).body)
    }
}
