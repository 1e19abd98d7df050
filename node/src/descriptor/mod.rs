//! Output script descriptors as Bitcoin Core reads them (BIP380-386 plus Core's `combo`, `addr`,
//! `raw` and `rawtr`): parsing with Core's error messages, expanding to scripts at an index, and
//! writing back in public form. Used by the RPCs that take descriptors (`scantxoutset`,
//! `deriveaddresses`, `getdescriptorinfo`, `generatetodescriptor`, `generateblock`).
//!
//! Supported: `pk`, `pkh`, `wpkh`, `combo`, `multi`/`sortedmulti` (bare, in `sh`, in `wsh`), `sh`,
//! `wsh`, `tr` with a script tree of `pk`/`pkh`/`multi_a`/`sortedmulti_a` leaves, `rawtr`, `addr`,
//! `raw`; keys as hex, WIF, tpub/tprv with paths, origins, `*` ranges and `<a;b>` multipath steps.
//! Not supported: miniscript fragments beyond those (`and_v(...)` inside `wsh`/`tr`), refused
//! with an error that says so; Core's `musig()` likewise.
//!
//! Why our own parser and not the miniscript crate's: Core's RPCs and its functional tests speak
//! Core's error messages and its extensions (`combo`, `addr`, `raw`, `rawtr`, apostrophe
//! preservation), which that crate does not have.

mod checksum;
mod infer;
mod key;
mod script;

use bitcoin::secp256k1::{Secp256k1, Signing, Verification};
use bitcoin::{Address, Network, ScriptBuf};

pub(crate) use checksum::{checksum, strip_checksum, with_checksum};
pub(crate) use infer::infer_descriptor;
pub(crate) use key::DerivedKey;
use key::{KeyContext, KeyExpr};

/// A script expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Pk(KeyExpr),
    Pkh(KeyExpr),
    Wpkh(KeyExpr),
    Combo(KeyExpr),
    Multi {
        threshold: usize,
        keys: Vec<KeyExpr>,
        sorted: bool,
    },
    /// `multi_a`/`sortedmulti_a`, tapscript only.
    MultiA {
        threshold: usize,
        keys: Vec<KeyExpr>,
        sorted: bool,
    },
    Sh(Box<Expr>),
    Wsh(Box<Expr>),
    Tr {
        internal: KeyExpr,
        tree: Option<Tree>,
    },
    RawTr(KeyExpr),
    Addr(Address),
    Raw(ScriptBuf),
}

/// A taproot script tree: `{left,right}` or a leaf script expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tree {
    Leaf(Box<Expr>),
    Branch(Box<Tree>, Box<Tree>),
}

/// Where an expression sits (Core's `ParseScriptContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    P2sh,
    P2wsh,
    Tapscript,
}

/// A parsed descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descriptor {
    expr: Expr,
}

/// The scripts a descriptor stands for at one index, and the keys they were made of.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expanded {
    pub(crate) scripts: Vec<ScriptBuf>,
    pub(crate) keys: Vec<DerivedKey>,
}

impl Descriptor {
    /// Parses `text`, with an optional `#checksum` (a required one when `require_checksum`).
    pub(crate) fn parse(text: &str, require_checksum: bool) -> Result<Descriptor, String> {
        let body = strip_checksum(text, require_checksum)?;
        let expr = parse_expr(body, Context::Top)?;
        let descriptor = Descriptor { expr };
        descriptor.multipath_count()?;
        Ok(descriptor)
    }

    /// Whether any key has a `*` step.
    pub(crate) fn is_range(&self) -> bool {
        let mut any = false;
        self.expr.visit_keys(&mut |k| any |= k.is_range());
        any
    }

    /// Whether the descriptor says how to spend what it describes (not `addr`/`raw`).
    pub(crate) fn is_solvable(&self) -> bool {
        !matches!(self.expr, Expr::Addr(_) | Expr::Raw(_))
    }

    /// Whether any key was given as a private key.
    pub(crate) fn has_private_keys(&self) -> bool {
        let mut any = false;
        self.expr.visit_keys(&mut |k| any |= k.has_private_key());
        any
    }

    /// One descriptor per `<a;b>` alternative (just this one without multipath steps).
    pub(crate) fn multipath_expansion(&self) -> Vec<Descriptor> {
        let count = self.multipath_count().unwrap_or(1);
        if count == 1 {
            return vec![self.clone()];
        }
        (0..count)
            .map(|i| {
                let mut expr = self.expr.clone();
                expr.visit_keys_mut(&mut |k| *k = k.select_multipath(i));
                Descriptor { expr }
            })
            .collect()
    }

