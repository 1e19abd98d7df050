//! Compiles the framework's own schema (ThreadMap, Thread, Context) with the
//! embedded schema compiler, so building needs no system `capnp`.
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=schema/proxy.capnp");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let request = capnpc_embedded::CompileCommand::new()
        .file("schema/proxy.capnp")
        .src_prefix("schema")
        .compile()
        .expect("schema/proxy.capnp must compile");
    capnpc::codegen::CodeGenerationCommand::new()
        .output_directory(&out_dir)
        .run(&request[..])
        .expect("code generation for schema/proxy.capnp");
}
