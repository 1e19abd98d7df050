//! Solves the example's equations: `+ - * /`, parentheses, unary minus,
//! decimal numbers. A small recursive-descent parser over bytes.

/// Evaluates `text`, e.g. `"1+2*(3-1)"` -> `5`.
pub fn solve(text: &str) -> Result<f64, String> {
    let mut parser = Parser { bytes: text.as_bytes(), pos: 0 };
    let value = parser.expression()?;
    parser.skip_spaces();
    if parser.pos != parser.bytes.len() {
        return Err(format!(
            "unexpected '{}' at position {}",
            parser.bytes[parser.pos] as char,
            parser.pos + 1
        ));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.bytes.get(self.pos).copied()
    }

    fn expression(&mut self) -> Result<f64, String> {
        let mut value = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            value = if op == b'+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<f64, String> {
        let mut value = self.factor()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.pos += 1;
            let rhs = self.factor()?;
            if op == b'/' && rhs == 0.0 {
                return Err("division by zero".into());
            }
            value = if op == b'*' { value * rhs } else { value / rhs };
        }
        Ok(value)
    }

    fn factor(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                Ok(-self.factor()?)
            }
            Some(b'(') => {
                self.pos += 1;
                let value = self.expression()?;
                if self.peek() != Some(b')') {
                    return Err("missing ')'".into());
                }
                self.pos += 1;
                Ok(value)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.pos;
                while self.bytes.get(self.pos).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                    self.pos += 1;
                }
                let digits = std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|e| e.to_string())?;
                digits.parse().map_err(|_| format!("bad number '{digits}'"))
            }
            Some(c) => Err(format!("unexpected '{}' at position {}", c as char, self.pos + 1)),
            None => Err("unexpected end of equation".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn check() {
        let cases = [
            ("1+1", Ok(2.0)),
            ("2*(3+4) - 5/5", Ok(13.0)),
            ("-3*-3", Ok(9.0)),
            ("1.5+1.5", Ok(3.0)),
            ("1/0", Err("division by zero")),
            ("1+", Err("unexpected end of equation")),
            ("(1", Err("missing ')'")),
            ("1x", Err("unexpected 'x' at position 2")),
        ];
        for (input, expected) in cases {
            assert_eq!(solve(input), expected.map_err(String::from), "{input}");
        }
    }
}
