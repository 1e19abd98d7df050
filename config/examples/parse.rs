//! Parses a command line the way the executables do and prints the result.
//!
//! ```text
//! cargo run -p mpx-config --example parse -- mpx-node -regtest -debug=rpc
//! cargo run -p mpx-config --example parse -- mpx-cli -help
//! cargo run -p mpx-config --example parse -- mpx-node -rpcport=abc   # Error: ..., exit 1
//! ```

use std::process::ExitCode;

use config::{Action, Program};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let name = args.next().and_then(|name| name.into_string().ok()).unwrap_or_default();
    let Some(program) = Program::from_executable(&name) else {
        eprintln!("usage: parse <mpx-node|mpx-cli> [options]");
        return ExitCode::from(2);
    };
    match config::parse(program, args) {
        Ok(Action::Run(config)) => println!("{config:#?}"),
        Ok(Action::Help(text)) => print!("{text}"),
        Ok(Action::Version) => println!("{} version {}", program.executable(), env!("CARGO_PKG_VERSION")),
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
