//! `bitcoin.conf`: Bitcoin Core's format and rules, its precedence against the command line and
//! `node.toml`, `includeconf`, `-conf`, and the options written by Core's test framework. Every
//! case writes real files under `$HOME/.mpx` (see `common::check_files`).

mod common;

use common::{check, check_files, run};
use config::Program::{Cli, Node};

/// The file Bitcoin Core's functional test framework writes (`write_config`), for node 0.
const TEST_FRAMEWORK_CONF: &str = "regtest=1
[regtest]
port=12000
rpcport=15000
rpcservertimeout=99000
rpcdoccheck=1
rpcthreads=2
fallbackfee=0.0002
server=1
keypool=1
discover=0
dnsseed=0
fixedseeds=0
listenonion=0
peertimeout=999999999
printtoconsole=0
natpmp=0
shrinkdebugfile=0
unsafesqlitesync=1
connect=0
maxconnections=94
par=2
prevoutfetchthreads=1
bind=127.0.0.1
";

/// The command line `test_node.py` adds (with the datadir).
const TEST_FRAMEWORK_ARGS: &[&str] = &[
    "-logtimemicros",
    "-debug",
    "-debugexclude=leveldb",
    "-debugexclude=rand",
    "-uacomment=testnode0",
    "-logthreadnames",
    "-logsourcelocations",
    "-loglevel=trace",
    "-nologratelimit",
    "-v2transport=0",
];

#[test]
fn the_test_frameworks_file_and_command_line() {
    let home = tempfile::tempdir().unwrap();
    let datadir = home.path().join(".mpx");
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::write(datadir.join("bitcoin.conf"), TEST_FRAMEWORK_CONF).unwrap();
    let mut args = vec!["-disablewallet"];
    args.extend(TEST_FRAMEWORK_ARGS);
    let config = run(Node, &args, home.path()).unwrap();

    assert_eq!(config.config_file, Some(datadir.join("bitcoin.conf")));
    assert_eq!(config.rpc_connect.port(), 15000);
    assert_eq!(config.rpc_server.threads, 2);
    assert_eq!(config.rpc_server.server_timeout, Some(std::time::Duration::from_secs(99000)));
    assert!(config.server && config.rpc_doc_check && config.disable_wallet && !config.print_to_console);
    assert_eq!(config.wallet_options.fallback_fee, Some(20_000), "0.0002 BTC/kvB in sat/kvB");
    assert_eq!(config.wallet_options.keypool, 1);
    assert!(config.wallet_options.unsafe_sqlite_sync);
    assert_eq!((config.par, config.prevout_fetch_threads), (2, 1));
    let p2p = &config.p2p;
    assert_eq!((p2p.port, p2p.max_connections, p2p.peer_timeout_secs), (12000, 94, 999_999_999));
    assert_eq!(p2p.bind, ["127.0.0.1"]);
    assert!(p2p.connect.is_empty() && p2p.no_auto_connect);
    assert!(!p2p.discover && !p2p.dnsseed && !p2p.fixedseeds && !p2p.listenonion && !p2p.natpmp);
    assert!(!p2p.v2transport && p2p.listen);

    let log = &config.log;
    assert!(log.debug_all && log.time_micros && log.thread_names && log.source_locations);
    assert!(!log.rate_limit && !log.shrink_debug_file);
    assert_eq!(log.level, config::LogLevel::Trace);
    assert!(config.debug.contains(config::DebugCategory::Rpc));
    assert!(!config.debug.contains(config::DebugCategory::LevelDb));
    assert!(!config.debug.contains(config::DebugCategory::Rand));
    assert_eq!(config.ua_comments, ["testnode0"]);
    assert_eq!(config.subversion(), format!("/mpx:{}(testnode0)/", env!("CARGO_PKG_VERSION")));
    assert_eq!(config.warnings, Vec::<String>::new(), "every key of Core's file is known");
    assert!(config.options_given.contains(&"-port=12000".to_string()), "{:?}", config.options_given);
    assert!(config.options_given.contains(&"-nologratelimit".to_string()), "{:?}", config.options_given);
}

