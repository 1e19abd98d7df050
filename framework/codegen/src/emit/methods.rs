//! Method bodies: the client side (build, call, read) and the server side
//! (read, run on a worker, build).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::fields::{accessor, build_field, read_field};
use super::parse_path;
use crate::matching::{is_special, ArgPlan, MethodPlan, Passing};
use crate::naming::{capnp_module, capnp_snake, ident, unraw};
use crate::schema::{params_alias, results_alias, Interface, Model};

/// Names the generated code uses for its own locals; a parameter with one
/// of these names gets a suffix.
pub(super) const RESERVED: &[&str] = &[
    "p", "r", "cx", "imp", "result", "value", "request", "response", "client", "params", "results", "len",
    "e", "v", "base",
];

/// The local name of a parameter in generated code.
pub(super) fn local(arg: &ArgPlan) -> Ident {
    let name = unraw(&arg.ident);
    if RESERVED.contains(&name.as_str()) {
        format_ident!("{}_arg", name)
    } else {
        arg.ident.clone()
    }
}

/// The method's signature with parameters named by [`local`].
pub(super) fn local_sig(plan: &MethodPlan) -> syn::Signature {
    let mut sig = plan.sig.clone();
    let mut args = plan.args.iter();
    for input in sig.inputs.iter_mut() {
        let syn::FnArg::Typed(t) = input else { continue };
        let syn::Pat::Ident(p) = &mut *t.pat else { continue };
        // `args` are in trait order, as are the signature's typed inputs.
        if let Some(arg) = args.next() {
            p.ident = local(arg);
        }
    }
    sig
}

pub(super) fn call_info(iface: &Interface, plan: &MethodPlan) -> TokenStream {
    let name = &iface.name;
    let method = &plan.method.name;
    let context = plan.context.is_some();
    quote! {
        static INFO: ::framework::private::CallInfo = ::framework::private::CallInfo {
            interface: #name,
            method: #method,
            context: #context,
        };
    }
}

