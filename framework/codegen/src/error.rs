//! The generator's error type.

use std::fmt;

/// What went wrong, so a caller can tell a bad configuration from a schema
/// that does not fit its traits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The builder was misconfigured: no schema, no `OUT_DIR`, an unknown
    /// crate in `$Proxy.wrap`.
    Config,
    /// Reading an input or writing an output file failed.
    Io,
    /// The schema compiler rejected a schema, or capnpc-rust failed.
    Compile,
    /// A schema uses something the generator does not support (generic
    /// interfaces, unions in parameters, streaming methods).
    Unsupported,
    /// A Rust source file did not parse, or a named trait or struct is not in
    /// it.
    RustSource,
    /// A schema and the trait or struct it wraps disagree: a missing method,
    /// parameter or field, a wrong arity, an incompatible type.
    Mismatch,
}

/// An error from [`Builder::run`](crate::Builder::run). Its message names the
/// schema file, the declaration and the field concerned; several mismatches
/// found in one run are reported together, one per line.
#[derive(Debug)]
pub struct CodegenError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl CodegenError {
    /// An error of `kind` with `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// An error of `kind` with `message`, caused by `source`.
    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(Box::new(source)) }
    }

    /// Which kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message: one line per problem.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CodegenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<capnp::Error> for CodegenError {
    fn from(e: capnp::Error) -> Self {
        Self::with_source(ErrorKind::Compile, "reading the CodeGeneratorRequest", e)
    }
}

impl From<capnp::NotInSchema> for CodegenError {
    fn from(e: capnp::NotInSchema) -> Self {
        Self::new(
            ErrorKind::Compile,
            format!("the CodeGeneratorRequest uses schema.capnp value {} this capnp does not know", e.0),
        )
    }
}

/// Collects problems so that one run reports all of them.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    lines: Vec<(ErrorKind, String)>,
}

impl Problems {
    /// Records a problem.
    pub(crate) fn push(&mut self, kind: ErrorKind, line: impl Into<String>) {
        self.lines.push((kind, line.into()));
    }

    /// `Ok(())` when nothing was recorded, else one error with every line;
    /// its kind is the first problem's.
    pub(crate) fn finish(self) -> Result<(), CodegenError> {
        match self.lines.first() {
            None => Ok(()),
            Some(&(kind, _)) => {
                let message = self.lines.into_iter().map(|(_, line)| line).collect::<Vec<_>>().join("\n");
                Err(CodegenError::new(kind, message))
            }
        }
    }
}
