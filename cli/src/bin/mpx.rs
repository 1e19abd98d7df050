//! `mpx`: runs `mpx-node`, `mpx-cli`, ... as its subcommands. See the `cli` library.

fn main() -> std::process::ExitCode {
    cli::wrapper::main(std::env::args_os().skip(1).collect())
}
