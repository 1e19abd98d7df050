//! Finds the traits and structs that `$Proxy.wrap` names in a crate's
//! sources, and rewrites the types in their signatures into paths that are
//! valid in the crate that includes the generated code.
//!
//! A trait in `interfaces/src/echo.rs` may say `fn echo(&self, x: Text) ->
//! Result<String, Error>` where `Error` and `Text` come from `use` items of
//! that file. The generated `impl ::interfaces::Echo for EchoProxy` must
//! repeat the signature in another crate, so every path is resolved the way
//! rustc would (items of the module, its `use` items and globs, `crate::`,
//! `self::`, `super::`) and then written as the shortest public path
//! (`::interfaces::Error` when `Error` is re-exported at the root). Names that
//! resolve to nothing in the crate (prelude types, generic parameters) are
//! left as written.
//!
//! This is a syntactic resolver: macros, `#[path]` attributes and `cfg` are
//! not evaluated.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::error::{CodegenError, ErrorKind};

/// Module path inside a crate: `[]` is the root, `["a", "b"]` is `a::b`.
pub(crate) type ModPath = Vec<String>;

/// One crate's parsed sources.
#[derive(Debug)]
pub(crate) struct RustCrate {
    /// The name the crate is used under (`interfaces`), or `crate` for the
    /// crate that includes the generated code.
    pub(crate) name: String,
    /// The directory that was scanned.
    pub(crate) dir: PathBuf,
    /// Every `.rs` file read.
    pub(crate) files: Vec<PathBuf>,
    modules: BTreeMap<ModPath, Module>,
    /// Type aliases: their emitted path (as a token string) and definition.
    aliases: HashMap<String, Alias>,
}

/// A type alias: `type Name<T, E = Default> = Target;` with resolved types.
#[derive(Debug, Clone)]
struct Alias {
    /// Type parameters and their defaults.
    params: Vec<(String, Option<syn::Type>)>,
    target: syn::Type,
}

#[derive(Debug, Default)]
struct Module {
    items: BTreeMap<String, Item>,
    /// `use` items: local name -> path as written.
    uses: BTreeMap<String, Use>,
    /// Glob imports: paths as written.
    globs: Vec<Use>,
}

#[derive(Debug)]
struct Item {
    public: bool,
    kind: ItemKind,
}

#[derive(Debug)]
enum ItemKind {
    Trait(Box<syn::ItemTrait>),
    Struct(Box<syn::ItemStruct>),
    Alias(Box<syn::ItemType>),
    Module,
    Other,
}

#[derive(Debug, Clone)]
struct Use {
    /// The path as written (`crate::a::B`, `super::B`, `std::sync::Arc`).
    path: Vec<String>,
    /// Whether the path had a leading `::`.
    global: bool,
    public: bool,
}

/// A trait found in a crate.
#[derive(Debug, Clone)]
pub(crate) struct FoundTrait {
    /// The module that defines it: its signatures' types resolve there.
    pub(crate) module: ModPath,
    pub(crate) item: syn::ItemTrait,
}

/// A struct found in a crate.
#[derive(Debug, Clone)]
pub(crate) struct FoundStruct {
    /// The module that defines it.
    pub(crate) module: ModPath,
    pub(crate) item: syn::ItemStruct,
}

