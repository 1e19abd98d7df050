//! Walks a `CodeGeneratorRequest` into a plain model of the schema: files,
//! interfaces with their methods, structs and enums, each with the Rust path
//! capnpc-rust gives its generated module.
//!
//! Nothing here knows about Rust traits; [`crate::matching`] pairs this model
//! with them.

use std::collections::{BTreeMap, HashMap};

use capnp::schema_capnp::{annotation, code_generator_request, field, node, type_, value};

use crate::error::{CodegenError, ErrorKind};
use crate::naming::{capitalize_first, capnp_module};

/// The file ID of `proxy.capnp`, libmultiprocess's schema.
pub(crate) const PROXY_FILE_ID: u64 = 0xcc31_6e3f_71a0_40fb;
/// The crate whose `proxy_capnp` module holds proxy.capnp's generated code.
pub(crate) const PROXY_CRATE: &str = "framework";

/// `$Rust.name` (rust.capnp).
const RUST_NAME_ANNOTATION: u64 = 0xc2fe_4c6d_1001_66d0;
/// `$Rust.parentModule` (rust.capnp).
const RUST_PARENT_MODULE_ANNOTATION: u64 = 0xabee_386c_d145_0364;
/// `StreamResult` (stream.capnp): the results of a streaming method.
const STREAM_RESULT_ID: u64 = 0x995f_9a33_77c0_b16e;

/// The type of a field, reduced to what the generator needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Type {
    Void,
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float32,
    Float64,
    Text,
    Data,
    List(Box<Type>),
    Enum(u64),
    /// A struct; `branded` when it is a generic struct with arguments.
    Struct {
        id: u64,
        branded: bool,
    },
    /// An interface; `branded` when it is a generic interface with arguments.
    Interface {
        id: u64,
        branded: bool,
    },
    AnyPointer,
    /// A generic parameter of the enclosing declaration.
    Parameter,
}

impl Type {
    /// Whether the field lives in the data section (set/get by value).
    pub(crate) fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::Void
                | Type::Bool
                | Type::Int8
                | Type::Int16
                | Type::Int32
                | Type::Int64
                | Type::UInt8
                | Type::UInt16
                | Type::UInt32
                | Type::UInt64
                | Type::Float32
                | Type::Float64
                | Type::Enum(_)
        )
    }

    /// Whether the type is an integer of any width.
    pub(crate) fn is_integer(&self) -> bool {
        matches!(
            self,
            Type::Int8
                | Type::Int16
                | Type::Int32
                | Type::Int64
                | Type::UInt8
                | Type::UInt16
                | Type::UInt32
                | Type::UInt64
        )
    }

    /// The name of the type as the schema language spells it, for messages.
    pub(crate) fn describe(&self, model: &Model) -> String {
        match self {
            Type::Void => "Void".into(),
            Type::Bool => "Bool".into(),
            Type::Int8 => "Int8".into(),
            Type::Int16 => "Int16".into(),
            Type::Int32 => "Int32".into(),
            Type::Int64 => "Int64".into(),
            Type::UInt8 => "UInt8".into(),
            Type::UInt16 => "UInt16".into(),
            Type::UInt32 => "UInt32".into(),
            Type::UInt64 => "UInt64".into(),
            Type::Float32 => "Float32".into(),
            Type::Float64 => "Float64".into(),
            Type::Text => "Text".into(),
            Type::Data => "Data".into(),
            Type::List(e) => format!("List({})", e.describe(model)),
            Type::Enum(id) | Type::Struct { id, .. } | Type::Interface { id, .. } => {
                model.names.get(id).cloned().unwrap_or_else(|| format!("@{id:#x}"))
            }
            Type::AnyPointer => "AnyPointer".into(),
            Type::Parameter => "a generic parameter".into(),
        }
    }
}

/// One field of a struct, or one parameter or result of a method.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The schema name (`blockHash`).
    pub(crate) name: String,
    pub(crate) ty: Type,
    /// `$Proxy.name`: the Rust name when it is not the snake-case schema name.
    pub(crate) rust_name: Option<String>,
    /// `$Proxy.skip`: not mapped to Rust.
    pub(crate) skip: bool,
    /// Why the generator cannot handle the field (a union member, a group).
    pub(crate) unsupported: Option<&'static str>,
}

/// The fields of a struct or of a method's params or results.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    pub(crate) fields: Vec<Field>,
}

