//! Invariants of the workspace, stated as absences and checked on the
//! manifests (see ARCHITECTURE.md and STYLE.md):
//! - only `mpx-ipc` and the framework's own crates (under `framework/`)
//!   depend on the IPC stack (`framework`, `framework-codegen`, `capnp`,
//!   `capnp-rpc`, `capnpc`, `capnpc-embedded`);
//! - `mpx-interfaces` depends on nothing;
//! - only `mpx-daemon` (the executables) puts node, wallet and ipc together:
//!   the node and the wallet never depend on each other or on ipc (tests
//!   aside, which may drive a real node), so either can run in any process.

use std::path::{Path, PathBuf};

/// Packages that make a crate an IPC crate.
const IPC_STACK: [&str; 6] =
    ["framework", "framework-codegen", "capnp", "capnp-rpc", "capnpc", "capnpc-embedded"];

struct Member {
    /// Path relative to the workspace root, e.g. `framework/itest`.
    path: String,
    /// `[package] name`.
    name: String,
    /// Every dependency of every kind and target, by package name.
    dependencies: Vec<String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("ipc/ has a parent").to_owned()
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Package names in a `[dependencies]`-like table (a renamed dependency
/// counts under its `package`).
fn dependency_names(table: Option<&toml::Value>, out: &mut Vec<String>) {
    let Some(table) = table.and_then(toml::Value::as_table) else { return };
    for (key, value) in table {
        let package = value.get("package").and_then(toml::Value::as_str).unwrap_or(key);
        out.push(package.to_owned());
    }
}

fn all_dependencies(manifest: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        dependency_names(manifest.get(kind), &mut out);
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            for kind in kinds {
                dependency_names(target.get(kind), &mut out);
            }
        }
    }
    out
}

fn members() -> Vec<Member> {
    let root = workspace_root();
    let workspace = read_toml(&root.join("Cargo.toml"));
    let members = workspace
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .expect("[workspace] members");
    members
        .iter()
        .map(|m| {
            let path = m.as_str().expect("member is a string").to_owned();
            assert!(!path.contains('*'), "glob member {path}: list members explicitly");
            let manifest = read_toml(&root.join(&path).join("Cargo.toml"));
            let name = manifest
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(toml::Value::as_str)
                .unwrap_or_else(|| panic!("{path}: no [package] name"))
                .to_owned();
            Member { path, name, dependencies: all_dependencies(&manifest) }
        })
        .collect()
}

fn may_use_ipc_stack(member: &Member) -> bool {
    member.name == "mpx-ipc" || member.path == "framework" || member.path.starts_with("framework/")
}

#[test]
fn only_ipc_and_the_framework_depend_on_the_ipc_stack() {
    let members = members();
    let mut violations = Vec::new();
    for member in &members {
        if may_use_ipc_stack(member) {
            continue;
        }
        for dep in &member.dependencies {
            if IPC_STACK.contains(&dep.as_str()) {
                violations.push(format!("{} ({}) depends on {dep}", member.name, member.path));
            }
        }
    }
    assert!(violations.is_empty(), "only mpx-ipc may depend on the IPC stack:\n{}", violations.join("\n"));

    // Not vacuous: the workspace has the crates the rule is about.
    let ipc = members.iter().find(|m| m.name == "mpx-ipc").expect("mpx-ipc is a workspace member");
    assert!(ipc.dependencies.iter().any(|d| d == "framework"));
    assert!(ipc.dependencies.iter().any(|d| d == "capnp"));
    assert!(members.iter().any(|m| m.name == "mpx-interfaces"));
}

#[test]
fn interfaces_depends_on_nothing() {
    let members = members();
    let interfaces = members.iter().find(|m| m.name == "mpx-interfaces").expect("mpx-interfaces is a member");
    assert!(interfaces.dependencies.is_empty(), "mpx-interfaces depends on {:?}", interfaces.dependencies);
}

/// `[dependencies]` only (what the crate's code links; tests may use more).
fn normal_dependencies(member: &Member) -> Vec<String> {
    let manifest = read_toml(&workspace_root().join(&member.path).join("Cargo.toml"));
    let mut out = Vec::new();
    dependency_names(manifest.get("dependencies"), &mut out);
    out
}

#[test]
fn only_the_daemon_combines_node_wallet_and_ipc() {
    let members = members();
    let find =
        |name: &str| members.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} is a member"));
    for (crate_name, forbidden) in
        [("mpx-node", ["mpx-wallet", "mpx-ipc"]), ("mpx-wallet", ["mpx-node", "mpx-ipc"])]
    {
        let deps = normal_dependencies(find(crate_name));
        for dep in forbidden {
            assert!(!deps.iter().any(|d| d == dep), "{crate_name} must not depend on {dep}: {deps:?}");
        }
    }
    let daemon = normal_dependencies(find("mpx-daemon"));
    for needed in ["mpx-node", "mpx-wallet", "mpx-ipc"] {
        assert!(daemon.iter().any(|d| d == needed), "mpx-daemon assembles {needed}");
    }
    for member in &members {
        if member.name == "mpx-daemon" {
            continue;
        }
        let deps = normal_dependencies(member);
        let all_three = ["mpx-node", "mpx-wallet", "mpx-ipc"].iter().all(|n| deps.iter().any(|d| d == n));
        assert!(!all_three, "{} combines node, wallet and ipc: only mpx-daemon may", member.name);
    }
}

#[test]
fn dependency_names_sees_renames_and_every_section() {
    let manifest: toml::Table = r#"
        [dependencies]
        a = "1"
        b = { package = "framework", path = "../framework" }
        [dev-dependencies]
        capnp = "0.27"
        [build-dependencies]
        framework-codegen = { path = "x" }
        [target.'cfg(unix)'.dependencies]
        capnp-rpc = "0.27"
    "#
    .parse()
    .unwrap();
    let mut deps = all_dependencies(&manifest);
    deps.sort();
    assert_eq!(deps, ["a", "capnp", "capnp-rpc", "framework", "framework-codegen"]);
}
