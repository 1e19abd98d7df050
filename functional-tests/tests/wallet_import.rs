//! `importdescriptors` end to end, as Bitcoin Core's test framework sets up every wallet test:
//! coinbases mined to a key's P2WPKH (and P2PKH) address, then `combo(<WIF>)` imported with
//! timestamp 0 into a new wallet, whose balance, listings and sends must then use them; across a
//! restart, and with the wallet in its own process (`MPX_TEST_MULTIPROCESS=1`).

use bitcoin::key::{CompressedPublicKey, PrivateKey};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Address, Network};
use functional_tests::{TestFramework, TestNode};
use serde_json::{json, Value};

const COIN: i64 = 100_000_000;
/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

/// Satoshis of an amount as the node prints it, read exactly from its text.
fn sats(amount: &Value) -> i64 {
    let text = amount.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or((1, text.as_str()), |rest| (-1, rest));
    sign * interfaces::parse_btc(digits).unwrap_or_else(|e| panic!("{amount} is not an amount: {e}"))
}

/// A descriptor with its BIP 380 checksum appended (what Core's `descsum_create` does).
fn descsum(desc: &str) -> String {
    const INPUT: &str =
        "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    const CHECKSUM: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GENERATOR: [u64; 5] = [0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd];
    fn step(c: u64, value: u64) -> u64 {
        let top = c >> 35;
        let mut c = ((c & 0x7_ffff_ffff) << 5) ^ value;
        for (bit, g) in GENERATOR.iter().enumerate() {
            if (top >> bit) & 1 == 1 {
                c ^= g;
            }
        }
        c
    }
    let (mut c, mut group, mut count) = (1u64, 0u64, 0);
    for ch in desc.chars() {
        let position = INPUT.find(ch).expect("a descriptor character") as u64;
        c = step(c, position & 31);
        group = group * 3 + (position >> 5);
        count += 1;
        if count == 3 {
            c = step(c, group);
            (group, count) = (0, 0);
        }
    }
    if count > 0 {
        c = step(c, group);
    }
    for _ in 0..8 {
        c = step(c, 0);
    }
    c ^= 1;
    let sum: String = (0..8).map(|j| CHECKSUM[((c >> (5 * (7 - j))) & 31) as usize] as char).collect();
    format!("{desc}#{sum}")
}

struct Key {
    wif: String,
    wpkh: String,
    pkh: String,
}

fn key(seed: u8) -> Key {
    let secp = Secp256k1::new();
    let sk = PrivateKey::new(SecretKey::from_slice(&[seed; 32]).expect("a valid key"), Network::Regtest);
    let pk = CompressedPublicKey::from_private_key(&secp, &sk).expect("compressed");
    Key {
        wif: sk.to_wif(),
        wpkh: Address::p2wpkh(&pk, Network::Regtest).to_string(),
        pkh: Address::p2pkh(pk, Network::Regtest).to_string(),
    }
}

fn balance(node: &TestNode, wallet: &str) -> i64 {
    sats(&node.wallet_call(wallet, "getbalance", json!([])))
}

fn mine(node: &TestNode, n: u32, address: &str) {
    node.call("generatetoaddress", json!([n, address]));
}