impl Shape {
    /// The field named `name`.
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A method of an interface.
#[derive(Debug, Clone)]
pub(crate) struct Method {
    /// The schema name (`getBlockHash`).
    pub(crate) name: String,
    /// The method ordinal (`@3`).
    pub(crate) ordinal: u16,
    /// `$Proxy.name`: the Rust method name when it differs.
    pub(crate) rust_name: Option<String>,
    pub(crate) params: Shape,
    pub(crate) results: Shape,
    /// Rust path of the params struct module (`crate::echo_capnp::echo::echo_params`).
    pub(crate) params_module: String,
    /// Rust path of the results struct module.
    pub(crate) results_module: String,
    /// Why the generator cannot handle the method (streaming, generic
    /// parameter structs).
    pub(crate) unsupported: Option<&'static str>,
}

/// An interface declaration.
#[derive(Debug, Clone)]
pub(crate) struct Interface {
    pub(crate) id: u64,
    /// The file that declares it.
    pub(crate) file: u64,
    /// The name within its file (`Echo`, `Outer.Inner`).
    pub(crate) name: String,
    /// Rust path of its generated module (`crate::echo_capnp::echo`).
    pub(crate) module: String,
    /// `$Proxy.wrap`: the Rust trait it stands for.
    pub(crate) wrap: Option<String>,
    pub(crate) methods: Vec<Method>,
    /// Why the generator cannot wrap it (generic, extends another interface).
    pub(crate) unsupported: Option<&'static str>,
}

impl Interface {
    /// The method named `name`.
    pub(crate) fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }
}

/// A struct declaration (not the implicit params and results structs).
#[derive(Debug, Clone)]
pub(crate) struct Struct {
    pub(crate) file: u64,
    pub(crate) name: String,
    /// Rust path of its generated module (`crate::common_capnp::block_ref`).
    pub(crate) module: String,
    /// `$Proxy.wrap`: the Rust type it stands for.
    pub(crate) wrap: Option<String>,
    pub(crate) shape: Shape,
    /// Why the generator cannot wrap it (generic).
    pub(crate) unsupported: Option<&'static str>,
}

/// An enum declaration.
#[derive(Debug, Clone)]
pub(crate) struct Enum {
    pub(crate) file: u64,
    /// Rust path of its generated type (`crate::foo_capnp::Color`).
    pub(crate) path: String,
}

/// A file named on the command line.
#[derive(Debug, Clone)]
pub(crate) struct File {
    pub(crate) id: u64,
    /// The name the compiler gives it (relative to its source prefix).
    pub(crate) name: String,
}

/// Everything in a `CodeGeneratorRequest` that the generator uses.
#[derive(Debug, Default)]
pub(crate) struct Model {
    /// The requested files, in request order.
    pub(crate) files: Vec<File>,
    pub(crate) interfaces: BTreeMap<u64, Interface>,
    pub(crate) structs: BTreeMap<u64, Struct>,
    pub(crate) enums: BTreeMap<u64, Enum>,
    /// Every node's name within its file, for messages.
    pub(crate) names: HashMap<u64, String>,
    /// `Proxy.Context`, when proxy.capnp is part of the request.
    pub(crate) context_id: Option<u64>,
}

impl Model {
    /// The Rust path of an interface's `Client` type.
    pub(crate) fn client_path(&self, id: u64) -> Option<String> {
        self.interfaces.get(&id).map(|i| format!("{}::Client", i.module))
    }
}

/// The IDs of proxy.capnp's annotations and `Context`, found by name.
#[derive(Debug, Default, Clone, Copy)]
struct ProxyIds {
    wrap: Option<u64>,
    name: Option<u64>,
    skip: Option<u64>,
    context: Option<u64>,
}

