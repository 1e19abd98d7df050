//! The code generator of the `framework` crate: turns Cap'n Proto schemas
//! annotated with `$Proxy.wrap` into the glue that lets a Rust trait be
//! called across processes.
//!
//! **What it is for.** A crate's `build.rs` names its schemas and the crates
//! whose sources hold the traits and structs the schemas wrap. For each
//! schema `foo.capnp` the generator writes, into `OUT_DIR`:
//!
//! - `foo_capnp.rs`, capnpc-rust's usual output (types from
//!   `/mp/proxy.capnp` resolve to `::framework::proxy_capnp`);
//! - `foo_proxy.rs`, the glue: for every interface wrapping a trait, a client
//!   proxy implementing the trait (`EchoProxy`), a server calling it
//!   (`EchoServer`), capability conversions for `Box<dyn Trait>` and
//!   `Arc<dyn Trait>`, and a local forwarder (`EchoLocal`); for every struct
//!   wrapping a Rust struct or tuple, its `BuildPointer` / `ReadPointer`
//!   impls; for every callback interface passed as `Box<dyn Fn(..)>`, a
//!   closure adapter; for every enum, its scalar conversions.
//!
//! Schemas import the framework's own schema exactly as Bitcoin Core's do:
//! `using Proxy = import "/mp/proxy.capnp";` — the generator provides that
//! file, so no system `capnp` and no copy of it are needed.
//!
//! Before writing anything the generator checks that every schema method,
//! parameter and field has a counterpart in the Rust trait or struct, and
//! that built-in types fit (Text is not an integer, a List is a collection,
//! an interface is a trait object). A mismatch fails the build with a
//! message that names the schema file, the declaration and the field.
//!
//! **What it is not for.** It does not run anything: the runtime (event
//! loop, threads, connections) is the `framework` crate, which does not
//! depend on this one. It does not convert user types itself: a type it
//! does not know is converted through the `framework::convert` traits, and a
//! missing impl is reported by rustc. It reads Rust sources syntactically
//! (no macro expansion, no `cfg`).
//!
//! Not supported yet: unions and groups (mark such fields `$Proxy.skip`),
//! generic structs and interfaces, interface inheritance, streaming
//! methods, `&dyn Trait` parameters, output parameters of callbacks.
//!
//! The main type is [`Builder`]; errors are [`CodegenError`].
//!
//! ```no_run
//! // build.rs
//! framework_codegen::Builder::new()
//!     .schema("schema/echo.capnp")
//!     .rust_source("interfaces", "../interfaces/src")
//!     .run()
//!     .unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! and at the crate root (capnpc-rust's cross-file references expect
//! `crate::<stem>_capnp`; include every schema's `_proxy.rs`, since enum and
//! struct conversions live in the file of the schema that declares them):
//!
//! ```ignore
//! pub mod echo_capnp {
//!     include!(concat!(env!("OUT_DIR"), "/echo_capnp.rs"));
//! }
//! pub mod echo_proxy {
//!     include!(concat!(env!("OUT_DIR"), "/echo_proxy.rs"));
//! }
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod emit;
mod error;
mod matching;
mod naming;
mod rust_items;
mod rust_types;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{CodegenError, ErrorKind};

use rust_items::RustCrate;
use schema::{PROXY_CRATE, PROXY_FILE_ID};

/// libmultiprocess's schema, as the framework crate ships it.
const PROXY_CAPNP: &str = include_str!("../../schema/proxy.capnp");

/// Configures and runs the generator; see the [crate docs](crate).
#[derive(Debug, Clone, Default)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    src_prefixes: Vec<PathBuf>,
    import_paths: Vec<PathBuf>,
    rust_sources: Vec<(String, PathBuf)>,
    out_dir: Option<PathBuf>,
    quiet: bool,
}

