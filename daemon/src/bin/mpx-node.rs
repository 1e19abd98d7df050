//! `mpx-node`: the regtest node daemon with its wallets in process (Bitcoin Core's `bitcoind`).

/// Counts live heap bytes and allocations for `getmemoryinfo`.
#[global_allocator]
static ALLOCATOR: node::memory::CountingAllocator = node::memory::CountingAllocator;

fn main() -> std::process::ExitCode {
    daemon::node_daemon::main(daemon::node_daemon::WalletPlacement::InProcess)
}
