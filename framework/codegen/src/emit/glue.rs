//! The items of a wrapped interface and of a callback adapter.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::methods::{client_body, local, local_sig, server_method, special_methods};
use super::{debug_impl, doc, parse_path};
use crate::matching::{CallbackPlan, InterfacePlan};
use crate::schema::Model;

pub(super) fn interface_glue(model: &Model, plan: &InterfacePlan) -> TokenStream {
    let iface = &plan.iface;
    let module = parse_path(&iface.module);
    let client_ty = quote!(#module::Client);
    let tr = &plan.trait_path;
    let trait_text = quote!(#tr).to_string().replace(' ', "");
    let proxy = format_ident!("{}Proxy", plan.stem);
    let server = format_ident!("{}Server", plan.stem);
    let local_ty = format_ident!("{}Local", plan.stem);

    let client_methods = plan.methods.iter().map(|m| {
        let sig = local_sig(m);
        let body = client_body(model, iface, m);
        quote!(#sig { #body })
    });
    let server_methods = plan.methods.iter().map(|m| {
        let method = m.sig.ident.clone();
        server_method(model, iface, m, |args| quote!(imp.#method(#(#args),*)))
    });
    let specials = special_methods(iface);
    let local_methods = plan.local_sigs.iter().map(|sig| {
        let name = &sig.ident;
        let args = sig.inputs.iter().filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(&t.pat),
            syn::FnArg::Receiver(_) => None,
        });
        quote!(#sig { self.0.#name(#(#args),*) })
    });

    let proxy_doc = doc(&format!("Implements `{trait_text}` by calling a remote `{}` object.", iface.name));
    let server_doc = doc(&format!(
        "Serves the `{}` interface by calling a local `{trait_text}` on a worker thread.",
        iface.name
    ));
    let local_doc = doc(&format!(
        "An `Arc<dyn {trait_text}>` of this process that was sent out and came back as a capability: \
         a `Box<dyn {trait_text}>` that forwards every call to it."
    ));
    let proxy_type = proxy_type(&proxy, &client_ty, proxy_doc);
    let server_debug = debug_impl(&server);
    let local_debug = debug_impl(&local_ty);

    quote! {
        #proxy_type
        impl #tr for #proxy {
            #(#client_methods)*
        }

        #server_doc
        pub struct #server {
            base: ::framework::private::ServerBase,
            imp: ::framework::private::Served<::std::sync::Arc<dyn #tr>>,
        }
        #server_debug
        impl #module::Server for #server {
            #(#server_methods)*
            #specials
        }
        impl ::framework::private::ServerAdapter for #server {
            type Client = #client_ty;
            type Object = ::std::sync::Arc<dyn #tr>;
            fn new_server(base: ::framework::private::ServerBase, imp: Self::Object) -> Self {
                Self { base, imp: ::framework::private::Served::new(imp) }
            }
            fn object(&self) -> ::std::option::Option<Self::Object> {
                self.imp.get().ok()
            }
        }

        impl ::framework::convert::ToCapability<#client_ty> for ::std::boxed::Box<dyn #tr> {
            fn to_capability(self, ctx: &mut ::framework::convert::BuildContext<'_>) -> ::framework::Result<#client_ty> {
                if let ::std::option::Option::Some(client) = ::framework::private::reuse_proxy::<#client_ty, dyn #tr>(ctx, &*self, ::framework::private::Held::Boxed) {
                    return ::std::result::Result::Ok(client);
                }
                ::framework::private::export_object::<#server>(ctx, ::std::sync::Arc::from(self))
            }
        }
        impl ::framework::convert::ToCapability<#client_ty> for ::std::sync::Arc<dyn #tr> {
            fn to_capability(self, ctx: &mut ::framework::convert::BuildContext<'_>) -> ::framework::Result<#client_ty> {
                if let ::std::option::Option::Some(client) = ::framework::private::reuse_proxy::<#client_ty, dyn #tr>(ctx, &*self, ::framework::private::Held::Shared) {
                    return ::std::result::Result::Ok(client);
                }
                ::framework::private::export_object::<#server>(ctx, self)
            }
        }
        impl ::framework::convert::FromCapability<#client_ty> for ::std::boxed::Box<dyn #tr> {
            fn from_capability(client: #client_ty, ctx: &mut ::framework::convert::ReadContext<'_>) -> ::framework::Result<Self> {
                ::framework::private::import_object::<#server, #proxy>(ctx, client).map(|o| match o {
                    ::framework::private::Imported::Local(arc) => ::std::boxed::Box::new(#local_ty(arc)) as ::std::boxed::Box<dyn #tr>,
                    ::framework::private::Imported::Remote(proxy) => ::framework::private::register_proxy(::std::boxed::Box::new(proxy), |p| p as ::std::boxed::Box<dyn #tr>),
                })
            }
        }
        impl ::framework::convert::FromCapability<#client_ty> for ::std::sync::Arc<dyn #tr> {
            fn from_capability(client: #client_ty, ctx: &mut ::framework::convert::ReadContext<'_>) -> ::framework::Result<Self> {
                ::framework::private::import_object::<#server, #proxy>(ctx, client).map(|o| match o {
                    ::framework::private::Imported::Local(arc) => arc,
                    ::framework::private::Imported::Remote(proxy) => ::framework::private::register_proxy_arc(::std::sync::Arc::new(proxy), |p| p as ::std::sync::Arc<dyn #tr>),
                })
            }
        }

        #local_doc
        pub struct #local_ty(::std::sync::Arc<dyn #tr>);
        #local_debug
        impl #tr for #local_ty {
            #(#local_methods)*
        }
    }
}