impl Builder {
    /// A builder with nothing configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a schema file to compile. Relative paths are relative to the
    /// current directory (the crate root in a build script).
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.schemas.push(path.as_ref().to_owned());
        self
    }

    /// Adds a source prefix: removed from schema paths to form the output
    /// names (`schema/echo.capnp` with prefix `schema` gives `echo_capnp.rs`).
    /// Without any, each schema's own directory is its prefix.
    pub fn src_prefix(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.src_prefixes.push(path.as_ref().to_owned());
        self
    }

    /// Adds a directory searched for absolute imports (`import "/x.capnp"`).
    /// `/mp/proxy.capnp` is always available.
    pub fn import_path(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.import_paths.push(path.as_ref().to_owned());
        self
    }

    /// Names the sources of a crate whose traits and structs `$Proxy.wrap`
    /// refers to: every `.rs` file under `dir` is read. `crate_name` is the
    /// name the including crate uses for it (`interfaces`); use `crate` for
    /// the including crate's own sources.
    pub fn rust_source(&mut self, crate_name: impl Into<String>, dir: impl AsRef<Path>) -> &mut Self {
        self.rust_sources.push((crate_name.into(), dir.as_ref().to_owned()));
        self
    }

    /// Where to write the output; the default is `$OUT_DIR`.
    pub fn out_dir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(path.as_ref().to_owned());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (the default) or
    /// nothing, as outside a build script.
    pub fn cargo_metadata(&mut self, enabled: bool) -> &mut Self {
        self.quiet = !enabled;
        self
    }

    /// Compiles the schemas and writes `<stem>_capnp.rs` and
    /// `<stem>_proxy.rs` for each. Nothing of the glue is written when a
    /// schema does not match its traits.
    pub fn run(&self) -> Result<(), CodegenError> {
        if self.schemas.is_empty() {
            return Err(CodegenError::new(ErrorKind::Config, "no schema given: call .schema(path)"));
        }
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                CodegenError::new(
                    ErrorKind::Config,
                    "OUT_DIR is not set: run from a build script or call .out_dir(path)",
                )
            })?,
        };

        // The crates' sources first: a missing directory is a quick error.
        let mut crates = BTreeMap::new();
        for (name, dir) in &self.rust_sources {
            let krate = RustCrate::parse_dir(name, dir)?;
            crates.insert(name.clone(), krate);
        }

        let import_root = out_dir.join("capnp-import");
        write_if_changed(&import_root.join("mp").join("proxy.capnp"), PROXY_CAPNP)?;

        let mut compile = capnpc_embedded::CompileCommand::new();
        for schema in &self.schemas {
            compile.file(schema);
        }
        if self.src_prefixes.is_empty() {
            for schema in &self.schemas {
                if let Some(dir) = schema.parent().filter(|d| !d.as_os_str().is_empty()) {
                    compile.src_prefix(dir);
                }
            }
        } else {
            for prefix in &self.src_prefixes {
                compile.src_prefix(prefix);
            }
        }
        for dir in &self.import_paths {
            compile.import_path(dir);
        }
        compile.import_path(&import_root);
        let request = compile
            .compile()
            .map_err(|e| CodegenError::with_source(ErrorKind::Compile, "compiling the schemas", e))?;

        let model = schema::read_request(&request)?;
        let label = |file: u64| self.file_label(&model, file);
        let plans = matching::plan(&model, &crates, &label)?;

        capnpc::codegen::CodeGenerationCommand::new()
            .output_directory(&out_dir)
            .crates_provide_map([(PROXY_FILE_ID, PROXY_CRATE.to_owned())].into_iter().collect())
            .run(&request[..])
            .map_err(|e| CodegenError::with_source(ErrorKind::Compile, "capnpc-rust code generation", e))?;

        for (index, file) in model.files.iter().enumerate() {
            let tokens = emit::file_items(&model, &plans, file.id, index == 0);
            let text = render(&label(file.id), &file.name, tokens)?;
            write_if_changed(&out_dir.join(proxy_file_name(&file.name)), &text)?;
        }

        if !self.quiet {
            for schema in &self.schemas {
                println!("cargo:rerun-if-changed={}", schema.display());
            }
            for dir in &self.import_paths {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
            for krate in crates.values() {
                println!("cargo:rerun-if-changed={}", krate.dir.display());
                for file in &krate.files {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
        }
        Ok(())
    }

    /// The schema path as the user gave it, for messages; else the name the
    /// compiler uses.
    fn file_label(&self, model: &schema::Model, id: u64) -> String {
        let Some(file) = model.files.iter().find(|f| f.id == id) else {
            return model.names.get(&id).cloned().unwrap_or_else(|| format!("{id:#x}"));
        };
        self.schemas
            .iter()
            .find(|s| s.ends_with(&file.name))
            .map(|s| s.display().to_string())
            .unwrap_or_else(|| file.name.clone())
    }
}

/// `dir/echo.capnp` -> `dir/echo_proxy.rs`, beside capnpc's `echo_capnp.rs`.
fn proxy_file_name(name: &str) -> PathBuf {
    let path = Path::new(name);
    let stem = path.file_stem().map(|s| s.to_string_lossy().replace('-', "_")).unwrap_or_default();
    let file = format!("{stem}_proxy.rs");
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(file),
        _ => PathBuf::from(file),
    }
}

/// Formats the tokens with prettyplease under a header.
fn render(label: &str, name: &str, tokens: proc_macro2::TokenStream) -> Result<String, CodegenError> {
    let file: syn::File = syn::parse2(tokens.clone()).map_err(|e| {
        CodegenError::new(
            ErrorKind::Compile,
            format!("internal error: the glue generated for {label} does not parse ({e}): {tokens}"),
        )
    })?;
    let stem = Path::new(name).file_stem().map(|s| s.to_string_lossy().replace('-', "_")).unwrap_or_default();
    let header = format!(
        "// @generated by framework-codegen from {label}. Do not edit.\n\
         //\n\
         // Include it beside capnpc-rust's output of the same schema, at the crate root:\n\
         //     pub mod {stem}_capnp {{ include!(concat!(env!(\"OUT_DIR\"), \"/{stem}_capnp.rs\")); }}\n\
         //     pub mod {stem}_proxy {{ include!(concat!(env!(\"OUT_DIR\"), \"/{stem}_proxy.rs\")); }}\n\n"
    );
    Ok(header + &prettyplease::unparse(&file))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), CodegenError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let io = |e| CodegenError::with_source(ErrorKind::Io, format!("writing {}", path.display()), e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_files_sit_beside_capnp_files() {
        assert_eq!(proxy_file_name("echo.capnp"), PathBuf::from("echo_proxy.rs"));
        assert_eq!(proxy_file_name("sub/foo-bar.capnp"), PathBuf::from("sub/foo_bar_proxy.rs"));
    }
}
