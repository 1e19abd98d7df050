//! Key expressions: `[fingerprint/origin]` then a hex public key, a WIF private key, or an
//! extended key (tpub/tprv on regtest) with a derivation path, a `*` range and `<a;b>` multipath
//! step; deriving the public key at an index; and writing the expression back in public form.

use std::fmt::Write as _;
use std::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::key::{PublicKey, XOnlyPublicKey};
use bitcoin::secp256k1::{Secp256k1, Signing, Verification};
use bitcoin::{NetworkKind, PrivateKey};

/// Where a key sits in the script: what forms of key are allowed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyContext {
    /// Top level, or inside `sh()` (no witness): uncompressed keys allowed.
    Legacy,
    /// Inside a witness v0 script: compressed keys only.
    Witness,
    /// Inside `tr()`: 32-byte x-only keys allowed.
    Taproot,
}

/// One step of a derivation path after the key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Child(ChildNumber),
    /// `<a;b;...>`: one descriptor per alternative.
    Multipath(Vec<ChildNumber>),
}

/// A trailing `*` (unhardened or hardened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wildcard {
    None,
    Unhardened,
    Hardened,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// A plain public key, as written (33 or 65 bytes).
    Public(PublicKey),
    /// A 32-byte x-only key (only in `tr()`).
    XOnly(XOnlyPublicKey),
    /// A WIF private key.
    Private(PrivateKey),
    Xpub(Xpub),
    Xprv(Xpriv),
}

/// A parsed key expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyExpr {
    origin: Option<(Fingerprint, Vec<ChildNumber>)>,
    material: Material,
    path: Vec<Step>,
    wildcard: Wildcard,
    /// Whether the text wrote hardened steps as `'` (else `h`): Core writes them back the same way.
    apostrophe: bool,
}

/// A derived public key and where it came from (the origin Core's inferred descriptors show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DerivedKey {
    pub(crate) key: PublicKey,
    pub(crate) xonly: bool,
    pub(crate) origin: Option<(Fingerprint, Vec<ChildNumber>)>,
}

/// Why a key could not be derived.
pub(crate) const NEED_PRIVATE_KEYS: &str = "Cannot derive script without private keys";

