//! `mpx-cli`: sends one JSON-RPC call to the node and prints the reply the
//! way `bitcoin-cli` does.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use config::{Action, Config, Program, RpcAuth};
use serde_json::{json, Value};

use crate::http::{self, HttpError};
use crate::ipc_transport::{self, IpcReply};
use crate::params;

/// The executable's name.
pub const EXECUTABLE: &str = "mpx-cli";

/// Bitcoin Core's `RPC_IN_WARMUP`: the server is up but not ready yet.
const RPC_IN_WARMUP: i64 = -28;
/// Bitcoin Core's `RPC_WALLET_NOT_SPECIFIED`: several wallets, none chosen.
const RPC_WALLET_NOT_SPECIFIED: i64 = -19;

/// How long `-rpcwait` sleeps between attempts.
const WAIT_INTERVAL: Duration = Duration::from_secs(1);

/// The help text of the options this executable takes beyond the config
/// crate's (they are command-line only).
const EXTRA_HELP: &str = "
Client-only options (command line only):

  -named
       Pass params as key=value pairs, sent as a named-params object
       (default: 0)

  -rpcclienttimeout=<n>
       Timeout in seconds during HTTP requests, or 0 for no timeout
       (default: 900)

  -rpcwaittimeout=<n>
       With -rpcwait, give up after <n> seconds; 0 waits forever
       (default: 0)

  -stdin
       Read extra arguments from standard input, one per line until EOF
       (default: 0)

  -stdinrpcpass
       Read RPC password from standard input as a single line. When combined
       with -stdin, the first line from standard input is used for the RPC
       password.

  -getinfo
       Get general information from the remote server: the chain, the
       network, the wallet and its balance (bitcoin-cli's report)

  -generate
       Generate blocks, equivalent to RPC getnewaddress followed by RPC
       generatetoaddress. Optional positional integer arguments are number
       of blocks to generate (default: 1) and maximum iterations to try
       (default: 1000000), equivalent to RPC generatetoaddress nblocks and
       maxtries arguments. Example: mpx-cli -generate 4 1000
";

/// One of bitcoin-cli's own commands, instead of a method call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    GetInfo,
    Generate,
}

/// Options the config crate does not know: the client's own, taken off the
/// command line before the rest is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientOptions {
    named: bool,
    wait_timeout: Option<Duration>,
    /// `-rpcclienttimeout`: how long an HTTP reply may take; `None` waits forever.
    client_timeout: Option<Duration>,
    /// `-stdin`: more arguments come from standard input, one per line.
    stdin: bool,
    /// `-stdinrpcpass`: the RPC password is standard input's first line.
    stdin_rpc_pass: bool,
    /// `-getinfo` / `-generate`.
    command: Option<Command>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            named: false,
            wait_timeout: None,
            client_timeout: Some(http::DEFAULT_TIMEOUT),
            stdin: false,
            stdin_rpc_pass: false,
            command: None,
        }
    }
}