    /// Whether it has `<a;b>` steps.
    pub(crate) fn is_multipath(&self) -> bool {
        self.multipath_count().unwrap_or(1) > 1
    }

    fn multipath_count(&self) -> Result<usize, String> {
        let mut count = 1usize;
        let mut mismatch = false;
        self.expr.visit_keys(&mut |k| {
            let n = k.multipath_len();
            if n > 1 {
                if count > 1 && count != n {
                    mismatch = true;
                }
                count = n;
            }
        });
        if mismatch {
            return Err("Multipath subpaths have mismatched lengths".into());
        }
        Ok(count)
    }

    /// The scripts at `index` (ignored by unranged descriptors).
    pub(crate) fn expand<C: Signing + Verification>(
        &self,
        secp: &Secp256k1<C>,
        index: u32,
    ) -> Result<Expanded, String> {
        let mut out = Expanded::default();
        script::expand(&self.expr, secp, index, &mut out)?;
        Ok(out)
    }

    /// The descriptor in public form, without checksum.
    pub(crate) fn to_public_string<C: Signing>(&self, secp: &Secp256k1<C>) -> String {
        self.expr.to_public_string(secp)
    }
}

/// The address of `script` on this chain, if it has one.
pub(crate) fn address_of(script: &ScriptBuf) -> Option<Address> {
    Address::from_script(script, Network::Regtest).ok()
}

impl Expr {
    fn visit_keys(&self, f: &mut dyn FnMut(&KeyExpr)) {
        match self {
            Expr::Pk(k) | Expr::Pkh(k) | Expr::Wpkh(k) | Expr::Combo(k) | Expr::RawTr(k) => f(k),
            Expr::Multi { keys, .. } | Expr::MultiA { keys, .. } => keys.iter().for_each(f),
            Expr::Sh(inner) | Expr::Wsh(inner) => inner.visit_keys(f),
            Expr::Tr { internal, tree } => {
                f(internal);
                if let Some(tree) = tree {
                    tree.visit_keys(f);
                }
            }
            Expr::Addr(_) | Expr::Raw(_) => {}
        }
    }

    fn visit_keys_mut(&mut self, f: &mut dyn FnMut(&mut KeyExpr)) {
        match self {
            Expr::Pk(k) | Expr::Pkh(k) | Expr::Wpkh(k) | Expr::Combo(k) | Expr::RawTr(k) => f(k),
            Expr::Multi { keys, .. } | Expr::MultiA { keys, .. } => keys.iter_mut().for_each(f),
            Expr::Sh(inner) | Expr::Wsh(inner) => inner.visit_keys_mut(f),
            Expr::Tr { internal, tree } => {
                f(internal);
                if let Some(tree) = tree {
                    tree.visit_keys_mut(f);
                }
            }
            Expr::Addr(_) | Expr::Raw(_) => {}
        }
    }

    fn to_public_string<C: Signing>(&self, secp: &Secp256k1<C>) -> String {
        let keys =
            |keys: &[KeyExpr]| keys.iter().map(|k| k.to_public_string(secp)).collect::<Vec<_>>().join(",");
        match self {
            Expr::Pk(k) => format!("pk({})", k.to_public_string(secp)),
            Expr::Pkh(k) => format!("pkh({})", k.to_public_string(secp)),
            Expr::Wpkh(k) => format!("wpkh({})", k.to_public_string(secp)),
            Expr::Combo(k) => format!("combo({})", k.to_public_string(secp)),
            Expr::RawTr(k) => format!("rawtr({})", k.to_public_string(secp)),
            Expr::Multi { threshold, keys: k, sorted } => {
                format!("{}({threshold},{})", if *sorted { "sortedmulti" } else { "multi" }, keys(k))
            }
            Expr::MultiA { threshold, keys: k, sorted } => {
                format!("{}({threshold},{})", if *sorted { "sortedmulti_a" } else { "multi_a" }, keys(k))
            }
            Expr::Sh(inner) => format!("sh({})", inner.to_public_string(secp)),
            Expr::Wsh(inner) => format!("wsh({})", inner.to_public_string(secp)),
            Expr::Tr { internal, tree: None } => format!("tr({})", internal.to_public_string(secp)),
            Expr::Tr { internal, tree: Some(tree) } => {
                format!("tr({},{})", internal.to_public_string(secp), tree.to_public_string(secp))
            }
            Expr::Addr(a) => format!("addr({a})"),
            Expr::Raw(s) => format!("raw({})", hex_string(s.as_bytes())),
        }
    }
}