/// Reads a serialized `CodeGeneratorRequest` into a [`Model`].
pub(crate) fn read_request(bytes: &[u8]) -> Result<Model, CodegenError> {
    let mut options = capnp::message::ReaderOptions::new();
    options.traversal_limit_in_words(None);
    let message = capnp::serialize::read_message(bytes, options)?;
    let request: code_generator_request::Reader<'_> = message.get_root()?;
    let mut walker = Walker::default();
    for n in request.get_nodes()? {
        walker.nodes.insert(n.get_id(), n);
    }
    walker.proxy = find_proxy_ids(&walker.nodes)?;
    walker.model.context_id = walker.proxy.context;

    // Rust paths first: a field may name a type declared in any file.
    let files: Vec<(u64, node::Reader<'_>)> = walker
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.which(), Ok(node::File(()))))
        .map(|(&id, &n)| (id, n))
        .collect();
    for &(id, file_node) in &files {
        let stem = file_stem(file_node.get_display_name()?.to_str().map_err(utf8)?);
        let head = if id == PROXY_FILE_ID { format!("::{PROXY_CRATE}") } else { "crate".into() };
        walker.scope(vec![head], format!("{}_capnp", stem.replace('-', "_")), id)?;
    }
    for &(_, file_node) in &files {
        walker.collect(file_node)?;
    }

    for file in request.get_requested_files()? {
        walker
            .model
            .files
            .push(File { id: file.get_id(), name: file.get_filename()?.to_str().map_err(utf8)?.to_owned() });
    }
    Ok(walker.model)
}

fn utf8(e: std::str::Utf8Error) -> CodegenError {
    CodegenError::with_source(ErrorKind::Compile, "a name in the request is not UTF-8", e)
}

/// `dir/foo-bar.capnp` -> `foo-bar`.
fn file_stem(display_name: &str) -> String {
    let base = display_name.rsplit(['/', '\\']).next().unwrap_or(display_name);
    base.split('.').next().unwrap_or(base).to_owned()
}

/// Finds `wrap`, `name`, `skip` and `Context` among proxy.capnp's nested
/// nodes; all are `None` when the request does not contain proxy.capnp.
fn find_proxy_ids(nodes: &BTreeMap<u64, node::Reader<'_>>) -> Result<ProxyIds, CodegenError> {
    let mut ids = ProxyIds::default();
    let Some(file) = nodes.get(&PROXY_FILE_ID) else {
        return Ok(ids);
    };
    for nested in file.get_nested_nodes()? {
        let id = nested.get_id();
        match nested.get_name()?.to_str().map_err(utf8)? {
            "wrap" => ids.wrap = Some(id),
            "name" => ids.name = Some(id),
            "skip" => ids.skip = Some(id),
            "Context" => ids.context = Some(id),
            _ => {}
        }
    }
    Ok(ids)
}

#[derive(Default)]
struct Walker<'a> {
    nodes: BTreeMap<u64, node::Reader<'a>>,
    /// Rust module path of every node, as segments.
    paths: HashMap<u64, Vec<String>>,
    proxy: ProxyIds,
    model: Model,
}

impl<'a> Walker<'a> {
    /// Records the Rust path of `id` and its nested declarations, following
    /// capnpc-rust's rules: enums keep their name, everything else becomes a
    /// snake-case module; `$Rust.name` renames and `$Rust.parentModule`
    /// moves a declaration.
    fn scope(&mut self, mut parents: Vec<String>, name: String, id: u64) -> Result<(), CodegenError> {
        let Some(&n) = self.nodes.get(&id) else {
            // Unused declarations of imported files may be left out.
            return Ok(());
        };
        let mut name = name;
        for a in n.get_annotations()? {
            if a.get_id() == RUST_NAME_ANNOTATION {
                if let Some(text) = text_value(a)? {
                    name = text;
                }
            } else if a.get_id() == RUST_PARENT_MODULE_ANNOTATION {
                if let Some(text) = text_value(a)? {
                    parents.truncate(1);
                    parents.extend(text.split("::").map(str::to_owned));
                }
            }
        }
        let mut path = parents;
        path.push(name);
        self.paths.insert(id, path.clone());

        for nested in n.get_nested_nodes()? {
            let nested_id = nested.get_id();
            let nested_name = nested.get_name()?.to_str().map_err(utf8)?;
            let is_enum = self.nodes.get(&nested_id).is_some_and(|c| matches!(c.which(), Ok(node::Enum(_))));
            let rust = if is_enum { nested_name.to_owned() } else { capnp_module(nested_name) };
            self.scope(path.clone(), rust, nested_id)?;
        }
        if let Ok(node::Struct(s)) = n.which() {
            for f in s.get_fields()? {
                if let Ok(field::Group(g)) = f.which() {
                    let field_name = rust_field_name(f)?;
                    self.scope(path.clone(), capnp_module(&field_name), g.get_type_id())?;
                }
            }
        }
        Ok(())
    }

    fn path(&self, id: u64) -> String {
        self.paths.get(&id).map(|p| p.join("::")).unwrap_or_else(|| format!("crate::unknown_{id:x}"))
    }

