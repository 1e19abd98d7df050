//! Matching an interface with its trait: methods, parameters, return
//! values, and closures standing for callback interfaces.

use proc_macro2::Ident;

use super::{
    binding, is_companion, is_special, wrap_path, ArgPlan, Binding, CallbackPlan, Cx, InterfacePlan, Lines,
    MethodPlan, Passing, ReturnPlan,
};
use crate::error::ErrorKind;
use crate::naming::{ident, rust_snake, unraw};
use crate::rust_items::{FoundTrait, RustCrate};
use crate::rust_types::{borrows, derefs, is_unit, option_inner, owned, result_ok, show, unparen, Callback};
use crate::schema::{Interface, Method, Type};

/// A parameter as the schema sees it, after companions and context are
/// taken out.
struct SchemaParam {
    rust_name: String,
    input: Option<Binding>,
    output: Option<Binding>,
}

/// A Rust function to match a schema method against.
struct RustFn<'a> {
    /// `interfaces::Echo::echo`, for messages.
    display: String,
    sig: syn::Signature,
    /// `(name, type)`; names are ignored when `positional`.
    params: Vec<(String, syn::Type)>,
    /// `R` of `-> R`.
    output: Option<syn::Type>,
    positional: bool,
    krate: Option<&'a RustCrate>,
}

impl<'a> Cx<'a> {
    /// Matches a wrapped interface with the trait `wrap` names.
    pub(super) fn interface(
        &self,
        iface: &Interface,
        wrap: &str,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<InterfacePlan, Lines> {
        let at = self.prefix(iface.file, &iface.name);
        if let Some(what) = iface.unsupported {
            return Err(vec![(ErrorKind::Unsupported, format!("{at}: {what} are not supported"))]);
        }
        let (krate, path) = self.split_wrap(iface.file, &iface.name, wrap)?;
        let trait_display = wrap.trim().trim_start_matches("::").to_owned();
        let Some(FoundTrait { module, item }) = krate.find_trait(&path) else {
            return Err(vec![(
                ErrorKind::RustSource,
                format!(
                    "{at}: trait {trait_display} not found in the sources of crate {} ({})",
                    krate.name,
                    krate.dir.display()
                ),
            )]);
        };
        let trait_path = wrap_path(krate, &path);
        let mut lines = Lines::new();
        let mut methods = Vec::new();
        let mut local_sigs = Vec::new();
        let mut trait_fns: Vec<(syn::Signature, bool)> = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                syn::TraitItem::Fn(f) => {
                    let mut sig = f.sig.clone();
                    krate.resolve_signature(&module, &mut sig);
                    name_params(&mut sig);
                    // `where Self: Sized` methods are not part of `dyn Trait`:
                    // nothing to forward or to call remotely.
                    if requires_sized(&sig) && f.default.is_some() {
                        continue;
                    }
                    local_sigs.push(sig.clone());
                    trait_fns.push((sig, f.default.is_some()));
                }
                syn::TraitItem::Type(t) => lines.push((
                    ErrorKind::Unsupported,
                    format!(
                        "{at}: trait {trait_display} has associated type {}, which is not supported",
                        t.ident
                    ),
                )),
                syn::TraitItem::Const(c) => lines.push((
                    ErrorKind::Unsupported,
                    format!(
                        "{at}: trait {trait_display} has associated const {}, which is not supported",
                        c.ident
                    ),
                )),
                _ => {}
            }
        }
        if !item.generics.params.is_empty() {
            lines.push((
                ErrorKind::Unsupported,
                format!("{at}: generic trait {trait_display} is not supported"),
            ));
        }

