//! The `framework-codegen` binary: the same generator from the command line.

use std::fs;
use std::process::Command;

const SCHEMA: &str = r#"@0x888b4f7f51e691f7;
using Proxy = import "/mp/proxy.capnp";
interface Echo $Proxy.wrap("interfaces::Echo") {
    destroy @0 (context :Proxy.Context) -> ();
    echo @1 (context :Proxy.Context, echo :Text) -> (result :Text);
}
"#;

fn run(trait_src: &str) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("schema")).unwrap();
    fs::create_dir_all(root.join("interfaces/src")).unwrap();
    fs::write(root.join("schema/echo.capnp"), SCHEMA).unwrap();
    fs::write(root.join("interfaces/src/lib.rs"), trait_src).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_framework-codegen"))
        .arg("--out-dir")
        .arg(root.join("out"))
        .arg("--rust-source")
        .arg(format!("interfaces={}", root.join("interfaces/src").display()))
        .arg(root.join("schema/echo.capnp"))
        .output()
        .unwrap();
    (output, dir)
}

#[test]
fn writes_the_glue_and_prints_nothing() {
    let (output, dir) =
        run("pub struct Error; pub trait Echo { fn echo(&self, echo: String) -> Result<String, Error>; }");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "no cargo: lines outside a build script");
    let glue = fs::read_to_string(dir.path().join("out/echo_proxy.rs")).unwrap();
    assert!(glue.contains("impl ::interfaces::Echo for EchoProxy"), "{glue}");
    assert!(dir.path().join("out/echo_capnp.rs").exists());
}

#[test]
fn a_mismatch_exits_with_status_2_and_the_message() {
    let (output, _dir) =
        run("pub struct Error; pub trait Echo { fn echo(&self, text: String) -> Result<String, Error>; }");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Echo.echo: parameter 'echo' has no counterpart in trait interfaces::Echo::echo"),
        "{stderr}"
    );
}

#[test]
fn missing_arguments_print_the_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_framework-codegen")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: framework-codegen"));
}
