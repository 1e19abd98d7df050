//! Ending a child process this process started (the node's wallet process, the gui's node).

use std::time::{Duration, Instant};

use ipc::ChildProcess;

/// Waits up to `grace` for `child` to exit (its connection is closed, so it should); if it has
/// not by then, calls `overdue` with its pid and kills it. Its exit status as text, or why
/// there is none.
pub(crate) fn reap_within(mut child: ChildProcess, grace: Duration, overdue: impl FnOnce(u32)) -> String {
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.to_string(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                overdue(child.pid());
                let _ = child.kill();
                return match child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => e.to_string(),
                };
            }
            Err(e) => return e.to_string(),
        }
    }
}
