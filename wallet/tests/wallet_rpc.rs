//! Wallet RPCs through the node's dispatcher: wallet selection by URI (-18, -19), named
//! parameters, type errors, createwallet options and errors, getwalletinfo, labels, help.

mod common;

use common::*;
use serde_json::json;

#[test]
fn wallet_selection() {
    let env = Env::new();
    let e = env.try_call_uri("/", "getbalance", json!([])).unwrap_err();
    assert_eq!(e.code, -18);
    assert!(e.message.starts_with("No wallet is loaded. Load a wallet using loadwallet"), "{e:?}");
    env.create("w1");
    // The only loaded wallet answers without a URI.
    assert_eq!(env.try_call_uri("/", "getbalance", json!([])).unwrap().to_string(), "0.00000000");
    env.create("my wallet");
    let e = env.try_call_uri("/", "getbalance", json!([])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (-19, "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).")
    );
    // URL-encoded names.
    let info = env.try_call_uri("/wallet/my%20wallet", "getwalletinfo", json!([])).unwrap();
    assert_eq!(info["walletname"], json!("my wallet"));
    let e = env.fail("nope", "getbalance", json!([]));
    assert_eq!((e.code, e.message.as_str()), (-18, "Requested wallet does not exist or is not loaded"));
    // listwallets needs no wallet; unloadwallet checks URI against parameter.
    assert_eq!(env.node_call("listwallets", json!([])), json!(["w1", "my wallet"]));
    let e = env.fail("w1", "unloadwallet", json!(["my wallet"]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-8, "RPC endpoint wallet and wallet_name parameter specify different wallets")
    );
    // Neither named: Core reads the missing name as a string.
    let e = env.try_call_uri("/", "unloadwallet", json!([])).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (-3, "JSON value of type null is not of expected type string"));
    env.node_call("unloadwallet", json!(["my wallet"]));
    assert_eq!(env.try_call_uri("/", "getbalance", json!([])).unwrap().to_string(), "0.00000000");
}

#[test]
fn createwallet_options_and_errors() {
    let env = Env::new();
    assert_eq!(env.node_call("createwallet", json!(["w1"])), json!({"name": "w1"}));
    let e = env.try_call_uri("/", "createwallet", json!(["w1"])).unwrap_err();
    assert_eq!(e.code, -4);
    assert!(e.message.contains("Database already exists"), "{e:?}");
    for bad in ["../x", "a/b", ".."] {
        let e = env.try_call_uri("/", "createwallet", json!([bad])).unwrap_err();
        assert_eq!(e.code, -4, "{bad}: {e:?}");
        assert!(e.message.contains("Invalid wallet name"), "{e:?}");
    }
    let e =
        env.try_call_uri("/", "createwallet", json!({"wallet_name": "x", "descriptors": false})).unwrap_err();
    assert_eq!(e.code, -4);
    let e = env
        .try_call_uri("/", "createwallet", json!({"wallet_name": "x", "passphrase": "secret"}))
        .unwrap_err();
    assert_eq!(e.code, -4);
    let r = env.node_call("createwallet", json!({"wallet_name": "x", "passphrase": ""}));
    assert_eq!(r["warnings"], json!(["Empty string given as passphrase, wallet will not be encrypted."]));
    let e = env.try_call_uri("/", "createwallet", json!([1])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (-3, "JSON value of type number is not of expected type string")
    );
    let e = env.try_call_uri("/", "createwallet", json!([])).unwrap_err();
    assert_eq!(e.code, -1);
    let e = env.try_call_uri("/", "createwallet", json!({"wallet_name": "y", "bogus": 1})).unwrap_err();
    assert_eq!(e.code, -8, "unknown named parameter");

    // A wallet without private keys has no descriptors: no addresses, no sends.
    env.node_call("createwallet", json!({"wallet_name": "watch", "disable_private_keys": true}));
    let info = env.call("watch", "getwalletinfo", json!([]));
    assert_eq!((info["private_keys_enabled"].clone(), info["keypoolsize"].clone()), (json!(false), json!(0)));
    let e = env.fail("watch", "getnewaddress", json!([]));
    assert_eq!((e.code, e.message.as_str()), (-4, "Error: This wallet has no available keys"));
    let e = env.fail("watch", "sendtoaddress", json!([ELSEWHERE, 1]));
    assert_eq!((e.code, e.message.as_str()), (-4, "Error: Private keys are disabled for this wallet"));
    // As Core: the private keys are checked before the fee rate.
    let e = env.fail("watch", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 0.5}));
    assert_eq!((e.code, e.message.as_str()), (-4, "Error: Private keys are disabled for this wallet"));
    env.node_call("createwallet", json!({"wallet_name": "blank", "blank": true}));
    // A blank wallet has no coins: Core's coin selection says so.
    let e = env.fail("blank", "sendtoaddress", json!([ELSEWHERE, 1]));
    assert_eq!((e.code, e.message.as_str()), (-6, "Insufficient funds"));
    let info = env.call("blank", "getwalletinfo", json!([]));
    assert_eq!((info["blank"].clone(), info["private_keys_enabled"].clone()), (json!(true), json!(true)));
    env.mine(2);
    // Even without descriptors a wallet follows the chain.
    let info = env.call("blank", "getwalletinfo", json!([]));
    assert_eq!(info["lastprocessedblock"]["height"], json!(2));
    assert_eq!(env.call("watch", "getbalances", json!([]))["lastprocessedblock"]["height"], json!(2));
}

