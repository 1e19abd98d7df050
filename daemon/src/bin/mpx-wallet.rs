//! `mpx-wallet`: the wallet process, spawned by `mpx-multiprocess-node` or joining a node with
//! `-ipcconnect`.

fn main() -> std::process::ExitCode {
    daemon::wallet_daemon::main()
}
