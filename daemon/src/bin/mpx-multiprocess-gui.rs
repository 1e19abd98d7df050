//! `mpx-multiprocess-gui` (`mpx -m gui`): the terminal gui spawning `mpx-multiprocess-node`
//! (which spawns its wallet process) over a socketpair (Bitcoin Core's `bitcoin-gui`), or
//! joining a running node with `-ipcconnect`.

fn main() -> std::process::ExitCode {
    daemon::gui_main::main(daemon::node_daemon::WalletPlacement::OwnProcess)
}