#[test]
fn format_and_precedence() {
    let conf = |text: &str| vec![("bitcoin.conf", text.to_string())];
    let run_conf = |args: &[&str], text: &str, expect: &str| {
        let files = conf(text);
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        check_files(Node, args, &files, expect);
    };
    // Comments, whitespace, CRLF.
    run_conf(&[], "  # a comment\r\n\t rpcthreads = 3 # trailing\r\n\n", "rpc_threads: 3");
    // The section wins over the top level; other networks' sections are ignored.
    run_conf(&[], "rpcthreads=3\n[main]\nrpcthreads=5\n[regtest]\nrpcthreads=4", "rpc_threads: 4");
    run_conf(&[], "regtest.rpcthreads=4\nrpcthreads=3\ntest.rpcthreads=5", "rpc_threads: 4");
    // In the file the first value counts; on the command line the last.
    run_conf(&[], "rpcthreads=3\nrpcthreads=4", "rpc_threads: 3");
    run_conf(&["-rpcthreads=6", "-rpcthreads=7"], "rpcthreads=3", "rpc_threads: 7");
    // noX=1 negates; the command line wins both ways.
    run_conf(&[], "server=1\nnoserver=1", "server: false");
    run_conf(&["-server"], "noserver=1", "");
    run_conf(&["-noserver"], "server=1", "server: false");
    run_conf(&["-server=0"], "[regtest]\nserver=1", "server: false");
    // Lists: the command line's values, then the section's, then the top level's.
    // Core's GetArgs order: the command line, then [regtest], then the top level (Core's
    // feature_includeconf expects a subversion ending in "main; relative)/" after testnode0).
    run_conf(&["-uacomment=c"], "uacomment=a\n[regtest]\nuacomment=b", "ua_comments: [\"c\", \"b\", \"a\"]");
    run_conf(&["-nouacomment"], "uacomment=a", "");
    run_conf(&["-nouacomment", "-uacomment=c"], "uacomment=a", "ua_comments: [\"c\"]");
    run_conf(&["-uacomment=c"], "uacomment=a\nnouacomment=1\nuacomment=b", "ua_comments: [\"c\", \"b\"]");
    run_conf(&[], "uacomment=a\nnouacomment=1\nuacomment=b", "ua_comments: [\"b\"]");
    // chain selection at the top.
    run_conf(&[], "regtest=1", "");
    run_conf(&[], "chain=regtest", "");
    run_conf(&[], "chain=main", "Error: only -regtest is supported; got -chain=main");
    run_conf(&[], "testnet=1", "Error: only -regtest is supported; got -testnet");
    // Errors, as Core words them.
    run_conf(
        &[],
        "server=1\nlisten",
        "Error: Error reading configuration file: parse error on line 2: listen",
    );
    run_conf(
        &[],
        "nolisten",
        "Error: Error reading configuration file: parse error on line 1: nolisten, if you intended to specify a \
         negated option, use nolisten=1 instead",
    );
    run_conf(
        &[],
        "-listen=1",
        "Error: Error reading configuration file: parse error on line 1: -listen=1, options in configuration file \
         must be specified without leading -",
    );
    run_conf(
        &[],
        "conf=x.conf",
        "Error: Error reading configuration file: conf cannot be set in the configuration file; use includeconf= \
         if you want to include additional config files",
    );
    run_conf(
        &[],
        "rpcuser=u\nrpcpassword=p#q",
        "Error: Error reading configuration file: parse error on line 2, using # in rpcpassword can be ambiguous \
         and should be avoided",
    );
    // A bad value names the file.
    run_conf(
        &[],
        "[regtest]\nrpcport=abc",
        "Error: config file $TMP/.mpx/bitcoin.conf: invalid value 'abc' for -rpcport: not a port number",
    );
}

#[test]
fn unknown_keys_and_sections_are_warnings() {
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "dbcache=300\nserver=0\n[regtest]\nnosuch=1\n[foo]\nbar=2")],
        "server: false
