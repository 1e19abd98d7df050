//! Serves a printer: prints whatever it is given to stdout.

use std::io::Write;
use std::process::ExitCode;

use framework_example::{Calculator, Error, Init, Printer};

struct StdoutPrinter;

impl Printer for StdoutPrinter {
    fn print(&self, text: String) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::from)
    }
}

struct PrinterInit;

impl Init for PrinterInit {
    fn make_calculator(&self, _print: Box<dyn Printer>) -> Result<Box<dyn Calculator>, Error> {
        Err(Error("mpprinter makes printers, not calculators".into()))
    }

    fn make_printer(&self) -> Result<Box<dyn Printer>, Error> {
        Ok(Box::new(StdoutPrinter))
    }
}

fn main() -> ExitCode {
    framework_example::serve_child(Box::new(PrinterInit))
}
