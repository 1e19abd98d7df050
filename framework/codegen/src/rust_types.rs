//! Reading Rust types syntactically: what kind of value a type is (integer,
//! string, collection, trait object, callback), and the small rewrites the
//! generated code needs (`&str` is read as `String`, `Option<T>` unwrapped).
//!
//! Only the shapes of the standard library are recognised; any other type is
//! [`RustKind::Other`], which every schema type accepts: its conversion is
//! left to the conversion traits and checked by rustc.

use quote::ToTokens;

use crate::rust_items::RustCrate;
use crate::schema::{Model, Type};

/// What kind of value a Rust type holds, as far as the schema cares.
#[derive(Debug, Clone)]
pub(crate) enum RustKind {
    Bool,
    Int,
    Float,
    Text,
    Bytes,
    /// A sequence, set or map; with its element type (`(K, V)` for a map).
    Collection(Option<Box<syn::Type>>),
    /// `Box<dyn Trait>` / `Arc<dyn Trait>`: the trait's last path segment.
    Object(String),
    /// `Box<dyn Fn(..)>` / `Arc<dyn Fn(..)>`.
    Callback(Box<Callback>),
    Unit,
    Tuple,
    Other,
}

/// A boxed or shared closure type, taken apart.
#[derive(Debug, Clone)]
pub(crate) struct Callback {
    /// `Box` or `Arc`.
    pub(crate) container: String,
    /// The `dyn Fn(..) -> R + Send + Sync` type.
    pub(crate) dyn_ty: syn::Type,
    pub(crate) inputs: Vec<syn::Type>,
    /// `None` for `()`.
    pub(crate) output: Option<syn::Type>,
}

/// The last segment of a path type and its generic type arguments.
fn last_segment(ty: &syn::Type) -> Option<(String, Vec<&syn::Type>)> {
    let syn::Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let args = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((seg.ident.to_string(), args))
}

/// Removes parentheses and groups around a type.
pub(crate) fn unparen(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Paren(p) => unparen(&p.elem),
        syn::Type::Group(g) => unparen(&g.elem),
        _ => ty,
    }
}

/// `T` when `ty` is `Option<T>`.
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    match last_segment(unparen(ty)) {
        Some((name, args)) if name == "Option" && args.len() == 1 => Some(args[0]),
        _ => None,
    }
}

/// `T` of `Result<T, E>`, of a `Result<T>` alias from elsewhere (such as
/// `io::Result<T>`), or of an alias of `krate` that expands to a `Result`.
pub(crate) fn result_ok(krate: Option<&RustCrate>, ty: &syn::Type) -> Option<syn::Type> {
    match last_segment(unparen(ty)) {
        Some((name, args)) if name == "Result" && !args.is_empty() => Some(args[0].clone()),
        _ => {
            let target = krate?.expand_alias(unparen(ty))?;
            match last_segment(unparen(&target)) {
                Some((name, args)) if name == "Result" && !args.is_empty() => Some(args[0].clone()),
                _ => None,
            }
        }
    }
}

/// Whether `ty` is `()`.
pub(crate) fn is_unit(ty: &syn::Type) -> bool {
    matches!(unparen(ty), syn::Type::Tuple(t) if t.elems.is_empty())
}

/// Whether `ty` mentions a reference or lifetime anywhere.
pub(crate) fn borrows(ty: &syn::Type) -> bool {
    let text = ty.to_token_stream().to_string();
    text.contains('&') || text.contains('\'')
}

/// The owned type a server reads for a borrowed parameter: `str` ->
/// `String`, `[T]` -> `Vec<T>`, anything else as it is.
pub(crate) fn owned(ty: &syn::Type) -> syn::Type {
    match unparen(ty) {
        syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
            syn::parse_quote!(::std::string::String)
        }
        syn::Type::Slice(s) => {
            let elem = &s.elem;
            syn::parse_quote!(::std::vec::Vec<#elem>)
        }
        other => other.clone(),
    }
}

/// Whether the owned form of `ty` derefs to it (`String` -> `str`, `Vec<T>`
/// -> `[T]`), so an `Option<&T>` is passed with `as_deref`.
pub(crate) fn derefs(ty: &syn::Type) -> bool {
    match unparen(ty) {
        syn::Type::Path(p) => p.qself.is_none() && p.path.is_ident("str"),
        syn::Type::Slice(_) => true,
        _ => false,
    }
}

