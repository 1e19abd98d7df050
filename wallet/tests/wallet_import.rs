//! `importdescriptors` for real: combo() of a key whose coinbases are in the chain (as Core's test
//! framework sets up every wallet test), each supported script type spent, persistence, new
//! payments seen through the notifications, and Core's errors.

mod common;

use bdk_wallet::miniscript::descriptor::checksum::desc_checksum;
use bitcoin::key::{CompressedPublicKey, PrivateKey};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use std::str::FromStr;

use bitcoin::{Address, Network};
use common::*;
use serde_json::{json, Value};

/// Core's `descsum_create`.
fn descsum(desc: &str) -> String {
    format!("{desc}#{}", desc_checksum(desc).unwrap())
}

struct Key {
    wif: String,
    pubkey: String,
    wpkh: String,
    pkh: String,
    sh_wpkh: String,
    tr: String,
}

fn key(seed: u8) -> Key {
    let secp = Secp256k1::new();
    let sk = PrivateKey::new(SecretKey::from_slice(&[seed; 32]).unwrap(), Network::Regtest);
    let pk = CompressedPublicKey::from_private_key(&secp, &sk).unwrap();
    let xonly = pk.0.x_only_public_key().0;
    Key {
        wif: sk.to_wif(),
        pubkey: pk.to_string(),
        wpkh: Address::p2wpkh(&pk, Network::Regtest).to_string(),
        pkh: Address::p2pkh(pk, Network::Regtest).to_string(),
        sh_wpkh: Address::p2shwpkh(&pk, Network::Regtest).to_string(),
        tr: Address::p2tr(&secp, xonly, None, Network::Regtest).to_string(),
    }
}

fn import(env: &Env, wallet: &str, request: Value) -> Value {
    env.call(wallet, "importdescriptors", json!([[request]]))
}

