//! Conversions of wrapped structs and tuples.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::{accessor, build_field, build_value, owned_marker, read_field};
use super::parse_path;
use crate::matching::{StructForm, StructPlan};
use crate::schema::Model;

pub(super) fn struct_glue(model: &Model, plan: &StructPlan) -> TokenStream {
    let module = parse_path(&plan.strukt.module);
    let ty = &plan.rust_ty;
    let b = quote!(b);
    let input = quote!(input);
    let ctx = quote!(ctx);
    let uses_ctx = plan.fields.iter().any(|f| !f.binding.field.ty.is_scalar());
    let ctx_name = if uses_ctx { quote!(ctx) } else { quote!(_ctx) };
    let builder =
        if plan.fields.is_empty() { quote!(let _ = init(0);) } else { quote!(let mut b = init(0);) };

    let builds = plan.fields.iter().map(|f| {
        let member = &f.member;
        build_field(model, &f.binding, &b, &ctx, quote!(self.#member), false, f.optional)
    });
    let reads: Vec<TokenStream> =
        plan.fields.iter().map(|f| read_field(model, &f.binding, &input, &ctx, f.optional)).collect();
    let input_name = if reads.is_empty() { quote!(_input) } else { quote!(input) };
    let value = match plan.form {
        StructForm::Named => {
            let members = plan.fields.iter().map(|f| &f.member);
            quote!(Self { #(#members: #reads),* })
        }
        StructForm::TupleStruct => quote!(Self(#(#reads),*)),
        StructForm::Tuple => quote!((#(#reads,)*)),
    };
    let build_fn = build_pointer_fn(&module, &ctx_name, &builder, builds);
    let mut out = quote! {
        impl ::framework::convert::BuildPointer<#module::Owned> for #ty {
            #build_fn
        }
        impl ::framework::convert::ReadPointer<#module::Owned> for #ty {
            fn read_pointer(
                #input_name: #module::Reader<'_>,
                #ctx_name: &mut ::framework::convert::ReadContext<'_>,
            ) -> ::framework::Result<Self> {
                Ok(#value)
            }
        }
    };
    if plan.by_ref() {
        out.extend(struct_ref_impl(model, plan, &ctx_name, &builder));
    }
    out
}

/// Building from a reference: `&'a T` for a struct, `(&'a K, &'a V)` for a
/// tuple (what a borrowed map yields). Scalars are copied out; pointers are
/// built from references, which the `where` clause asks for so that a field
/// type without such a conversion only makes this impl unavailable.
pub(super) fn struct_ref_impl(
    model: &Model,
    plan: &StructPlan,
    ctx_name: &TokenStream,
    builder: &TokenStream,
) -> TokenStream {
    let module = parse_path(&plan.strukt.module);
    let b = quote!(b);
    let ctx = quote!(ctx);
    let ref_ty = match (&plan.form, &plan.rust_ty) {
        (StructForm::Tuple, syn::Type::Tuple(t)) => {
            let elems = t.elems.iter();
            quote!((#(&'a #elems,)*))
        }
        (_, ty) => quote!(&'a #ty),
    };
    let tuple = plan.form == StructForm::Tuple;
    let mut bounds = Vec::new();
    let builds = plan.fields.iter().map(|f| {
        let member = &f.member;
        let scalar = f.binding.field.ty.is_scalar();
        let value = match (tuple, scalar) {
            (true, true) => quote!(*self.#member),
            (true, false) => quote!(self.#member),
            (false, true) => quote!(self.#member),
            (false, false) => quote!(&self.#member),
        };
        if !scalar {
            let field_ty = &f.rust_ty;
            let o = owned_marker(model, &f.binding.field.ty);
            bounds.push(quote!(&'a #field_ty: ::framework::convert::BuildPointer<#o>));
        }
        if f.optional {
            // `Option<T>` fields go through `as_ref` (or a copy of the
            // option for scalars) so that `Some` holds `&'a T`.
            let option = if tuple { quote!(self.#member) } else { quote!(&self.#member) };
            let inner_value = if scalar { quote!(*value) } else { quote!(value) };
            let set_has = f.binding.has.as_ref().map(|h| {
                let setter = accessor("set", &h.name);
                quote!(#b.#setter((#option).is_some());)
            });
            let inner = build_value(model, &f.binding, &b, &ctx, inner_value, false);
            return quote! {
                #set_has
                if let Some(value) = #option {
                    #inner
                }
            };
        }
        build_value(model, &f.binding, &b, &ctx, value, false)
    });
    let build_fn = build_pointer_fn(&module, ctx_name, builder, builds);
    let where_clause = if bounds.is_empty() { quote!() } else { quote!(where #(#bounds),*) };
    quote! {
        impl<'a> ::framework::convert::BuildPointer<#module::Owned> for #ref_ty #where_clause {
            #build_fn
        }
    }
}

/// The `build_pointer` method shared by the by-value and by-reference impls.
fn build_pointer_fn(
    module: &syn::Path,
    ctx_name: &TokenStream,
    builder: &TokenStream,
    builds: impl Iterator<Item = TokenStream>,
) -> TokenStream {
    quote! {
        fn build_pointer<'b>(
            self,
            #ctx_name: &mut ::framework::convert::BuildContext<'_>,
            init: impl FnOnce(u32) -> #module::Builder<'b>,
        ) -> ::framework::Result<()> {
            #builder
            #(#builds)*
            Ok(())
        }
    }
}
