//! `mpx-node`: the regtest node daemon with its wallets in process (Bitcoin Core's `bitcoind`).

fn main() -> std::process::ExitCode {
    daemon::node_daemon::main(daemon::node_daemon::WalletPlacement::InProcess)
}
