//! Pairs the schema model with the Rust traits and structs that `$Proxy.wrap`
//! names, checks that they agree, and produces plans for [`crate::emit`].
//!
//! Conventions (libmultiprocess's, see WIRE.md §1):
//! - schema method `camelCase` is trait method `snake_case`, or the name
//!   given by `$Proxy.name`; `destroy` and `construct` are served by the
//!   framework and are not trait methods;
//! - a params field of type `Proxy.Context` is filled by the framework;
//! - the results field `result` is the return value (`Ok` of the trait
//!   method's `Result`);
//! - a results-only field is an output parameter (`&mut T`), a name in both
//!   params and results an in/out parameter (`&mut T`);
//! - a `hasX :Bool` companion makes `X` optional (`Option<T>`), and an unset
//!   pointer reads as `None` for an `Option` field without a companion;
//! - a `wantX :Bool` parameter asks for output `X`: clients always set it;
//! - `$Proxy.skip` fields and `Void` fields are not mapped.
//!
//! Every problem found is reported, each on its own line, naming the schema
//! file, the declaration and the field.

mod methods;
mod structs;

use std::collections::BTreeMap;

use proc_macro2::Ident;
use quote::ToTokens;

use crate::error::{CodegenError, ErrorKind, Problems};
use crate::naming::capitalize_first;
use crate::rust_items::RustCrate;
use crate::rust_types::{classify, incompatible, option_inner, show, Callback, RustKind};
use crate::schema::{Field, Interface, Method, Model, Shape, Struct, Type};

/// A schema field together with its `hasX` companion.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) field: Field,
    pub(crate) has: Option<Field>,
}

/// How a trait method takes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passing {
    /// `x: T`
    Value,
    /// `x: &T`
    Ref,
    /// `x: Option<&T>`; `deref` when the owned form derefs to `T`
    /// (`String` to `str`), else it is `T` itself.
    RefOption { deref: bool },
    /// `x: &mut T` (output or in/out)
    Mut,
}

/// One parameter of a trait method and the fields it travels in.
#[derive(Debug, Clone)]
pub(crate) struct ArgPlan {
    pub(crate) ident: Ident,
    pub(crate) passing: Passing,
    /// The owned type the server reads and a client receives as output
    /// (`String` for `&str`, `Option<String>` for `Option<&str>`).
    pub(crate) value_ty: syn::Type,
    /// Whether `value_ty` is an `Option` handled by the field code.
    pub(crate) optional: bool,
    /// The params field, if the value is sent.
    pub(crate) input: Option<Binding>,
    /// The results field, if the value comes back.
    pub(crate) output: Option<Binding>,
}

/// The return value of a trait method.
#[derive(Debug, Clone)]
pub(crate) struct ReturnPlan {
    /// `T` of `Result<T, E>`.
    pub(crate) ty: syn::Type,
    pub(crate) optional: bool,
    /// The `result` field; `None` when `T` is `()`.
    pub(crate) field: Option<Binding>,
}

/// A schema method matched with its trait method.
#[derive(Debug, Clone)]
pub(crate) struct MethodPlan {
    pub(crate) method: Method,
    /// The trait method's signature with resolved types and plain parameter
    /// names.
    pub(crate) sig: syn::Signature,
    /// The `Proxy.Context` params field.
    pub(crate) context: Option<Field>,
    /// `wantX` params fields to set.
    pub(crate) wants: Vec<Field>,
    /// Parameters in trait order.
    pub(crate) args: Vec<ArgPlan>,
    pub(crate) ret: ReturnPlan,
}

impl MethodPlan {
    /// Whether any parameter comes back in the results.
    pub(crate) fn has_outputs(&self) -> bool {
        self.args.iter().any(|a| a.output.is_some())
    }
}

/// A wrapped interface and its trait.
#[derive(Debug, Clone)]
pub(crate) struct InterfacePlan {
    pub(crate) iface: Interface,
    /// Prefix of the generated types: `Echo` for `EchoProxy`, `EchoServer`.
    pub(crate) stem: String,
    /// The trait as generated code names it (`::interfaces::Echo`).
    pub(crate) trait_path: syn::Path,
    pub(crate) methods: Vec<MethodPlan>,
    /// Every trait method's signature, for the local forwarder.
    pub(crate) local_sigs: Vec<syn::Signature>,
}

/// A callback interface (one `call` method) used as `Box<dyn Fn(..)>` or
/// `Arc<dyn Fn(..)>`.
#[derive(Debug, Clone)]
pub(crate) struct CallbackPlan {
    pub(crate) iface: Interface,
    /// Prefix of the generated types (`ShowProgressCallbackFn`).
    pub(crate) stem: String,
    /// The `dyn Fn(..) -> R + Send + Sync` type.
    pub(crate) dyn_ty: syn::Type,
    /// The `call` method, with parameters `arg0`, `arg1`, ...
    pub(crate) call: MethodPlan,
}

