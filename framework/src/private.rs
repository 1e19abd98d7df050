//! Hooks for generated code only. Not a stable API: names and signatures
//! change with the code generator, which is versioned with this crate.

pub use crate::proxy::{
    export_object, import_object, register_proxy, register_proxy_arc, reuse_proxy, to_app_error, CallInfo,
    ClientCall, ClientReply, FromProxyClient, Held, Imported, Interface, ProxyClient, Served, ServerAdapter,
    ServerBase, ServerCall, ServerReply,
};