#[test]
fn combo_of_a_mining_key_as_cores_framework_does() {
    let env = Env::new();
    let k = key(1);
    env.mine_to(101, &k.wpkh);
    env.mine_to(5, &k.pkh);
    env.mine(2);
    // Tip 108: heights 1..=8 (all paid to P2WPKH) have 101 confirmations and are mature; the
    // other 98 coinbases of the key are immature.
    env.node_call("createwallet", json!({"wallet_name": "w1", "load_on_startup": true}));
    let r = import(
        &env,
        "w1",
        json!({"desc": descsum(&format!("combo({})", k.wif)), "timestamp": 0, "label": "coinbase"}),
    );
    assert_eq!(r, json!([{"success": true}]));
    assert_eq!(env.balance("w1"), 8 * 50 * COIN);
    let b = env.call("w1", "getbalances", json!([]));
    assert_eq!(sats(&b["mine"]["immature"]), (106 - 8) * 50 * COIN);

    let unspent = env.call("w1", "listunspent", json!([]));
    let unspent = unspent.as_array().unwrap();
    assert_eq!(unspent.len(), 8);
    for u in unspent {
        assert_eq!(u["address"], json!(k.wpkh));
        assert_eq!(u["label"], json!("coinbase"));
        assert_eq!(u["spendable"], json!(true));
        assert_eq!(u["solvable"], json!(true));
        assert!(u["desc"].as_str().unwrap().starts_with("wpkh("), "{u}");
        assert!(u["parent_descs"][0].as_str().unwrap().starts_with("combo(0"), "{u}");
    }
    let txs = env.call("w1", "listtransactions", json!(["*", 1000]));
    let txs = txs.as_array().unwrap();
    assert_eq!(txs.len(), 106);
    assert_eq!(txs.iter().filter(|t| t["category"] == json!("generate")).count(), 8);
    assert!(txs.iter().all(|t| t["label"] == json!("coinbase")), "every address of the combo is labelled");

    let info = env.call("w1", "getaddressinfo", json!([k.wpkh]));
    assert_eq!(info["ismine"], json!(true), "{info}");
    assert_eq!(info["solvable"], json!(true));
    assert_eq!(info["labels"], json!(["coinbase"]));
    assert_eq!(info["ischange"], json!(false));
    assert_eq!(info["iscompressed"], json!(true));
    assert!(info["desc"].as_str().unwrap().starts_with("wpkh("), "{info}");
    assert!(info["parent_desc"].as_str().unwrap().starts_with("combo("), "{info}");
    let info = env.call("w1", "getaddressinfo", json!([k.pkh]));
    assert_eq!((&info["ismine"], &info["iswitness"]), (&json!(true), &json!(false)), "{info}");
    let info = env.call("w1", "getaddressinfo", json!([ELSEWHERE]));
    assert_eq!((&info["ismine"], &info["labels"]), (&json!(false), &json!([])), "{info}");
    assert_eq!(env.fail("w1", "getaddressinfo", json!(["nope"])).code, -5);
    let change = env.call("w1", "getrawchangeaddress", json!([]));
    let info = env.call("w1", "getaddressinfo", json!([change]));
    assert_eq!((&info["ismine"], &info["ischange"]), (&json!(true), &json!(true)), "{info}");
    assert_eq!(env.fail("w1", "getrawchangeaddress", json!(["legacy"])).code, -12);

    let listed = env.call("w1", "listdescriptors", json!([]));
    assert_eq!(listed["wallet_name"], json!("w1"));
    let descs = listed["descriptors"].as_array().unwrap();
    assert_eq!(descs.len(), 3, "{listed}");
    let combo = descs.iter().find(|d| d["desc"].as_str().unwrap().starts_with("combo(")).unwrap();
    assert_eq!(
        combo,
        &json!({"desc": descsum(&format!("combo({})", k.pubkey)), "timestamp": 1, "active": false})
    );
    let own: Vec<&Value> = descs.iter().filter(|d| d["active"] == json!(true)).collect();
    assert_eq!(own.len(), 2);
    assert!(
        own.iter().all(|d| d["desc"].as_str().unwrap().starts_with("wpkh([")
            && d["desc"].as_str().unwrap().contains("/84h/1h/0h]")),
        "{listed}"
    );
    let private = env.call("w1", "listdescriptors", json!([true]));
    assert!(
        private["descriptors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["desc"] == json!(descsum(&format!("combo({})", k.wif)))),
        "{private}"
    );

    // A second import of the same descriptor is fine and changes nothing (its label is set again,
    // as Core does: without one it would become "").
    let r = import(
        &env,
        "w1",
        json!({"desc": descsum(&format!("combo({})", k.wif)), "timestamp": 0, "label": "coinbase"}),
    );
    assert_eq!(r, json!([{"success": true}]));
    assert_eq!(env.balance("w1"), 8 * 50 * COIN);

    // Spend them: 120 BTC needs three coinbases.
    env.create("w2");
    let to = env.new_address("w2");
    let txid = env.call("w1", "sendtoaddress", json!([to, 120]));
    assert_eq!(env.mempool(), vec![txid.as_str().unwrap().to_string()]);
    env.mine(1);
    assert_eq!(env.balance("w2"), 120 * COIN);
    let tx = env.call("w1", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(1));
    let fee = -sats(&tx["fee"]);
    assert!(fee > 0 && fee < COIN / 100, "{tx}");
    // One more block matured meanwhile (height 9).
    assert_eq!(env.balance("w1"), 9 * 50 * COIN - 120 * COIN - fee);

    // A new payment to the key's P2PKH address, through the mempool notifications.
    let txid = env.call("w2", "sendtoaddress", json!([k.pkh, 7]));
    let b = env.call("w1", "getbalances", json!([]));
    assert_eq!(sats(&b["mine"]["untrusted_pending"]), 7 * COIN, "{b}");
    let tx = env.call("w1", "gettransaction", json!([txid]));
    assert_eq!(sats(&tx["amount"]), 7 * COIN);
    env.mine(1);
    let b = env.call("w1", "getbalances", json!([]));
    assert_eq!(sats(&b["mine"]["trusted"]), 10 * 50 * COIN - 120 * COIN - fee + 7 * COIN, "{b}");

    // Unload and load: the import, its coins and its label survive.
    let before = env.call("w1", "getbalances", json!([]));
    env.node_call("unloadwallet", json!(["w1"]));
    env.node_call("loadwallet", json!(["w1"]));
    assert_eq!(env.call("w1", "getbalances", json!([])), before);
    let unspent = env.call("w1", "listunspent", json!([]));
    assert!(
        unspent
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["address"] == json!(k.pkh) && u["label"] == json!("coinbase")),
        "{unspent}"
    );
}

