//! Command-line options: defaults, each option, negation, repeats, bad
//! values, and which program takes which option.

mod common;

use common::{check, fields, run};
use config::Program::{Cli, Node, Wallet};

#[test]
fn defaults() {
    let home = tempfile::tempdir().unwrap();
    let tmp = home.path().display().to_string();
    for program in config::Program::ALL {
        let config = run(program, &[], home.path()).unwrap();
        let text = fields(&config)
            .into_iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect::<String>()
            .replace(&tmp, "$TMP");
        // mpx-wallet appends to the node's log and never shrinks it by default.
        let shrink = program == Node;
        // The node writes bitcoind's default pid file; the others none.
        let pid = if program == Node { "Some(\"bitcoind.pid\")" } else { "None" };
        let expect = format!(
            "program: {program:?}
chain: regtest
datadir: $TMP/.mpx
chain_datadir: $TMP/.mpx/regtest
rpc_bind: [::1]:18443 127.0.0.1:18443
rpc_bind_warnings: []
rpc_allow: 127.0.0.0/8 ::1/128
rpc_auth_users: []
rpc_threads: 16
rpc_work_queue: 64
rpc_server_timeout: Some(30s)
rpc_connect: 127.0.0.1:18443
rpc_auth: Cookie {{ path: \"$TMP/.mpx/regtest/.cookie\" }}
debug: {{}}
print_to_console: false
daemon: false
pid_file: {pid}
reindex: false
disable_wallet: false
wallets: []
ipc_bind: []
ipc_connect: None
rpc_wait: false
rpc_wallet: None
args: []
log_file: Some(\"debug.log\")
log_level: debug
log_category_levels: []
debug_all: false
log_format: timestamps rate_limit
shrink_debug_file: {shrink}
server: true
rpc_doc_check: false
mempool: MempoolSettings {{ max_size_mb: 300, expiry_hours: 336, min_relay_fee: 100, dust_relay_fee: 3000, \
persist: true }}
wallet_options: WalletOptions {{ fallback_fee: None, keypool: 1000, notify: None, unsafe_sqlite_sync: false }}
notify: Notify {{ block: None, startup: None, shutdown: [], alert: None }}
p2p: P2pSettings {{ port: 18444, bind: [], listen: true, addnode: [], connect: [], no_auto_connect: false, \
max_connections: 125, v2transport: true, peer_timeout_secs: 60, discover: true, dnsseed: true, \
fixedseeds: true, listenonion: true, natpmp: true, whitelist: [], seednode: [], proxy: None, onlynet: [] }}
par: 0
prevout_fetch_threads: 8
txindex: false
ua_comments: []
warnings: []
console_warnings: []
notes: []
"
        );
        assert_eq!(text, expect);
        assert_eq!(config.config_file, None, "no default file exists");
        assert_eq!(config.cookie_file(), home.path().join(".mpx/regtest/.cookie"));
    }
}

#[test]
fn datadir() {
    check(Node, &["-datadir=$TMP/d"], "", "datadir: $TMP/d\nchain_datadir: $TMP/d/regtest\nrpc_auth: Cookie { path: \"$TMP/d/regtest/.cookie\" }");
    check(Node, &["-datadir="], "", "Error: invalid value '' for -datadir: empty path");
    check(Node, &["-datadir"], "", "Error: Error parsing command line arguments: Can not set -datadir with no value. Please specify value with -datadir=value.");
    // A relative -datadir is made absolute against the working directory.
    let home = tempfile::tempdir().unwrap();
    let config = run(Node, &["-datadir=rel"], home.path()).unwrap();
    assert_eq!(config.datadir, std::env::current_dir().unwrap().join("rel"));
}

#[test]
fn home_unset() {
    let e = config::parse_with_home(Node, ["-regtest"], None).unwrap_err();
    assert_eq!(e.to_string(), "cannot find the default data directory: HOME is not set (use -datadir=<dir>)");
    assert!(matches!(e, config::Error::NoHome));
    let tmp = tempfile::tempdir().unwrap();
    let datadir = format!("-datadir={}", tmp.path().display());
    assert!(config::parse_with_home(Node, [datadir], None).is_ok(), "-datadir needs no HOME");
}

#[test]
fn chain() {
    check(Node, &["-regtest"], "", "");
    check(Node, &["-chain=regtest"], "", "");
    check(Node, &["--regtest", "-chain=regtest"], "", "");
    check(Node, &["-regtest=1"], "", "");
    check(Node, &["-chain=main"], "", "Error: only -regtest is supported; got -chain=main");
    check(Node, &["-chain=signet"], "", "Error: only -regtest is supported; got -chain=signet");
    check(Cli, &["-chain=test"], "", "Error: only -regtest is supported; got -chain=test");
    check(Node, &["-noregtest"], "", "Error: only -regtest is supported; got -noregtest");
    check(Node, &["-regtest=0"], "", "Error: only -regtest is supported; got -noregtest");
    check(
        Node,
        &["-regtest", "-chain=main"],
        "",
        "Error: -regtest conflicts with -chain=main; use only one of them",
    );
    check(
        Node,
        &["-noregtest", "-chain=regtest"],
        "",
        "Error: -noregtest conflicts with -chain=regtest; use only one of them",
    );
    check(Node, &["-chain="], "", "Error: invalid value '' for -chain: must not be empty");
    check(Node, &["-nochain"], "", "Error: option -chain cannot be negated");
}

#[test]
fn rpc_addresses() {
    let loopback = |port| format!("rpc_bind: [::1]:{port} 127.0.0.1:{port}");
    check(Node, &["-rpcport=18500"], "", &format!("{}\nrpc_connect: 127.0.0.1:18500", loopback(18500)));
    check(Node, &["-rpcport=1", "-rpcport=2"], "", &format!("{}\nrpc_connect: 127.0.0.1:2", loopback(2)));
    check(Cli, &["-rpcconnect=10.0.0.1"], "", "rpc_connect: 10.0.0.1:18443");
    check(
        Cli,
        &["-rpcconnect=10.0.0.1:7", "-rpcport=8"],
        "",
        &format!("{}\nrpc_connect: 10.0.0.1:7", loopback(8)),
    );
}

#[test]
fn rpcbind_counts_only_with_rpcallowip() {
    // Alone, -rpcbind is ignored with bitcoind's warning: RPC stays on loopback.
    check(
        Node,
        &["-rpcbind=0.0.0.0"],
        "",
        "rpc_bind_warnings: [\"Option -rpcbind was ignored because -rpcallowip was not specified, \
         refusing to allow everyone to connect\"]",
    );
    check(
        Node,
        &["-rpcallowip=10.0.0.0/8"],
        "",
        "rpc_bind_warnings: [\"Option -rpcallowip was specified without -rpcbind; this doesn't usually \
         make sense\"]\nrpc_allow: 127.0.0.0/8 ::1/128 10.0.0.0/8",
    );
    check(
        Node,
        &["-rpcbind=127.0.0.2:9000", "-rpcbind=::1", "-rpcallowip=1.2.3.4/255.255.255.0", "-rpcport=1"],
        "",
        "rpc_bind: 127.0.0.2:9000 [::1]:1\nrpc_allow: 127.0.0.0/8 ::1/128 1.2.3.0/24\nrpc_connect: 127.0.0.1:1",
    );
    check(
        Node,
        &["-rpcbind=[::1]:5", "-rpcallowip=::/0", "-norpcallowip"],
        "",
        "rpc_bind_warnings: [\"Option -rpcbind was ignored because -rpcallowip was not specified, \
         refusing to allow everyone to connect\"]",
    );
    check(
        Node,
        &["-rpcallowip=1.2.3.4/33"],
        "",
        "Error: invalid value '1.2.3.4/33' for -rpcallowip: Invalid -rpcallowip subnet specification: \
         1.2.3.4/33. Valid values are a single IP (e.g. 1.2.3.4), a network/netmask (e.g. \
         1.2.3.4/255.255.255.0), a network/CIDR (e.g. 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0)",
    );
}

#[test]
fn rpc_server_sizes_and_rpcauth() {
    let hash = "0".repeat(64);
    check(
        Node,
        &["-rpcthreads=2", "-rpcworkqueue=0", "-rpcservertimeout=0", &format!("-rpcauth=alice:salt${hash}")],
        "",
        "rpc_auth_users: [\"alice\"]\nrpc_threads: 2\nrpc_work_queue: 1\nrpc_server_timeout: None",
    );
    check(
        Node,
        &["-rpcthreads=-1"],
        "",
        "Error: invalid value '-1' for -rpcthreads: not a non-negative whole number",
    );
    check(
        Node,
        &["-rpcauth=alice"],
        "",
        "Error: invalid value 'alice' for -rpcauth: Invalid -rpcauth argument (expected <user>:<salt>$<hash>)",
    );
    check(
        Cli,
        &["-rpcthreads=2"],
        "",
        "Error: Error parsing command line arguments: Invalid parameter -rpcthreads=2",
    );
}

#[test]
fn bad_values() {
    check(Node, &["-rpcport=abc"], "", "Error: invalid value 'abc' for -rpcport: not a port number");
    check(Node, &["-rpcport=0"], "", "Error: invalid value '0' for -rpcport: not a port number");
    check(Node, &["-rpcport=65536"], "", "Error: invalid value '65536' for -rpcport: not a port number");
    check(Node, &["-rpcport="], "", "Error: invalid value '' for -rpcport: not a port number");
    check(Node, &["-rpcport"], "", "Error: Error parsing command line arguments: Can not set -rpcport with no value. Please specify value with -rpcport=value.");
    check(Node, &["-daemon=yes"], "", "Error: invalid value 'yes' for -daemon: not a boolean (use 1 or 0)");
    check(
        Node,
        &["-printtoconsole=2"],
        "",
        "Error: invalid value '2' for -printtoconsole: not a boolean (use 1 or 0)",
    );
    check(
        Node,
        &["-rpcbind=localhost"],
        "",
        "Error: invalid value 'localhost' for -rpcbind: not an IP address (optionally with :<port>)",
    );
    check(Node, &["-rpcbind=1.2.3.4:0"], "", "Error: Invalid port specified in -rpcbind: '1.2.3.4:0'");
    for bad in ["127.0.0.1:notaport", "127.0.0.1:-18443", "127.0.0.1:65536", "[::1]:notaport", "[::1]:0"] {
        check(
            Node,
            &[&format!("-rpcbind={bad}")],
            "",
            &format!("Error: Invalid port specified in -rpcbind: '{bad}'"),
        );
    }
    check(Wallet, &["-ipcfd=-1"], "", "Error: invalid value '-1' for -ipcfd: not a file descriptor number");
    check(Wallet, &["-ipcfd=x"], "", "Error: invalid value 'x' for -ipcfd: not a file descriptor number");
    check(Node, &["-ipcfd=3"], "", "Error: Error parsing command line arguments: Invalid parameter -ipcfd=3");
    check(
        Node,
        &["-wallet=a/b"],
        "",
        "Error: invalid value 'a/b' for -wallet: not a wallet name (a non-empty name without '/')",
    );
    check(Node, &["-wallet"], "", "Error: Error parsing command line arguments: Can not set -wallet with no value. Please specify value with -wallet=value.");
    check(
        Node,
        &["-ipcbind=tcp:1"],
        "",
        "Error: invalid value 'tcp:1' for -ipcbind: not an IPC address (expected 'unix' or 'unix:<path>')",
    );
    check(
        Wallet,
        &["-ipcconnect=unixx"],
        "",
        "Error: invalid value 'unixx' for -ipcconnect: not an IPC address (expected 'unix', 'unix:<path>', 'auto' or 0)",
    );
}

#[test]
fn unknown_options() {
    check(Node, &["-foo"], "", "Error: Error parsing command line arguments: Invalid parameter -foo");
    check(Node, &["--foo=1"], "", "Error: Error parsing command line arguments: Invalid parameter --foo=1");
    check(Node, &["-nofoo"], "", "Error: Error parsing command line arguments: Invalid parameter -nofoo");
    check(Node, &["-rpcwait"], "", "Error: Error parsing command line arguments: Invalid parameter -rpcwait");
    check(
        Node,
        &["getblockcount"],
        "",
        "Error: unexpected argument 'getblockcount' (options start with '-')",
    );
    check(Cli, &["-daemon"], "", "Error: Error parsing command line arguments: Invalid parameter -daemon");
    check(Cli, &["-reindex"], "", "Error: Error parsing command line arguments: Invalid parameter -reindex");
    check(
        Cli,
        &["-wallet=a"],
        "",
        "Error: Error parsing command line arguments: Invalid parameter -wallet=a",
    );
    check(Cli, &["-debug"], "", "Error: Error parsing command line arguments: Invalid parameter -debug");
}

#[test]
fn flags() {
    check(Node, &["-daemon"], "", "daemon: true");
    check(Node, &["--daemon"], "", "daemon: true");
    check(Node, &["-daemon=1"], "", "daemon: true");
    check(Node, &["-daemon=true"], "", "daemon: true");
    check(Node, &["-daemon=0"], "", "");
    check(Node, &["-daemon", "-nodaemon"], "", "");
    check(Node, &["-nodaemon", "-daemon"], "", "daemon: true");
    check(Node, &["-daemon", "-daemon=0"], "", "");
    check(Node, &["-nodaemon=1"], "", "");
    // Core's double negative (Core's test framework starts nodes with `-nolisten=0`).
    check(
        Node,
        &["-nodaemon=0"],
        "",
        "daemon: true\nwarnings: [\"Parsed potentially confusing double-negative -daemon=0\"]",
    );
    check(
        Node,
        &["-nolisten=0"],
        "",
        "warnings: [\"Parsed potentially confusing double-negative -listen=0\"]",
    );
    check(Node, &["-printtoconsole"], "", "print_to_console: true");
    check(Node, &["-reindex"], "", "reindex: true");
    check(Node, &["-reindex", "-noreindex"], "", "");
    check(Node, &["-printtoconsole", "-noprinttoconsole"], "", "");
    check(Cli, &["-rpcwait"], "", "rpc_wait: true");
    check(Cli, &["-rpcwait", "-norpcwait"], "", "");
}

#[test]
fn help_and_version() {
    for args in [["-help"], ["-h"], ["-?"], ["--help"]] {
        check(Node, &args, "", "Help");
        check(Cli, &args, "", "Help");
    }
    check(Node, &["-version"], "", "Version");
    check(Cli, &["--version"], "", "Version");
    // Help wins over bad values elsewhere? No: every argument is checked.
    check(
        Node,
        &["-help", "-foo"],
        "",
        "Error: Error parsing command line arguments: Invalid parameter -foo",
    );
    // Help does not read the config file.
    check(Node, &["-help"], "foo = 1", "Help");
    let config::Action::Help(text) = config::parse_with_home(Cli, ["-h"], None).unwrap() else { panic!() };
    assert_eq!(text, config::help_text("mpx-cli"));
}

#[test]
fn rpc_auth() {
    check(
        Node,
        &["-rpcuser=u", "-rpcpassword=p"],
        "",
        "rpc_auth: UserPassword { user: \"u\", password: \"***\" }",
    );
    check(
        Cli,
        &["-rpcuser=u", "-rpcpassword=p:q"],
        "",
        "rpc_auth: UserPassword { user: \"u\", password: \"***\" }",
    );
    check(
        Node,
        &["-rpcuser=u"],
        "",
        "warnings: [\"-rpcuser is ignored without -rpcpassword: using cookie authentication\"]",
    );
    check(Node, &["-rpcpassword=p"], "", "Error: -rpcpassword requires -rpcuser");
    check(Node, &["-rpcuser=u", "-rpcpassword=p", "-norpcuser", "-norpcpassword"], "", "");
    check(
        Node,
        &["-rpcuser=a:b", "-rpcpassword=p"],
        "",
        "Error: invalid value 'a:b' for -rpcuser: must not contain ':'",
    );
    check(
        Node,
        &["-rpcpassword=", "-rpcuser=u"],
        "",
        "warnings: [\"-rpcuser is ignored without -rpcpassword: using cookie authentication\"]",
    );
    let home = tempfile::tempdir().unwrap();
    let config = run(Node, &["-rpcuser=u", "-rpcpassword=secret"], home.path()).unwrap();
    assert_eq!(
        config.rpc_auth,
        config::RpcAuth::UserPassword { user: "u".to_string(), password: "secret".to_string() }
    );
    assert!(!format!("{config:?}").contains("secret"), "Debug hides the password");
}

#[test]
fn debug_categories() {
    check(Node, &["-debug=ipc"], "", "debug: {\"ipc\"}\nshrink_debug_file: false");
    check(
        Node,
        &["-debug=rpc", "-debug=ipc", "-debug=rpc"],
        "",
        "debug: {\"ipc\", \"rpc\"}\nshrink_debug_file: false",
    );
    let all = format!("debug: {{{}}}", config::DebugCategory::ALL.map(|c| format!("\"{c}\"")).join(", "));
    let all = format!("{all}\ndebug_all: true\nshrink_debug_file: false");
    let all = all.as_str();
    check(Node, &["-debug"], "", all);
    check(Node, &["-debug=1"], "", all);
    check(Node, &["-debug=all"], "", all);
    check(Node, &["-debug", "-nodebug"], "", "");
    check(Node, &["-debug", "-debug=0"], "", "");
    check(Node, &["-debug=none"], "", "");
    check(Node, &["-nodebug", "-debug=http"], "", "debug: {\"http\"}\nshrink_debug_file: false");
    check(Node, &["-debug=ipc", "-debug=nosuch"], "", "Error: Unsupported logging category -debug=nosuch.");
    // Core's names for subsystems this node lacks are accepted; categories before the last
    // -debug=0/none are disregarded, unknown ones included.
    check(
        Node,
        &["-debug=leveldb", "-debug=net"],
        "",
        "debug: {\"leveldb\", \"net\"}\nshrink_debug_file: false",
    );
    check(
        Node,
        &["-debug=nosuch", "-debug=none", "-debug=rpc"],
        "",
        "debug: {\"rpc\"}\nshrink_debug_file: false",
    );
    // -debugexclude wins over -debug, whatever the order.
    check(
        Node,
        &["-debugexclude=rpc", "-debug=rpc", "-debug=ipc"],
        "",
        "debug: {\"ipc\"}\nshrink_debug_file: false",
    );
    check(Node, &["-debug", "-debugexclude=all"], "", "debug_all: true");
    check(Node, &["-debugexclude=nosuch"], "", "Error: Unsupported logging category -debugexclude=nosuch.");
    check(Node, &["-debugexclude=none"], "", "Error: Unsupported logging category -debugexclude=none.");
    let home = tempfile::tempdir().unwrap();
    let config = run(Node, &["-debug", "-debugexclude=leveldb", "-debugexclude=rand"], home.path()).unwrap();
    assert!(config.log.debug_all && !config.debug.contains(config::DebugCategory::LevelDb));
    assert!(
        config.debug.contains(config::DebugCategory::Rpc)
            && !config.debug.contains(config::DebugCategory::Rand)
    );
    let home = tempfile::tempdir().unwrap();
    let config = run(Node, &["-debug=mempool"], home.path()).unwrap();
    assert!(config.debug.contains(config::DebugCategory::Mempool));
    assert!(!config.debug.contains(config::DebugCategory::Rpc));
    assert_eq!(config.debug.iter().collect::<Vec<_>>(), [config::DebugCategory::Mempool]);
}

#[test]
fn lists() {
    check(Node, &["-wallet=a", "-wallet=b"], "", "wallets: [\"a\", \"b\"]");
    check(Node, &["-wallet=b", "-wallet=a", "-wallet=b"], "", "wallets: [\"b\", \"a\"]");
    check(Node, &["-wallet=a", "-nowallet", "-wallet=c"], "", "wallets: [\"c\"]");
    check(Node, &["-wallet=a", "-nowallet"], "", "");
    check(Node, &["-ipcbind"], "", "ipc_bind: [\"unix\"]");
    check(Node, &["-ipcbind=unix:/a.sock", "-ipcbind=unix"], "", "ipc_bind: [\"unix:/a.sock\", \"unix\"]");
    check(Node, &["-ipcbind", "-noipcbind"], "", "");
}

#[test]
fn single_values() {
    check(Node, &["-pid=node.pid"], "", "pid_file: Some(\"node.pid\")");
    check(Node, &["-pid=/run/x.pid"], "", "pid_file: Some(\"/run/x.pid\")");
    check(Node, &["-pid=a", "-nopid"], "", "pid_file: None");
    check(Wallet, &["-ipcconnect=unix"], "", "ipc_connect: Some(\"unix\")");
    check(Wallet, &["-ipcconnect"], "", "ipc_connect: Some(\"unix\")");
    check(Wallet, &["-ipcconnect=auto"], "", "ipc_connect: Some(\"auto\")");
    check(Wallet, &["-ipcconnect=unix:x.sock"], "", "ipc_connect: Some(\"unix:x.sock\")");
    check(Wallet, &["-ipcconnect=unix", "-noipcconnect"], "", "");
    check(Wallet, &["-ipcconnect=unix", "-ipcconnect=0"], "", "");
    check(Cli, &["-rpcwallet=w"], "", "rpc_wallet: Some(\"w\")");
    check(Cli, &["-rpcwallet=w", "-norpcwallet"], "", "");
    check(
        Cli,
        &["-rpcwallet=../w"],
        "",
        "Error: invalid value '../w' for -rpcwallet: not a wallet name (a non-empty name without '/')",
    );
}

#[test]
fn cli_positional_args() {
    check(Cli, &["getblockcount"], "", "args: [\"getblockcount\"]");
    check(
        Cli,
        &["-regtest", "-rpcwait", "getblockhash", "-1", "-rpcport=5"],
        "",
        "rpc_wait: true\nargs: [\"getblockhash\", \"-1\", \"-rpcport=5\"]",
    );
    check(Cli, &["-rpcwallet=w", "--", "-x"], "", "rpc_wallet: Some(\"w\")\nargs: [\"-x\"]");
    check(
        Cli,
        &["-rpcport=x", "getblockcount"],
        "",
        "Error: invalid value 'x' for -rpcport: not a port number",
    );
}

#[test]
fn not_unicode() {
    use std::os::unix::ffi::OsStringExt;
    let arg = std::ffi::OsString::from_vec(b"-wallet=\xff".to_vec());
    let e = config::parse_with_home(Node, [arg], None).unwrap_err();
    assert_eq!(e.to_string(), "argument '-wallet=\u{fffd}' is not valid UTF-8");
}
