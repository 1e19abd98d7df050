//! Vectors from Bitcoin Core's functional tests (rpc_deriveaddresses.py, rpc_getdescriptorinfo.py,
//! rpc_scantxoutset.py, rpc_generate.py): the addresses and texts Core gives for them.

use bitcoin::secp256k1::Secp256k1;

use super::*;
use key::NEED_PRIVATE_KEYS;

const TPRV: &str = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
const TPUB: &str = "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B";
const KEY: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

fn addresses(text: &str, index: u32) -> Vec<String> {
    let secp = Secp256k1::new();
    let descriptor = Descriptor::parse(text, false).unwrap();
    descriptor
        .expand(&secp, index)
        .unwrap()
        .scripts
        .iter()
        .filter_map(address_of)
        .map(|a| a.to_string())
        .collect()
}

#[test]
fn derives_cores_addresses() {
    assert_eq!(
        addresses(&format!("wpkh({TPRV}/1/1/0)#t6wfjs64"), 0),
        ["bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5"]
    );
    assert_eq!(
        addresses(&format!("wpkh({TPUB}/1/1/0)"), 0),
        ["bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5"]
    );
    assert_eq!(
        addresses(&format!("wpkh({TPRV}/1/1/*)"), 2),
        ["bcrt1qpgptk2gvshyl0s9lqshsmx932l9ccsv265tvaq"]
    );
    assert_eq!(
        addresses(&format!("wpkh({TPRV}/1/1/*)"), 2147483647),
        ["bcrt1qtzs23vgzpreks5gtygwxf8tv5rldxvvsyfpdkg"]
    );
    // combo: P2PK has no address; then P2PKH, P2WPKH, P2SH-P2WPKH.
    assert_eq!(
        addresses(&format!("combo({TPRV}/1/1/0)"), 0),
        [
            "mtfUoUax9L4tzXARpw1oTGxWyoogp52KhJ",
            "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5",
            "2NDvEwGfpEqJWfybzpKPHF2XH3jwoQV3D7x"
        ]
    );
    // A combo of a compressed key's first witness script is Core's generatetodescriptor output.
    assert_eq!(addresses(&format!("combo({KEY})"), 0)[1], "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080");
    let uncompressed = "0408ef68c46d20596cc3f6ddf7c8794f71913add807f1dc55949fa805d764d191c0b7ce6894c126fce0babc6663042f3dde9b0cf76467ea315514e5a6731149c67";
    assert_eq!(addresses(&format!("combo({uncompressed})"), 0), ["mkc9STceoCcjoXEXe6cm66iJbmjM6zR9B2"]);
}

#[test]
fn multipath_expands_to_one_descriptor_per_item() {
    let secp = Secp256k1::new();
    let descriptor = Descriptor::parse(&format!("wpkh({TPRV}/1/<0;1>/*)"), false).unwrap();
    assert!(descriptor.is_multipath());
    let expanded = descriptor.multipath_expansion();
    assert_eq!(expanded.len(), 2);
    let second: Vec<String> = expanded[1]
        .expand(&secp, 1)
        .unwrap()
        .scripts
        .iter()
        .filter_map(address_of)
        .map(|a| a.to_string())
        .collect();
    assert_eq!(second, ["bcrt1qhku5rq7jz8ulufe2y6fkcpnlvpsta7rq4442dy"]);
    assert_eq!(expanded[0].to_public_string(&secp), format!("wpkh({TPUB}/1/0/*)"));
}