#[test]
fn info_labels_and_parameters() {
    let env = Env::new();
    env.create("w1");
    let info = env.call("w1", "getwalletinfo", json!([]));
    for (key, value) in [
        ("walletname", json!("w1")),
        ("format", json!("sqlite")),
        ("txcount", json!(0)),
        ("private_keys_enabled", json!(true)),
        ("descriptors", json!(true)),
        ("blank", json!(false)),
    ] {
        assert_eq!(info[key], value, "{key} in {info}");
    }
    assert_eq!(info["lastprocessedblock"]["height"], json!(0));
    assert_eq!(info["paytxfee"].to_string(), "0.00000000");

    let labelled = env.call("w1", "getnewaddress", json!({"label": "savings"})).as_str().unwrap().to_string();
    let plain = env.new_address("w1");
    assert_ne!(labelled, plain);
    let e = env.fail("w1", "getnewaddress", json!(["*"]));
    assert_eq!(e.code, -11);
    let e = env.fail("w1", "getnewaddress", json!(["", "legacy"]));
    assert_eq!(e.code, -12);
    let e = env.fail("w1", "getnewaddress", json!(["", "weird"]));
    assert_eq!((e.code, e.message.as_str()), (-5, "Unknown address type 'weird'"));
    assert!(env.call("w1", "getnewaddress", json!(["", "bech32"])).as_str().unwrap().starts_with("bcrt1q"));

    env.mine_to(1, &labelled);
    env.mine_to(100, &plain);
    let unspent = env.call("w1", "listunspent", json!([]));
    assert_eq!(unspent[0]["label"], json!("savings"));
    assert!(unspent[0]["desc"].as_str().unwrap().starts_with("wpkh("), "{unspent}");
    let only_savings = env.call("w1", "listtransactions", json!(["savings", 100]));
    assert_eq!(only_savings.as_array().unwrap().len(), 1);
    assert_eq!(only_savings[0]["label"], json!("savings"));
    let e = env.fail("w1", "listtransactions", json!(["*", -1]));
    assert_eq!((e.code, e.message.as_str()), (-8, "Negative count"));
    let page = env.call("w1", "listtransactions", json!({"count": 3, "skip": 1}));
    assert_eq!(page.as_array().unwrap().len(), 3);
    assert_eq!(page[2]["blockheight"], json!(100));

    // getbalance's arguments.
    assert_eq!(env.call("w1", "getbalance", json!(["*", 1])).to_string(), "50.00000000");
    assert_eq!(env.call("w1", "getbalance", json!({"minconf": 101})).to_string(), "50.00000000");
    assert_eq!(env.call("w1", "getbalance", json!({"minconf": 102})).to_string(), "0.00000000");
    let e = env.fail("w1", "getbalance", json!(["x"]));
    assert_eq!(e.code, -32);
    let e = env.fail("w1", "getbalance", json!(["*", "1"]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-3, "JSON value of type string is not of expected type number")
    );
    let e = env.fail("w1", "getbalance", json!(["*", 0, false, false, 5]));
    assert_eq!(e.code, -1, "too many arguments");

    let e = env.fail("w1", "gettransaction", json!(["00"]));
    assert_eq!(e.code, -8);
    let e = env.fail("w1", "gettransaction", json!(["11".repeat(32)]));
    assert_eq!((e.code, e.message.as_str()), (-5, "Invalid or non-wallet transaction id"));
    let e = env.fail("w1", "listunspent", json!([0, 9999999, ["nope"]]));
    assert_eq!(e.code, -5);
    let filtered = env.call("w1", "listunspent", json!([0, 9999999, [plain]]));
    assert!(filtered.as_array().unwrap().is_empty(), "the coins at `plain` are immature");

    let help = env.node_call("help", json!(["sendtoaddress"]));
    assert!(help.as_str().unwrap().starts_with("sendtoaddress \"address\" \"amount\""), "{help}");
    let all = env.node_call("help", json!([])).as_str().unwrap().to_string();
    for method in ["createwallet", "getbalances", "listunspent", "unloadwallet"] {
        assert!(all.contains(method), "{method} missing from help");
    }
}

#[test]
fn two_loaders_share_the_dispatcher() {
    // As two wallet processes would: each answers for its own wallets, the last one says -18.
    use interfaces::WalletLoader;
    let env = Env::new();
    env.create("w1");
    let other_dir = tempfile::tempdir().unwrap();
    let other = wallet::Loader::new(
        std::sync::Arc::new(env.chain()),
        wallet::WalletSettings::regtest(other_dir.path().join("wallets")),
    );
    other.register_rpcs().unwrap();
    other.load().unwrap();
    other.create_wallet("w2".into(), Default::default()).unwrap();
    assert_eq!(env.call("w1", "getwalletinfo", json!([]))["walletname"], json!("w1"));
    assert_eq!(env.call("w2", "getwalletinfo", json!([]))["walletname"], json!("w2"));
    let e = env.fail("w3", "getwalletinfo", json!([]));
    assert_eq!((e.code, e.message.as_str()), (-18, "Requested wallet does not exist or is not loaded"));
    env.call("w2", "unloadwallet", json!([]));
    assert_eq!(other.list_wallets().unwrap(), Vec::<String>::new());
    other.stop().unwrap();
    assert_eq!(env.fail("w2", "getbalance", json!([])).code, -18);
}