#[test]
fn combo_import_of_a_mining_key_then_spend_restart_and_errors() {
    let mut test = TestFramework::new("wallet_import", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    let k = key(0x11);
    mine(node, 101, &k.wpkh);
    mine(node, 10, &k.pkh);
    // Tip 111: the coinbases of heights 1..=11 (P2WPKH) have 101 confirmations.
    node.call("createwallet", json!({"wallet_name": "w1", "load_on_startup": true}));
    let combo = descsum(&format!("combo({})", k.wif));
    let imported = node.wallet_call(
        "w1",
        "importdescriptors",
        json!([[{"desc": combo, "timestamp": 0, "label": "coinbase"}]]),
    );
    assert_eq!(imported, json!([{"success": true}]));
    assert_eq!(balance(node, "w1"), 11 * 50 * COIN);
    let balances = node.wallet_call("w1", "getbalances", json!([]));
    assert_eq!(sats(&balances["mine"]["immature"]), 100 * 50 * COIN);
    let unspent = node.wallet_call("w1", "listunspent", json!([]));
    let unspent = unspent.as_array().expect("a list");
    assert_eq!(unspent.len(), 11);
    assert!(unspent.iter().all(|u| u["address"] == json!(k.wpkh) && u["label"] == json!("coinbase")));
    assert!(unspent.iter().all(|u| u["spendable"] == json!(true) && u["solvable"] == json!(true)));
    let listed = node.wallet_call("w1", "listtransactions", json!(["*", 500]));
    assert_eq!(listed.as_array().map(Vec::len), Some(111));

    // A second import of the same descriptor succeeds and changes nothing.
    let again = node.wallet_call(
        "w1",
        "importdescriptors",
        json!([[{"desc": combo, "timestamp": 0, "label": "coinbase"}]]),
    );
    assert_eq!(again, json!([{"success": true}]));
    assert_eq!(balance(node, "w1"), 11 * 50 * COIN);

    // Spend them to another wallet: 120 BTC takes three coinbases.
    node.call("createwallet", json!({"wallet_name": "w2", "load_on_startup": true}));
    let to = node.wallet_call("w2", "getnewaddress", json!([])).as_str().expect("an address").to_string();
    let txid = node.wallet_call("w1", "sendtoaddress", json!([to, 120]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([txid]));
    mine(node, 1, ELSEWHERE);
    let sent = node.wallet_call("w1", "gettransaction", json!([txid]));
    assert_eq!(sent["confirmations"], json!(1));
    let fee = -sats(&sent["fee"]);
    assert!(fee > 0 && fee < COIN / 100, "{sent}");
    assert_eq!(balance(node, "w2"), 120 * COIN);
    assert_eq!(balance(node, "w1"), 12 * 50 * COIN - 120 * COIN - fee);

    // Mature the P2PKH coinbases too, then send everything: P2PKH and P2WPKH inputs together.
    mine(node, 100, ELSEWHERE);
    let all = balance(node, "w1");
    assert_eq!(all, 111 * 50 * COIN - 120 * COIN - fee);
    let amount = interfaces::format_btc(all);
    let txid = node.wallet_call("w1", "sendtoaddress", json!([to, amount, "", "", true]));
    mine(node, 1, ELSEWHERE);
    assert_eq!(node.wallet_call("w1", "gettransaction", json!([txid]))["confirmations"], json!(1));
    assert_eq!(balance(node, "w1"), 0);
    let raw = node.call("getrawtransaction", json!([txid, true]));
    assert_eq!(
        raw["vin"].as_array().map(Vec::len),
        Some(111 - 3 + 1),
        "every coin, the change of the first send too"
    );
    let w2 = balance(node, "w2");
    assert!(w2 > 120 * COIN + all - COIN / 10, "{w2}");

    // A restart keeps the import: a new payment to the key is the wallet's.
    node.stop();
    node.start(&[]);
    assert_eq!(node.call("listwallets", json!([])), json!(["w1", "w2"]));
    assert_eq!(balance(node, "w1"), 0);
    assert_eq!(balance(node, "w2"), w2);
    let txid = node.wallet_call("w2", "sendtoaddress", json!([k.pkh, 5]));
    let pending = node.wallet_call("w1", "getbalances", json!([]));
    assert_eq!(sats(&pending["mine"]["untrusted_pending"]), 5 * COIN, "{pending}");
    mine(node, 1, ELSEWHERE);
    assert_eq!(balance(node, "w1"), 5 * COIN);
    let tx = node.wallet_call("w1", "gettransaction", json!([txid]));
    assert_eq!(tx["details"][0]["label"], json!("coinbase"), "{tx}");

    // Watch-only: the key's P2PKH address into a wallet without private keys (which reads the
    // whole chain at its first import).
    node.call("createwallet", json!({"wallet_name": "watch", "disable_private_keys": true}));
    let watched = node.wallet_call(
        "watch",
        "importdescriptors",
        json!([[{"desc": descsum(&format!("addr({})", k.pkh)), "timestamp": "now"}]]),
    );
    assert_eq!(watched, json!([{"success": true}]));
    assert_eq!(balance(node, "watch"), 5 * COIN);
    let info = node.wallet_call("watch", "getaddressinfo", json!([k.pkh]));
    assert_eq!((&info["ismine"], &info["solvable"]), (&json!(true), &json!(false)), "{info}");

    // Core's errors for bad requests, one answer per request.
    let answers = node.wallet_call(
        "w1",
        "importdescriptors",
        json!([[
            {"desc": format!("combo({})", k.wif), "timestamp": "now"},
            {"desc": format!("combo({})#aaaaaaaa", k.wif), "timestamp": "now"},
            {"desc": descsum("raw(0014751e76e8199196d454941c45d1b3a323f1433bd6)"), "timestamp": "now"},
            {"desc": descsum(&format!("combo({})", k.wif)), "timestamp": "now", "range": 2},
            {"timestamp": "now"},
        ]]),
    );
    let errors: Vec<(i64, String)> = answers
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| {
            assert_eq!(a["success"], json!(false), "{a}");
            (
                a["error"]["code"].as_i64().unwrap_or(0),
                a["error"]["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(errors[0], (-5, "Missing checksum".to_string()));
    assert_eq!(errors[1].0, -5);
    assert!(
        errors[1].1.starts_with("Provided checksum 'aaaaaaaa' does not match computed checksum"),
        "{:?}",
        errors[1]
    );
    assert_eq!(
        errors[2],
        (
            -4,
            "Cannot import descriptor without private keys to a wallet with private keys enabled".to_string()
        )
    );
    assert_eq!(errors[3], (-8, "Range should not be specified for an un-ranged descriptor".to_string()));
    assert_eq!(errors[4], (-8, "Descriptor not found.".to_string()));
    let missing = node.wallet_rpc("w1", "importdescriptors", json!([[{"desc": combo}]]));
    let missing = missing.expect_err("a missing timestamp fails the call");
    assert_eq!(missing.code(), Some(-3), "{missing:?}");
}
