//! The schemas state WIRE.md section 2's facts: Bitcoin Core's file IDs,
//! declaration names and method ordinals and types; our own files have
//! distinct IDs. (A peer built from Bitcoin Core's schemas can call us only
//! if these match; the generated glue compiling proves the Rust side, this
//! proves the wire side.)

use std::collections::BTreeMap;
use std::path::Path;

/// Every schema file: stem -> text with whitespace collapsed.
fn schemas() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "capnp") {
            let text = std::fs::read_to_string(&path).unwrap();
            let code: Vec<&str> = text.lines().map(|l| l.split('#').next().unwrap()).collect();
            let collapsed = code.join(" ").split_whitespace().collect::<Vec<_>>().join(" ");
            out.insert(path.file_stem().unwrap().to_string_lossy().into_owned(), collapsed);
        }
    }
    out
}

fn file_id(text: &str) -> &str {
    let start = text.find('@').expect("file ID");
    let end = start + text[start..].find(';').expect("; after file ID");
    &text[start..end]
}

/// `stem` has `file_id` and contains each of `declarations`.
fn check(schemas: &BTreeMap<String, String>, stem: &str, id: &str, declarations: &[&str]) {
    let text = schemas.get(stem).unwrap_or_else(|| panic!("schema/{stem}.capnp missing"));
    assert_eq!(file_id(text), id, "{stem}.capnp file ID");
    for declaration in declarations {
        assert!(text.contains(declaration), "{stem}.capnp lacks `{declaration}`");
    }
}

#[test]
fn bitcoin_core_files_match_wire_md() {
    let schemas = schemas();
    check(
        &schemas,
        "init",
        "@0xf2c5cfa319406aa6",
        &[
            "interface Init $Proxy.wrap(\"interfaces::Init\") {",
            "construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);",
            "makeEcho @1 (context :Proxy.Context) -> (result :Echo.Echo);",
            "makeMiningOld2 @2 () -> ();",
            "makeMining @3 (context :Proxy.Context) -> (result :Mining.Mining);",
            "makeRpc @4 (context :Proxy.Context) -> (result :Rpc.Rpc);",
            "makeChain @5 (context :Proxy.Context) -> (result :Chain.Chain);",
            "makeNode @6 (context :Proxy.Context) -> (result :Node.Node);",
            "makeWalletLoader @7 (context :Proxy.Context, chain :Chain.Chain) -> (result :Wallet.WalletLoader);",
        ],
    );
    check(
        &schemas,
        "echo",
        "@0x888b4f7f51e691f7",
        &[
            "interface Echo $Proxy.wrap(\"interfaces::Echo\") {",
            "destroy @0 (context :Proxy.Context) -> ();",
            "echo @1 (context :Proxy.Context, echo :Text) -> (result :Text);",
        ],
    );
    check(
        &schemas,
        "rpc",
        "@0x9c3505dc45e146ac",
        &[
            "interface Rpc $Proxy.wrap(\"interfaces::Rpc\") {",
            "executeRpc @0 (context :Proxy.Context, request :Text, uri :Text, user :Text) -> (result :Text);",
        ],
    );
    check(
        &schemas,
        "common",
        "@0xcd2c6232cb484a28",
        &["struct BlockRef $Proxy.wrap(\"interfaces::BlockRef\") {", "hash @0 :Data;", "height @1 :Int32;"],
    );
    // WIRE.md section 5: Bitcoin Core's mining.capnp.
    check(
        &schemas,
        "mining",
        "@0xc77d03df6a41b505",
        &[
            "const maxMoney :Int64 = 2100000000000000;",
            "const maxDouble :Float64 = 1.7976931348623157e308;",
            "const defaultBlockReservedWeight :UInt32 = 8000;",
            "const defaultCoinbaseOutputMaxAdditionalSigops :UInt32 = 400;",
            "interface Mining $Proxy.wrap(\"interfaces::Mining\") {",
            "isTestChain @0 (context :Proxy.Context) -> (result :Bool);",
            "isInitialBlockDownload @1 (context :Proxy.Context) -> (result :Bool);",
            "getTip @2 (context :Proxy.Context) -> (result :Common.BlockRef, hasResult :Bool);",
            "waitTipChanged @3 (context :Proxy.Context, currentTip :Data, timeout :Float64 = .maxDouble) -> (result :Common.BlockRef);",
            "createNewBlock @4 (context :Proxy.Context, options :BlockCreateOptions, cooldown :Bool = true) -> (result :BlockTemplate);",
            "checkBlock @5 (context :Proxy.Context, block :Data, options :BlockCheckOptions) -> (reason :Text, debug :Text, result :Bool);",
            "interrupt @6 () -> ();",
            "submitBlock @7 (context :Proxy.Context, block :Data) -> (reason :Text, debug :Text, result :Bool);",
            "getTransactionsByTxID @8 (context :Proxy.Context, txids :List(Data)) -> (result :List(Data));",
            "getTransactionsByWitnessID @9 (context :Proxy.Context, wtxids :List(Data)) -> (result :List(Data));",
            "interface BlockTemplate $Proxy.wrap(\"interfaces::BlockTemplate\") {",
            "destroy @0 (context :Proxy.Context) -> ();",
            "getBlockHeader @1 (context :Proxy.Context) -> (result :Data);",
            "getBlock @2 (context :Proxy.Context) -> (result :Data);",
            "getTxFees @3 (context :Proxy.Context) -> (result :List(Int64));",
            "getTxSigops @4 (context :Proxy.Context) -> (result :List(Int64));",
            "getCoinbaseTx @5 (context :Proxy.Context) -> (result :CoinbaseTx);",
            "getCoinbaseMerklePath @6 (context :Proxy.Context) -> (result :List(Data));",
            "submitSolutionOld7 @7 (context :Proxy.Context, version :UInt32, timestamp :UInt32, nonce :UInt32, coinbase :Data) -> (result :Bool);",
            "waitNext @8 (context :Proxy.Context, options :BlockWaitOptions) -> (result :BlockTemplate);",
            "interruptWait @9 () -> ();",
            "submitSolution @10 (context :Proxy.Context, version :UInt32, timestamp :UInt32, nonce :UInt32, coinbase :Data) -> (reason :Text, debug :Text, result :Bool);",
            "useMempool @0 :Bool = true;",
            "blockReservedWeight @1 :UInt64 = .defaultBlockReservedWeight;",
            "coinbaseOutputMaxAdditionalSigops @2 :UInt64 = .defaultCoinbaseOutputMaxAdditionalSigops;",
            "timeout @0 :Float64 = .maxDouble;",
            "feeThreshold @1 :Int64 = .maxMoney;",
            "checkMerkleRoot @0 :Bool = true;",
            "checkPow @1 :Bool = true;",
            "version @0 :UInt32; sequence @1 :UInt32; scriptSigPrefix @2 :Data; witness @3 :Data; blockRewardRemaining @4 :Int64; requiredOutputs @5 :List(Data); lockTime @6 :UInt32;",
        ],
    );
}

#[test]
fn every_file_id_is_distinct_and_valid() {
    let schemas = schemas();
    assert_eq!(schemas.len(), 9, "{:?}", schemas.keys());
    let mut seen = BTreeMap::new();
    for (stem, text) in &schemas {
        let id = file_id(text);
        let value = u64::from_str_radix(id.trim_start_matches("@0x"), 16).unwrap();
        assert!(value & (1 << 63) != 0, "{stem}: a capnp file ID has its high bit set");
        if let Some(other) = seen.insert(id.to_owned(), stem.clone()) {
            panic!("{stem}.capnp and {other}.capnp share file ID {id}");
        }
    }
}
