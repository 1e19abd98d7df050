//! `-help` lists every option the program takes, with its default.

use config::Program;

/// Every option, with the default `-help` must show, and which programs take
/// it (N = node, C = cli, W = wallet).
const OPTIONS: &[(&str, &str, &str)] = &[
    ("-?, -h, -help", "0", "NCW"),
    ("-version", "0", "NCW"),
    ("-conf=<file>", "bitcoin.conf and node.toml", "NCW"),
    ("-datadir=<dir>", "$HOME/.mpx", "NCW"),
    ("-daemon", "0", "N"),
    ("-pid=<file>", "bitcoind.pid", "N"),
    ("-reindex", "0", "N"),
    ("-includeconf=<file>", "none", "NCW"),
    ("-allowignoredconf", "0", "NCW"),
    ("-blocknotify=<cmd>", "none", "N"),
    ("-startupnotify=<cmd>", "none", "N"),
    ("-shutdownnotify=<cmd>", "none", "N"),
    ("-maxmempool=<n>", "300", "N"),
    ("-mempoolexpiry=<n>", "336", "N"),
    ("-par=<n>", "0", "N"),
    ("-persistmempool", "1", "N"),
    ("-prevoutfetchthreads=<n>", "8", "N"),
    ("-txindex", "0", "N"),
    ("-chain=<chain>", "regtest", "NCW"),
    ("-regtest", "1", "NCW"),
    ("-testnet", "0", "NCW"),
    ("-testnet4", "0", "NCW"),
    ("-signet", "0", "NCW"),
    ("-debug, -debug=<category>", "none", "NW"),
    ("-debugexclude=<category>", "none", "NW"),
    ("-debuglogfile=<file>", "debug.log", "NW"),
    ("-loglevel=<level>|<category>:<level>", "debug", "NW"),
    ("-logratelimit", "1", "NW"),
    ("-logsourcelocations", "0", "NW"),
    ("-logthreadnames", "0", "NW"),
    ("-logtimemicros", "0", "NW"),
    ("-logtimestamps", "1", "NW"),
    ("-shrinkdebugfile", "1 when no -debug", "NW"),
    ("-uacomment=<cmt>", "none", "N"),
    ("-printtoconsole", "0", "NW"),
    ("-bind=<addr>[:<port>][=onion]", "0.0.0.0", "N"),
    ("-connect=<ip>", "none", "N"),
    ("-discover", "1", "N"),
    ("-dnsseed", "1", "N"),
    ("-fixedseeds", "1", "N"),
    ("-listen", "1", "N"),
    ("-listenonion", "1", "N"),
    ("-maxconnections=<n>", "125", "N"),
    ("-natpmp", "1", "N"),
    ("-peertimeout=<n>", "60", "N"),
    ("-port=<port>", "18444", "N"),
    ("-v2transport", "1", "N"),
    ("-whitelist=[<permissions>@]<ip or network>", "none", "N"),
    ("-dustrelayfee=<amt>", "0.00003", "N"),
    ("-minrelaytxfee=<amt>", "0.000001", "N"),
    ("-rpcallowip=<ip>", "loopback only", "N"),
    ("-rpcauth=<userpw>", "none", "N"),
    ("-rpcbind=<addr>", "127.0.0.1 and ::1", "N"),
    ("-rpcconnect=<ip>", "127.0.0.1", "C"),
    ("-rpcport=<port>", "18443", "NC"),
    ("-rpcuser=<user>", "none: cookie authentication", "NC"),
    ("-rpcpassword=<pw>", "none: cookie authentication", "NC"),
    ("-rpcservertimeout=<n>", "30", "N"),
    ("-rpcthreads=<n>", "16", "N"),
    ("-rpcwhitelist=<whitelist>", "none", "N"),
    ("-rpcwhitelistdefault", "0", "N"),
    ("-rpcdoccheck", "0", "N"),
    ("-server", "1", "N"),
    ("-rpcwait", "0", "C"),
    ("-rpcwallet=<name>", "none", "C"),
    ("-rpcworkqueue=<n>", "64", "N"),
    ("-disablewallet", "0", "N"),
    ("-wallet=<name>", "none", "NW"),
    ("-fallbackfee=<amt>", "0.0002", "NW"),
    ("-keypool=<n>", "1000", "N"),
    ("-unsafesqlitesync", "0", "N"),
    ("-walletnotify=<cmd>", "none", "NW"),
    ("-ipcbind, -ipcbind=<addr>", "none", "N"),
    ("-ipcconnect, -ipcconnect=<addr>", "none", "CW"),
    ("-ipcfd=<n>", "none", "W"),
    ("-blocksdir=<dir>", "<datadir>", "N"),
    ("-prune=<n>", "0", "N"),
    ("-fastprune", "0", "N"),
    ("-reindex-chainstate", "0", "N"),
    ("-addnode=<ip>", "none", "N"),
    ("-seednode=<ip>", "none", "N"),
    ("-proxy=<ip:port>", "disabled", "N"),
    ("-proxyrandomize", "1", "N"),
    ("-onlynet=<net>", "any", "N"),
    ("-externalip=<ip>", "none", "N"),
    ("-forcednsseed", "0", "N"),
    ("-networkactive", "1", "N"),
    ("-blocksonly", "0", "N"),
    ("-timeout=<n>", "5000", "N"),
    ("-maxuploadtarget=<n>", "0", "N"),
    ("-torcontrol=<ip:port>", "127.0.0.1:9051", "N"),
    ("-torpassword=<pass>", "empty", "N"),
    ("-i2psam=<ip:port>", "none", "N"),
    ("-i2pacceptincoming", "1", "N"),
    ("-logips", "0", "N"),
    ("-cjdnsreachable", "0", "N"),
    ("-alertnotify=<cmd>", "none", "N"),
    ("-permitbaremultisig", "1", "N"),
    ("-limitclustercount=<n>", "64", "N"),
    ("-limitclustersize=<n>", "101", "N"),
    ("-limitancestorcount=<n>", "25", "N"),
    ("-limitdescendantcount=<n>", "25", "N"),
    ("-walletrejectlongchains", "0", "NW"),
    ("-addresstype=<type>", "bech32", "NW"),
    ("-changetype=<type>", "bech32", "NW"),
    ("-mocktime=<n>", "0", "N"),
];

