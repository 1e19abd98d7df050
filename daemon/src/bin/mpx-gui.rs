//! `mpx-gui` (`mpx gui`): the terminal gui with the node and its wallets in its own process
//! (Bitcoin Core's `bitcoin-qt`), or joining a running node with `-ipcconnect`.

/// Counts live heap bytes and allocations for `getmemoryinfo` (the node may run in this process).
#[global_allocator]
static ALLOCATOR: node::memory::CountingAllocator = node::memory::CountingAllocator;

fn main() -> std::process::ExitCode {
    daemon::gui_main::main(daemon::node_daemon::WalletPlacement::InProcess)
}
