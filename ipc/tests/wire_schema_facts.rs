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
    // Not in WIRE.md: Bitcoin Core's mining.capnp, whose first method we keep.
    check(
        &schemas,
        "mining",
        "@0xc77d03df6a41b505",
        &[
            "interface Mining $Proxy.wrap(\"interfaces::Mining\") {",
            "isTestChain @0 (context :Proxy.Context) -> (result :Bool);",
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