impl KeyExpr {
    /// Parses a key expression in `context` (the messages are Core's).
    pub(crate) fn parse(text: &str, context: KeyContext) -> Result<KeyExpr, String> {
        if text.trim() != text {
            return Err(format!("Key '{text}' is invalid due to whitespace"));
        }
        let (origin, rest, mut apostrophe) = parse_origin(text)?;
        let mut parts = rest.split('/');
        let key_text = parts.next().unwrap_or_default();
        let steps: Vec<&str> = parts.collect();
        let material = parse_material(key_text, context, !steps.is_empty())?;
        let mut path = Vec::new();
        let mut wildcard = Wildcard::None;
        let mut multipath_seen = false;
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            match *step {
                "*" if last => wildcard = Wildcard::Unhardened,
                "*'" | "*h" if last => {
                    apostrophe |= step.ends_with('\'');
                    wildcard = Wildcard::Hardened;
                }
                s if s.starts_with('*') => {
                    return Err("'*' may only appear as last element in a derivation path".into());
                }
                s if s.starts_with('<') => {
                    if multipath_seen {
                        return Err("Multiple multipath key path specifiers found".into());
                    }
                    multipath_seen = true;
                    let inner = s
                        .strip_prefix('<')
                        .and_then(|s| s.strip_suffix('>'))
                        .ok_or_else(|| format!("Key path value '{s}' is not a valid uint32"))?;
                    let items: Vec<ChildNumber> =
                        inner.split(';').map(|n| parse_step(n, &mut apostrophe)).collect::<Result<_, _>>()?;
                    if items.len() < 2 {
                        return Err(format!(
                            "Multipath key path specifiers must have at least two items, {s}"
                        ));
                    }
                    path.push(Step::Multipath(items));
                }
                s => path.push(Step::Child(parse_step(s, &mut apostrophe)?)),
            }
        }
        Ok(KeyExpr { origin, material, path, wildcard, apostrophe })
    }

    /// Whether the key has a `*` step.
    pub(crate) fn is_range(&self) -> bool {
        self.wildcard != Wildcard::None
    }

    /// Whether the key was given as private key material.
    pub(crate) fn has_private_key(&self) -> bool {
        matches!(self.material, Material::Private(_) | Material::Xprv(_))
    }

    /// How many alternatives its `<a;b>` step has (1 without one).
    pub(crate) fn multipath_len(&self) -> usize {
        self.path
            .iter()
            .find_map(|s| match s {
                Step::Multipath(items) => Some(items.len()),
                Step::Child(_) => None,
            })
            .unwrap_or(1)
    }

    /// The key with its `<a;b>` step replaced by alternative `i`.
    pub(crate) fn select_multipath(&self, i: usize) -> KeyExpr {
        let mut out = self.clone();
        for step in &mut out.path {
            if let Step::Multipath(items) = step {
                let chosen =
                    items.get(i).or(items.last()).copied().unwrap_or(ChildNumber::Normal { index: 0 });
                *step = Step::Child(chosen);
            }
        }
        out
    }

    /// Whether this is an uncompressed plain key (refused in witness scripts).
    pub(crate) fn is_uncompressed(&self) -> bool {
        match &self.material {
            Material::Public(k) => !k.compressed,
            Material::Private(k) => !k.compressed,
            _ => false,
        }
    }

    /// The public key at `index` (ignored without a `*`).
    pub(crate) fn derive<C: Signing + Verification>(
        &self,
        secp: &Secp256k1<C>,
        index: u32,
    ) -> Result<DerivedKey, String> {
        let mut full_path: Vec<ChildNumber> = Vec::with_capacity(self.path.len() + 1);
        for step in &self.path {
            match step {
                Step::Child(c) => full_path.push(*c),
                // An undivided multipath key is expanded before deriving; take its first item.
                Step::Multipath(items) => full_path.extend(items.first().copied()),
            }
        }
        match self.wildcard {
            Wildcard::None => {}
            Wildcard::Unhardened => full_path.push(
                ChildNumber::from_normal_idx(index).map_err(|_| "End of range is too high".to_string())?,
            ),
            Wildcard::Hardened => full_path.push(
                ChildNumber::from_hardened_idx(index).map_err(|_| "End of range is too high".to_string())?,
            ),
        }
        let path = DerivationPath::from(full_path.clone());
        let (key, xonly, own_fingerprint) = match &self.material {
            Material::Public(k) => (*k, false, None),
            Material::XOnly(k) => {
                (PublicKey::new(k.public_key(bitcoin::secp256k1::Parity::Even)), true, None)
            }
            Material::Private(k) => (k.public_key(secp), false, None),
            Material::Xpub(x) => {
                if full_path.iter().any(ChildNumber::is_hardened) {
                    return Err(NEED_PRIVATE_KEYS.into());
                }
                let child = x.derive_pub(secp, &path).map_err(|e| e.to_string())?;
                (PublicKey::new(child.public_key), false, Some(x.fingerprint()))
            }
            Material::Xprv(x) => {
                let child = x.derive_priv(secp, &path).map_err(|e| e.to_string())?;
                let public = Xpub::from_priv(secp, &child).public_key;
                (PublicKey::new(public), false, Some(x.fingerprint(secp)))
            }
        };
        let origin = match (&self.origin, own_fingerprint) {
            (Some((fingerprint, prefix)), _) => {
                let mut all = prefix.clone();
                all.extend(full_path.iter().copied());
                Some((*fingerprint, all))
            }
            (None, Some(fingerprint)) => Some((fingerprint, full_path)),
            (None, None) => None,
        };
        Ok(DerivedKey { key, xonly, origin })
    }

    /// The expression in public form (private keys replaced by their public keys), hardened
    /// steps written as the text wrote them.
    pub(crate) fn to_public_string<C: Signing>(&self, secp: &Secp256k1<C>) -> String {
        let mut out = String::new();
        if let Some((fingerprint, path)) = &self.origin {
            let _ = write!(out, "[{fingerprint}");
            for step in path {
                out.push('/');
                out.push_str(&format_child(*step, self.apostrophe));
            }
            out.push(']');
        }
        match &self.material {
            Material::Public(k) => out.push_str(&k.to_string()),
            Material::XOnly(k) => out.push_str(&k.to_string()),
            Material::Private(k) => out.push_str(&k.public_key(secp).to_string()),
            Material::Xpub(x) => out.push_str(&x.to_string()),
            Material::Xprv(x) => out.push_str(&Xpub::from_priv(secp, x).to_string()),
        }
        for step in &self.path {
            out.push('/');
            match step {
                Step::Child(c) => out.push_str(&format_child(*c, self.apostrophe)),
                Step::Multipath(items) => {
                    let items: Vec<String> =
                        items.iter().map(|c| format_child(*c, self.apostrophe)).collect();
                    let _ = write!(out, "<{}>", items.join(";"));
                }
            }
        }
        match self.wildcard {
            Wildcard::None => {}
            Wildcard::Unhardened => out.push_str("/*"),
            Wildcard::Hardened => out.push_str(if self.apostrophe { "/*'" } else { "/*h" }),
        }
        out
    }
}