        let mut used = vec![false; trait_fns.len()];
        for method in &iface.methods {
            if is_special(&method.name) {
                continue;
            }
            let rust_name = method.rust_name.clone().unwrap_or_else(|| rust_snake(&method.name));
            let method_at = format!("{at}.{}", method.name);
            let Some(index) = trait_fns.iter().position(|(s, _)| unraw(&s.ident) == rust_name) else {
                lines.push((
                    ErrorKind::Mismatch,
                    format!("{method_at}: method has no counterpart in trait {trait_display} (looked for fn {rust_name})"),
                ));
                continue;
            };
            used[index] = true;
            let sig = &trait_fns[index].0;
            let rust = match self.rust_fn(krate, sig, &format!("{trait_display}::{rust_name}")) {
                Ok(r) => r,
                Err(e) => {
                    lines.push((ErrorKind::Mismatch, format!("{method_at}: {e}")));
                    continue;
                }
            };
            match self.method(method, rust, &method_at, callbacks) {
                Ok(p) => methods.push(p),
                Err(more) => lines.extend(more),
            }
        }
        for ((sig, has_default), used) in trait_fns.iter().zip(&used) {
            if !used && !has_default {
                lines.push((
                    ErrorKind::Mismatch,
                    format!(
                        "{at}: trait {trait_display} has method '{}' with no counterpart in the schema interface",
                        unraw(&sig.ident)
                    ),
                ));
            }
        }
        if !lines.is_empty() {
            return Err(lines);
        }
        Ok(InterfacePlan {
            iface: iface.clone(),
            stem: iface.name.replace('.', ""),
            trait_path,
            methods,
            local_sigs,
        })
    }

    /// Takes a trait method's signature apart.
    fn rust_fn(
        &self,
        krate: &'a RustCrate,
        sig: &syn::Signature,
        display: &str,
    ) -> Result<RustFn<'a>, String> {
        if sig.asyncness.is_some() {
            return Err(format!("async trait method {display} is not supported"));
        }
        if sig.generics.params.iter().any(|p| !matches!(p, syn::GenericParam::Lifetime(_))) {
            return Err(format!("generic trait method {display} is not supported"));
        }
        let mut params = Vec::new();
        let mut receiver_ok = false;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    receiver_ok = r.reference.is_some() && r.mutability.is_none();
                }
                syn::FnArg::Typed(t) => {
                    let name = match &*t.pat {
                        syn::Pat::Ident(i) => unraw(&i.ident),
                        _ => return Err(format!("{display}: parameters must be plain names")),
                    };
                    params.push((name, (*t.ty).clone()));
                }
            }
        }
        if !receiver_ok {
            return Err(format!("trait method {display} must take &self"));
        }
        let output = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, t) => Some((**t).clone()),
        };
        Ok(RustFn {
            display: display.to_owned(),
            sig: sig.clone(),
            params,
            output,
            positional: false,
            krate: Some(krate),
        })
    }

    /// Matches one method; `at` is `file: Interface.method`.
    fn method(
        &self,
        method: &Method,
        rust: RustFn<'_>,
        at: &str,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<MethodPlan, Lines> {
        let mismatch = |m: String| (ErrorKind::Mismatch, format!("{at}: {m}"));
        if let Some(what) = method.unsupported {
            return Err(vec![(ErrorKind::Unsupported, format!("{at}: {what} are not supported"))]);
        }
        let mut lines = Lines::new();
        for (shape, which) in [(&method.params, "parameter"), (&method.results, "result field")] {
            for f in shape.fields.iter().filter(|f| !f.skip) {
                if let Some(what) = f.unsupported {
                    lines.push((
                        ErrorKind::Unsupported,
                        format!("{at}: {which} '{}': {what} are not supported (mark it $Proxy.skip)", f.name),
                    ));
                }
            }
        }
        if !lines.is_empty() {
            return Err(lines);
        }

        // The schema side: context, companions, inputs, outputs, result.
        let mut context = None;
        let mut wants = Vec::new();
        let mut schema_params: Vec<SchemaParam> = Vec::new();
        for f in method.params.fields.iter().filter(|f| !f.skip && f.ty != Type::Void) {
            if matches!(f.ty, Type::Struct { id, .. } if Some(id) == self.model.context_id) {
                context = Some(f.clone());
                continue;
            }
            if is_companion(&method.params, f) {
                continue;
            }
            if let Some(target) = f.name.strip_prefix("want") {
                let target = crate::naming::lower_first(target);
                if f.ty == Type::Bool && method.results.field(&target).is_some() {
                    wants.push(f.clone());
                    continue;
                }
            }
            let output = method
                .results
                .field(&f.name)
                .filter(|r| !r.skip && r.name != "result")
                .map(|r| binding(&method.results, r));
            schema_params.push(SchemaParam {
                rust_name: f.rust_name.clone().unwrap_or_else(|| rust_snake(&f.name)),
                input: Some(binding(&method.params, f)),
                output,
            });
        }
        let mut result_field = None;
        for f in method.results.fields.iter().filter(|f| !f.skip && f.ty != Type::Void) {
            if f.name == "result" {
                result_field = Some(binding(&method.results, f));
                continue;
            }
            if is_companion(&method.results, f) || method.params.field(&f.name).is_some_and(|p| !p.skip) {
                continue;
            }
            schema_params.push(SchemaParam {
                rust_name: f.rust_name.clone().unwrap_or_else(|| rust_snake(&f.name)),
                input: None,
                output: Some(binding(&method.results, f)),
            });
        }

        // Arity, then each parameter by name (or by position for closures).
        if rust.params.len() != schema_params.len() {
            let rust_names: Vec<&str> = rust.params.iter().map(|(n, _)| n.as_str()).collect();
            let schema_names: Vec<String> = schema_params.iter().map(schema_name).collect();
            return Err(vec![mismatch(format!(
                "{} takes {} parameter{} ({}) but the schema maps {} ({})",
                rust.display,
                rust.params.len(),
                if rust.params.len() == 1 { "" } else { "s" },
                rust_names.join(", "),
                schema_params.len(),
                schema_names.join(", "),
            ))]);
        }
        let mut args: Vec<Option<ArgPlan>> = vec![None; rust.params.len()];
        for (position, sp) in schema_params.iter().enumerate() {
            let index = if rust.positional {
                Some(position)
            } else {
                rust.params.iter().position(|(n, _)| *n == sp.rust_name)
            };
            let Some(index) = index else {
                let names: Vec<&str> = rust.params.iter().map(|(n, _)| n.as_str()).collect();
                lines.push(mismatch(format!(
                    "parameter '{}' has no counterpart in {} {} (its parameters: {})",
                    schema_name(sp),
                    if rust.positional { "closure" } else { "trait" },
                    rust.display,
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") },
                )));
                continue;
            };
            let (name, ty) = &rust.params[index];
            let ident = if rust.positional { ident(&format!("arg{index}")) } else { ident(name) };
            match self.arg(sp, ident, ty, rust.krate, callbacks) {
                Ok(a) => args[index] = Some(a),
                Err(m) => lines.push(mismatch(m)),
            }
        }

        // The return value.
        let ret = match self.ret(result_field, &rust, callbacks) {
            Ok(r) => Some(r),
            Err(m) => {
                lines.push(mismatch(m));
                None
            }
        };
        if !lines.is_empty() {
            return Err(lines);
        }
        Ok(MethodPlan {
            method: method.clone(),
            sig: rust.sig,
            context,
            wants,
            args: args.into_iter().flatten().collect(),
            ret: ret.expect("checked above"),
        })
    }

    /// Matches one parameter with its params and/or results field.
    fn arg(
        &self,
        sp: &SchemaParam,
        ident: Ident,
        ty: &syn::Type,
        krate: Option<&RustCrate>,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<ArgPlan, String> {
        let name = schema_name(sp);
        let ty = unparen(ty);
        let (passing, inner): (Passing, syn::Type) = match ty {
            syn::Type::Reference(r) if r.mutability.is_some() => (Passing::Mut, (*r.elem).clone()),
            syn::Type::Reference(r) => (Passing::Ref, (*r.elem).clone()),
            _ => match option_inner(ty).map(unparen) {
                Some(syn::Type::Reference(r)) if r.mutability.is_none() => {
                    (Passing::RefOption { deref: derefs(&r.elem) }, (*r.elem).clone())
                }
                _ => (Passing::Value, ty.clone()),
            },
        };
        match (passing, &sp.input, &sp.output) {
            (Passing::Mut, _, None) => {
                return Err(format!(
                    "parameter '{name}' is {} in the trait but the schema has no results field '{name}' to return it in",
                    show(ty)
                ))
            }
            (Passing::Value | Passing::Ref | Passing::RefOption { .. }, _, Some(_)) => {
                return Err(format!(
                    "parameter '{name}' is returned in the results, so the trait must take it as &mut, not {}",
                    show(ty)
                ))
            }
            _ => {}
        }
        if matches!(passing, Passing::Ref | Passing::RefOption { .. })
            && matches!(unparen(&inner), syn::Type::TraitObject(_))
        {
            return Err(format!(
                "parameter '{name}' is {}; pass interfaces as Box<dyn Trait> or Arc<dyn Trait>",
                show(ty)
            ));
        }
        let (value_ty, check_ty) = match passing {
            Passing::Value | Passing::Mut => (inner.clone(), inner.clone()),
            Passing::Ref => (owned(&inner), inner.clone()),
            Passing::RefOption { .. } => {
                let o = owned(&inner);
                (
                    syn::parse_quote!(::core::option::Option<#o>),
                    syn::parse_quote!(::core::option::Option<#inner>),
                )
            }
        };
        if borrows(&value_ty) {
            return Err(format!("parameter '{name}' is {}, which borrows; only &T, &mut T and Option<&T> borrows are supported", show(ty)));
        }
        let mut optional = false;
        for b in [&sp.input, &sp.output].into_iter().flatten() {
            optional = self.check(b, &check_ty, krate, &format!("parameter '{name}'"), callbacks)?;
        }
        Ok(ArgPlan { ident, passing, value_ty, optional, input: sp.input.clone(), output: sp.output.clone() })
    }

    /// Matches the return value with the `result` field.
    fn ret(
        &self,
        field: Option<Binding>,
        rust: &RustFn<'_>,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<ReturnPlan, String> {
        let Some(output) = &rust.output else {
            return Err(format!("{} must return Result<T, E>", rust.display));
        };
        let Some(ok) = result_ok(rust.krate, output) else {
            return Err(format!("{} must return Result<T, E>, not {}", rust.display, show(output)));
        };
        let ok = &ok;
        if borrows(ok) {
            return Err(format!("{} returns {}, which borrows", rust.display, show(ok)));
        }
        match (&field, is_unit(ok)) {
            (None, true) => Ok(ReturnPlan { ty: ok.clone(), optional: false, field: None }),
            (None, false) => Err(format!(
                "{} returns {} but the schema has no results field 'result'",
                rust.display,
                show(ok)
            )),
            (Some(_), true) => {
                Err(format!("the schema returns field 'result' but {} returns ()", rust.display))
            }
            (Some(b), false) => {
                let optional = self.check(b, ok, rust.krate, "result", callbacks)?;
                Ok(ReturnPlan { ty: ok.clone(), optional, field: field.clone() })
            }
        }
    }

    /// Plans the closure adapter of a callback interface for closure type `cb`.
    pub(super) fn callback(
        &self,
        iface: &Interface,
        cb: &Callback,
        stem: String,
    ) -> Result<CallbackPlan, Lines> {
        let at = self.prefix(iface.file, &iface.name);
        if let Some(what) = iface.unsupported {
            return Err(vec![(ErrorKind::Unsupported, format!("{at}: {what} are not supported"))]);
        }
        let others: Vec<&str> = iface
            .methods
            .iter()
            .map(|m| m.name.as_str())
            .filter(|n| !is_special(n) && *n != "call")
            .collect();
        if !others.is_empty() {
            return Err(vec![(
                ErrorKind::Mismatch,
                format!(
                    "{at}: used as a closure, so it may only have 'call' and 'destroy', not {}",
                    others.join(", ")
                ),
            )]);
        }
        let method = iface.method("call").expect("checked when recorded");
        let dyn_ty = &cb.dyn_ty;
        let params: Vec<(String, syn::Type)> =
            cb.inputs.iter().enumerate().map(|(i, t)| (format!("arg{i}"), t.clone())).collect();
        let inputs = params.iter().map(|(n, t)| {
            let n = ident(n);
            quote::quote!(#n: #t)
        });
        let output = cb.output.clone().unwrap_or_else(|| syn::parse_quote!(()));
        let sig: syn::Signature = syn::parse_quote!(fn call(&self, #(#inputs),*) -> #output);
        let rust = RustFn {
            display: format!("closure {}", show(dyn_ty)),
            sig,
            params,
            output: Some(output),
            positional: true,
            krate: None,
        };
        let mut nested = Vec::new();
        let call = self.method(method, rust, &format!("{at}.call"), &mut nested)?;
        if call.has_outputs() {
            return Err(vec![(
                ErrorKind::Unsupported,
                format!("{at}.call: output parameters of closures are not supported"),
            )]);
        }
        Ok(CallbackPlan { iface: iface.clone(), stem, dyn_ty: dyn_ty.clone(), call })
    }
}

/// Whether a signature has a `where Self: Sized` bound.
fn requires_sized(sig: &syn::Signature) -> bool {
    sig.generics.where_clause.as_ref().is_some_and(|w| {
        w.predicates.iter().any(|p| match p {
            syn::WherePredicate::Type(t) => {
                matches!(&t.bounded_ty, syn::Type::Path(p) if p.path.is_ident("Self"))
                    && t.bounds
                        .iter()
                        .any(|b| matches!(b, syn::TypeParamBound::Trait(tb) if tb.path.is_ident("Sized")))
            }
            _ => false,
        })
    })
}

fn schema_name(p: &SchemaParam) -> String {
    p.input.as_ref().or(p.output.as_ref()).map(|b| b.field.name.clone()).unwrap_or_default()
}

/// Gives every parameter a plain name (`_`, patterns and `mut` removed), so
/// a signature can be repeated in an impl that uses the names.
fn name_params(sig: &mut syn::Signature) {
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        if let syn::FnArg::Typed(t) = input {
            t.attrs.clear();
            let name = match &*t.pat {
                syn::Pat::Ident(p) if p.ident != "_" => p.ident.clone(),
                _ => ident(&format!("arg{i}")),
            };
            *t.pat = syn::Pat::Ident(syn::PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: name,
                subpat: None,
            });
        }
    }
}