/// The help entry of `synopsis`: its line and the description below it.
fn entry(help: &str, synopsis: &str) -> Option<String> {
    let mut lines = help.lines().skip_while(|line| line.trim() != synopsis);
    lines.next()?;
    Some(lines.take_while(|line| line.starts_with("       ")).map(str::trim).collect::<Vec<_>>().join(" "))
}

#[test]
fn help_lists_every_option_with_its_default() {
    for (program, letter) in [(Program::Node, 'N'), (Program::Cli, 'C'), (Program::Wallet, 'W')] {
        let help = config::help_text(program.executable());
        assert_eq!(help, program.help());
        assert!(help.starts_with(&format!("Usage: {} [options]", program.executable())), "{help}");
        for (synopsis, default, programs) in OPTIONS {
            let entry = entry(&help, synopsis);
            if !programs.contains(letter) {
                assert_eq!(entry, None, "{program:?} must not list {synopsis}");
                continue;
            }
            let entry = entry.unwrap_or_else(|| panic!("{program:?} help lacks {synopsis}:\n{help}"));
            assert!(entry.ends_with(&format!("(default: {default})")), "{synopsis}: {entry}");
        }
        let listed = help.lines().filter(|line| line.starts_with("  -")).count();
        let expected = OPTIONS.iter().filter(|(_, _, programs)| programs.contains(letter)).count();
        assert_eq!(listed, expected, "{program:?} lists an option this test does not know:\n{help}");
        assert!(help.lines().all(|line| line.len() <= 80), "{help}");
    }
}

#[test]
fn help_text_of_other_names() {
    assert_eq!(config::help_text("/usr/bin/mpx-cli"), Program::Cli.help());
    assert_eq!(config::help_text("something"), Program::Node.help());
    assert_eq!(Program::from_executable("mpx-node"), Some(Program::Node));
    assert_eq!(Program::from_executable("mpx"), None);
}

#[test]
fn help_shape() {
    let help = Program::Node.help();
    let start = help.find("  -rpcport=<port>").unwrap();
    let expect = "  -rpcport=<port>\n       The JSON-RPC port (default: 18443)\n\n  -";
    assert_eq!(&help[start..start + expect.len()], expect);
    assert!(help.contains("\nRPC options:\n"), "{help}");
}
