//! Serves a calculator that prints its answers through the printer it is
//! given (a remote object: the call crosses back through the driver).

use std::process::ExitCode;

use framework_example::{equation, Calculator, Error, Init, Printer};

struct PrintingCalculator {
    printer: Box<dyn Printer>,
}

impl Calculator for PrintingCalculator {
    fn solve_equation(&self, eqn: String) -> Result<(), Error> {
        let answer = match equation::solve(&eqn) {
            Ok(value) => format!("{eqn} = {value}\n"),
            Err(e) => format!("cannot solve '{eqn}': {e}\n"),
        };
        self.printer.print(answer)
    }
}

struct CalculatorInit;

impl Init for CalculatorInit {
    fn make_calculator(&self, print: Box<dyn Printer>) -> Result<Box<dyn Calculator>, Error> {
        Ok(Box::new(PrintingCalculator { printer: print }))
    }

    fn make_printer(&self) -> Result<Box<dyn Printer>, Error> {
        Err(Error("mpcalculator makes calculators, not printers".into()))
    }
}

fn main() -> ExitCode {
    framework_example::serve_child(Box::new(CalculatorInit))
}