/// P2PKH, P2WPKH and a ranged xprv P2WPKH receive and are spent in one transaction the node
/// verifies; P2SH-P2WPKH and P2TR receive (this node does not verify their spends yet: their
/// signing is checked by the wallet's unit tests).
#[test]
fn script_types_receive_and_spend() {
    let env = Env::new();
    env.funded("w1");
    env.mine(100);
    env.create("w2");
    let (a, b, c, d) = (key(2), key(3), key(4), key(5));
    let xprv = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
    let requests = json!([
        {"desc": descsum(&format!("pkh({})", a.wif)), "timestamp": "now"},
        {"desc": descsum(&format!("wpkh({})", d.wif)), "timestamp": "now", "label": "d"},
        {"desc": descsum(&format!("wpkh({xprv}/0/*)")), "timestamp": "now", "range": [0, 10]},
    ]);
    let r = env.call("w2", "importdescriptors", json!([requests]));
    assert_eq!(r, json!([{"success": true}, {"success": true}, {"success": true}]));
    // The ranged descriptor's index 3.
    let secp = Secp256k1::new();
    let derived =
        bdk_wallet::miniscript::Descriptor::<bdk_wallet::miniscript::DescriptorPublicKey>::parse_descriptor(
            &secp,
            &format!("wpkh({xprv}/0/*)"),
        )
        .unwrap()
        .0
        .at_derivation_index(3)
        .unwrap()
        .address(Network::Regtest)
        .unwrap()
        .to_string();
    for to in [&a.pkh, &d.wpkh, &derived] {
        env.call("w1", "sendtoaddress", json!([to, 1]));
    }
    env.mine(1);
    assert_eq!(env.balance("w2"), 3 * COIN);
    let unspent = env.call("w2", "listunspent", json!([]));
    assert_eq!(unspent.as_array().unwrap().len(), 3);
    let labelled: Vec<&Value> =
        unspent.as_array().unwrap().iter().filter(|u| u["label"] == json!("d")).collect();
    assert_eq!(labelled.len(), 1);
    assert_eq!(labelled[0]["address"], json!(d.wpkh));
    // Everything but a little for the fee: every input must be signed.
    let back = env.new_address("w1");
    let txid = env.call("w2", "sendtoaddress", json!([back, 2.999]));
    env.mine(1);
    let tx = env.call("w2", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(1), "{tx}");
    assert!(env.balance("w2") < COIN / 1000);

    // P2SH-P2WPKH and P2TR keys receive.
    let requests = json!([
        {"desc": descsum(&format!("sh(wpkh({}))", b.wif)), "timestamp": "now"},
        {"desc": descsum(&format!("tr({})", c.wif)), "timestamp": "now"},
    ]);
    let r = env.call("w2", "importdescriptors", json!([requests]));
    assert_eq!(r, json!([{"success": true}, {"success": true}]));
    let before = env.balance("w2");
    env.call("w1", "sendtoaddress", json!([b.sh_wpkh, 1]));
    env.call("w1", "sendtoaddress", json!([c.tr, 2]));
    env.mine(1);
    assert_eq!(env.balance("w2") - before, 3 * COIN);
}