/// `12`, `12'` or `12h`.
pub(crate) fn format_child(child: ChildNumber, apostrophe: bool) -> String {
    match child {
        ChildNumber::Normal { index } => index.to_string(),
        ChildNumber::Hardened { index } => format!("{index}{}", if apostrophe { "'" } else { "h" }),
    }
}

/// `[fingerprint/path]` at the start of `text`, if any; returns it, the rest, and whether it wrote
/// hardened steps with `'`.
#[allow(clippy::type_complexity)]
fn parse_origin(text: &str) -> Result<(Option<(Fingerprint, Vec<ChildNumber>)>, &str, bool), String> {
    let Some(rest) = text.strip_prefix('[') else {
        if text.contains(']') {
            return Err(format!(
                "Key origin start '[ character expected but not found, got '{}' instead",
                text.chars().next().unwrap_or(' ')
            ));
        }
        return Ok((None, text, false));
    };
    let (origin, key) = rest
        .split_once(']')
        .ok_or_else(|| "Key origin start '[ character expected but not found".to_string())?;
    if key.contains(']') {
        return Err("Multiple ']' characters found for a single pubkey".into());
    }
    let mut items = origin.split('/');
    let fingerprint_hex = items.next().unwrap_or_default();
    if fingerprint_hex.len() != 8 {
        return Err(format!(
            "Fingerprint is not 4 bytes ({} characters instead of 8 characters)",
            fingerprint_hex.len()
        ));
    }
    let fingerprint = Fingerprint::from_str(fingerprint_hex)
        .map_err(|_| format!("Fingerprint '{fingerprint_hex}' is not hex"))?;
    let mut apostrophe = false;
    let path = items.map(|s| parse_step(s, &mut apostrophe)).collect::<Result<Vec<_>, _>>()?;
    Ok((Some((fingerprint, path)), key, apostrophe))
}

/// One path element: a number below 2^31, optionally hardened by `'` or `h`.
fn parse_step(text: &str, apostrophe: &mut bool) -> Result<ChildNumber, String> {
    let (number, hardened) = match text.strip_suffix('\'') {
        Some(n) => {
            *apostrophe = true;
            (n, true)
        }
        None => match text.strip_suffix('h') {
            Some(n) => (n, true),
            None => (text, false),
        },
    };
    let value: u32 = number
        .parse()
        .ok()
        .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("Key path value '{number}' is not a valid uint32"))?;
    if value >= 1 << 31 {
        return Err(format!("Key path value {value} is out of range"));
    }
    Ok(if hardened { ChildNumber::Hardened { index: value } } else { ChildNumber::Normal { index: value } })
}

/// The key itself: hex (33/65 bytes, or 32 x-only in `tr()`), WIF, tpub or tprv.
fn parse_material(text: &str, context: KeyContext, has_path: bool) -> Result<Material, String> {
    let is_hex = !text.is_empty() && text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        if has_path {
            return Err("Key path is not allowed for a plain public key".into());
        }
        if context == KeyContext::Taproot && text.len() == 64 {
            return XOnlyPublicKey::from_str(text)
                .map(Material::XOnly)
                .map_err(|_| format!("Pubkey '{text}' is invalid"));
        }
        let key = PublicKey::from_str(text).map_err(|_| format!("Pubkey '{text}' is invalid"))?;
        if !key.compressed && context != KeyContext::Legacy {
            return Err("Uncompressed keys are not allowed".into());
        }
        return Ok(Material::Public(key));
    }
    if let Ok(key) = PrivateKey::from_wif(text) {
        if key.network != NetworkKind::Test {
            return Err(format!("key '{text}' is not valid"));
        }
        if has_path {
            return Err("Key path is not allowed for a plain private key".into());
        }
        if !key.compressed && context != KeyContext::Legacy {
            return Err("Uncompressed keys are not allowed".into());
        }
        return Ok(Material::Private(key));
    }
    // Extended keys: only the test-network prefixes are this chain's (tpub/tprv on regtest).
    if let Ok(xpub) = Xpub::from_str(text) {
        if xpub.network == NetworkKind::Test {
            return Ok(Material::Xpub(xpub));
        }
    }
    if let Ok(xprv) = Xpriv::from_str(text) {
        if xprv.network == NetworkKind::Test {
            return Ok(Material::Xprv(xprv));
        }
    }
    Err(format!("key '{text}' is not valid"))
}