    /// Walks a file's declarations into the model.
    fn collect(&mut self, file_node: node::Reader<'a>) -> Result<(), CodegenError> {
        let file_id = file_node.get_id();
        let mut stack: Vec<u64> = file_node.get_nested_nodes()?.iter().map(|n| n.get_id()).collect();
        while let Some(id) = stack.pop() {
            let Some(&n) = self.nodes.get(&id) else { continue };
            let display = n.get_display_name()?.to_str().map_err(utf8)?;
            let prefix = (n.get_display_name_prefix_length() as usize).min(display.len());
            let qualified = match display.find(':') {
                Some(colon) => display[colon + 1..].to_owned(),
                None => display[prefix..].to_owned(),
            };
            self.model.names.insert(id, qualified.clone());
            stack.extend(n.get_nested_nodes()?.iter().map(|c| c.get_id()));
            match n.which()? {
                node::Interface(i) => {
                    let interface = self.interface(file_id, n, i, qualified)?;
                    self.model.interfaces.insert(id, interface);
                }
                node::Struct(s) => {
                    if s.get_is_group() {
                        continue;
                    }
                    let shape = self.shape(s)?;
                    let unsupported = n.get_is_generic().then_some("generic structs");
                    let wrap = self.annotation_text(n.get_annotations()?, self.proxy.wrap)?;
                    let module = self.path(id);
                    self.model.structs.insert(
                        id,
                        Struct { file: file_id, name: qualified, module, wrap, shape, unsupported },
                    );
                }
                node::Enum(_) => {
                    let path = self.path(id);
                    self.model.enums.insert(id, Enum { file: file_id, path });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn interface(
        &mut self,
        file: u64,
        n: node::Reader<'a>,
        i: node::interface::Reader<'a>,
        name: String,
    ) -> Result<Interface, CodegenError> {
        let module = self.path(n.get_id());
        let unsupported = if n.get_is_generic() {
            Some("generic interfaces")
        } else if !i.get_superclasses()?.is_empty() {
            Some("interfaces that extend other interfaces")
        } else {
            None
        };
        let mut methods = Vec::new();
        for (ordinal, m) in i.get_methods()?.iter().enumerate() {
            let method_name = m.get_name()?.to_str().map_err(utf8)?.to_owned();
            let ordinal = u16::try_from(ordinal).map_err(|_| {
                CodegenError::new(ErrorKind::Unsupported, format!("{name}: too many methods"))
            })?;
            let params_id = m.get_param_struct_type();
            let results_id = m.get_result_struct_type();
            let mut unsupported = None;
            if results_id == STREAM_RESULT_ID {
                unsupported = Some("streaming methods");
            }
            let params_module = self.method_struct(params_id, &module, &method_name, "Params");
            let results_module = self.method_struct(results_id, &module, &method_name, "Results");
            let params = self.struct_shape(params_id, &mut unsupported)?;
            let results = if results_id == STREAM_RESULT_ID {
                Shape::default()
            } else {
                self.struct_shape(results_id, &mut unsupported)?
            };
            methods.push(Method {
                rust_name: self.annotation_text(m.get_annotations()?, self.proxy.name)?,
                name: method_name,
                ordinal,
                params,
                results,
                params_module,
                results_module,
                unsupported,
            });
        }
        let wrap = self.annotation_text(n.get_annotations()?, self.proxy.wrap)?;
        Ok(Interface { id: n.get_id(), file, name, module, wrap, methods, unsupported })
    }

    /// The module of a method's params or results struct: the implicit
    /// struct is `<interface>::<method>_params`, a named struct has its own.
    fn method_struct(&self, id: u64, interface: &str, method: &str, which: &str) -> String {
        match self.nodes.get(&id) {
            Some(n) if n.get_scope_id() != 0 => self.path(id),
            _ => format!("{interface}::{}", capnp_module(&format!("{method}{which}"))),
        }
    }

    fn struct_shape(&self, id: u64, unsupported: &mut Option<&'static str>) -> Result<Shape, CodegenError> {
        let Some(&n) = self.nodes.get(&id) else {
            return Ok(Shape::default());
        };
        if n.get_is_generic() {
            *unsupported = Some("generic parameter structs");
        }
        match n.which()? {
            node::Struct(s) => self.shape(s),
            _ => Ok(Shape::default()),
        }
    }

    fn shape(&self, s: node::struct_::Reader<'a>) -> Result<Shape, CodegenError> {
        let mut fields = Vec::new();
        for f in s.get_fields()? {
            let name = f.get_name()?.to_str().map_err(utf8)?.to_owned();
            let annotations = f.get_annotations()?;
            let rust_name = self.annotation_text(annotations, self.proxy.name)?;
            let skip = self.proxy.skip.is_some_and(|skip| annotations.iter().any(|a| a.get_id() == skip));
            let mut unsupported = None;
            if f.get_discriminant_value() != field::NO_DISCRIMINANT {
                unsupported = Some("union members");
            }
            let ty = match f.which()? {
                field::Slot(slot) => convert_type(slot.get_type()?)?,
                field::Group(_) => {
                    unsupported = Some("groups");
                    Type::Void
                }
            };
            fields.push(Field { name, ty, rust_name, skip, unsupported });
        }
        Ok(Shape { fields })
    }

    /// The text of the annotation with ID `id`, when present.
    fn annotation_text(
        &self,
        annotations: capnp::struct_list::Reader<'a, annotation::Owned>,
        id: Option<u64>,
    ) -> Result<Option<String>, CodegenError> {
        let Some(id) = id else { return Ok(None) };
        for a in annotations {
            if a.get_id() == id {
                return text_value(a);
            }
        }
        Ok(None)
    }
}

/// capnpc's field name: `$Rust.name` or the schema name.
fn rust_field_name(f: field::Reader<'_>) -> Result<String, CodegenError> {
    for a in f.get_annotations()? {
        if a.get_id() == RUST_NAME_ANNOTATION {
            if let Some(text) = text_value(a)? {
                return Ok(text);
            }
        }
    }
    Ok(f.get_name()?.to_str().map_err(utf8)?.to_owned())
}

fn text_value(a: annotation::Reader<'_>) -> Result<Option<String>, CodegenError> {
    match a.get_value()?.which()? {
        value::Text(t) => Ok(Some(t?.to_str().map_err(utf8)?.to_owned())),
        _ => Ok(None),
    }
}

fn convert_type(t: type_::Reader<'_>) -> Result<Type, CodegenError> {
    Ok(match t.which()? {
        type_::Void(()) => Type::Void,
        type_::Bool(()) => Type::Bool,
        type_::Int8(()) => Type::Int8,
        type_::Int16(()) => Type::Int16,
        type_::Int32(()) => Type::Int32,
        type_::Int64(()) => Type::Int64,
        type_::Uint8(()) => Type::UInt8,
        type_::Uint16(()) => Type::UInt16,
        type_::Uint32(()) => Type::UInt32,
        type_::Uint64(()) => Type::UInt64,
        type_::Float32(()) => Type::Float32,
        type_::Float64(()) => Type::Float64,
        type_::Text(()) => Type::Text,
        type_::Data(()) => Type::Data,
        type_::List(l) => Type::List(Box::new(convert_type(l.get_element_type()?)?)),
        type_::Enum(e) => Type::Enum(e.get_type_id()),
        type_::Struct(s) => {
            Type::Struct { id: s.get_type_id(), branded: !s.get_brand()?.get_scopes()?.is_empty() }
        }
        type_::Interface(i) => {
            Type::Interface { id: i.get_type_id(), branded: !i.get_brand()?.get_scopes()?.is_empty() }
        }
        type_::AnyPointer(p) => match p.which()? {
            type_::any_pointer::Parameter(_) | type_::any_pointer::ImplicitMethodParameter(_) => {
                Type::Parameter
            }
            type_::any_pointer::Unconstrained(_) => Type::AnyPointer,
        },
    })
}

/// `echo` -> `EchoParams`: capnpc's alias for a method's params type.
pub(crate) fn params_alias(method: &str) -> String {
    format!("{}Params", capitalize_first(method))
}

/// `echo` -> `EchoResults`: capnpc's alias for a method's results type.
pub(crate) fn results_alias(method: &str) -> String {
    format!("{}Results", capitalize_first(method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_directories_and_extensions() {
        assert_eq!(file_stem("mp/proxy.capnp"), "proxy");
        assert_eq!(file_stem("/abs/foo-bar.capnp"), "foo-bar");
        assert_eq!(file_stem("echo.capnp"), "echo");
    }

    #[test]
    fn aliases_follow_capnpc() {
        assert_eq!(params_alias("makeEcho"), "MakeEchoParams");
        assert_eq!(results_alias("echo"), "EchoResults");
    }
}