#[test]
fn core_errors() {
    let env = Env::new();
    env.create("w1");
    let one =
        |request: Value| -> Value { env.call("w1", "importdescriptors", json!([[request]]))[0].clone() };
    let error = |request: Value| -> (i64, String) {
        let r = one(request);
        assert_eq!(r["success"], json!(false), "{r}");
        (r["error"]["code"].as_i64().unwrap(), r["error"]["message"].as_str().unwrap().to_string())
    };
    let k = key(7);
    let xpub = "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp";
    assert_eq!(error(json!({"timestamp": "now"})), (-8, "Descriptor not found.".into()));
    assert_eq!(
        error(json!({"desc": format!("wpkh({})", k.wif), "timestamp": "now"})),
        (-5, "Missing checksum".into())
    );
    assert_eq!(
        error(json!({"desc": descsum(&format!("wpkh({})", k.wif)), "timestamp": "now", "range": 1})),
        (-8, "Range should not be specified for an un-ranged descriptor".into())
    );
    assert_eq!(
        error(json!({"desc": descsum(&format!("wpkh({xpub}/*)")), "timestamp": "now"})),
        (-4, "Cannot import descriptor without private keys to a wallet with private keys enabled".into())
    );
    assert_eq!(
        error(json!({"desc": descsum(&format!("wpkh({})", k.wif)), "timestamp": "now", "active": true})),
        (-8, "Active descriptors must be ranged".into())
    );
    assert_eq!(
        error(
            json!({"desc": descsum(&format!("wpkh({})", k.wif)), "timestamp": "now", "internal": true, "label": "x"})
        ),
        (-8, "Internal addresses should not have a label".into())
    );
    assert_eq!(
        error(
            json!({"desc": descsum("raw(0014751e76e8199196d454941c45d1b3a323f1433bd6)"), "timestamp": "now"})
        ),
        (-4, "Cannot import descriptor without private keys to a wallet with private keys enabled".into())
    );
    let (code, message) = error(json!({"desc": descsum(&format!("wsh(pk({}))", k.wif)), "timestamp": "now"}));
    assert_eq!(code, -4);
    assert!(message.contains("not supported"), "{message}");
    // A missing timestamp fails the whole call, as in Core.
    let e = env.fail("w1", "importdescriptors", json!([[{"desc": descsum(&format!("wpkh({})", k.wif))}]]));
    assert_eq!((e.code, e.message.as_str()), (-3, "Missing required timestamp field for key"));
    // Private keys into a wallet without them.
    env.node_call("createwallet", json!({"wallet_name": "watch", "disable_private_keys": true}));
    let r = env.call(
        "watch",
        "importdescriptors",
        json!([[{"desc": descsum(&format!("wpkh({})", k.wif)), "timestamp": "now"}]]),
    );
    assert_eq!(
        r[0]["error"]["message"],
        json!("Cannot import private keys to a wallet with private keys disabled")
    );
    // Nothing was imported by the failures.
    assert_eq!(env.balance("w1"), 0);
}