warnings: [\"Ignoring unknown configuration value dbcache\", \"Ignoring unknown configuration value regtest.nosuch\", \
\"Ignoring unknown configuration value foo.bar\", \"$TMP/.mpx/bitcoin.conf:5 Section [foo] is not recognized.\"]",
    );
    // On the command line an unknown option is an error.
    check(
        Node,
        &["-dbcache=300"],
        "",
        "Error: Error parsing command line arguments: Invalid parameter -dbcache=300",
    );
    // A key another program takes is no warning: node and cli share the file.
    check_files(Cli, &[], &[("bitcoin.conf", "server=1\nrpcwait=1")], "rpc_wait: true");
}

#[test]
fn network_only_options_belong_in_the_section() {
    let error =
        "Error: Config setting for -rpcport only applied on regtest network when in [regtest] section.";
    check_files(Node, &[], &[("bitcoin.conf", "regtest=1\nrpcport=18500")], error);
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "port=1\nrpcport=2")],
        "Error: Config setting for -port only applied on regtest network when in [regtest] section.\nConfig \
         setting for -rpcport only applied on regtest network when in [regtest] section.",
    );
    // Set in the section or on the command line, the top-level value is just ignored.
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "rpcport=18500\n[regtest]\nrpcport=18501")],
        "rpc_bind: [::1]:18501 127.0.0.1:18501\nrpc_connect: 127.0.0.1:18501",
    );
    check_files(
        Node,
        &["-rpcport=18502"],
        &[("bitcoin.conf", "rpcport=18500")],
        "rpc_bind: [::1]:18502 127.0.0.1:18502\nrpc_connect: 127.0.0.1:18502",
    );
    // Options that are not network-only apply from the top level.
    check_files(Node, &[], &[("bitcoin.conf", "rpcthreads=3")], "rpc_threads: 3");
}

#[test]
fn includeconf() {
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "includeconf=more.conf\nrpcthreads=3"), ("more.conf", "rpcthreads=4\nserver=0")],
        "rpc_threads: 3\nserver: false\nnotes: [\"Included configuration file more.conf\"]",
    );
    // From the section too; relative to the datadir, or absolute.
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "[regtest]\nincludeconf=$TMP/.mpx/sub/more.conf"), ("sub/more.conf", "server=0")],
        "server: false\nnotes: [\"Included configuration file $TMP/.mpx/sub/more.conf\"]",
    );
    // An included file cannot include: warned about and ignored.
    check_files(
        Node,
        &[],
        &[
            ("bitcoin.conf", "includeconf=a.conf"),
            ("a.conf", "includeconf=b.conf\nrpcthreads=5"),
            ("b.conf", "server=0"),
        ],
        "rpc_threads: 5
console_warnings: [\"-includeconf cannot be used from included files; ignoring -includeconf=b.conf\"]
notes: [\"Included configuration file a.conf\"]",
    );
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "includeconf=missing.conf")],
        "Error: Error reading configuration file: Failed to include configuration file missing.conf",
    );
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "includeconf=a.conf"), ("a.conf", "x")],
        "Error: Error reading configuration file: parse error on line 1: x",
    );
    // Only -noincludeconf on the command line, which reads no included file.
    check(
        Node,
        &["-includeconf=a.conf"],
        "",
        "Error: Error parsing command line arguments: -includeconf cannot be used from commandline; \
         -includeconf=\"a.conf\"",
    );
    // Core's feature_includeconf: a double negative is `true`, shown as Core writes it.
    check(
        Node,
        &["-noincludeconf=0"],
        "",
        "Error: Error parsing command line arguments: -includeconf cannot be used from commandline; \
         -includeconf=true",
    );
    check_files(
        Node,
        &["-noincludeconf"],
        &[("bitcoin.conf", "includeconf=a.conf"), ("a.conf", "server=0")],
        "",
    );
    // TOML files have no includeconf.
    check(
        Node,
        &[],
        "includeconf = 'a.conf'",
        "Error: config file $TMP/.mpx/node.toml: option 'includeconf' cannot be set in a config file",
    );
}

