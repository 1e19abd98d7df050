fn main() {
    let generated = framework_codegen::Builder::new()
        .schema("schema/init.capnp")
        .schema("schema/calculator.capnp")
        .schema("schema/printer.capnp")
        .rust_source("crate", "src")
        .run();
    if let Err(e) = generated {
        panic!("{e}");
    }
}