/// Runs `mpx-cli` with `args` (without the program name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let (options, mut args) = match client_options(args) {
        Ok(split) => split,
        Err(e) => return usage_error(&e),
    };
    if options.stdin || options.stdin_rpc_pass {
        let mut lines = match stdin_args(io::stdin().lock()) {
            Ok(lines) => lines.into_iter(),
            Err(e) => return usage_error(&format!("cannot read standard input: {e}")),
        };
        if options.stdin_rpc_pass {
            // As bitcoin-cli: the first line is the password (before any -stdin arguments).
            let Some(password) = lines.next() else {
                return usage_error("-stdinrpcpass specified but failed to read from standard input");
            };
            args.insert(0, OsString::from(format!("-rpcpassword={password}")));
        }
        if options.stdin {
            // As bitcoin-cli: the lines follow the command line's arguments (a method included).
            args.extend(lines.map(OsString::from));
        }
    }
    let config = match config::parse(Program::Cli, args) {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help(text)) => {
            print_out(&format!("{text}{EXTRA_HELP}"));
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            print_out(&format!("{EXECUTABLE} version {}\n", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Some(command) = options.command {
        let send = |request: &Value, wallet: Option<&str>| {
            let mut target = config.clone();
            if let Some(wallet) = wallet {
                target.rpc_wallet = Some(wallet.to_string());
            }
            call(&target, &request.to_string(), &options)
        };
        let wallet = config.rpc_wallet.clone();
        let outcome = match command {
            Command::GetInfo => crate::commands::getinfo(&config.args, wallet.as_deref(), &send),
            Command::Generate => crate::commands::generate(&config.args, wallet.as_deref(), &send),
        };
        return match outcome {
            Ok(reply) => print_reply(&reply),
            Err(message) => {
                print_err(&format!("error: {message}\n"));
                ExitCode::FAILURE
            }
        };
    }
    let Some((method, params)) = config.args.split_first() else {
        return usage_error(&format!(
            "too few parameters: no method given (usage: {EXECUTABLE} [options] <method> [params]; \
             {EXECUTABLE} -help lists the options)"
        ));
    };
    let converted =
        if options.named { params::named(method, params) } else { params::positional(method, params) };
    let params = match converted {
        Ok(params) => params,
        Err(e) => {
            print_err(&format!("error: {e}\n"));
            return ExitCode::FAILURE;
        }
    };
    let request = json!({ "method": method, "params": params, "id": 1 });
    match call(&config, &request.to_string(), &options) {
        Ok(reply) => print_reply(&reply),
        Err(message) => {
            print_err(&format!("error: {message}\n"));
            ExitCode::FAILURE
        }
    }
}

/// A command-line problem: one `Error: ...` line, exit code 1.
fn usage_error(message: &str) -> ExitCode {
    print_err(&format!("Error: {message}\n"));
    ExitCode::FAILURE
}

fn print_out(text: &str) {
    // A closed stdout (`mpx-cli ... | head -0`) is not worth a panic.
    let _ = io::stdout().lock().write_all(text.as_bytes());
}

fn print_err(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Takes `-named` and `-rpcwaittimeout` off the options (everything before
/// the method); the method and params are left alone.
fn client_options(args: Vec<OsString>) -> Result<(ClientOptions, Vec<OsString>), String> {
    let mut options = ClientOptions::default();
    let mut rest = Vec::with_capacity(args.len());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_str().unwrap_or_default();
        let is_option = text.starts_with('-') && text != "-" && text != "--";
        if !is_option {
            // The method (or `--`): it and everything after it are the config crate's.
            rest.push(arg);
            rest.extend(args.by_ref());
            break;
        }
        let body = text.strip_prefix("--").or_else(|| text.strip_prefix('-')).unwrap_or(text);
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        match (name, value) {
            ("named", None | Some("1" | "true")) => options.named = true,
            ("named", Some("0" | "false")) | ("nonamed", None | Some("1" | "true")) => options.named = false,
            ("named", Some(value)) => {
                return Err(format!("invalid value '{value}' for -named: not a boolean"))
            }
            ("nonamed", Some(value)) => {
                return Err(format!("invalid value '{value}' for -nonamed: use -nonamed alone, or -named"))
            }
            ("rpcwaittimeout", None) => {
                return Err(
                    "option -rpcwaittimeout requires a value, as in -rpcwaittimeout=<value>".to_string()
                )
            }
            ("rpcclienttimeout", value) => {
                let seconds = value.and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| {
                    format!(
                        "invalid value '{}' for -rpcclienttimeout: not a number of seconds",
                        value.unwrap_or("")
                    )
                })?;
                options.client_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
            }
            ("stdinrpcpass", None | Some("1")) => options.stdin_rpc_pass = true,
            ("getinfo", None | Some("1")) => options.command = Some(Command::GetInfo),
            ("generate", None | Some("1")) => options.command = Some(Command::Generate),
            ("stdin", None | Some("1")) => options.stdin = true,
            ("stdin", Some("0")) | ("nostdin", None | Some("1")) => options.stdin = false,
            ("rpcwaittimeout", Some(value)) => {
                let seconds = value.parse::<u64>().map_err(|_| {
                    format!("invalid value '{value}' for -rpcwaittimeout: not a number of seconds")
                })?;
                options.wait_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
            }
            _ => rest.push(arg),
        }
    }
    Ok((options, rest))
}

/// `-stdin`'s arguments: one per line, up to the end of the input (a last line
/// without its newline included); `\r\n` endings are taken as `\n`.
fn stdin_args<R: io::BufRead>(input: R) -> io::Result<Vec<String>> {
    input.lines().map(|line| line.map(|l| l.strip_suffix('\r').map(str::to_string).unwrap_or(l))).collect()
}

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt with `-rpcwait`: the server is not there (or
    /// not ready) yet.
    Transient(String),
    /// Final.
    Fatal(String),
}

/// Sends `request`, retrying transient failures with `-rpcwait`; returns
/// the reply object or the message to print after `error: `.
fn call(config: &Config, request: &str, options: &ClientOptions) -> Result<Value, String> {
    let deadline = options.wait_timeout.map(|timeout| Instant::now() + timeout);
    loop {
        let failure = match call_once(config, request, options.client_timeout) {
            Ok(reply) if config.rpc_wait && error_code(&reply) == Some(RPC_IN_WARMUP) => {
                Failure::Transient(format!("server in warmup: {}", error_message(&reply).unwrap_or_default()))
            }
            Ok(reply) => return Ok(reply),
            Err(failure) => failure,
        };
        match failure {
            Failure::Fatal(message) => return Err(message),
            Failure::Transient(message) if !config.rpc_wait => return Err(message),
            Failure::Transient(message) => {
                if deadline.is_some_and(|deadline| Instant::now() + WAIT_INTERVAL > deadline) {
                    return Err(format!("timeout on transient error: {message}"));
                }
                thread::sleep(WAIT_INTERVAL);
            }
        }
    }
}

/// One exchange, over the node's unix socket with `-ipcconnect` (HTTP when `-ipcconnect=auto`
/// finds no node there), else over HTTP: the reply object, or why there is none.
fn call_once(config: &Config, request: &str, timeout: Option<Duration>) -> Result<Value, Failure> {
    let uri = match &config.rpc_wallet {
        Some(wallet) => format!("/wallet/{}", percent_encode(wallet)),
        None => "/".to_string(),
    };
    match ipc_transport::address(config) {
        Err(message) => return Err(Failure::Fatal(message)),
        Ok(Some((path, mode))) => match ipc_transport::call(&path, mode, request, &uri) {
            Ok(IpcReply::Reply(reply)) => return Ok(reply),
            Ok(IpcReply::NotListening) => {}
            Err(failure) if failure.transient => return Err(Failure::Transient(failure.message)),
            Err(failure) => return Err(Failure::Fatal(failure.message)),
        },
        Ok(None) => {}
    }
    call_http(config, request, &uri, timeout)
}

/// One HTTP exchange: the reply object, or why there is none.
fn call_http(
    config: &Config,
    request: &str,
    path: &str,
    timeout: Option<Duration>,
) -> Result<Value, Failure> {
    let credentials = match &config.rpc_auth {
        RpcAuth::UserPassword { user, password } => format!("{user}:{password}"),
        RpcAuth::Cookie { path } => match std::fs::read_to_string(path) {
            Ok(cookie) => cookie.lines().next().unwrap_or_default().to_string(),
            Err(e) => {
                // The node writes the cookie at start: with -rpcwait, wait for it too.
                return Err(Failure::Transient(format!(
                    "Could not locate RPC credentials. No authentication cookie could be found at {} ({e}), \
                     and no -rpcpassword is set. Is mpx-node running with this -datadir?",
                    path.display()
                )));
            }
        },
    };
    let authorization = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    let addr = config.rpc_connect;
    let response = match http::post_with_timeout(addr, path, &authorization, request.as_bytes(), timeout) {
        Ok(response) => response,
        Err(HttpError::Connect(e)) => {
            let detail = match e.kind() {
                io::ErrorKind::ConnectionRefused => String::new(),
                _ => format!(" ({e})"),
            };
            return Err(Failure::Transient(format!(
                "Could not connect to the server {addr}{detail}\n\n\
                 Make sure the mpx-node server is running and that you are connecting to the correct RPC port.\n\
                 Use \"{EXECUTABLE} -help\" for more info."
            )));
        }
        // bitcoin-cli treats a connection that yields no reply as one that failed.
        Err(HttpError::NoResponse(message)) => return Err(Failure::Transient(message)),
        Err(HttpError::Exchange(message)) => return Err(Failure::Fatal(message)),
    };
    // The statuses bitcoind answers with a JSON-RPC body are 200, 400, 404 and 500.
    match response.status {
        401 => {
            return Err(Failure::Fatal("Authorization failed: Incorrect rpcuser or rpcpassword".to_string()))
        }
        503 => {
            return Err(Failure::Fatal(format!(
                "Server response: {}",
                String::from_utf8_lossy(&response.body).trim_end()
            )))
        }
        400 | 404 | 500 => {}
        status if status >= 400 => {
            return Err(Failure::Fatal(format!("server returned HTTP error {status}")))
        }
        _ => {}
    }
    if response.body.is_empty() {
        return Err(Failure::Fatal("no response from server".to_string()));
    }
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(reply @ (Value::Object(_) | Value::Array(_))) => Ok(reply),
        _ => Err(Failure::Fatal("couldn't parse reply from server".to_string())),
    }
}

/// The reply's error code, if it has an error with an integer code.
fn error_code(reply: &Value) -> Option<i64> {
    reply.get("error")?.get("code")?.as_i64()
}

fn error_message(reply: &Value) -> Option<&str> {
    reply.get("error")?.get("message")?.as_str()
}

/// Prints a reply as `bitcoin-cli` does: a string bare, null as nothing,
/// other JSON pretty-printed; an error as `error code: N` / `error
/// message:` / the message, exit code 1.
fn print_reply(reply: &Value) -> ExitCode {
    match reply.get("error") {
        None | Some(Value::Null) => {}
        Some(error) => {
            print_err(&format!("{}\n", format_error(error)));
            return ExitCode::FAILURE;
        }
    }
    match reply.get("result") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => print_out(&format!("{text}\n")),
        Some(result) => match serde_json::to_string_pretty(result) {
            Ok(text) => print_out(&format!("{text}\n")),
            Err(e) => {
                print_err(&format!("error: cannot print the result: {e}\n"));
                return ExitCode::FAILURE;
            }
        },
    }
    ExitCode::SUCCESS
}