/// The x-only form of a derived key (what `tr()` and tapscripts use).
pub(crate) fn xonly(key: &DerivedKey) -> XOnlyPublicKey {
    XOnlyPublicKey::from(key.key.inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TPRV: &str = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
    const TPUB: &str = "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B";

    #[test]
    fn parses_and_writes_back_in_public_form() {
        let secp = Secp256k1::new();
        let key = KeyExpr::parse(&format!("[d34db33f/44h/0h/0h]{TPUB}/1/*"), KeyContext::Legacy).unwrap();
        assert!(key.is_range());
        assert_eq!(key.to_public_string(&secp), format!("[d34db33f/44h/0h/0h]{TPUB}/1/*"));
        let key = KeyExpr::parse(&format!("{TPRV}/0'/*'"), KeyContext::Legacy).unwrap();
        assert!(key.has_private_key());
        assert_eq!(key.to_public_string(&secp), format!("{TPUB}/0'/*'"));
        let key = KeyExpr::parse(&format!("{TPUB}/<0;1>/*"), KeyContext::Legacy).unwrap();
        assert_eq!(key.multipath_len(), 2);
        assert_eq!(key.select_multipath(1).to_public_string(&secp), format!("{TPUB}/1/*"));
    }

    #[test]
    fn derivation_follows_bip32_and_reports_origins() {
        let secp = Secp256k1::new();
        // Core's rpc_scantxoutset.py: combo(tprv/1/1/0) holds this key, origin [0c5f9a1e/1/1/0].
        let key = KeyExpr::parse(&format!("{TPRV}/1/1/*"), KeyContext::Legacy).unwrap();
        let derived = key.derive(&secp, 0).unwrap();
        assert_eq!(
            derived.key.to_string(),
            "03e1c5b6e650966971d7e71ef2674f80222752740fc1dfd63bbbd220d2da9bd0fb"
        );
        let (fingerprint, path) = derived.origin.unwrap();
        assert_eq!(fingerprint.to_string(), "0c5f9a1e");
        assert_eq!(DerivationPath::from(path).to_string(), "1/1/0");
        // The same key from the xpub.
        let public = KeyExpr::parse(&format!("{TPUB}/1/1/*"), KeyContext::Legacy).unwrap();
        assert_eq!(public.derive(&secp, 0).unwrap().key, derived.key);
        // Hardened steps need the private key.
        let hardened = KeyExpr::parse(&format!("{TPUB}/0'/0"), KeyContext::Legacy).unwrap();
        assert_eq!(hardened.derive(&secp, 0).unwrap_err(), NEED_PRIVATE_KEYS);
    }

    #[test]
    fn errors_are_cores() {
        let err = |text: &str, context| KeyExpr::parse(text, context).unwrap_err();
        let key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        assert_eq!(
            err(&format!(" {key}"), KeyContext::Legacy),
            format!("Key ' {key}' is invalid due to whitespace")
        );
        assert_eq!(err("02aa", KeyContext::Legacy), "Pubkey '02aa' is invalid");
        assert_eq!(err("nonsense", KeyContext::Legacy), "key 'nonsense' is not valid");
        assert_eq!(
            err(&format!("{TPUB}/2147483648"), KeyContext::Legacy),
            "Key path value 2147483648 is out of range"
        );
        assert_eq!(err(&format!("{TPUB}/x"), KeyContext::Legacy), "Key path value 'x' is not a valid uint32");
        assert_eq!(
            err(&format!("{TPUB}/*/1"), KeyContext::Legacy),
            "'*' may only appear as last element in a derivation path"
        );
        assert_eq!(
            err(&format!("[d34db3/0]{key}"), KeyContext::Legacy),
            "Fingerprint is not 4 bytes (6 characters instead of 8 characters)"
        );
        let uncompressed = "0408ef68c46d20596cc3f6ddf7c8794f71913add807f1dc55949fa805d764d191c0b7ce6894c126fce0babc6663042f3dde9b0cf76467ea315514e5a6731149c67";
        assert!(KeyExpr::parse(uncompressed, KeyContext::Legacy).is_ok());
        assert_eq!(err(uncompressed, KeyContext::Witness), "Uncompressed keys are not allowed");
    }
}