pub(super) fn callback_glue(model: &Model, plan: &CallbackPlan) -> TokenStream {
    let iface = &plan.iface;
    let module = parse_path(&iface.module);
    let client_ty = quote!(#module::Client);
    let alias = format_ident!("{}", plan.stem);
    let raw_dyn_ty = &plan.dyn_ty;
    let dyn_ty = quote!(#alias);
    let proxy = format_ident!("{}Proxy", plan.stem);
    let server = format_ident!("{}Server", plan.stem);
    let sig = local_sig(&plan.call);
    let body = client_body(model, iface, &plan.call);
    let serve = server_method(model, iface, &plan.call, |args| quote!((*imp)(#(#args),*)));
    let specials = special_methods(iface);
    let params: Vec<TokenStream> = plan
        .call
        .args
        .iter()
        .zip(plan.call.sig.inputs.iter().filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(&t.ty),
            syn::FnArg::Receiver(_) => None,
        }))
        .map(|(a, ty)| {
            let n = local(a);
            quote!(#n: #ty)
        })
        .collect();
    let names: Vec<Ident> = plan.call.args.iter().map(local).collect();
    let proxy_doc = doc(&format!("Calls a remote `{}` callback; a received closure wraps it.", iface.name));
    let server_doc =
        doc(&format!("Serves the `{}` callback interface by calling a local closure.", iface.name));
    let call_doc = doc("Calls the remote closure.");
    let proxy_type = proxy_type(&proxy, &client_ty, proxy_doc);
    let server_debug = debug_impl(&server);

    let alias_doc = doc(&format!("The closure type the `{}` interface stands for.", iface.name));
    quote! {
        #alias_doc
        pub type #alias = #raw_dyn_ty;

        #proxy_type
        impl #proxy {
            #call_doc
            pub #sig { #body }
        }

        #server_doc
        pub struct #server {
            base: ::framework::private::ServerBase,
            imp: ::framework::private::Served<::std::sync::Arc<#dyn_ty>>,
        }
        #server_debug
        impl #module::Server for #server {
            #serve
            #specials
        }
        impl ::framework::private::ServerAdapter for #server {
            type Client = #client_ty;
            type Object = ::std::sync::Arc<#dyn_ty>;
            fn new_server(base: ::framework::private::ServerBase, imp: Self::Object) -> Self {
                Self { base, imp: ::framework::private::Served::new(imp) }
            }
            fn object(&self) -> ::std::option::Option<Self::Object> {
                self.imp.get().ok()
            }
        }

        impl ::framework::convert::ToCapability<#client_ty> for ::std::boxed::Box<#dyn_ty> {
            fn to_capability(self, ctx: &mut ::framework::convert::BuildContext<'_>) -> ::framework::Result<#client_ty> {
                ::framework::private::export_object::<#server>(ctx, ::std::sync::Arc::from(self))
            }
        }
        impl ::framework::convert::ToCapability<#client_ty> for ::std::sync::Arc<#dyn_ty> {
            fn to_capability(self, ctx: &mut ::framework::convert::BuildContext<'_>) -> ::framework::Result<#client_ty> {
                ::framework::private::export_object::<#server>(ctx, self)
            }
        }
        impl ::framework::convert::FromCapability<#client_ty> for ::std::boxed::Box<#dyn_ty> {
            fn from_capability(client: #client_ty, ctx: &mut ::framework::convert::ReadContext<'_>) -> ::framework::Result<Self> {
                ::framework::private::import_object::<#server, #proxy>(ctx, client).map(|o| match o {
                    ::framework::private::Imported::Local(arc) => ::std::boxed::Box::new(move |#(#params),*| (*arc)(#(#names),*)) as ::std::boxed::Box<#dyn_ty>,
                    ::framework::private::Imported::Remote(proxy) => ::std::boxed::Box::new(move |#(#params),*| proxy.call(#(#names),*)) as ::std::boxed::Box<#dyn_ty>,
                })
            }
        }
        impl ::framework::convert::FromCapability<#client_ty> for ::std::sync::Arc<#dyn_ty> {
            fn from_capability(client: #client_ty, ctx: &mut ::framework::convert::ReadContext<'_>) -> ::framework::Result<Self> {
                ::framework::private::import_object::<#server, #proxy>(ctx, client).map(|o| match o {
                    ::framework::private::Imported::Local(arc) => arc,
                    ::framework::private::Imported::Remote(proxy) => ::std::sync::Arc::new(move |#(#params),*| proxy.call(#(#names),*)) as ::std::sync::Arc<#dyn_ty>,
                })
            }
        }
    }
}

/// The proxy struct of an interface or callback: a `ProxyClient` and the
/// `FromProxyClient` impl the runtime builds it through.
fn proxy_type(proxy: &Ident, client_ty: &TokenStream, proxy_doc: TokenStream) -> TokenStream {
    let proxy_debug = debug_impl(proxy);
    quote! {
        #proxy_doc
        pub struct #proxy {
            base: ::framework::private::ProxyClient<#client_ty>,
        }
        #proxy_debug
        impl ::framework::private::FromProxyClient<#client_ty> for #proxy {
            fn from_proxy_client(base: ::framework::private::ProxyClient<#client_ty>) -> Self {
                Self { base }
            }
            fn proxy_client(&self) -> &::framework::private::ProxyClient<#client_ty> {
                &self.base
            }
        }
    }
}