impl Tree {
    fn visit_keys(&self, f: &mut dyn FnMut(&KeyExpr)) {
        match self {
            Tree::Leaf(e) => e.visit_keys(f),
            Tree::Branch(l, r) => {
                l.visit_keys(f);
                r.visit_keys(f);
            }
        }
    }

    fn visit_keys_mut(&mut self, f: &mut dyn FnMut(&mut KeyExpr)) {
        match self {
            Tree::Leaf(e) => e.visit_keys_mut(f),
            Tree::Branch(l, r) => {
                l.visit_keys_mut(f);
                r.visit_keys_mut(f);
            }
        }
    }

    fn to_public_string<C: Signing>(&self, secp: &Secp256k1<C>) -> String {
        match self {
            Tree::Leaf(e) => e.to_public_string(secp),
            Tree::Branch(l, r) => format!("{{{},{}}}", l.to_public_string(secp), r.to_public_string(secp)),
        }
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `name(inner)` → `(name, inner)` when `text` is one call with balanced parentheses.
fn split_call(text: &str) -> Option<(&str, &str)> {
    let open = text.find('(')?;
    let inner = text.get(open + 1..)?.strip_suffix(')')?;
    // The closing parenthesis must be the one matching the first opening one.
    let mut depth = 0i32;
    for ch in inner.chars() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then(|| (&text[..open], inner))
}

/// Splits at commas outside parentheses and braces.
fn split_args(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        match ch {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn key_context(context: Context) -> KeyContext {
    match context {
        Context::Top | Context::P2sh => KeyContext::Legacy,
        Context::P2wsh => KeyContext::Witness,
        Context::Tapscript => KeyContext::Taproot,
    }
}

/// Names of miniscript fragments: refused as unsupported rather than as unknown functions.
const MINISCRIPT_FRAGMENTS: &[&str] = &[
    "pk_k",
    "pk_h",
    "older",
    "after",
    "sha256",
    "hash256",
    "ripemd160",
    "hash160",
    "andor",
    "and_v",
    "and_b",
    "and_n",
    "or_b",
    "or_c",
    "or_d",
    "or_i",
    "thresh",
    "musig",
];

fn parse_expr(text: &str, context: Context) -> Result<Expr, String> {
    let not_a_function = || format!("'{text}' is not a valid descriptor function");
    let Some((name, inner)) = split_call(text) else { return Err(not_a_function()) };
    let single_key = |label: &str, key_context: KeyContext| {
        KeyExpr::parse(inner, key_context).map_err(|e| format!("{label}(): {e}"))
    };
    match name {
        "pk" => Ok(Expr::Pk(single_key("pk", key_context(context))?)),
        "pkh" => Ok(Expr::Pkh(single_key("pkh", key_context(context))?)),
        "combo" => {
            if context != Context::Top {
                return Err("Can only have combo() at top level".into());
            }
            Ok(Expr::Combo(single_key("combo", KeyContext::Legacy)?))
        }
        "wpkh" => {
            if !matches!(context, Context::Top | Context::P2sh) {
                return Err("Can only have wpkh() at top level or inside sh()".into());
            }
            Ok(Expr::Wpkh(single_key("wpkh", KeyContext::Witness)?))
        }
        "multi" | "sortedmulti" => {
            if context == Context::Tapscript {
                return Err(format!("Can only have {name}() at top level, in sh(), or in wsh()"));
            }
            parse_multi(inner, context, name == "sortedmulti", false)
        }
        "multi_a" | "sortedmulti_a" => {
            if context != Context::Tapscript {
                return Err(format!("Can only have {name}() in tr()"));
            }
            parse_multi(inner, context, name == "sortedmulti_a", true)
        }
        "sh" => {
            if context != Context::Top {
                return Err("Can only have sh() at top level".into());
            }
            let inner = parse_expr(inner, Context::P2sh)?;
            if matches!(inner, Expr::Combo(_)) {
                return Err("Can only have combo() at top level".into());
            }
            let sh = Expr::Sh(Box::new(inner));
            script::check_p2sh_size(&sh)?;
            Ok(sh)
        }
        "wsh" => {
            if !matches!(context, Context::Top | Context::P2sh) {
                return Err("Can only have wsh() at top level or inside sh()".into());
            }
            Ok(Expr::Wsh(Box::new(parse_expr(inner, Context::P2wsh)?)))
        }
        "tr" => {
            if context != Context::Top {
                return Err("Can only have tr at top level".into());
            }
            let args = split_args(inner);
            let [key, rest @ ..] = args.as_slice() else { return Err(not_a_function()) };
            let internal = KeyExpr::parse(key, KeyContext::Taproot).map_err(|e| format!("tr(): {e}"))?;
            let tree = match rest {
                [] => None,
                [tree] => Some(parse_tree(tree, 0)?),
                _ => return Err("tr(): expected a key and at most one script tree".into()),
            };
            Ok(Expr::Tr { internal, tree })
        }
        "rawtr" => {
            if context != Context::Top {
                return Err("Can only have rawtr at top level".into());
            }
            Ok(Expr::RawTr(single_key("rawtr", KeyContext::Taproot)?))
        }
        "addr" => {
            if context != Context::Top {
                return Err("Can only have addr() at top level".into());
            }
            let address = inner
                .parse::<Address<_>>()
                .ok()
                .and_then(|a| a.require_network(Network::Regtest).ok())
                .ok_or_else(|| "Address is not valid".to_string())?;
            Ok(Expr::Addr(address))
        }
        "raw" => {
            if context != Context::Top {
                return Err("Can only have raw() at top level".into());
            }
            let bytes = (inner.len() % 2 == 0)
                .then(|| {
                    (0..inner.len())
                        .step_by(2)
                        .map(|i| inner.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                        .collect::<Option<Vec<u8>>>()
                })
                .flatten()
                .filter(|b| !b.is_empty())
                .ok_or("Raw script is not hex")?;
            Ok(Expr::Raw(ScriptBuf::from_bytes(bytes)))
        }
        other if MINISCRIPT_FRAGMENTS.contains(&other) || other.contains(':') => {
            Err(format!("Miniscript expressions are not supported by this node: '{text}'"))
        }
        _ => Err(not_a_function()),
    }
}

fn parse_tree(text: &str, depth: usize) -> Result<Tree, String> {
    const MAX_DEPTH: usize = 128;
    if depth > MAX_DEPTH {
        return Err(format!("tr() supports at most {MAX_DEPTH} nesting levels"));
    }
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let parts = split_args(inner);
        let [left, right] = parts.as_slice() else {
            return Err(format!("tr(): expected '{{A,B}}' with two branches, got '{text}'"));
        };
        return Ok(Tree::Branch(
            Box::new(parse_tree(left, depth + 1)?),
            Box::new(parse_tree(right, depth + 1)?),
        ));
    }
    Ok(Tree::Leaf(Box::new(parse_expr(text, Context::Tapscript)?)))
}

fn parse_multi(inner: &str, context: Context, sorted: bool, tapscript: bool) -> Result<Expr, String> {
    let args = split_args(inner);
    let [threshold_text, key_texts @ ..] = args.as_slice() else {
        return Err("Multi: expected a threshold and keys".into());
    };
    let threshold: i64 = threshold_text
        .parse()
        .ok()
        .filter(|_| threshold_text.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .ok_or_else(|| format!("Multi threshold '{threshold_text}' is not valid"))?;
    let keys = key_texts
        .iter()
        .map(|k| KeyExpr::parse(k, key_context(context)).map_err(|e| format!("Multi: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let max_keys = if tapscript { 999 } else { 16 };
    if keys.is_empty() || keys.len() > max_keys {
        return Err(format!(
            "Cannot have {} keys in multisig; must have between 1 and {max_keys} keys, inclusive",
            keys.len()
        ));
    }
    if threshold < 1 {
        return Err(format!("Multisig threshold cannot be {threshold}, must be at least 1"));
    }
    let threshold = usize::try_from(threshold).unwrap_or(usize::MAX);
    if threshold > keys.len() {
        return Err(format!(
            "Multisig threshold cannot be larger than the number of keys; threshold is {threshold} but only {} keys specified",
            keys.len()
        ));
    }
    if context == Context::Top && keys.len() > 3 {
        return Err(format!("Cannot have {} pubkeys in bare multisig; only at most 3 pubkeys", keys.len()));
    }
    Ok(if tapscript {
        Expr::MultiA { threshold, keys, sorted }
    } else {
        Expr::Multi { threshold, keys, sorted }
    })
}

#[cfg(test)]
mod tests;