#[test]
fn conf_option_and_ignored_files() {
    // -conf names a bitcoin.conf-format file unless its name ends in .toml.
    check_files(Node, &["-conf=other.conf"], &[("other.conf", "rpcthreads=3")], "rpc_threads: 3");
    check_files(Node, &["-conf=other.toml"], &[("other.toml", "rpcthreads = 3")], "rpc_threads: 3");
    check_files(
        Node,
        &["-conf=missing.conf"],
        &[],
        "Error: Error reading configuration file: specified config file \"$TMP/.mpx/missing.conf\" could not be \
         opened.",
    );
    // Core refuses to leave a bitcoin.conf in the datadir silently unread ...
    let ignored = "Error: Data directory \"$TMP/.mpx\" contains a \"bitcoin.conf\" file which is ignored, because a \
                   different configuration file \"$TMP/.mpx/other.conf\" from command line argument \
                   \"-conf=other.conf\" is being used instead. Possible ways to address this would be to:
- Delete or rename the \"bitcoin.conf\" file in data directory \"$TMP/.mpx\".
- Change datadir= or conf= options to specify one configuration file, not two, and use includeconf= to include any \
other configuration files.
- Set allowignoredconf=1 option to treat this condition as a warning, not an error.";
    let files = [("bitcoin.conf", "server=0"), ("other.conf", "rpcthreads=3")];
    check_files(Node, &["-conf=other.conf"], &files, ignored);
    // ... unless told to (then it is a warning); -conf=bitcoin.conf is the same file.
    let home = tempfile::tempdir().unwrap();
    let datadir = home.path().join(".mpx");
    std::fs::create_dir_all(&datadir).unwrap();
    for (name, text) in files {
        std::fs::write(datadir.join(name), text).unwrap();
    }
    let config = run(Node, &["-conf=other.conf", "-allowignoredconf"], home.path()).unwrap();
    assert_eq!((config.rpc_server.threads, config.server), (3, true));
    assert!(config.warnings[0].starts_with("Data directory"), "{:?}", config.warnings);
    std::fs::write(datadir.join("other.conf"), "rpcthreads=3\nallowignoredconf=1").unwrap();
    assert!(run(Node, &["-conf=other.conf"], home.path()).is_ok(), "allowed from the file too");
    assert!(!run(Node, &["-conf=bitcoin.conf"], home.path()).unwrap().server);
    // -noconf reads neither default file.
    std::fs::write(datadir.join("node.toml"), "rpcthreads = 9").unwrap();
    let config = run(Node, &["-noconf"], home.path()).unwrap();
    assert_eq!((config.server, config.rpc_server.threads, config.config_file), (true, 16, None));
}

#[test]
fn bitcoin_conf_beside_node_toml() {
    // Both are read; each may set what the other does not ...
    let home = tempfile::tempdir().unwrap();
    let datadir = home.path().join(".mpx");
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::write(datadir.join("bitcoin.conf"), "server=0").unwrap();
    std::fs::write(datadir.join("node.toml"), "rpcthreads = 3").unwrap();
    let config = run(Node, &[], home.path()).unwrap();
    assert_eq!((config.server, config.rpc_server.threads), (false, 3));
    assert_eq!(config.config_files, [datadir.join("bitcoin.conf"), datadir.join("node.toml")]);
    // ... but an option set in both is refused, whatever the values: neither silently wins.
    check_files(
        Node,
        &[],
        &[("bitcoin.conf", "[regtest]\nrpcthreads=3"), ("node.toml", "[regtest]\nrpcthreads = 3")],
        "Error: option -rpcthreads is set in both $TMP/.mpx/bitcoin.conf and $TMP/.mpx/node.toml; set it in one \
         of them",
    );
}

