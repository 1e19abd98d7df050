//! `mpx-cli`: the JSON-RPC client. See the `cli` library.

fn main() -> std::process::ExitCode {
    cli::rpc_client::main(std::env::args_os().skip(1).collect())
}