/// The body of a client method: build the params, call, read the results.
pub(super) fn client_body(model: &Model, iface: &Interface, plan: &MethodPlan) -> TokenStream {
    let module = parse_path(&iface.module);
    let results_module = parse_path(&plan.method.results_module);
    let request_fn = format_ident!("{}_request", capnp_snake(&plan.method.name));
    let info = call_info(iface, plan);
    let p = quote!(p);
    let ctx = quote!(cx.values());

    let mut prelude = Vec::new();
    let mut builds = Vec::new();
    if let Some(c) = &plan.context {
        let init = accessor("init", &c.name);
        builds.push(quote!(cx.build_context(p.reborrow().#init())?;));
    }
    for w in &plan.wants {
        let set = accessor("set", &w.name);
        builds.push(quote!(p.#set(true);));
    }
    for arg in &plan.args {
        let Some(input) = &arg.input else { continue };
        let name = local(arg);
        let (value, by_ref) = match arg.passing {
            Passing::Value => (quote!(#name), false),
            Passing::Ref | Passing::RefOption { .. } => (quote!(#name), true),
            Passing::Mut => {
                let sent = format_ident!("{}_in", name);
                prelude.push(quote!(let #sent = &*#name;));
                (quote!(#sent), true)
            }
        };
        builds.push(build_field(model, input, &p, &ctx, value, by_ref, arg.optional));
    }
    let p_mut = if builds.is_empty() { quote!() } else { quote!(mut) };

    let r = quote!(r);
    let mut reads = Vec::new();
    let ret_ty = &plan.ret.ty;
    if let Some(b) = &plan.ret.field {
        let read = read_field(model, b, &r, &ctx, plan.ret.optional);
        reads.push(quote!(let result: #ret_ty = #read;));
    }
    let mut outs = Vec::new();
    let mut assigns = Vec::new();
    for arg in &plan.args {
        let Some(output) = &arg.output else { continue };
        let name = local(arg);
        let out = format_ident!("{}_out", name);
        let ty = &arg.value_ty;
        let read = read_field(model, output, &r, &ctx, arg.optional);
        reads.push(quote!(let #out: #ty = #read;));
        assigns.push(quote!(*#name = #out;));
        outs.push(out);
    }
    let result = if plan.ret.field.is_some() { quote!(result) } else { quote!(()) };
    let reply_value = if outs.is_empty() { result } else { quote!((#result, #(#outs),*)) };

    let call = quote! {
        self.base.call(
            &INFO,
            move |client: &#module::Client, cx: &mut ::framework::private::ClientCall<'_>| {
                let mut request = client.#request_fn();
                {
                    let #p_mut p = request.get();
                    #(#builds)*
                    cx.finish_params(&p.reborrow_as_reader(), p.reborrow_as_reader().total_size()?)?;
                }
                Ok(request)
            },
            move |response: ::capnp::capability::Response<#results_module::Owned>, cx: &mut ::framework::private::ClientReply<'_>| {
                let r = response.get()?;
                cx.log_results(&r);
                #(#reads)*
                Ok(#reply_value)
            },
        )
    };
    if outs.is_empty() {
        quote! {
            #info
            #(#prelude)*
            #call.map_err(::framework::private::to_app_error)
        }
    } else {
        quote! {
            #info
            #(#prelude)*
            let (result, #(#outs),*) = match #call {
                Ok(values) => values,
                Err(e) => return Err(::framework::private::to_app_error(e)),
            };
            #(#assigns)*
            Ok(result)
        }
    }
}

/// A capnpc `Server` method that serves `plan` by calling `callee` (a
/// function of the argument expressions) on a worker thread.
pub(super) fn server_method(
    model: &Model,
    iface: &Interface,
    plan: &MethodPlan,
    callee: impl Fn(Vec<TokenStream>) -> TokenStream,
) -> TokenStream {
    let module = parse_path(&iface.module);
    let params_module = parse_path(&plan.method.params_module);
    let results_module = parse_path(&plan.method.results_module);
    let server_fn = ident(&capnp_module(&plan.method.name));
    let params_ty = format_ident!("{}", params_alias(&plan.method.name));
    let results_ty = format_ident!("{}", results_alias(&plan.method.name));
    let info = call_info(iface, plan);
    let p = quote!(p);
    let r = quote!(r);
    let ctx = quote!(cx.values());

    let mut reads = Vec::new();
    if let Some(c) = &plan.context {
        let get = accessor("get", &c.name);
        reads.push(quote!(cx.read_context(p.#get()?)?;));
    }
    let mut rebinds = Vec::new();
    let mut call_args = Vec::new();
    for arg in &plan.args {
        let name = local(arg);
        let ty = &arg.value_ty;
        match &arg.input {
            Some(input) => {
                let read = read_field(model, input, &p, &ctx, arg.optional);
                reads.push(quote!(let #name: #ty = #read;));
            }
            None => reads.push(quote!(let #name: #ty = ::core::default::Default::default();)),
        }
        call_args.push(match arg.passing {
            Passing::Value => quote!(#name),
            Passing::Ref => quote!(&#name),
            Passing::RefOption { deref: true } => quote!(#name.as_deref()),
            Passing::RefOption { deref: false } => quote!(#name.as_ref()),
            Passing::Mut => {
                rebinds.push(quote!(let mut #name = #name;));
                quote!(&mut #name)
            }
        });
    }
    let outs: Vec<(Ident, &ArgPlan)> =
        plan.args.iter().filter(|a| a.output.is_some()).map(|a| (local(a), a)).collect();
    let call = callee(call_args);
    let work = if outs.is_empty() {
        quote!(move || #call)
    } else {
        let names = outs.iter().map(|(n, _)| n);
        quote!(move || {
            #(#rebinds)*
            #call.map(|result| (result, #(#names),*))
        })
    };

    let ret_ty = &plan.ret.ty;
    let mut builds = Vec::new();
    if let Some(b) = &plan.ret.field {
        builds.push(build_field(model, b, &r, &ctx, quote!(result), false, plan.ret.optional));
    }
    for (name, arg) in &outs {
        let b = arg.output.as_ref().expect("filtered");
        builds.push(build_field(model, b, &r, &ctx, quote!(#name), false, arg.optional));
    }
    let value_pat = if outs.is_empty() {
        if plan.ret.field.is_some() {
            quote!(result: #ret_ty)
        } else {
            quote!(_result: #ret_ty)
        }
    } else {
        let names = outs.iter().map(|(n, _)| n);
        let tys = outs.iter().map(|(_, a)| &a.value_ty);
        let result = if plan.ret.field.is_some() { quote!(result) } else { quote!(_result) };
        quote!((#result, #(#names),*): (#ret_ty, #(#tys),*))
    };
    let r_mut = if builds.is_empty() { quote!() } else { quote!(mut) };

    quote! {
        fn #server_fn(
            self: ::capnp::capability::Rc<Self>,
            params: #module::#params_ty,
            results: #module::#results_ty,
        ) -> impl ::core::future::Future<Output = ::core::result::Result<(), ::capnp::Error>> + 'static {
            #info
            let imp = self.imp.get();
            self.base.serve(
                &INFO,
                params,
                results,
                move |p: #params_module::Reader<'_>, cx: &mut ::framework::private::ServerCall<'_>| {
                    cx.log_params(&p);
                    let imp = imp?;
                    #(#reads)*
                    Ok(#work)
                },
                move |#value_pat, #r_mut r: #results_module::Builder<'_>, cx: &mut ::framework::private::ServerReply<'_>| {
                    #(#builds)*
                    cx.log_results(&r.reborrow_as_reader());
                    Ok(())
                },
            )
        }
    }
}

/// `destroy` and `construct`, served by the framework.
pub(super) fn special_methods(iface: &Interface) -> TokenStream {
    let module = parse_path(&iface.module);
    let name = &iface.name;
    let mut out = TokenStream::new();
    for m in iface.methods.iter().filter(|m| is_special(&m.name)) {
        let server_fn = ident(&capnp_module(&m.name));
        let base_call = if m.name == "destroy" {
            quote!(self.base.destroy(#name, params, results, self.imp.take()))
        } else {
            quote!(self.base.construct(#name, params, results))
        };
        let params_ty = format_ident!("{}", params_alias(&m.name));
        let results_ty = format_ident!("{}", results_alias(&m.name));
        out.extend(quote! {
            fn #server_fn(
                self: ::capnp::capability::Rc<Self>,
                params: #module::#params_ty,
                results: #module::#results_ty,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<(), ::capnp::Error>> + 'static {
                #base_call
            }
        });
    }
    out
}