/// What kind of value `ty` (no reference, no `Option`) is. Aliases of
/// `krate` are looked through.
pub(crate) fn classify(krate: Option<&RustCrate>, ty: &syn::Type) -> RustKind {
    classify_depth(krate, ty, 0)
}

fn classify_depth(krate: Option<&RustCrate>, ty: &syn::Type, depth: u32) -> RustKind {
    let ty = unparen(ty);
    match ty {
        syn::Type::Reference(r) => classify_depth(krate, &r.elem, depth),
        syn::Type::Tuple(t) if t.elems.is_empty() => RustKind::Unit,
        syn::Type::Tuple(_) => RustKind::Tuple,
        syn::Type::Array(a) => sequence_of(&a.elem),
        syn::Type::Slice(s) => sequence_of(&s.elem),
        syn::Type::TraitObject(t) => trait_object(None, ty, t),
        syn::Type::Path(_) => {
            let Some((name, args)) = last_segment(ty) else { return RustKind::Other };
            match (name.as_str(), args.as_slice()) {
                ("bool", []) => RustKind::Bool,
                (
                    "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
                    | "usize",
                    [],
                ) => RustKind::Int,
                ("f32" | "f64", []) => RustKind::Float,
                ("String" | "str", []) => RustKind::Text,
                ("Cow", [inner]) => match classify_depth(krate, inner, depth) {
                    RustKind::Text => RustKind::Text,
                    RustKind::Bytes => RustKind::Bytes,
                    other => other,
                },
                ("Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "BinaryHeap", [elem]) => {
                    sequence_of(elem)
                }
                ("HashMap" | "BTreeMap", [k, v]) => {
                    RustKind::Collection(Some(Box::new(syn::parse_quote!((#k, #v)))))
                }
                ("Box" | "Arc" | "Rc", [inner]) => match unparen(inner) {
                    syn::Type::TraitObject(t) => trait_object(Some(&name), inner, t),
                    syn::Type::Slice(s) => sequence_of(&s.elem),
                    inner => match classify_depth(krate, inner, depth) {
                        RustKind::Text => RustKind::Text,
                        _ => RustKind::Other,
                    },
                },
                _ => match krate.and_then(|k| k.expand_alias(ty)) {
                    Some(target) if depth < 8 => classify_depth(krate, &target, depth + 1),
                    _ => RustKind::Other,
                },
            }
        }
        _ => RustKind::Other,
    }
}

fn sequence_of(elem: &syn::Type) -> RustKind {
    match last_segment(unparen(elem)) {
        Some((name, args)) if name == "u8" && args.is_empty() => RustKind::Bytes,
        _ => RustKind::Collection(Some(Box::new(elem.clone()))),
    }
}

fn trait_object(container: Option<&str>, dyn_ty: &syn::Type, t: &syn::TypeTraitObject) -> RustKind {
    for bound in &t.bounds {
        let syn::TypeParamBound::Trait(tb) = bound else { continue };
        let Some(seg) = tb.path.segments.last() else { continue };
        let name = seg.ident.to_string();
        if matches!(name.as_str(), "Send" | "Sync" | "Unpin") {
            continue;
        }
        if matches!(name.as_str(), "Fn" | "FnMut" | "FnOnce") {
            let syn::PathArguments::Parenthesized(args) = &seg.arguments else {
                return RustKind::Other;
            };
            let output = match &args.output {
                syn::ReturnType::Default => None,
                syn::ReturnType::Type(_, t) => Some((**t).clone()),
            };
            return RustKind::Callback(Box::new(Callback {
                container: container.unwrap_or("").to_owned(),
                dyn_ty: dyn_ty.clone(),
                inputs: args.inputs.iter().cloned().collect(),
                output,
            }));
        }
        return RustKind::Object(name);
    }
    RustKind::Other
}

/// Why the schema type `schema` cannot convert to or from a Rust value of
/// kind `rust`, or `None` when it may (or when only rustc can tell).
pub(crate) fn incompatible(
    model: &Model,
    krate: Option<&RustCrate>,
    schema: &Type,
    rust: &RustKind,
) -> Option<String> {
    use RustKind as K;
    let ok = match (schema, rust) {
        (_, K::Other) | (Type::AnyPointer | Type::Parameter, _) => true,
        (Type::Void, K::Unit) => true,
        (Type::Bool, K::Bool) => true,
        (t, K::Int) if t.is_integer() => true,
        (Type::Float32 | Type::Float64, K::Float) => true,
        (Type::Enum(_), K::Int) => true,
        (Type::Text, K::Text) => true,
        (Type::Data, K::Bytes) => true,
        (Type::List(elem), K::Bytes) => elem.is_integer(),
        (Type::List(elem), K::Collection(rust_elem)) => {
            let Some(rust_elem) = rust_elem else { return None };
            let inner = classify(krate, option_inner(rust_elem).unwrap_or(rust_elem));
            if let Some(why) = incompatible(model, krate, elem, &inner) {
                return Some(format!("its elements do not match: {why}"));
            }
            true
        }
        (Type::Struct { .. }, K::Tuple | K::Collection(_) | K::Text | K::Bytes) => true,
        (Type::Interface { .. }, K::Object(_) | K::Callback(_)) => true,
        _ => false,
    };
    if ok {
        None
    } else {
        Some(format!("{} cannot convert to or from {}", schema.describe(model), describe_kind(rust)))
    }
}

fn describe_kind(kind: &RustKind) -> &'static str {
    match kind {
        RustKind::Bool => "a bool",
        RustKind::Int => "an integer",
        RustKind::Float => "a float",
        RustKind::Text => "a string",
        RustKind::Bytes => "a byte string",
        RustKind::Collection(_) => "a collection",
        RustKind::Object(_) => "a trait object",
        RustKind::Callback(_) => "a callback",
        RustKind::Unit => "()",
        RustKind::Tuple => "a tuple",
        RustKind::Other => "this type",
    }
}

/// A type as source text, for messages.
pub(crate) fn show(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    // Token streams print `Vec < u8 >`; tighten the common cases.
    text.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace(":: ", "::")
        .replace(" ::", "::")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ty: &str) -> RustKind {
        classify(None, &syn::parse_str(ty).unwrap())
    }

    #[test]
    fn standard_shapes_are_recognised() {
        assert!(matches!(kind("u32"), RustKind::Int));
        assert!(matches!(kind("String"), RustKind::Text));
        assert!(matches!(kind("Box<str>"), RustKind::Text));
        assert!(matches!(kind("Vec<u8>"), RustKind::Bytes));
        assert!(matches!(kind("[u8; 32]"), RustKind::Bytes));
        assert!(matches!(kind("Vec<String>"), RustKind::Collection(_)));
        assert!(matches!(kind("BTreeMap<String, u32>"), RustKind::Collection(_)));
        assert!(matches!(kind("Box<dyn Echo + Send>"), RustKind::Object(n) if n == "Echo"));
        assert!(matches!(kind("Arc<dyn Fn(u32) -> Result<(), E> + Send + Sync>"), RustKind::Callback(_)));
        assert!(matches!(kind("BlockRef"), RustKind::Other));
        assert!(matches!(kind("()"), RustKind::Unit));
    }

    #[test]
    fn wrappers_are_seen_through() {
        let t: syn::Type = syn::parse_str("Option<Vec<u8>>").unwrap();
        assert_eq!(show(option_inner(&t).unwrap()), "Vec<u8>");
        let r: syn::Type = syn::parse_str("Result<String, Error>").unwrap();
        assert_eq!(show(&result_ok(None, &r).unwrap()), "String");
        assert_eq!(show(&owned(&syn::parse_str("str").unwrap())), "::std::string::String");
        assert_eq!(show(&owned(&syn::parse_str("[u32]").unwrap())), "::std::vec::Vec<u32>");
    }

    #[test]
    fn obvious_mismatches_are_reported() {
        let model = Model::default();
        assert!(incompatible(&model, None, &Type::Text, &kind("u32")).is_some());
        assert!(incompatible(&model, None, &Type::Text, &kind("String")).is_none());
        assert!(incompatible(&model, None, &Type::UInt32, &kind("String")).is_some());
        assert!(incompatible(&model, None, &Type::UInt32, &kind("Height")).is_none());
        let list_text = Type::List(Box::new(Type::Text));
        assert!(incompatible(&model, None, &list_text, &kind("Vec<String>")).is_none());
        assert!(incompatible(&model, None, &list_text, &kind("Vec<u32>")).is_some());
        assert!(incompatible(&model, None, &list_text, &kind("String")).is_some());
        let iface = Type::Interface { id: 1, branded: false };
        assert!(incompatible(&model, None, &iface, &kind("u64")).is_some());
        assert!(incompatible(&model, None, &iface, &kind("Box<dyn Echo>")).is_none());
    }
}
