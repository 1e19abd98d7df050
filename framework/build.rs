//! Compiles the framework's own schema (ThreadMap, Thread, Context) with the
//! embedded schema compiler, so building needs no system `capnp`.
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=schema/proxy.capnp");
    println!("cargo:rerun-if-changed=schema/internal.capnp");
    println!("cargo:rerun-if-changed=schema/smoke/smoke.capnp");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let request = capnpc_embedded::CompileCommand::new()
        .file("schema/proxy.capnp")
        .file("schema/internal.capnp")
        .file("schema/smoke/smoke.capnp")
        .src_prefix("schema")
        .compile()
        .expect("the framework schemas must compile");
    capnpc::codegen::CodeGenerationCommand::new()
        .output_directory(&out_dir)
        .run(&request[..])
        .expect("code generation for the framework schemas");
}
