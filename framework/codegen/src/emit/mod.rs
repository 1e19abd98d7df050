//! Writes the glue for the plans of [`crate::matching`] as Rust tokens.
//!
//! Everything is named by its full path (`::framework::private::..`,
//! `crate::echo_capnp::echo::Client`), so the generated file needs no `use`
//! items and can be included in any module. The calls into the runtime are
//! the contract of `framework::private`:
//!
//! - `Interface` for every interface's `Client` (name, ID, `destroy` and
//!   `construct` ordinals);
//! - `<Stem>Proxy` implements the trait through `ProxyClient::call(info,
//!   build, reply)`;
//! - `<Stem>Server` implements capnpc's `Server` through `ServerBase::serve(
//!   info, params, results, read, reply)`, `ServerBase::destroy(name, ..)`
//!   and `ServerBase::construct(..)`, and `ServerAdapter` (`new_server`,
//!   `object`);
//! - `ToCapability` / `FromCapability` for `Box<dyn Trait>` and
//!   `Arc<dyn Trait>` through `export_object` / `import_object`;
//! - `<Stem>Local` forwards the trait to an `Arc<dyn Trait>`.

mod fields;
mod glue;
mod methods;
mod structs;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use glue::{callback_glue, interface_glue};
use structs::struct_glue;

use crate::matching::Plans;
use crate::schema::{Interface, Model};

/// The generated items of one schema file, as tokens.
pub(crate) fn file_items(model: &Model, plans: &Plans, file: u64, first_file: bool) -> TokenStream {
    let mut out = TokenStream::new();
    for e in model.enums.values().filter(|e| e.file == file) {
        out.extend(enum_impls(&parse_path(&e.path)));
    }
    for i in model.interfaces.values().filter(|i| i.file == file && i.unsupported.is_none()) {
        out.extend(interface_impl(i));
    }
    for p in plans.interfaces.iter().filter(|p| p.iface.file == file) {
        out.extend(interface_glue(model, p));
    }
    for p in plans.structs.iter().filter(|p| p.strukt.file == file) {
        out.extend(struct_glue(model, p));
    }
    let requested = |f: u64| model.files.iter().any(|r| r.id == f);
    for p in plans.callbacks.iter() {
        // A callback interface from a file that is not generated here goes
        // with the first file.
        if p.iface.file == file || (first_file && !requested(p.iface.file)) {
            out.extend(callback_glue(model, p));
        }
    }
    out
}

fn parse_path(text: &str) -> syn::Path {
    syn::parse_str(text).unwrap_or_else(|_| panic!("generated path `{text}` does not parse"))
}

fn hex(id: u64) -> syn::LitInt {
    syn::LitInt::new(&format!("{id:#018x}"), Span::call_site())
}

fn doc(text: &str) -> TokenStream {
    let text = format!(" {text}");
    quote!(#[doc = #text])
}

fn debug_impl(name: &Ident) -> TokenStream {
    let text = name.to_string();
    quote! {
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#text)
            }
        }
    }
}

fn enum_impls(path: &syn::Path) -> TokenStream {
    quote! {
        impl ::framework::convert::ToScalar<#path> for #path {
            fn to_scalar(self) -> ::framework::Result<#path> {
                Ok(self)
            }
        }
        impl ::framework::convert::FromScalar<#path> for #path {
            fn from_scalar(wire: #path) -> ::framework::Result<Self> {
                Ok(wire)
            }
        }
    }
}

fn ordinal_of(i: &Interface, name: &str) -> TokenStream {
    match i.method(name) {
        Some(m) => {
            let o = proc_macro2::Literal::u16_unsuffixed(m.ordinal);
            quote!(Some(#o))
        }
        None => quote!(None),
    }
}

fn interface_impl(i: &Interface) -> TokenStream {
    let client = parse_path(&format!("{}::Client", i.module));
    let name = &i.name;
    let id = hex(i.id);
    let destroy = ordinal_of(i, "destroy");
    let construct = ordinal_of(i, "construct");
    quote! {
        impl ::framework::private::Interface for #client {
            const NAME: &'static str = #name;
            const INTERFACE_ID: u64 = #id;
            const DESTROY: Option<u16> = #destroy;
            const CONSTRUCT: Option<u16> = #construct;
        }
    }
}
