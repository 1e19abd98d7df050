//! Reading an `importdescriptors` descriptor: its checksum (required, as Core), `combo()` expanded
//! into the script types it stands for, and which descriptor types the wallet can hold.
//!
//! `combo(KEY)` is not in miniscript's language (one descriptor is one script type there). It
//! stands for P2PK and P2PKH, and for a compressed key also P2WPKH and P2SH-P2WPKH (BIP 384), so
//! it is read as up to four descriptors of the same key, its *parts*. Every other import is one
//! part.
//!
//! Supported single-script types: `pk`, `pkh`, `wpkh`, `sh(wpkh)` and `tr(KEY)` (key path only),
//! with a WIF / hex key or an xprv / xpub with a path, ranged (`/*`) or not; and `raw(HEX)` /
//! `addr(ADDRESS)`, a script without keys (watch-only). Everything else (`wsh`, `multi`,
//! script-path `tr`, multipath `<0;1>`, hardened wildcards `*h`) is refused with an error that
//! names it.

use std::str::FromStr;

use bdk_wallet::bitcoin::secp256k1::Secp256k1;
use bdk_wallet::miniscript::descriptor::checksum::desc_checksum;
use bdk_wallet::miniscript::descriptor::{
    DescriptorPublicKey, DescriptorType, KeyMap, SinglePubKey, Wildcard,
};
use bdk_wallet::miniscript::{Descriptor, ForEachKey};
use bitcoin::hex::FromHex;
use bitcoin::{Address, Network, ScriptBuf};
use interfaces::RpcError;

/// A public descriptor of one part.
pub(crate) type PartDescriptor = Descriptor<DescriptorPublicKey>;

/// A descriptor read from an import request.
#[derive(Clone)]
pub(crate) struct Parsed {
    /// The descriptor as given (private keys included), without its checksum: what the wallet
    /// file keeps, read again on load.
    pub(crate) text: String,
    /// Its public form with checksum (`combo(<pubkey>)#...` for a combo): what identifies the
    /// import and what `listdescriptors` shows.
    pub(crate) public: String,
    /// The single-script descriptors it stands for (several for a combo).
    pub(crate) parts: Vec<PartDescriptor>,
    /// The private keys it carries (none for a public descriptor).
    pub(crate) keys: KeyMap,
    pub(crate) is_combo: bool,
    pub(crate) ranged: bool,
    /// The script of a `raw()` / `addr()` import (which has no parts: no keys to derive).
    pub(crate) script: Option<ScriptBuf>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private text or keys.
        f.debug_struct("Parsed").field("public", &self.public).finish_non_exhaustive()
    }
}

fn invalid_key(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, message)
}

fn unsupported(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::WALLET_ERROR, message)
}

/// Checks `text`'s checksum as Core does and returns the descriptor without it.
pub(crate) fn strip_checksum(text: &str) -> Result<&str, RpcError> {
    let Some((body, checksum)) = text.split_once('#') else {
        return Err(invalid_key("Missing checksum"));
    };
    if checksum.len() != 8 {
        return Err(invalid_key(format!("Expected 8 character checksum, not {} characters", checksum.len())));
    }
    let computed = desc_checksum(body).map_err(|e| invalid_key(e.to_string()))?;
    if computed != checksum {
        return Err(invalid_key(format!(
            "Provided checksum '{checksum}' does not match computed checksum '{computed}'"
        )));
    }
    Ok(body)
}

/// A descriptor as Core prints it: hardened steps marked `h` (miniscript writes `'`), with its
/// checksum (any checksum `text` had is replaced).
pub(crate) fn core_form(text: &str) -> String {
    let body = text.split_once('#').map_or(text, |(body, _)| body);
    with_checksum(&body.replace('\'', "h"))
}

/// `body` with its checksum appended.
pub(crate) fn with_checksum(body: &str) -> String {
    match desc_checksum(body) {
        Ok(sum) => format!("{body}#{sum}"),
        Err(_) => body.to_string(),
    }
}

/// Reads the descriptor `text` (with its checksum) of an import request.
#[cfg(test)]
pub(crate) fn parse(text: &str) -> Result<Parsed, RpcError> {
    let body = strip_checksum(text)?;
    parse_body(body, Network::Regtest)
}

