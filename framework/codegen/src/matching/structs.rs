//! Matching a schema struct with the Rust struct or tuple it wraps.

use super::{binding, is_companion, wrap_path, Binding, Cx, Lines, StructFieldPlan, StructForm, StructPlan};
use crate::error::ErrorKind;
use crate::naming::{ident, rust_snake, unraw};
use crate::rust_items::RustCrate;
use crate::rust_types::{classify, option_inner, show, Callback, RustKind};
use crate::schema::{Field, Struct, Type};

impl Cx<'_> {
    /// Matches a wrapped struct with the Rust struct or tuple `wrap` names.
    pub(super) fn structure(
        &self,
        s: &Struct,
        wrap: &str,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<StructPlan, Lines> {
        let at = self.prefix(s.file, &s.name);
        if let Some(what) = s.unsupported {
            return Err(vec![(ErrorKind::Unsupported, format!("{at}: {what} are not supported"))]);
        }
        let fields: Vec<&Field> = s
            .shape
            .fields
            .iter()
            .filter(|f| !f.skip && f.ty != Type::Void && !is_companion(&s.shape, f))
            .collect();
        let mut lines = Lines::new();
        for f in &fields {
            if let Some(what) = f.unsupported {
                lines.push((
                    ErrorKind::Unsupported,
                    format!("{at}: field '{}': {what} are not supported (mark it $Proxy.skip)", f.name),
                ));
            }
        }
        if !lines.is_empty() {
            return Err(lines);
        }

        // A tuple type maps fields in order.
        if let Ok(syn::Type::Tuple(tuple)) = syn::parse_str::<syn::Type>(wrap) {
            let elems: Vec<syn::Type> = tuple.elems.iter().cloned().collect();
            let rust_ty = syn::Type::Tuple(tuple);
            return self.positional_struct(
                s,
                &at,
                rust_ty,
                StructForm::Tuple,
                &elems,
                &fields,
                None,
                callbacks,
            );
        }

        let (krate, path) = self.split_wrap(s.file, &s.name, wrap)?;
        let display = wrap.trim().trim_start_matches("::").to_owned();
        let Some(found) = krate.find_struct(&path) else {
            return Err(vec![(
                ErrorKind::RustSource,
                format!(
                    "{at}: struct {display} not found in the sources of crate {} ({})",
                    krate.name,
                    krate.dir.display()
                ),
            )]);
        };
        if !found.item.generics.params.is_empty() {
            return Err(vec![(
                ErrorKind::Unsupported,
                format!("{at}: generic struct {display} is not supported"),
            )]);
        }
        let path = wrap_path(krate, &path);
        let rust_ty: syn::Type = syn::parse_quote!(#path);
        let accessible = |vis: &syn::Visibility| {
            matches!(vis, syn::Visibility::Public(_))
                || (krate.name == "crate" && !matches!(vis, syn::Visibility::Inherited))
        };
        match &found.item.fields {
            syn::Fields::Unnamed(unnamed) => {
                let elems: Vec<syn::Type> = unnamed
                    .unnamed
                    .iter()
                    .map(|f| {
                        let mut t = f.ty.clone();
                        krate.resolve_type(&found.module, &mut t);
                        t
                    })
                    .collect();
                if let Some(i) = unnamed.unnamed.iter().position(|f| !accessible(&f.vis)) {
                    return Err(vec![(
                        ErrorKind::Mismatch,
                        format!("{at}: field {i} of struct {display} is not public"),
                    )]);
                }
                self.positional_struct(
                    s,
                    &at,
                    rust_ty,
                    StructForm::TupleStruct,
                    &elems,
                    &fields,
                    Some(krate),
                    callbacks,
                )
            }
            syn::Fields::Unit => self.positional_struct(
                s,
                &at,
                rust_ty,
                StructForm::TupleStruct,
                &[],
                &fields,
                Some(krate),
                callbacks,
            ),
            syn::Fields::Named(named) => {
                let rust_fields: Vec<(String, syn::Type, bool)> = named
                    .named
                    .iter()
                    .map(|f| {
                        let mut t = f.ty.clone();
                        krate.resolve_type(&found.module, &mut t);
                        (unraw(f.ident.as_ref().expect("named")), t, accessible(&f.vis))
                    })
                    .collect();
                let names: Vec<&str> = rust_fields.iter().map(|(n, _, _)| n.as_str()).collect();
                let mut plans = Vec::new();
                let mut matched = vec![false; rust_fields.len()];
                for f in &fields {
                    let rust_name = f.rust_name.clone().unwrap_or_else(|| rust_snake(&f.name));
                    let Some(index) = rust_fields.iter().position(|(n, _, _)| *n == rust_name) else {
                        lines.push((
                            ErrorKind::Mismatch,
                            format!(
                                "{at}: field '{}' has no counterpart in struct {display} (its fields: {})",
                                f.name,
                                names.join(", ")
                            ),
                        ));
                        continue;
                    };
                    matched[index] = true;
                    let (_, ty, public) = &rust_fields[index];
                    if !public {
                        lines.push((
                            ErrorKind::Mismatch,
                            format!("{at}: field '{rust_name}' of struct {display} is not public"),
                        ));
                        continue;
                    }
                    let b = binding(&s.shape, f);
                    match self.check(&b, ty, Some(krate), &format!("field '{}'", f.name), callbacks) {
                        Ok(optional) => plans.push(field_plan(
                            syn::Member::Named(ident(&rust_name)),
                            optional,
                            b,
                            ty,
                            Some(krate),
                        )),
                        Err(m) => lines.push((ErrorKind::Mismatch, format!("{at}: {m}"))),
                    }
                }
                for ((name, _, _), matched) in rust_fields.iter().zip(&matched) {
                    if !matched {
                        lines.push((
                            ErrorKind::Mismatch,
                            format!("{at}: struct {display} has field '{name}' with no counterpart in the schema struct"),
                        ));
                    }
                }
                if !lines.is_empty() {
                    return Err(lines);
                }
                Ok(StructPlan { strukt: s.clone(), rust_ty, form: StructForm::Named, fields: plans })
            }
        }
    }

    /// Matches fields in order with tuple elements or tuple-struct fields.
    #[allow(clippy::too_many_arguments)]
    fn positional_struct(
        &self,
        s: &Struct,
        at: &str,
        rust_ty: syn::Type,
        form: StructForm,
        elems: &[syn::Type],
        fields: &[&Field],
        krate: Option<&RustCrate>,
        callbacks: &mut Vec<(u64, Callback)>,
    ) -> Result<StructPlan, Lines> {
        if elems.len() != fields.len() {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(vec![(
                ErrorKind::Mismatch,
                format!(
                    "{at}: {} has {} element{} but the schema struct maps {} field{} ({})",
                    show(&rust_ty),
                    elems.len(),
                    if elems.len() == 1 { "" } else { "s" },
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
            )]);
        }
        let mut lines = Lines::new();
        let mut plans = Vec::new();
        for (i, (f, ty)) in fields.iter().zip(elems).enumerate() {
            let b = binding(&s.shape, f);
            match self.check(&b, ty, krate, &format!("field '{}'", f.name), callbacks) {
                Ok(optional) => {
                    plans.push(field_plan(syn::Member::Unnamed(syn::Index::from(i)), optional, b, ty, krate))
                }
                Err(m) => lines.push((ErrorKind::Mismatch, format!("{at}: {m}"))),
            }
        }
        if !lines.is_empty() {
            return Err(lines);
        }
        Ok(StructPlan { strukt: s.clone(), rust_ty, form, fields: plans })
    }
}

fn field_plan(
    member: syn::Member,
    optional: bool,
    binding: Binding,
    ty: &syn::Type,
    krate: Option<&RustCrate>,
) -> StructFieldPlan {
    let inner = option_inner(ty).unwrap_or(ty).clone();
    let by_ref = field_by_ref(&binding.field.ty, &classify(krate, &inner));
    StructFieldPlan { member, optional, binding, rust_ty: inner, by_ref }
}

/// Whether a field of kind `kind` and schema type `ty` can be built from a
/// reference without cloning.
fn field_by_ref(ty: &Type, kind: &RustKind) -> bool {
    if ty.is_scalar() {
        matches!(kind, RustKind::Bool | RustKind::Int | RustKind::Float)
    } else {
        !matches!(ty, Type::Interface { .. })
    }
}