/// How a wrapped struct's fields are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StructForm {
    /// `Self { a, b }`
    Named,
    /// `Self(a, b)`
    TupleStruct,
    /// `(a, b)`
    Tuple,
}

/// One field of a wrapped struct.
#[derive(Debug, Clone)]
pub(crate) struct StructFieldPlan {
    pub(crate) member: syn::Member,
    pub(crate) optional: bool,
    pub(crate) binding: Binding,
    /// The Rust field's type without `Option`.
    pub(crate) rust_ty: syn::Type,
    /// Whether the value can be built from a reference to it: a primitive
    /// scalar (copied out) or a non-capability pointer (built from `&T`).
    pub(crate) by_ref: bool,
}

/// A schema struct converted to and from a Rust struct or tuple.
#[derive(Debug, Clone)]
pub(crate) struct StructPlan {
    pub(crate) strukt: Struct,
    pub(crate) rust_ty: syn::Type,
    pub(crate) form: StructForm,
    pub(crate) fields: Vec<StructFieldPlan>,
}

impl StructPlan {
    /// Whether to also build from a reference (`&T`, or `(&K, &V)` for a
    /// tuple), as in/out parameters and borrowed maps need.
    pub(crate) fn by_ref(&self) -> bool {
        self.fields.iter().all(|f| f.by_ref)
    }
}

/// Everything to generate.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    pub(crate) interfaces: Vec<InterfacePlan>,
    pub(crate) structs: Vec<StructPlan>,
    pub(crate) callbacks: Vec<CallbackPlan>,
}

/// Matches every wrapped declaration of the requested files.
/// `file_label` gives the name to put in messages for a file ID.
pub(crate) fn plan(
    model: &Model,
    crates: &BTreeMap<String, RustCrate>,
    file_label: &dyn Fn(u64) -> String,
) -> Result<Plans, CodegenError> {
    let mut problems = Problems::default();
    let mut plans = Plans::default();
    let mut callbacks: Vec<(u64, Callback)> = Vec::new();
    let requested: Vec<u64> = model.files.iter().map(|f| f.id).collect();
    let cx = Cx { model, crates, file_label };

    for iface in model.interfaces.values().filter(|i| requested.contains(&i.file)) {
        let Some(wrap) = &iface.wrap else { continue };
        match cx.interface(iface, wrap, &mut callbacks) {
            Ok(p) => plans.interfaces.push(p),
            Err(lines) => lines.into_iter().for_each(|(k, l)| problems.push(k, l)),
        }
    }
    for s in model.structs.values().filter(|s| requested.contains(&s.file)) {
        let Some(wrap) = &s.wrap else { continue };
        match cx.structure(s, wrap, &mut callbacks) {
            Ok(p) => plans.structs.push(p),
            Err(lines) => lines.into_iter().for_each(|(k, l)| problems.push(k, l)),
        }
    }
    // One adapter per callback interface and closure type.
    let mut seen: Vec<(u64, String)> = Vec::new();
    for (id, cb) in callbacks {
        let key = (id, cb.dyn_ty.to_token_stream().to_string());
        if seen.contains(&key) {
            continue;
        }
        let Some(iface) = model.interfaces.get(&id) else { continue };
        let same_iface = seen.iter().filter(|(i, _)| *i == id).count();
        seen.push(key);
        let base = iface.name.replace('.', "");
        let stem = if same_iface == 0 { format!("{base}Fn") } else { format!("{base}Fn{}", same_iface + 1) };
        match cx.callback(iface, &cb, stem) {
            Ok(p) => plans.callbacks.push(p),
            Err(lines) => lines.into_iter().for_each(|(k, l)| problems.push(k, l)),
        }
    }
    problems.finish()?;
    Ok(plans)
}

type Lines = Vec<(ErrorKind, String)>;

struct Cx<'a> {
    model: &'a Model,
    crates: &'a BTreeMap<String, RustCrate>,
    file_label: &'a dyn Fn(u64) -> String,
}

impl<'a> Cx<'a> {
    fn prefix(&self, file: u64, what: &str) -> String {
        format!("{}: {what}", (self.file_label)(file))
    }