#[test]
fn option_values() {
    let conf = |text: &'static str| [("bitcoin.conf", text)];
    check_files(
        Node,
        &[],
        &conf("fallbackfee=0.1.2"),
        "Error: Invalid amount for -fallbackfee=<amount>: '0.1.2'",
    );
    check_files(Node, &["-minrelaytxfee=-1"], &[], "Error: Invalid amount for -minrelaytxfee=<amount>: '-1'");
    check(
        Node,
        &["-dustrelayfee=0.00005", "-minrelaytxfee=0", "-maxmempool=0", "-mempoolexpiry=1", "-nopersistmempool"],
        "",
        "mempool: MempoolSettings { max_size_mb: 0, expiry_hours: 1, min_relay_fee: 0, dust_relay_fee: 5000, \
         persist: false }",
    );
    check(Node, &["-maxmempool=4"], "", "Error: -maxmempool must be at least 5 MB");
    check(Node, &["-peertimeout=0"], "", "Error: peertimeout must be a positive integer.");
    check(
        Node,
        &["-prevoutfetchthreads=-1"],
        "",
        "Error: -prevoutfetchthreads must be non-negative (got -1). Use 0 to disable parallel input fetching.",
    );
    check(Node, &["-prevoutfetchthreads=99", "-par=-1"], "", "par: -1\nprevout_fetch_threads: 16");
    check(Node, &["-keypool=0"], "", "wallet_options: WalletOptions { fallback_fee: None, keypool: 1, notify: None, unsafe_sqlite_sync: false }");
    check(Node, &["-uacomment=a/b"], "", "Error: User Agent comment (a/b) contains unsafe characters.");
    let long = format!("-uacomment={}", "x".repeat(250));
    let e = run(Node, &[&long], tempfile::tempdir().unwrap().path()).unwrap_err().to_string();
    assert!(
        e.starts_with("Total length of network version string (")
            && e.ends_with("Reduce the number or size of uacomments."),
        "{e}"
    );
    check(
        Node,
        &["-blocknotify=touch %s", "-startupnotify=a", "-shutdownnotify=b", "-shutdownnotify=c"],
        "",
        "notify: Notify { block: Some(\"touch %s\"), startup: Some(\"a\"), shutdown: [\"b\", \"c\"], alert: None }",
    );
    check(
        Node,
        &["-bind=host.example"],
        "",
        "Error: invalid value 'host.example' for -bind: Cannot resolve -bind address: 'host.example'",
    );
    check(
        Node,
        &["-whitelist=bad@127.0.0.1"],
        "",
        "Error: invalid value 'bad@127.0.0.1' for -whitelist: Invalid P2P permission: 'bad'",
    );
    check(Node, &["-port=0"], "", "Error: invalid value '0' for -port: not a port number");
}

#[test]
fn logging_options() {
    check(
        Node,
        &["-loglevel=info", "-loglevel=rpc:trace", "-loglevel=all:debug"],
        "",
        "log_level: info\nlog_category_levels: [(Some(Rpc), Trace), (None, Debug)]",
    );
    check(
        Node,
        &["-loglevel=warning"],
        "",
        "Error: Unsupported global logging level -loglevel=warning. Valid values: info, debug, trace.",
    );
    let categories = config::DebugCategory::names();
    check(
        Node,
        &["-loglevel=rpc:warning"],
        "",
        &format!(
            "Error: Unsupported category-specific logging level -loglevel=rpc:warning. Expected \
             -loglevel=<category>:<loglevel>. Valid categories: {categories}. Valid loglevels: info, debug, trace."
        ),
    );
    check(Node, &["-nologlevel"], "", "Error: option -loglevel cannot be negated");
    check(Node, &["-nodebuglogfile"], "", "log_file: None");
    check(Node, &["-debuglogfile=other.log"], "", "log_file: Some(\"other.log\")");
    check(Node, &["-debuglogfile=/abs/x.log"], "", "log_file: Some(\"/abs/x.log\")");
    check(Node, &["-logtimestamps=0", "-logtimemicros", "-nologratelimit"], "", "log_format: time_micros");
    check(Node, &["-debug=rpc", "-shrinkdebugfile"], "", "debug: {\"rpc\"}");
}