/// Reads a descriptor without checksum (as the wallet file keeps it).
pub(crate) fn parse_body(body: &str, network: Network) -> Result<Parsed, RpcError> {
    if let Some(script) = parse_script(body, network)? {
        return Ok(Parsed {
            text: body.to_string(),
            public: core_form(body),
            parts: Vec::new(),
            keys: KeyMap::new(),
            is_combo: false,
            ranged: false,
            script: Some(script),
        });
    }
    let secp = Secp256k1::signing_only();
    if let Some(key) = body.strip_prefix("combo(").and_then(|rest| rest.strip_suffix(')')) {
        // pkh(KEY) first: it accepts any key, and says whether the key is compressed.
        let (pkh, keys) = parse_part(&secp, &format!("pkh({key})"))?;
        let compressed = key_is_compressed(&pkh);
        let public_key = match &pkh {
            Descriptor::Pkh(p) => p.as_inner().to_string(),
            _ => return Err(invalid_key("combo(): not a key")),
        };
        let mut forms = vec!["pk", "pkh"];
        if compressed {
            forms.extend(["wpkh", "sh(wpkh"]);
        }
        let mut parts = Vec::with_capacity(forms.len());
        for form in forms {
            let closing = if form == "sh(wpkh" { "))" } else { ")" };
            let (part, _) = parse_part(&secp, &format!("{form}({key}{closing}"))?;
            parts.push(part);
        }
        check_keys(&parts)?;
        let ranged = pkh.has_wildcard();
        return Ok(Parsed {
            text: body.to_string(),
            public: core_form(&format!("combo({public_key})")),
            parts,
            keys,
            is_combo: true,
            ranged,
            script: None,
        });
    }
    let (descriptor, keys) = parse_part(&secp, body)?;
    let supported = match descriptor.desc_type() {
        DescriptorType::Pkh | DescriptorType::Wpkh | DescriptorType::ShWpkh => true,
        DescriptorType::Bare => body.starts_with("pk("),
        DescriptorType::Tr => matches!(&descriptor, Descriptor::Tr(tr) if tr.tap_tree().is_none()),
        _ => false,
    };
    if !supported {
        let kind = body.split('(').next().unwrap_or(body);
        return Err(unsupported(format!(
            "Importing {kind}() descriptors of this form is not supported by this wallet yet \
             (supported: combo, pk, pkh, wpkh, sh(wpkh), tr with a key path only)"
        )));
    }
    let parts = vec![descriptor];
    check_keys(&parts)?;
    let ranged = parts.iter().any(Descriptor::has_wildcard);
    let public = core_form(&format!("{:#}", parts[0]));
    Ok(Parsed { text: body.to_string(), public, parts, keys, is_combo: false, ranged, script: None })
}

/// The script of `raw(HEX)` or `addr(ADDRESS)`; `None` for any other descriptor.
fn parse_script(body: &str, network: Network) -> Result<Option<ScriptBuf>, RpcError> {
    if let Some(hex) = body.strip_prefix("raw(").and_then(|r| r.strip_suffix(')')) {
        let bytes = Vec::<u8>::from_hex(hex).map_err(|_| invalid_key("Raw script is not hex"))?;
        return Ok(Some(ScriptBuf::from_bytes(bytes)));
    }
    if let Some(text) = body.strip_prefix("addr(").and_then(|r| r.strip_suffix(')')) {
        let address = Address::from_str(text)
            .ok()
            .and_then(|a| a.require_network(network).ok())
            .ok_or_else(|| invalid_key("Address is not valid"))?;
        return Ok(Some(address.script_pubkey()));
    }
    Ok(None)
}

fn parse_part(
    secp: &Secp256k1<bdk_wallet::bitcoin::secp256k1::SignOnly>,
    text: &str,
) -> Result<(PartDescriptor, KeyMap), RpcError> {
    Descriptor::<DescriptorPublicKey>::parse_descriptor(secp, text).map_err(|e| invalid_key(e.to_string()))
}

/// Refuses what the key index cannot derive: multipath keys and hardened wildcards.
fn check_keys(parts: &[PartDescriptor]) -> Result<(), RpcError> {
    for part in parts {
        if part.is_multipath() {
            return Err(unsupported("Multipath descriptors (<a;b>) are not supported by this wallet yet"));
        }
        let hardened = part.for_any_key(|k| match k {
            DescriptorPublicKey::XPub(x) => x.wildcard == Wildcard::Hardened,
            _ => false,
        });
        if hardened {
            return Err(unsupported(
                "Descriptors with a hardened wildcard (*h) are not supported by this wallet yet",
            ));
        }
    }
    Ok(())
}