    /// The crate a wrap path names, and the path inside it.
    fn split_wrap(&self, file: u64, decl: &str, wrap: &str) -> Result<(&'a RustCrate, Vec<String>), Lines> {
        let trimmed = wrap.trim().trim_start_matches("::");
        let segs: Vec<String> = trimmed.split("::").map(|s| s.trim().to_owned()).collect();
        let Some((krate_name, rest)) = segs.split_first() else {
            return Err(vec![(ErrorKind::Config, format!("{}: empty $Proxy.wrap", self.prefix(file, decl)))]);
        };
        let Some(krate) = self.crates.get(krate_name) else {
            return Err(vec![(
                ErrorKind::Config,
                format!(
                    "{}: $Proxy.wrap(\"{wrap}\") names crate '{krate_name}', but no .rust_source(\"{krate_name}\", ..) was given",
                    self.prefix(file, decl)
                ),
            )]);
        };
        Ok((krate, rest.to_vec()))
    }

    /// Checks that `ty` (maybe `Option<..>`) fits the field; returns whether
    /// the field is optional.
    fn check(
        &self,
        b: &Binding,
        ty: &syn::Type,
        krate: Option<&RustCrate>,
        what: &str,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<bool, String> {
        let inner = option_inner(ty);
        let optional = inner.is_some();
        if let Some(has) = &b.has {
            if !optional {
                return Err(format!(
                    "{what} has a '{}' companion in the schema, so its Rust type must be an Option, not {}",
                    has.name,
                    show(ty)
                ));
            }
        } else if optional && b.field.ty.is_scalar() {
            return Err(format!(
                "{what} is {} in Rust, but the scalar field '{}' has no 'has{}' companion to mark it unset",
                show(ty),
                b.field.name,
                capitalize_first(&b.field.name)
            ));
        }
        let inner = inner.unwrap_or(ty);
        let kind = classify(krate, inner);
        if let Some(why) = incompatible(self.model, krate, &b.field.ty, &kind) {
            return Err(format!("{what}: schema type {why} ({})", show(inner)));
        }
        if let Type::Interface { id, .. } = &b.field.ty {
            let target = self.model.interfaces.get(id);
            let target_name = target.map(|i| i.name.clone()).unwrap_or_default();
            match (&kind, target.and_then(|i| i.wrap.as_deref())) {
                (RustKind::Object(name), Some(wrap)) => {
                    let last = wrap.rsplit("::").next().unwrap_or(wrap).trim();
                    if last != name {
                        return Err(format!(
                            "{what} is dyn {name} in Rust, but interface {target_name} wraps {wrap}"
                        ));
                    }
                }
                (RustKind::Object(name), None) => {
                    return Err(format!(
                        "{what} is dyn {name} in Rust, but interface {target_name} has no $Proxy.wrap"
                    ))
                }
                (RustKind::Callback(cb), wrap) => {
                    if let Some(wrap) = wrap {
                        return Err(format!(
                            "{what} is a closure in Rust, but interface {target_name} wraps trait {wrap}"
                        ));
                    }
                    let has_call = target.is_some_and(|i| i.method("call").is_some());
                    if !has_call {
                        return Err(format!(
                            "{what} is a closure in Rust, but interface {target_name} has no method 'call'"
                        ));
                    }
                    if cb.container != "Box" && cb.container != "Arc" {
                        return Err(format!("{what}: closures travel as Box<dyn Fn..> or Arc<dyn Fn..>"));
                    }
                    callbacks.push((*id, (**cb).clone()));
                }
                _ => {}
            }
        }
        Ok(optional)
    }
}

/// `destroy` and `construct` are served by the framework, not the trait.
pub(crate) fn is_special(name: &str) -> bool {
    name == "destroy" || name == "construct"
}

/// Whether `f` is the `hasX :Bool` companion of another field of `shape`.
fn is_companion(shape: &Shape, f: &Field) -> bool {
    f.ty == Type::Bool
        && f.name.strip_prefix("has").is_some_and(|rest| {
            rest.starts_with(char::is_uppercase)
                && shape.field(&crate::naming::lower_first(rest)).is_some_and(|t| !t.skip)
        })
}

fn binding(shape: &Shape, f: &Field) -> Binding {
    let has = shape
        .field(&format!("has{}", capitalize_first(&f.name)))
        .filter(|h| h.ty == Type::Bool && !h.skip)
        .cloned();
    Binding { field: f.clone(), has }
}

/// The path generated code uses for a wrapped item: `::interfaces::Echo`,
/// or `crate::x::Y` for the including crate's own items.
fn wrap_path(krate: &RustCrate, path: &[String]) -> syn::Path {
    let text = if krate.name == "crate" {
        format!("crate::{}", path.join("::"))
    } else {
        format!("::{}::{}", krate.name, path.join("::"))
    };
    syn::parse_str(&text).unwrap_or_else(|_| syn::parse_quote!(crate))
}
