//! Compiles the schemas and generates the glue between them and the
//! `interfaces` traits (see the crate docs).

const SCHEMAS: [&str; 9] = [
    "schema/common.capnp",
    "schema/handler.capnp",
    "schema/echo.capnp",
    "schema/rpc.capnp",
    "schema/mining.capnp",
    "schema/chain.capnp",
    "schema/wallet.capnp",
    "schema/node.capnp",
    "schema/init.capnp",
];

fn main() {
    let mut builder = framework_codegen::Builder::new();
    for schema in SCHEMAS {
        builder.schema(schema);
    }
    if let Err(e) = builder.rust_source("interfaces", "../interfaces/src").run() {
        panic!("{e}");
    }
}