/// bitcoin-cli's `ParseError`.
fn format_error(error: &Value) -> String {
    let Value::Object(object) = error else {
        return format!("error: {error}");
    };
    let mut out = String::new();
    match object.get("code") {
        None | Some(Value::Null) => {}
        Some(Value::String(code)) => out.push_str(&format!("error code: {code}\n")),
        Some(code) => out.push_str(&format!("error code: {code}\n")),
    }
    if let Some(Value::String(message)) = object.get("message") {
        out.push_str(&format!("error message:\n{message}"));
    }
    if object.get("code").and_then(Value::as_i64) == Some(RPC_WALLET_NOT_SPECIFIED) {
        out.push_str(&format!(
            " Or for the CLI, specify the \"-rpcwallet=<walletname>\" option before the command \
             (run \"{EXECUTABLE} -h\" for help or \"{EXECUTABLE} listwallets\" to see which wallets are \
             currently loaded)."
        ));
    }
    out.trim_end_matches('\n').to_string()
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a
/// wallet name in the URI path.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> Result<(ClientOptions, Vec<String>), String> {
        let args = args.iter().map(OsString::from).collect();
        client_options(args).map(|(options, rest)| {
            (options, rest.into_iter().map(|arg| arg.to_string_lossy().into_owned()).collect())
        })
    }

    #[test]
    fn client_only_options() {
        let (options, rest) = split(&["-named", "-rpcwait", "-rpcwaittimeout=5", "m", "-named"]).expect("ok");
        let expect =
            ClientOptions { named: true, wait_timeout: Some(Duration::from_secs(5)), ..Default::default() };
        assert_eq!(options, expect);
        assert_eq!(rest, ["-rpcwait", "m", "-named"]);
        // Core's test framework passes -rpcclienttimeout to every call, and -stdin for long arguments.
        let (options, rest) = split(&["-rpcclienttimeout=30", "-stdin", "-rpcport=1", "m"]).expect("ok");
        let expect = ClientOptions {
            client_timeout: Some(Duration::from_secs(30)),
            stdin: true,
            ..Default::default()
        };
        assert_eq!(options, expect);
        assert_eq!(rest, ["-rpcport=1", "m"]);
        let (options, _) = split(&["-rpcclienttimeout=0"]).expect("ok");
        assert_eq!(options.client_timeout, None);
        assert!(split(&["-rpcclienttimeout=x"]).is_err());
        assert!(split(&["-rpcclienttimeout"]).is_err());
        let (options, _) = split(&["-named", "-nonamed", "-rpcwaittimeout=0"]).expect("ok");
        assert_eq!(options, ClientOptions::default());
        assert!(split(&["-rpcwaittimeout=x"]).is_err());
        assert!(split(&["-rpcwaittimeout"]).is_err());
        assert!(split(&["-named=2"]).is_err());
    }

    #[test]
    fn stdin_lines() {
        let args = stdin_args(&b"getblockhash\r\n0\n\nlast"[..]).expect("read");
        assert_eq!(args, ["getblockhash", "0", "", "last"]);
        assert_eq!(stdin_args(&b""[..]).expect("read"), Vec::<String>::new());
    }

    #[test]
    fn errors() {
        let e = format_error(&json!({"code": -32601, "message": "Method not found"}));
        assert_eq!(e, "error code: -32601\nerror message:\nMethod not found");
        assert_eq!(format_error(&json!("boom")), "error: \"boom\"");
        assert!(format_error(&json!({"code": -19, "message": "m"})).contains("-rpcwallet"));
    }

    #[test]
    fn wallet_paths() {
        assert_eq!(percent_encode("a b/c~d.e_f-g"), "a%20b%2Fc~d.e_f-g");
        assert_eq!(percent_encode("ü"), "%C3%BC");
    }
}
