//! Runs the generator from the command line, as a build script would:
//!
//! ```text
//! framework-codegen --out-dir DIR [--src-prefix DIR]... [--import-path DIR]...
//!                   [--rust-source CRATE=DIR]... SCHEMA...
//! ```
//!
//! Useful to look at the generated code, or to check a schema against its
//! traits without building.

use std::process::ExitCode;

const USAGE: &str = "usage: framework-codegen --out-dir DIR [--src-prefix DIR]... \
[--import-path DIR]... [--rust-source CRATE=DIR]... SCHEMA...";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("framework-codegen: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut builder = framework_codegen::Builder::new();
    builder.cargo_metadata(false);
    let mut has_out_dir = false;
    let mut has_schema = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--out-dir" => {
                builder.out_dir(value("--out-dir")?);
                has_out_dir = true;
            }
            "--src-prefix" => {
                builder.src_prefix(value("--src-prefix")?);
            }
            "--import-path" => {
                builder.import_path(value("--import-path")?);
            }
            "--rust-source" => {
                let spec = value("--rust-source")?;
                let (name, dir) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--rust-source takes CRATE=DIR, not {spec}"))?;
                builder.rust_source(name, dir);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            schema => {
                builder.schema(schema);
                has_schema = true;
            }
        }
    }
    if !has_out_dir || !has_schema {
        return Err(USAGE.to_owned());
    }
    builder.run().map_err(|e| e.to_string())
}
