//! The example end to end, as a user runs it: `mpexample` spawns
//! `mpcalculator` and `mpprinter`, solves stdin equations and prints each
//! answer through the printer process; `-debug=ipc` traces all three
//! processes; `mpprinter` started by hand explains how it must be started.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MPEXAMPLE: &str = env!("CARGO_BIN_EXE_mpexample");
const MPPRINTER: &str = env!("CARGO_BIN_EXE_mpprinter");

/// How a finished process ended and what it wrote.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `exe args` with `stdin` as its input and waits at most `limit`;
/// on timeout kills it and fails the test.
fn run(exe: &str, args: &[&str], stdin: &str, limit: Duration) -> Finished {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
    // Read both pipes on their own threads so a full pipe cannot stall the
    // child; the children of `exe` share these pipes, so the readers end
    // when all of them have exited.
    let reader = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        rx
    };
    let stdout = reader(Box::new(child.stdout.take().unwrap()));
    let stderr = reader(Box::new(child.stderr.take().unwrap()));
    {
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        // Dropping it closes the child's stdin.
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{exe} {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let rest = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(5);
    let stdout = stdout.recv_timeout(rest).unwrap_or_else(|_| panic!("{exe}: stdout still open after exit"));
    let stderr = stderr.recv_timeout(rest).unwrap_or_else(|_| panic!("{exe}: stderr still open after exit"));
    Finished { status, stdout, stderr }
}

const EQUATIONS: &str = "1+1\n2*(3+4)\n1/0\nexit\n";
const ANSWERS: &str = "1+1 = 2\n2*(3+4) = 14\ncannot solve '1/0': division by zero\n";

#[test]
fn mpexample_solves_stdin_equations_through_the_printer_process() {
    let out = run(MPEXAMPLE, &[], EQUATIONS, Duration::from_secs(60));
    assert!(out.status.success(), "{:?}\nstderr:\n{}", out.status, out.stderr);
    assert_eq!(out.stdout, ANSWERS, "stderr:\n{}", out.stderr);
}

#[test]
fn mpexample_debug_ipc_traces_all_three_processes() {
    let out = run(MPEXAMPLE, &["-debug=ipc"], EQUATIONS, Duration::from_secs(60));
    assert!(out.status.success(), "{:?}\nstderr:\n{}", out.status, out.stderr);
    // The trace goes to stderr only; stdout has the answers alone.
    assert_eq!(out.stdout, ANSWERS, "stderr:\n{}", out.stderr);
    for expected in [
        "IPC client send CalculatorInterface.solveEquation$Params",
        "IPC server recv request",
        "IPC server post request",
        "PrinterInterface.print$Params",
        "{mpexample-",
        "{mpcalculator-",
        "{mpprinter-",
    ] {
        assert!(out.stderr.contains(expected), "no {expected:?} in stderr:\n{}", out.stderr);
    }
    // Each process traces its own side: the driver sends solveEquation,
    // the calculator receives it and sends print, the printer receives print.
    let has_line = |tag: &str, what: &str| out.stderr.lines().any(|l| l.contains(tag) && l.contains(what));
    assert!(has_line("{mpexample-", "IPC client send CalculatorInterface.solveEquation$Params"));
    assert!(has_line("{mpcalculator-", "IPC server recv request"));
    assert!(has_line("{mpcalculator-", "IPC client send PrinterInterface.print$Params"));
    assert!(has_line("{mpprinter-", "IPC server recv request"));
    assert!(has_line("{mpprinter-", "PrinterInterface.print$Params"));
}

#[test]
fn mpprinter_started_by_hand_explains_its_usage() {
    for args in [&["abc"][..], &[][..]] {
        let out = run(MPPRINTER, args, "", Duration::from_secs(30));
        assert!(!out.status.success(), "mpprinter {args:?}: {:?}", out.status);
        assert!(out.stdout.is_empty(), "mpprinter {args:?} stdout: {}", out.stdout);
        assert!(
            out.stderr.contains("usage:") && out.stderr.contains("-ipcfd <fd>"),
            "mpprinter {args:?} stderr: {}",
            out.stderr
        );
    }
    let out = run(MPPRINTER, &["-ipcfd", "seven"], "", Duration::from_secs(30));
    assert!(!out.status.success(), "{:?}", out.status);
    assert!(out.stderr.contains("-ipcfd seven: not a file descriptor number"), "stderr: {}", out.stderr);
}
