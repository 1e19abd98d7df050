//! A QR code drawn with half blocks: each text row holds two module rows,
//! dark modules black on white whatever the terminal's colours, with a
//! quiet zone of one module.

use qrcode::{Color as Module, EcLevel, QrCode};
use ratatui::style::{Color, Style};
use ratatui::text::Line;

/// Modules of quiet zone around the code.
const QUIET: usize = 1;

/// The lines of the QR code for `address`, encoded upper-case (bech32 allows
/// it, and the QR alphanumeric mode makes the code smaller), at the lowest
/// error-correction level (a screen does not smudge).
pub(crate) fn qr_lines(address: &str) -> Result<Vec<Line<'static>>, String> {
    let code = QrCode::with_error_correction_level(address.to_uppercase(), EcLevel::L)
        .map_err(|e| format!("no QR code: {e}"))?;
    let width = code.width();
    let size = width + 2 * QUIET;
    let dark = |x: usize, y: usize| -> bool {
        let inside = (QUIET..QUIET + width).contains(&x) && (QUIET..QUIET + width).contains(&y);
        inside && code[(x - QUIET, y - QUIET)] == Module::Dark
    };
    let style = Style::new().fg(Color::Black).bg(Color::White);
    let mut lines = Vec::with_capacity(size.div_ceil(2));
    for y in (0..size).step_by(2) {
        let row: String = (0..size)
            .map(|x| match (dark(x, y), y + 1 < size && dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            })
            .collect();
        lines.push(Line::styled(row, style));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regtest_address_fits_an_80x24_screen() {
        let address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
        let lines = qr_lines(address).expect("encodes");
        // Version 2 (25 modules) plus the quiet zone: 27 columns, 14 rows.
        assert_eq!(lines.len(), 14);
        assert!(lines.iter().all(|l| l.width() == 27));
        // The quiet zone's top row is white.
        assert!(lines[0].to_string().chars().next().is_some_and(|c| c == ' ' || c == '▄'));
        // A finder pattern: the first module row of the code is 7 dark modules.
        let first: Vec<char> = lines[0].to_string().chars().collect();
        assert!(first[1..8].iter().all(|c| *c == '▄'), "{first:?}");
    }
}