impl RustCrate {
    /// Reads and parses every `.rs` file under `dir`. `lib.rs` and `main.rs`
    /// are the root, `a.rs` and `a/mod.rs` are module `a`, `a/b.rs` is `a::b`.
    pub(crate) fn parse_dir(name: &str, dir: &Path) -> Result<Self, CodegenError> {
        let mut files = Vec::new();
        collect_rs_files(dir, &mut files).map_err(|e| {
            CodegenError::with_source(
                ErrorKind::Io,
                format!("reading the sources of crate {name} in {}", dir.display()),
                e,
            )
        })?;
        files.sort();
        let mut krate = RustCrate {
            name: name.to_owned(),
            dir: dir.to_owned(),
            files: Vec::new(),
            modules: BTreeMap::new(),
            aliases: HashMap::new(),
        };
        krate.modules.insert(Vec::new(), Module::default());
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                CodegenError::with_source(ErrorKind::Io, format!("reading {}", file.display()), e)
            })?;
            let module = module_of(dir, &file);
            krate.add_source(&module, &text).map_err(|e| {
                CodegenError::new(ErrorKind::RustSource, format!("{}: {}", file.display(), e.message()))
            })?;
            krate.files.push(file);
        }
        krate.index_aliases();
        Ok(krate)
    }

    /// Parses one source text as module `module` (used by `parse_dir` and
    /// by tests).
    pub(crate) fn add_source(&mut self, module: &[String], text: &str) -> Result<(), CodegenError> {
        let file = syn::parse_file(text).map_err(|e| {
            let at = e.span().start();
            CodegenError::new(ErrorKind::RustSource, format!("line {}:{}: {e}", at.line, at.column + 1))
        })?;
        self.add_items(module.to_vec(), file.items);
        Ok(())
    }

    fn add_items(&mut self, module: ModPath, items: Vec<syn::Item>) {
        self.modules.entry(module.clone()).or_default();
        for item in items {
            let (name, public, kind) = match item {
                syn::Item::Trait(t) => (t.ident.to_string(), is_pub(&t.vis), ItemKind::Trait(Box::new(t))),
                syn::Item::Struct(s) => (s.ident.to_string(), is_pub(&s.vis), ItemKind::Struct(Box::new(s))),
                syn::Item::Type(t) => (t.ident.to_string(), is_pub(&t.vis), ItemKind::Alias(Box::new(t))),
                syn::Item::Enum(e) => (e.ident.to_string(), is_pub(&e.vis), ItemKind::Other),
                syn::Item::Union(u) => (u.ident.to_string(), is_pub(&u.vis), ItemKind::Other),
                syn::Item::Const(c) => (c.ident.to_string(), is_pub(&c.vis), ItemKind::Other),
                syn::Item::Static(s) => (s.ident.to_string(), is_pub(&s.vis), ItemKind::Other),
                syn::Item::Fn(f) => (f.sig.ident.to_string(), is_pub(&f.vis), ItemKind::Other),
                syn::Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let mut child = module.clone();
                    child.push(name.clone());
                    if let Some((_, inner)) = m.content {
                        self.add_items(child, inner);
                    }
                    (name, is_pub(&m.vis), ItemKind::Module)
                }
                syn::Item::Use(u) => {
                    let public = is_pub(&u.vis);
                    let global = u.leading_colon.is_some();
                    let mut out = Vec::new();
                    flatten_use(&u.tree, Vec::new(), &mut out);
                    let entry = self.modules.entry(module.clone()).or_default();
                    for (name, path) in out {
                        let u = Use { path, global, public };
                        match name {
                            Some(name) => {
                                entry.uses.insert(name, u);
                            }
                            None => entry.globs.push(u),
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let entry = self.modules.entry(module.clone()).or_default();
            // A `mod a;` declaration and the file that fills it: keep the
            // declaration's visibility.
            entry.items.entry(name).or_insert(Item { public, kind });
        }
    }

    /// Records every type alias under its emitted path, so that
    /// [`RustCrate::expand_alias`] can see through it.
    fn index_aliases(&mut self) {
        let mut found = Vec::new();
        for (module, m) in &self.modules {
            for (name, item) in &m.items {
                let ItemKind::Alias(alias) = &item.kind else { continue };
                if alias.generics.params.iter().any(|p| !matches!(p, syn::GenericParam::Type(_))) {
                    continue;
                }
                let mut def = vec!["crate".to_owned()];
                def.extend(module.iter().cloned());
                def.push(name.clone());
                let key = self.emit_path(&self.public_path(&def)).to_token_stream().to_string();
                let mut target = (*alias.ty).clone();
                self.resolve_type(module, &mut target);
                let params = alias
                    .generics
                    .type_params()
                    .map(|p| {
                        let default = p.default.clone().map(|mut d| {
                            self.resolve_type(module, &mut d);
                            d
                        });
                        (p.ident.to_string(), default)
                    })
                    .collect();
                found.push((key, Alias { params, target }));
            }
        }
        self.aliases.extend(found);
    }

    /// The target of `ty` when it is a (resolved) path to a type alias of
    /// this crate, with the alias's type parameters replaced by the
    /// arguments `ty` gives (or their defaults).
    pub(crate) fn expand_alias(&self, ty: &syn::Type) -> Option<syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        if p.qself.is_some() {
            return None;
        }
        let mut bare = p.path.clone();
        let last = bare.segments.last_mut()?;
        let args: Vec<syn::Type> = match std::mem::replace(&mut last.arguments, syn::PathArguments::None) {
            syn::PathArguments::AngleBracketed(a) => a
                .args
                .into_iter()
                .filter_map(|a| match a {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let alias = self.aliases.get(&bare.to_token_stream().to_string())?;
        let mut substitutions = HashMap::new();
        for (i, (name, default)) in alias.params.iter().enumerate() {
            let value = args.get(i).cloned().or_else(|| default.clone())?;
            substitutions.insert(name.clone(), value);
        }
        let mut target = alias.target.clone();
        Substitute { substitutions: &substitutions }.visit_type_mut(&mut target);
        Some(target)
    }

    /// Finds the trait at `path` (segments after the crate name).
    pub(crate) fn find_trait(&self, path: &[String]) -> Option<FoundTrait> {
        let (module, item) = self.find_item(path)?;
        match &item.kind {
            ItemKind::Trait(t) => Some(FoundTrait { module, item: (**t).clone() }),
            _ => None,
        }
    }

    /// Finds the struct at `path` (segments after the crate name).
    pub(crate) fn find_struct(&self, path: &[String]) -> Option<FoundStruct> {
        let (module, item) = self.find_item(path)?;
        match &item.kind {
            ItemKind::Struct(s) => Some(FoundStruct { module, item: (**s).clone() }),
            _ => None,
        }
    }

    fn find_item(&self, path: &[String]) -> Option<(ModPath, &Item)> {
        let mut abs = vec!["crate".to_owned()];
        abs.extend(path.iter().cloned());
        let def = self.canonical(&abs, 0);
        let (name, module) = def.split_last()?;
        let module: ModPath = module.get(1..)?.to_vec();
        let item = self.modules.get(&module)?.items.get(name)?;
        Some((module, item))
    }

    /// Rewrites every path in `ty` (written in `module`) into one valid in
    /// another crate.
    pub(crate) fn resolve_type(&self, module: &[String], ty: &mut syn::Type) {
        Resolver { krate: self, module }.visit_type_mut(ty);
    }

    /// Rewrites every path in a signature (written in `module`).
    pub(crate) fn resolve_signature(&self, module: &[String], sig: &mut syn::Signature) {
        Resolver { krate: self, module }.visit_signature_mut(sig);
    }

    /// The absolute path (`crate::...` or an external crate's path) that the
    /// path `segs`, written in `module`, denotes; `None` when the first
    /// segment names nothing in this crate.
    fn absolute(&self, module: &[String], segs: &[String], depth: u32) -> Option<Vec<String>> {
        if depth > 16 {
            return None;
        }
        let (first, rest) = segs.split_first()?;
        let mut out: Vec<String> = match first.as_str() {
            "crate" => vec!["crate".to_owned()],
            "self" => std::iter::once("crate".to_owned()).chain(module.iter().cloned()).collect(),
            "super" => {
                let mut up = module.to_vec();
                let mut rest = rest;
                up.pop();
                while rest.first().is_some_and(|s| s == "super") {
                    up.pop();
                    rest = &rest[1..];
                }
                let mut out: Vec<String> = std::iter::once("crate".to_owned()).chain(up).collect();
                out.extend(rest.iter().cloned());
                return Some(out);
            }
            name => self.lookup_name(module, name, depth)?,
        };
        out.extend(rest.iter().cloned());
        Some(out)
    }

    /// What a single name means in `module`: an item of it, a `use`, or a
    /// name a glob import brings in.
    fn lookup_name(&self, module: &[String], name: &str, depth: u32) -> Option<Vec<String>> {
        let m = self.modules.get(module)?;
        if m.items.contains_key(name) {
            let mut out = vec!["crate".to_owned()];
            out.extend(module.iter().cloned());
            out.push(name.to_owned());
            return Some(out);
        }
        if let Some(u) = m.uses.get(name) {
            return Some(self.use_target(module, u, depth));
        }
        for glob in &m.globs {
            let target = self.use_target(module, glob, depth);
            if target.first().map(String::as_str) != Some("crate") {
                continue;
            }
            let canon = self.canonical(&target, depth + 1);
            let target_mod: ModPath = canon[1..].to_vec();
            if target_mod != module {
                if let Some(found) = self.lookup_name(&target_mod, name, depth + 1) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// The absolute path a `use` in `module` refers to. In edition 2018 a
    /// path starting with a name is relative to the module when the module
    /// has an item of that name, else it names an external crate.
    fn use_target(&self, module: &[String], u: &Use, depth: u32) -> Vec<String> {
        if u.global {
            return u.path.clone();
        }
        match u.path.first().map(String::as_str) {
            Some("crate" | "self" | "super") => {
                self.absolute(module, &u.path, depth + 1).unwrap_or_else(|| u.path.clone())
            }
            Some(first) => {
                let local = self.modules.get(module).is_some_and(|m| m.items.contains_key(first));
                if local {
                    self.absolute(module, &u.path, depth + 1).unwrap_or_else(|| u.path.clone())
                } else {
                    u.path.clone()
                }
            }
            None => u.path.clone(),
        }
    }

    /// Follows re-exports until `abs` names an item where it is defined:
    /// `crate::<modules>::<item>` followed by whatever came after it
    /// (associated items, enum variants). External paths are returned as
    /// they are.
    fn canonical(&self, abs: &[String], depth: u32) -> Vec<String> {
        if depth > 16 || abs.first().map(String::as_str) != Some("crate") {
            return abs.to_vec();
        }
        let mut module: ModPath = Vec::new();
        for (i, seg) in abs.iter().enumerate().skip(1) {
            let Some(m) = self.modules.get(&module) else { return abs.to_vec() };
            if let Some(item) = m.items.get(seg) {
                if matches!(item.kind, ItemKind::Module) && i + 1 < abs.len() {
                    module.push(seg.clone());
                    continue;
                }
                let mut out = vec!["crate".to_owned()];
                out.extend(module.iter().cloned());
                out.extend(abs[i..].iter().cloned());
                return out;
            }
            if let Some(u) = m.uses.get(seg) {
                let mut target = self.use_target(&module, u, depth);
                target.extend(abs[i + 1..].iter().cloned());
                return self.canonical(&target, depth + 1);
            }
            for glob in &m.globs {
                let target = self.use_target(&module, glob, depth);
                if target.first().map(String::as_str) == Some("crate") {
                    let mut joined = target.clone();
                    joined.extend(abs[i..].iter().cloned());
                    let canon = self.canonical(&joined, depth + 1);
                    if canon != joined || self.defines(&canon) {
                        return canon;
                    }
                }
            }
            return abs.to_vec();
        }
        abs.to_vec()
    }

    /// Whether `abs` (canonical) names an item defined in this crate.
    fn defines(&self, abs: &[String]) -> bool {
        let Some((name, module)) = abs.split_last() else { return false };
        !module.is_empty() && self.modules.get(&module[1..]).is_some_and(|m| m.items.contains_key(name))
    }

    /// The path to use from outside the crate for the canonical path `def`:
    /// `def` itself when every module on the way is public, else a public
    /// re-export at the crate root when there is one.
    fn public_path(&self, def: &[String]) -> Vec<String> {
        if def.first().map(String::as_str) != Some("crate") {
            return def.to_vec();
        }
        // Find where the item is: the longest module prefix that exists.
        let mut module: ModPath = Vec::new();
        let mut item_index = 1;
        while item_index < def.len() {
            let mut next = module.clone();
            next.push(def[item_index].clone());
            if self.modules.contains_key(&next) && item_index + 1 < def.len() {
                module = next;
                item_index += 1;
            } else {
                break;
            }
        }
        let all_public = (0..module.len()).all(|n| {
            self.modules
                .get(&module[..n])
                .and_then(|m| m.items.get(&module[n]))
                .is_some_and(|item| item.public)
        });
        if all_public || item_index >= def.len() {
            return def.to_vec();
        }
        let item_def = &def[..=item_index];
        let rest = &def[item_index + 1..];
        if let Some(root) = self.modules.get(&Vec::new()) {
            for (name, u) in &root.uses {
                if u.public && self.canonical(&self.use_target(&[], u, 0), 0) == item_def {
                    let mut out = vec!["crate".to_owned(), name.clone()];
                    out.extend(rest.iter().cloned());
                    return out;
                }
            }
            for glob in root.globs.iter().filter(|g| g.public) {
                let target = self.canonical(&self.use_target(&[], glob, 0), 0);
                if target.len() + 1 == item_def.len() && item_def.starts_with(&target) {
                    let mut out = vec!["crate".to_owned(), def[item_index].clone()];
                    out.extend(rest.iter().cloned());
                    return out;
                }
            }
        }
        def.to_vec()
    }

    /// `crate::a::B` as a path usable in the including crate.
    fn emit_path(&self, abs: &[String]) -> syn::Path {
        let mut segments: Vec<String> = abs.to_vec();
        let leading = if segments.first().map(String::as_str) == Some("crate") {
            if self.name == "crate" {
                false
            } else {
                segments[0] = self.name.clone();
                true
            }
        } else {
            true
        };
        let text = format!("{}{}", if leading { "::" } else { "" }, segments.join("::"));
        syn::parse_str(&text).unwrap_or_else(|_| syn::parse_quote!(crate))
    }
}

/// Replaces an alias's type parameters by their arguments.
struct Substitute<'s> {
    substitutions: &'s HashMap<String, syn::Type>,
}

impl VisitMut for Substitute<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(p) = ty {
            if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 {
                let seg = &p.path.segments[0];
                if seg.arguments.is_none() {
                    if let Some(value) = self.substitutions.get(&seg.ident.to_string()) {
                        *ty = value.clone();
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

struct Resolver<'k> {
    krate: &'k RustCrate,
    module: &'k [String],
}

impl VisitMut for Resolver<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        syn::visit_mut::visit_path_mut(self, path);
        if path.leading_colon.is_some() || path.segments.is_empty() {
            return;
        }
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(abs) = self.krate.absolute(self.module, &segs, 0) else {
            // `std::sync::Arc` names the standard library wherever it is
            // written, unless a module of the including crate is called `std`.
            if segs.len() > 1 && matches!(segs[0].as_str(), "std" | "core" | "alloc") {
                path.leading_colon = Some(Default::default());
            }
            return;
        };
        let canon = self.krate.canonical(&abs, 0);
        let public = self.krate.public_path(&canon);
        let mut new_path = self.krate.emit_path(&public);
        // Keep the generic arguments the last segment was written with.
        if let (Some(new_last), Some(old_last)) = (new_path.segments.last_mut(), path.segments.last()) {
            new_last.arguments = old_last.arguments.clone();
        }
        *path = new_path;
    }

    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        if let Some(qself) = &mut ty.qself {
            self.visit_type_mut(&mut qself.ty);
            return;
        }
        self.visit_path_mut(&mut ty.path);
    }
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// Flattens a use tree into `(local name, path)`; a glob has no name.
fn flatten_use(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<(Option<String>, Vec<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut prefix = prefix;
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last().cloned() {
                    out.push((Some(last), prefix));
                }
            } else {
                let mut path = prefix;
                path.push(name.clone());
                out.push((Some(name), path));
            }
        }
        syn::UseTree::Rename(r) => {
            let name = r.ident.to_string();
            let mut path = prefix;
            if name != "self" {
                path.push(name);
            }
            let alias = r.rename.to_string();
            if alias != "_" {
                out.push((Some(alias), path));
            }
        }
        syn::UseTree::Glob(_) => out.push((None, prefix)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix.clone(), out);
            }
        }
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module a file defines, from its path under the crate's source dir.
fn module_of(dir: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    let mut parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let Some(last) = parts.pop() else { return Vec::new() };
    let stem = last.strip_suffix(".rs").unwrap_or(&last).to_owned();
    let at_root = parts.is_empty();
    if !(stem == "mod" || (at_root && (stem == "lib" || stem == "main"))) {
        parts.push(stem);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(sources: &[(&[&str], &str)]) -> RustCrate {
        let mut k = RustCrate {
            name: "interfaces".into(),
            dir: PathBuf::new(),
            files: Vec::new(),
            modules: BTreeMap::new(),
            aliases: HashMap::new(),
        };
        k.modules.insert(Vec::new(), Module::default());
        for (module, text) in sources {
            let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
            k.add_source(&module, text).unwrap();
        }
        k.index_aliases();
        k
    }

    fn resolved(k: &RustCrate, module: &[&str], ty: &str) -> String {
        let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
        let mut ty: syn::Type = syn::parse_str(ty).unwrap();
        k.resolve_type(&module, &mut ty);
        ty.to_token_stream().to_string().replace(' ', "")
    }

    #[test]
    fn module_paths_follow_file_layout() {
        let dir = Path::new("/src");
        assert_eq!(module_of(dir, Path::new("/src/lib.rs")), Vec::<String>::new());
        assert_eq!(module_of(dir, Path::new("/src/echo.rs")), vec!["echo"]);
        assert_eq!(module_of(dir, Path::new("/src/a/mod.rs")), vec!["a"]);
        assert_eq!(module_of(dir, Path::new("/src/a/b.rs")), vec!["a", "b"]);
    }

    #[test]
    fn paths_resolve_through_uses_and_reexports() {
        let k = krate(&[
            (&[], "mod echo; pub mod chain; pub use echo::Echo; pub use error::*; mod error;"),
            (&["error"], "pub struct Error; pub type Result<T> = std::result::Result<T, Error>;"),
            (&["echo"], "use crate::Error; use std::sync::Arc; pub trait Echo {} pub struct Local;"),
            (&["chain"], "use super::echo::Echo; pub struct Block; pub type Cb = Box<dyn Fn(Block)>;"),
        ]);
        assert_eq!(resolved(&k, &["echo"], "Error"), "::interfaces::Error");
        assert_eq!(resolved(&k, &["echo"], "Arc<Error>"), "::std::sync::Arc<::interfaces::Error>");
        assert_eq!(resolved(&k, &["echo"], "Result<String>"), "Result<String>");
        assert_eq!(resolved(&k, &["error"], "Result<u8>"), "::interfaces::Result<u8>");
        assert_eq!(resolved(&k, &["chain"], "Box<dyn Echo>"), "Box<dyn::interfaces::Echo>");
        assert_eq!(resolved(&k, &["chain"], "Vec<Block>"), "Vec<::interfaces::chain::Block>");
        assert_eq!(resolved(&k, &["chain"], "crate::Error"), "::interfaces::Error");
        // Private module, no re-export: the private path is all there is.
        assert_eq!(resolved(&k, &["echo"], "Local"), "::interfaces::echo::Local");
        assert!(k.find_trait(&["Echo".into()]).is_some());
        assert!(k.find_trait(&["echo".into(), "Echo".into()]).is_some());
        assert!(k.find_trait(&["Missing".into()]).is_none());
        let cb: syn::Type = syn::parse_str("::interfaces::chain::Cb").unwrap();
        let target = k.expand_alias(&cb).unwrap().to_token_stream().to_string().replace(' ', "");
        assert_eq!(target, "Box<dynFn(::interfaces::chain::Block)>");
        let result: syn::Type = syn::parse_str("::interfaces::Result<u8>").unwrap();
        let target = k.expand_alias(&result).unwrap().to_token_stream().to_string().replace(' ', "");
        assert_eq!(target, "::std::result::Result<u8,::interfaces::Error>");
    }
}
