//! The crate's invariants, checked: its manifest has no dependencies, every
//! trait is an object-safe `Send + Sync` trait, and every trait method
//! follows the conventions the code generator needs (see the crate docs).

use std::path::Path;

use interfaces::*;

fn assert_object<T: ?Sized + Send + Sync>() {}

#[test]
fn traits_are_object_safe_send_and_sync() {
    assert_object::<dyn Init>();
    assert_object::<dyn Mining>();
    assert_object::<dyn BlockTemplate>();
    assert_object::<dyn Echo>();
    assert_object::<dyn Rpc>();
    assert_object::<dyn RpcActor>();
    assert_object::<dyn Handler>();
    assert_object::<dyn Chain>();
    assert_object::<dyn ChainNotifications>();
    assert_object::<dyn Node>();
    assert_object::<dyn WalletLoader>();
    assert_object::<dyn Wallet>();
    // Data crosses threads too.
    assert_object::<RpcCommand>();
    assert_object::<CleanupHandler>();
}

#[test]
fn manifest_has_no_dependencies() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            assert!(
                !section.contains("dependencies]") || section == "[dependencies]",
                "{section} in Cargo.toml"
            );
            continue;
        }
        if section == "[dependencies]" {
            assert!(line.is_empty() || line.starts_with('#'), "dependency `{line}` in Cargo.toml");
        }
    }
    for banned in ["framework", "capnp", "ipc", "bitcoin"] {
        let mentioned = manifest.lines().any(|l| !l.trim_start().starts_with('#') && l.contains(banned));
        assert!(!mentioned, "Cargo.toml mentions {banned}");
    }
}

/// Every `fn` signature inside a `pub trait` of `source`, joined onto one
/// line, with its trait's name.
fn trait_methods(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current_trait: Option<String> = None;
    let mut pending: Option<String> = None;
    for line in source.lines() {
        let trimmed = line.trim();
        if let Some(rest) = line.strip_prefix("pub trait ") {
            assert!(rest.contains(": Send + Sync {"), "trait without Send + Sync: {line}");
            current_trait = Some(rest.split(':').next().unwrap().to_owned());
            continue;
        }
        let Some(name) = &current_trait else { continue };
        if line == "}" {
            current_trait = None;
            continue;
        }
        if trimmed.starts_with("///") {
            continue;
        }
        if trimmed.starts_with("fn ") {
            pending = Some(String::new());
        }
        if let Some(sig) = &mut pending {
            sig.push_str(trimmed);
            sig.push(' ');
            if trimmed.ends_with(';') || trimmed.ends_with('{') {
                let sig = pending.take().unwrap().replace("( ", "(").replace(", )", ")");
                out.push((name.clone(), sig));
            }
        }
    }
    out
}

/// Why `sig` breaks a convention, if it does.
fn violation(sig: &str) -> Option<&'static str> {
    let name_end = sig.find('(').unwrap();
    let head = &sig[..name_end];
    let params_end = name_end + 1 + closing_paren(&sig[name_end + 1..]);
    let params = &sig[name_end..=params_end];
    let ret = sig[params_end + 1..].trim_start().strip_prefix("->").unwrap_or("");
    if head.contains('<') {
        Some("generic method")
    } else if !params.starts_with("(&self") {
        Some("receiver is not &self")
    } else if !ret.trim_start().starts_with("Result<") {
        Some("does not return Result")
    } else if ret.contains('&') || ret.contains('\'') {
        Some("reference in the return type")
    } else if sig.contains("impl ") {
        Some("impl Trait")
    } else if sig.contains("usize") || sig.contains("isize") {
        Some("usize on the wire")
    } else if sig.contains("dyn ") && !sig.contains("Box<dyn") && !sig.contains("Arc<dyn") {
        Some("interface not passed as Box<dyn> or Arc<dyn>")
    } else if !callbacks_return_result(sig) {
        Some("callback without Result")
    } else {
        None
    }
}

/// Whether every `dyn Fn(..)` in `sig` returns a `Result`.
fn callbacks_return_result(sig: &str) -> bool {
    sig.match_indices("dyn Fn(").all(|(start, m)| {
        let after = &sig[start + m.len()..];
        after[closing_paren(after) + 1..].trim_start().starts_with("-> Result<")
    })
}

/// Index in `text` of the `)` that closes a `(` just before `text`.
fn closing_paren(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth == 0 {
            return i;
        }
    }
    panic!("unbalanced parentheses in {text}");
}

#[test]
fn violation_detects_each_rule() {
    let cases = [
        ("fn a(&self) -> Result<u32>;", None),
        ("fn a(&self, cb: Box<dyn Fn(u32) -> Result<()> + Send + Sync>) -> Result<Box<dyn Handler>>;", None),
        ("fn a<T>(&self) -> Result<u32>;", Some("generic method")),
        ("fn a(self) -> Result<u32>;", Some("receiver is not &self")),
        ("fn a(&self) -> u32;", Some("does not return Result")),
        ("fn a(&self) -> Result<&str>;", Some("reference in the return type")),
        ("fn a(&self, x: impl Echo) -> Result<()>;", Some("impl Trait")),
        ("fn a(&self) -> Result<usize>;", Some("usize on the wire")),
        ("fn a(&self, e: &dyn Echo) -> Result<()>;", Some("interface not passed as Box<dyn> or Arc<dyn>")),
        ("fn a(&self, cb: Box<dyn Fn(u32) + Send + Sync>) -> Result<()>;", Some("callback without Result")),
        (
            "fn a(&self, cb: Box<dyn Fn((u8, u8)) -> u8 + Send + Sync>) -> Result<()>;",
            Some("callback without Result"),
        ),
    ];
    for (sig, expect) in cases {
        assert_eq!(violation(sig), expect, "{sig}");
    }
}

#[test]
fn every_trait_method_follows_the_conventions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut traits = std::collections::BTreeMap::<String, usize>::new();
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for (name, sig) in trait_methods(&source) {
            *traits.entry(name.clone()).or_default() += 1;
            if let Some(why) = violation(&sig) {
                panic!("{}: {name}: {why}: {sig}", path.display());
            }
            let method = sig[3..sig.find('(').unwrap()].to_owned();
            assert!(names.insert((name.clone(), method.clone())), "{name}::{method} overloaded");
        }
    }
    let found: Vec<&str> = traits.keys().map(String::as_str).collect();
    assert_eq!(
        found,
        [
            "BlockTemplate",
            "Chain",
            "ChainNotifications",
            "Echo",
            "Handler",
            "Init",
            "Mining",
            "Node",
            "Rpc",
            "RpcActor",
            "Wallet",
            "WalletLoader"
        ]
    );
}
