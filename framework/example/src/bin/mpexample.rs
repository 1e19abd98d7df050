//! The driver: spawns `mpcalculator` and `mpprinter` beside itself, gives
//! the printer to the calculator, then solves each stdin line until `exit`.

use std::ffi::OsString;
use std::io::BufRead;
use std::process::ExitCode;

use framework::EventLoop;

fn run() -> Result<(), String> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    framework_example::init_logging(&args);
    let event_loop = EventLoop::new().map_err(|e| e.to_string())?;
    let (printer_init, _printer_conn, printer_child) =
        framework_example::spawn_child(&event_loop, "mpprinter").map_err(|e| format!("mpprinter: {e}"))?;
    let (calc_init, _calc_conn, calc_child) = framework_example::spawn_child(&event_loop, "mpcalculator")
        .map_err(|e| format!("mpcalculator: {e}"))?;
    let printer = printer_init.make_printer().map_err(|e| e.to_string())?;
    let calculator = calc_init.make_calculator(printer).map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        let eqn = line.trim();
        if eqn == "exit" {
            break;
        }
        if eqn.is_empty() {
            continue;
        }
        calculator.solve_equation(eqn.to_string()).map_err(|e| e.to_string())?;
    }
    // Release the remote objects, then the connections: the children exit.
    drop(calculator);
    drop((calc_init, printer_init));
    drop(event_loop);
    for child in [calc_child, printer_child] {
        let name = child.exe().display().to_string();
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("{name} exited with {status}"));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
