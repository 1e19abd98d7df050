//! Writing and reading one field: the conversion-trait calls per schema type.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::parse_path;
use crate::matching::Binding;
use crate::naming::capnp_snake;
use crate::schema::{Model, Type};

/// The wire scalar type of a data-section field.
pub(super) fn scalar(model: &Model, ty: &Type) -> TokenStream {
    match ty {
        Type::Bool => quote!(bool),
        Type::Int8 => quote!(i8),
        Type::Int16 => quote!(i16),
        Type::Int32 => quote!(i32),
        Type::Int64 => quote!(i64),
        Type::UInt8 => quote!(u8),
        Type::UInt16 => quote!(u16),
        Type::UInt32 => quote!(u32),
        Type::UInt64 => quote!(u64),
        Type::Float32 => quote!(f32),
        Type::Float64 => quote!(f64),
        Type::Void => quote!(()),
        Type::Enum(id) => enum_path(model, *id),
        _ => quote!(()),
    }
}

pub(super) fn enum_path(model: &Model, id: u64) -> TokenStream {
    let path = parse_path(&model.enums.get(&id).map(|e| e.path.clone()).unwrap_or_else(|| "()".into()));
    quote!(#path)
}

pub(super) fn struct_module(model: &Model, id: u64) -> syn::Path {
    parse_path(&model.structs.get(&id).map(|s| s.module.clone()).unwrap_or_else(|| "crate".into()))
}

pub(super) fn client(model: &Model, id: u64) -> syn::Path {
    parse_path(&model.client_path(id).unwrap_or_else(|| "crate".into()))
}

/// The capnp-rust `Owned` marker of a pointer type.
pub(super) fn owned_marker(model: &Model, ty: &Type) -> TokenStream {
    match ty {
        Type::Text => quote!(::capnp::text::Owned),
        Type::Data => quote!(::capnp::data::Owned),
        Type::Struct { id, .. } => {
            let m = struct_module(model, *id);
            quote!(#m::Owned)
        }
        Type::Interface { id, .. } => {
            let c = client(model, *id);
            quote!(#c)
        }
        Type::List(elem) => match &**elem {
            Type::Struct { .. } => {
                let inner = owned_marker(model, elem);
                quote!(::capnp::struct_list::Owned<#inner>)
            }
            Type::Enum(id) => {
                let e = enum_path(model, *id);
                quote!(::capnp::enum_list::Owned<#e>)
            }
            Type::List(_) => {
                let inner = owned_marker(model, elem);
                quote!(::capnp::list_list::Owned<#inner>)
            }
            Type::Text => quote!(::capnp::text_list::Owned),
            Type::Data => quote!(::capnp::data_list::Owned),
            Type::Interface { id, .. } => {
                let c = client(model, *id);
                quote!(::capnp::capability_list::Owned<#c>)
            }
            Type::AnyPointer | Type::Parameter => quote!(::capnp::any_pointer_list::Owned),
            prim => {
                let w = scalar(model, prim);
                quote!(::capnp::primitive_list::Owned<#w>)
            }
        },
        _ => quote!(::capnp::any_pointer::Owned),
    }
}

pub(super) fn accessor(prefix: &str, field: &str) -> Ident {
    format_ident!("{}_{}", prefix, capnp_snake(field))
}

/// Statements that write `value` into field `b` of `builder`. `by_ref`:
/// `value` (or the `Some` inside it) is a reference, so scalars and
/// capabilities are cloned out of it.
pub(super) fn build_field(
    model: &Model,
    b: &Binding,
    builder: &TokenStream,
    ctx: &TokenStream,
    value: TokenStream,
    by_ref: bool,
    optional: bool,
) -> TokenStream {
    if optional {
        let set_has = b.has.as_ref().map(|h| {
            let setter = accessor("set", &h.name);
            quote!(#builder.#setter(#value.is_some());)
        });
        let v = format_ident!("value");
        let inner = build_value(model, b, builder, ctx, quote!(#v), by_ref);
        return quote! {
            #set_has
            if let Some(#v) = #value {
                #inner
            }
        };
    }
    build_value(model, b, builder, ctx, value, by_ref)
}

pub(super) fn build_value(
    model: &Model,
    b: &Binding,
    builder: &TokenStream,
    ctx: &TokenStream,
    value: TokenStream,
    by_ref: bool,
) -> TokenStream {
    let f = &b.field;
    let set = accessor("set", &f.name);
    let init = accessor("init", &f.name);
    let copied = if by_ref { quote!(::core::clone::Clone::clone(#value)) } else { value.clone() };
    match &f.ty {
        Type::Void => quote!(),
        t if t.is_scalar() => {
            let w = scalar(model, t);
            quote!(#builder.#set(::framework::convert::ToScalar::<#w>::to_scalar(#copied)?);)
        }
        Type::Interface { .. } => {
            let c = owned_marker(model, &f.ty);
            quote!(#builder.#set(::framework::convert::ToCapability::<#c>::to_capability(#copied, #ctx)?);)
        }
        Type::Text | Type::Data | Type::List(_) => {
            let o = owned_marker(model, &f.ty);
            quote!(::framework::convert::BuildPointer::<#o>::build_pointer(#value, #ctx, |len| #builder.reborrow().#init(len))?;)
        }
        _ => {
            let o = owned_marker(model, &f.ty);
            quote!(::framework::convert::BuildPointer::<#o>::build_pointer(#value, #ctx, |_| #builder.reborrow().#init())?;)
        }
    }
}

/// An expression that reads field `b` from `reader`.
pub(super) fn read_field(
    model: &Model,
    b: &Binding,
    reader: &TokenStream,
    ctx: &TokenStream,
    optional: bool,
) -> TokenStream {
    let f = &b.field;
    let get = accessor("get", &f.name);
    let value = match &f.ty {
        Type::Void => quote!(()),
        Type::Enum(_) => {
            let w = scalar(model, &f.ty);
            quote!(::framework::convert::FromScalar::<#w>::from_scalar(#reader.#get()?)?)
        }
        t if t.is_scalar() => {
            let w = scalar(model, t);
            quote!(::framework::convert::FromScalar::<#w>::from_scalar(#reader.#get())?)
        }
        Type::Interface { .. } => {
            let c = owned_marker(model, &f.ty);
            quote!(::framework::convert::FromCapability::<#c>::from_capability(#reader.#get()?, #ctx)?)
        }
        _ => {
            let o = owned_marker(model, &f.ty);
            quote!(::framework::convert::ReadPointer::<#o>::read_pointer(#reader.#get()?, #ctx)?)
        }
    };
    if !optional {
        return value;
    }
    let present = match &b.has {
        Some(h) => {
            let get_has = accessor("get", &h.name);
            quote!(#reader.#get_has())
        }
        None => {
            let has = accessor("has", &f.name);
            quote!(#reader.#has())
        }
    };
    quote!(if #present { Some(#value) } else { None })
}
