//! `mpx-gui` (`mpx gui`): the terminal gui with the node and its wallets in its own process
//! (Bitcoin Core's `bitcoin-qt`), or joining a running node with `-ipcconnect`.

fn main() -> std::process::ExitCode {
    daemon::gui_main::main(daemon::node_daemon::WalletPlacement::InProcess)
}