/// Watch-only imports into a wallet without private keys (public descriptors, `addr()`, `raw()`),
/// and private keys into a blank wallet: such wallets get their key index at the first import.
#[test]
fn imports_into_wallets_without_descriptors() {
    let env = Env::new();
    env.funded("w1");
    let (a, b, c, d) = (key(8), key(9), key(10), key(11));
    env.call("w1", "sendtoaddress", json!([a.wpkh, 2]));
    env.mine(1);

    env.node_call("createwallet", json!({"wallet_name": "watch", "disable_private_keys": true}));
    let spk_c = Address::from_str(&c.wpkh).unwrap().assume_checked().script_pubkey().to_hex_string();
    let r = env.call(
        "watch",
        "importdescriptors",
        json!([[
            {"desc": descsum(&format!("combo({})", a.pubkey)), "timestamp": "now", "label": "a"},
            {"desc": descsum(&format!("addr({})", b.wpkh)), "timestamp": "now"},
            {"desc": descsum(&format!("raw({spk_c})")), "timestamp": "now"},
        ]]),
    );
    assert_eq!(r, json!([{"success": true}, {"success": true}, {"success": true}]));
    // The first import read the whole chain: the earlier payment to `a` is there.
    assert_eq!(env.balance("watch"), 2 * COIN);
    env.call("w1", "sendtoaddress", json!([b.wpkh, 3]));
    env.call("w1", "sendtoaddress", json!([c.wpkh, 4]));
    let pending = env.call("watch", "getbalances", json!([]));
    assert_eq!(sats(&pending["mine"]["untrusted_pending"]), 7 * COIN, "{pending}");
    env.mine(1);
    assert_eq!(env.balance("watch"), 9 * COIN);
    let unspent = env.call("watch", "listunspent", json!([]));
    let unspent = unspent.as_array().unwrap();
    assert_eq!(unspent.len(), 3);
    for u in unspent {
        assert_eq!(u["spendable"], json!(false), "{u}");
        let keyed = u["address"] == json!(a.wpkh);
        assert_eq!(u["solvable"], json!(keyed), "{u}");
    }
    let info = env.call("watch", "getaddressinfo", json!([b.wpkh]));
    assert_eq!((&info["ismine"], &info["solvable"]), (&json!(true), &json!(false)), "{info}");
    assert!(info["desc"].as_str().unwrap().starts_with("addr("), "{info}");
    assert_eq!(env.call("watch", "getaddressinfo", json!([a.pkh]))["labels"], json!(["a"]));
    // Still no keys of its own, and nothing to sign with.
    let e = env.fail("watch", "getnewaddress", json!([]));
    assert_eq!((e.code, e.message.as_str()), (-4, "Error: This wallet has no available keys"));
    let e = env.fail("watch", "sendtoaddress", json!([ELSEWHERE, 1]));
    assert_eq!(e.message, "Error: Private keys are disabled for this wallet");
    let r = env.call(
        "watch",
        "importdescriptors",
        json!([[{"desc": descsum("wpkh(tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/1h/*)"), "timestamp": "now", "range": 1}]]),
    );
    assert_eq!(
        r[0]["error"],
        json!({"code": -4, "message": "Cannot expand descriptor. Probably because of hardened derivations without private keys provided"})
    );
    let info = env.call("watch", "getwalletinfo", json!([]));
    assert_eq!(info["keypoolsize"], json!(0), "{info}");
    assert_eq!(
        info["flags"],
        json!(["disable_private_keys", "last_hardened_xpub_cached", "descriptor_wallet"])
    );
    let e = env.fail("watch", "listdescriptors", json!([true]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-4, "Can't get private descriptor string for watch-only wallets")
    );
    let listed = env.call("watch", "listdescriptors", json!([]));
    assert_eq!(listed["descriptors"].as_array().unwrap().len(), 3, "only the imports: {listed}");
    env.node_call("unloadwallet", json!(["watch"]));
    env.node_call("loadwallet", json!(["watch"]));
    assert_eq!(env.balance("watch"), 9 * COIN);

    // A blank wallet takes private keys; without a keychain of its own it has no change address.
    env.node_call("createwallet", json!({"wallet_name": "blank", "blank": true}));
    let r = env.call(
        "blank",
        "importdescriptors",
        json!([[{"desc": descsum(&format!("wpkh({})", d.wif)), "timestamp": 0}]]),
    );
    assert_eq!(r, json!([{"success": true}]));
    env.call("w1", "sendtoaddress", json!([d.wpkh, 5]));
    env.mine(1);
    assert_eq!(env.balance("blank"), 5 * COIN);
    let e = env.fail("blank", "sendtoaddress", json!([ELSEWHERE, 1]));
    assert_eq!(e.message, "Transaction needs a change address, but we can't generate it.");
    let e = env.fail("blank", "getnewaddress", json!([]));
    assert_eq!(e.code, -4);
}