/// Whether every script of `parsed` can be derived from its public keys (no hardened step after
/// an xpub; an xprv's hardened steps were derived when it was read).
pub(crate) fn expandable(parsed: &Parsed) -> bool {
    parsed.parts.iter().all(|part| {
        !part.for_any_key(|k| match k {
            DescriptorPublicKey::XPub(x) => x.derivation_path.into_iter().any(|c| c.is_hardened()),
            _ => false,
        })
    })
}

fn key_is_compressed(descriptor: &PartDescriptor) -> bool {
    descriptor.for_each_key(|k| match k {
        DescriptorPublicKey::Single(single) => match single.key {
            SinglePubKey::FullKey(pk) => pk.compressed,
            SinglePubKey::XOnly(_) => true,
        },
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Core's functional tests' first key (test_framework's deterministic keys).
    const WIF: &str = "cTe1f5rdT8A8DFgVWTjyPwACsDPJM9ff4QngFxUixCSvvbg1x6sh";
    const TPUB: &str = "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp";
    const UNCOMPRESSED_WIF: &str = "92Qba5hnyWSn5Ffcka56yMQauaWY6ZLd91Vzxbi4a9CCetaHtYj";

    #[test]
    fn combo_expands_by_compression() {
        let p = parse(&with_checksum(&format!("combo({WIF})"))).unwrap();
        assert!(p.is_combo && !p.ranged);
        let kinds: Vec<String> = p.parts.iter().map(|d| format!("{:#}", d)).collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert!(kinds[0].starts_with("pk(") && kinds[1].starts_with("pkh("));
        assert!(kinds[2].starts_with("wpkh(") && kinds[3].starts_with("sh(wpkh("));
        assert_eq!(p.keys.len(), 1);
        assert!(p.public.starts_with("combo(02") || p.public.starts_with("combo(03"), "{}", p.public);
        assert!(!p.public.contains(WIF));
        let u = parse(&with_checksum(&format!("combo({UNCOMPRESSED_WIF})"))).unwrap();
        assert_eq!(u.parts.len(), 2, "an uncompressed key has no segwit forms");
    }

    #[test]
    fn checksums_as_core() {
        let e = parse(&format!("wpkh({WIF})")).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (-5, "Missing checksum"));
        let e = parse(&format!("wpkh({WIF})#aaaaaaaa")).unwrap_err();
        assert_eq!(e.code, -5);
        assert!(
            e.message.starts_with("Provided checksum 'aaaaaaaa' does not match computed checksum '"),
            "{e:?}"
        );
        let e = parse(&format!("wpkh({WIF})#abc")).unwrap_err();
        assert_eq!(e.message, "Expected 8 character checksum, not 3 characters");
    }

    #[test]
    fn supported_and_refused_types() {
        let xprv = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
        for ok in [
            format!("pkh({WIF})"),
            format!("wpkh({WIF})"),
            format!("sh(wpkh({WIF}))"),
            format!("tr({WIF})"),
            format!("pk({WIF})"),
            format!("wpkh({xprv}/0/*)"),
            format!("tr([d34db33f/86h/1h/0h]{xprv}/1/*)"),
        ] {
            let p = parse(&with_checksum(&ok)).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert_eq!(p.parts.len(), 1);
            assert_eq!(p.ranged, ok.contains('*'));
            assert!(!p.public.contains("tprv") && !p.public.contains(WIF));
        }
        for bad in [format!("wsh(pk({WIF}))"), format!("wpkh({xprv}/0/*h)"), format!("wpkh({TPUB}/<0;1>/*)")]
        {
            let e = parse(&with_checksum(&bad)).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(e.code, -4, "{bad}: {e:?}");
        }
        let e = parse(&with_checksum("pkh(nokey)")).unwrap_err();
        assert_eq!(e.code, -5);
        let raw = parse(&with_checksum("raw(0014751e76e8199196d454941c45d1b3a323f1433bd6)")).unwrap();
        assert!(raw.parts.is_empty() && raw.keys.is_empty());
        assert_eq!(raw.script.unwrap().to_hex_string(), "0014751e76e8199196d454941c45d1b3a323f1433bd6");
        let addr = parse(&with_checksum("addr(bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080)")).unwrap();
        assert_eq!(addr.script.unwrap().to_hex_string(), "0014751e76e8199196d454941c45d1b3a323f1433bd6");
        assert_eq!(parse(&with_checksum("raw(zz)")).unwrap_err().code, -5);
        assert_eq!(parse(&with_checksum("addr(1BoatSLRHtKNngkdXEeobR76b53LETtpyT)")).unwrap_err().code, -5);
    }
}
