fn main() {
    if let Err(e) =
        framework_codegen::Builder::new().schema("schema/foo.capnp").rust_source("crate", "src").run()
    {
        panic!("{e}");
    }
}