#[test]
fn public_form_and_flags_are_cores() {
    let secp = Secp256k1::new();
    for text in [
        format!("pk({KEY})"),
        format!("combo({KEY})"),
        format!("sh(wsh(pkh({KEY})))"),
        format!("multi(1,{KEY},025cbdf0646e5db4eaa398f365f2ea7a0e3d419b7e0330e39ce92bddedcac4f9bc)"),
        format!("pkh({TPUB}/1h/2)"),
        format!("pkh([d34db33f/44h/0h/0h]{TPUB}/1/*)"),
        format!("wsh(multi(1,{TPUB}/1/0/*,{TPUB}/0/0/*))"),
        format!("tr({KEY},{{pk({KEY}),multi_a(1,{KEY})}})"),
    ] {
        let descriptor = Descriptor::parse(&text, false).unwrap();
        assert_eq!(descriptor.to_public_string(&secp), text);
        assert!(descriptor.is_solvable());
        assert!(!descriptor.has_private_keys());
        // An xpub's hardened step needs its private key: parsed and shown, not derivable.
        assert_eq!(descriptor.expand(&secp, 0).is_ok(), !text.contains("1h/2"), "{text}");
    }
    let private = Descriptor::parse(&format!("wpkh({TPRV}/0'/*')"), false).unwrap();
    assert!(private.has_private_keys() && private.is_range());
    assert_eq!(private.to_public_string(&secp), format!("wpkh({TPUB}/0'/*')"));
    assert!(!Descriptor::parse("raw(51)", false).unwrap().is_solvable());
}

#[test]
fn taproot_key_path_matches_bip341_tweak() {
    let secp = Secp256k1::new();
    let xonly = &KEY[2..];
    let script = Descriptor::parse(&format!("tr({xonly})"), false).unwrap().expand(&secp, 0).unwrap().scripts;
    let key: bitcoin::key::XOnlyPublicKey = xonly.parse().unwrap();
    assert_eq!(script, [ScriptBuf::new_p2tr(&secp, key, None)]);
}

#[test]
fn errors_are_cores() {
    let err = |text: &str| Descriptor::parse(text, false).unwrap_err();
    assert_eq!(err(""), "'' is not a valid descriptor function");
    assert_eq!(err(&format!("pk( {KEY})")), format!("pk(): Key ' {KEY}' is invalid due to whitespace"));
    assert_eq!(
        err(&format!("wsh(multi(2, {KEY},{KEY}))")),
        format!("Multi: Key ' {KEY}' is invalid due to whitespace")
    );
    assert_eq!(err(&format!("sh(combo({KEY}))")), "Can only have combo() at top level");
    assert_eq!(err(&format!("wsh(wpkh({KEY}))")), "Can only have wpkh() at top level or inside sh()");
    assert_eq!(err(&format!("wsh(sh(pk({KEY})))")), "Can only have sh() at top level");
    assert_eq!(
        err(&format!("multi(3,{KEY},{KEY})")),
        "Multisig threshold cannot be larger than the number of keys; threshold is 3 but only 2 keys specified"
    );
    assert_eq!(
        err(&format!("multi(1,{KEY},{KEY},{KEY},{KEY})")),
        "Cannot have 4 pubkeys in bare multisig; only at most 3 pubkeys"
    );
    assert_eq!(err("raw(zz)"), "Raw script is not hex");
    assert_eq!(err("addr(notanaddress)"), "Address is not valid");
    assert!(err(&format!("wsh(and_v(v:pk({KEY}),older(1)))")).contains("not supported"));
    assert_eq!(Descriptor::parse("a", true).unwrap_err(), "Missing checksum");
    // Hardened steps of a public key: parsed, but nothing can be derived.
    let secp = Secp256k1::new();
    let hardened = Descriptor::parse(&format!("wpkh({TPUB}/1'/1/0)"), false).unwrap();
    assert_eq!(hardened.expand(&secp, 0).unwrap_err(), NEED_PRIVATE_KEYS);
}

#[test]
fn inferred_descriptors_carry_key_origins() {
    let secp = Secp256k1::new();
    let descriptor = Descriptor::parse(&format!("combo({TPRV}/1/1/0)"), false).unwrap();
    let expanded = descriptor.expand(&secp, 0).unwrap();
    let pkh = infer_descriptor(&expanded.scripts[1], &expanded.keys);
    assert_eq!(
        pkh,
        "pkh([0c5f9a1e/1/1/0]03e1c5b6e650966971d7e71ef2674f80222752740fc1dfd63bbbd220d2da9bd0fb)#cxmct4w8"
    );
    // Without the key, the address form.
    assert!(infer_descriptor(&expanded.scripts[2], &[]).starts_with("addr(bcrt1q"));
}
