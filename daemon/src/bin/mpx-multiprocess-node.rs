//! `mpx-multiprocess-node` (`mpx -m node`): the regtest node daemon with its wallets in a
//! spawned `mpx-wallet` process (Bitcoin Core's `bitcoin-node`). Same options, RPC and files as
//! `mpx-node`.

/// Counts live heap bytes and allocations for `getmemoryinfo`.
#[global_allocator]
static ALLOCATOR: node::memory::CountingAllocator = node::memory::CountingAllocator;

fn main() -> std::process::ExitCode {
    daemon::node_daemon::main(daemon::node_daemon::WalletPlacement::OwnProcess)
}
