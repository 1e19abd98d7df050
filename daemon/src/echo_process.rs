//! `echoipc` in the multiprocess node: as Bitcoin Core's `bitcoin-node` spawns `bitcoin-echo`,
//! each call spawns a process (`mpx-wallet -ipcfd N`, whose `Init` makes an `Echo`), sends the
//! text through it, and ends it: the connection is closed and the child reaped when the `Echo`
//! is dropped.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use config::Config;
use interfaces::{Echo, Error, Init};
use ipc::{ChildProcess, Connection, Ipc};
use node::rpc::EchoProvider;

use crate::WALLET_EXECUTABLE;

/// How long the child may take to exit once its connection closed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// The provider for a node whose build spawns processes. `ipc` is the node's event loop when it
/// has one; otherwise one is started at the first call and kept.
pub(crate) fn provider(ipc: Option<Arc<Ipc>>, config: &Config) -> EchoProvider {
    let args: Vec<OsString> = crate::wallet_process::child_args(config)
        .into_iter()
        // The echo process loads no wallet.
        .filter(|arg| !arg.to_string_lossy().starts_with("-wallet="))
        .collect();
    let shared = Arc::new(Mutex::new(ipc));
    Arc::new(move || {
        let exe: PathBuf = ipc::sibling_executable(WALLET_EXECUTABLE)
            .ok_or_else(|| Error::unavailable(format!("{WALLET_EXECUTABLE} not found next to the node")))?;
        let ipc = {
            let mut ipc = shared.lock().unwrap_or_else(PoisonError::into_inner);
            match ipc.as_ref() {
                Some(ipc) => ipc.clone(),
                None => {
                    let started = Arc::new(
                        Ipc::new().map_err(|e| Error::unavailable(format!("cannot start IPC: {e}")))?,
                    );
                    *ipc = Some(started.clone());
                    started
                }
            }
        };
        let spawned = ipc
            .spawn(&exe, &args)
            .map_err(|e| Error::unavailable(format!("cannot start {WALLET_EXECUTABLE} for echoipc: {e}")))?;
        let mut process = SpawnedEcho {
            echo: None,
            init: Some(spawned.init),
            connection: spawned.connection,
            child: Some(spawned.child),
            _ipc: ipc,
        };
        let echo = process.init.as_ref().map(|init| init.make_echo()).transpose()?;
        process.echo = echo;
        Ok(Box::new(process) as Box<dyn Echo>)
    })
}

/// An `Echo` in a child process, which ends with it.
struct SpawnedEcho {
    echo: Option<Box<dyn Echo>>,
    init: Option<Box<dyn Init>>,
    connection: Connection,
    child: Option<ChildProcess>,
    /// Kept until the child's objects are gone.
    _ipc: Arc<Ipc>,
}

impl Echo for SpawnedEcho {
    fn echo(&self, echo: String) -> interfaces::Result<String> {
        match &self.echo {
            Some(remote) => remote.echo(echo),
            None => Err(Error::unavailable("the echo process made no Echo")),
        }
    }
}

impl Drop for SpawnedEcho {
    fn drop(&mut self) {
        // The proxies first, then the connection: the child sees its parent leave and exits.
        drop(self.echo.take());
        drop(self.init.take());
        self.connection.disconnect();
        if let Some(child) = self.child.take() {
            let status = crate::child::reap_within(child, EXIT_GRACE, |pid| {
                tracing::warn!("the echo process pid {pid} did not exit; killing it");
            });
            tracing::debug!(target: "ipc", "echo process exited: {status}");
        }
    }
}
