//! Name conversions: how capnpc-rust names the items it generates, and how a
//! schema name maps to the Rust name a trait uses.
//!
//! Two snake-case conversions exist on purpose. capnpc's accessors
//! (`get_block_hash`, `init_x`, `foo_request`) put an underscore before
//! *every* capital letter, so `getRPCInfo` becomes `get_r_p_c_info`; the
//! generated calls must use exactly that. Trait methods and parameters are
//! written by people, so acronyms stay one word there: `getRPCInfo` maps to
//! `get_rpc_info`.

use proc_macro2::{Ident, Span};

/// capnpc's conversion: an underscore before every upper-case letter except
/// the first, then lower case. Used for accessors (`get_x`, `set_x`,
/// `init_x`, `has_x`) and `<method>_request`.
pub(crate) fn capnp_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Words capnpc appends `_` to when they would be a module or method name.
const CAPNPC_KEYWORDS: &[&str] = &[
    "abstract", "alignof", "as", "be", "become", "box", "break", "const", "continue", "crate", "do", "else",
    "enum", "extern", "false", "final", "fn", "for", "if", "impl", "in", "let", "loop", "macro", "match",
    "mod", "move", "mut", "offsetof", "once", "override", "priv", "proc", "pub", "pure", "ref", "return",
    "self", "sizeof", "static", "struct", "super", "trait", "true", "type", "typeof", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// capnpc's module (and server method) name: [`capnp_snake`] plus `_` after
/// a keyword.
pub(crate) fn capnp_module(name: &str) -> String {
    let mut out = capnp_snake(name);
    if CAPNPC_KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// `echo` -> `Echo`, as capnpc names the `EchoParams` / `EchoResults` aliases.
pub(crate) fn capitalize_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Foo` -> `foo`: the field a `hasFoo` / `wantFoo` companion refers to.
pub(crate) fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Rust name a trait uses for a schema name: snake case that keeps an
/// acronym as one word (`getRPCInfo` -> `get_rpc_info`, `txId` -> `tx_id`).
pub(crate) fn rust_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A new word starts at an upper-case letter after a lower-case
            // letter or digit, or at the last capital of an acronym that is
            // followed by a lower-case letter (`RPCInfo` -> `rpc_info`).
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_is_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Rust keywords that cannot be plain identifiers.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield",
];

/// An identifier for `name`, raw (`r#type`) when it is a keyword; the few
/// keywords that cannot be raw get a trailing `_`.
pub(crate) fn ident(name: &str) -> Ident {
    let name = name.strip_prefix("r#").unwrap_or(name);
    if RUST_KEYWORDS.contains(&name) {
        if matches!(name, "self" | "Self" | "super" | "crate") {
            Ident::new(&format!("{name}_"), Span::call_site())
        } else {
            Ident::new_raw(name, Span::call_site())
        }
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The name of an identifier without a raw prefix: what to compare.
pub(crate) fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capnp_snake_splits_every_capital() {
        assert_eq!(capnp_snake("getRPCInfo"), "get_r_p_c_info");
        assert_eq!(capnp_snake("blockHash"), "block_hash");
        assert_eq!(capnp_module("BlockRef"), "block_ref");
        assert_eq!(capnp_module("type"), "type_");
        assert_eq!(capnp_module("echoParams"), "echo_params");
    }

    #[test]
    fn rust_snake_keeps_acronyms_together() {
        assert_eq!(rust_snake("getRPCInfo"), "get_rpc_info");
        assert_eq!(rust_snake("makeRpc"), "make_rpc");
        assert_eq!(rust_snake("txId"), "tx_id");
        assert_eq!(rust_snake("echo"), "echo");
        assert_eq!(rust_snake("getHTTP"), "get_http");
        assert_eq!(rust_snake("sha256Sum"), "sha256_sum");
    }

    #[test]
    fn idents_escape_keywords() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("echo").to_string(), "echo");
        assert_eq!(unraw(&ident("type")), "type");
    }

    #[test]
    fn first_letter_case() {
        assert_eq!(capitalize_first("echo"), "Echo");
        assert_eq!(lower_first("Foo"), "foo");
    }
}
