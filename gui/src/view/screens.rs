//! The seven screens, each drawn inside a bordered block.

use interfaces::{format_btc, hash_to_hex, WalletTx};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::{input_line, qr};
use crate::keys::display_name;
use crate::model::{ConsoleLine, Model, Screen, SendField};

pub(super) fn draw_screen(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let wallet = match (&model.wallets.selected, &model.wallets.disabled) {
        (_, Some(_)) => "wallets disabled".to_owned(),
        (Some(name), None) => format!("wallet {}", display_name(name)),
        (None, None) => "no wallet".to_owned(),
    };
    let block = Block::bordered().title(format!(" {} | {wallet} ", model.screen.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match model.screen {
        Screen::Overview => overview(frame, model, inner),
        Screen::Send => send(frame, model, inner),
        Screen::Receive => receive(frame, model, inner),
        Screen::Transactions => transactions(frame, model, inner),
        Screen::Wallets => wallets(frame, model, inner),
        Screen::Console => console(frame, model, inner),
        Screen::Mining => mining(frame, model, inner),
    }
}

fn label(text: &str) -> Span<'static> {
    Span::styled(format!("{text:<12}"), Style::new().add_modifier(Modifier::BOLD))
}

fn amount_span(sats: i64) -> Span<'static> {
    Span::raw(format!("{:>20} BTC", format_btc(sats)))
}

/// "N s/min/h/days ago" for a timestamp, from `now`.
fn age(time: i64, now: i64) -> String {
    let seconds = now.saturating_sub(time).max(0);
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86400),
    }
}

fn no_wallet_line(model: &Model) -> Option<Line<'static>> {
    if let Some(why) = &model.wallets.disabled {
        return Some(Line::from(format!("Wallets are disabled: {why}")).yellow());
    }
    model
        .wallets
        .selected
        .is_none()
        .then(|| Line::from("No wallet selected: create or load one on the Wallets screen (5).").yellow())
}

fn overview(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let mut lines = Vec::new();
    if let Some(line) = no_wallet_line(model) {
        lines.push(line);
    } else {
        match &model.balances {
            Some(b) => {
                lines.push(Line::from(vec![label("Available"), amount_span(b.trusted)]));
                lines.push(Line::from(vec![label("Pending"), amount_span(b.untrusted_pending)]));
                lines.push(Line::from(vec![label("Immature"), amount_span(b.immature)]));
                let total = b.trusted.saturating_add(b.untrusted_pending).saturating_add(b.immature);
                lines.push(Line::from(vec![label("Total"), amount_span(total)]));
            }
            None => lines.push(Line::from("Reading the wallet...")),
        }
    }
    lines.push(Line::from(""));
    match &model.chain {
        Some(chain) => {
            let ibd = if chain.initial_download { " (initial block download)" } else { "" };
            lines.push(Line::from(vec![
                label("Tip"),
                Span::raw(format!("height {}, {}{ibd}", chain.height, age(chain.time, model.now))),
            ]));
            lines.push(Line::from(vec![label(""), Span::raw(hash_to_hex(&chain.hash))]));
        }
        None => lines.push(Line::from(vec![label("Tip"), Span::raw("unknown")])),
    }
    let mempool = model.mempool_size.map_or_else(|| "unknown".to_owned(), |n| format!("{n} transactions"));
    lines.push(Line::from(vec![label("Mempool"), Span::raw(mempool)]));
    lines.push(Line::from(vec![label("Connection"), Span::raw(model.connection.clone())]));
    lines.push(Line::from(""));
    lines.push(Line::from("Recent transactions").bold());
    let [top, bottom] =
        Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(lines), top);
    tx_table(frame, model, bottom, false);
}

/// The wallet's transactions, newest first; with a highlighted row when
/// `selectable`.
fn tx_table(frame: &mut Frame<'_>, model: &Model, area: Rect, selectable: bool) {
    if model.transactions.is_empty() {
        frame.render_widget(Paragraph::new("  none yet").dark_gray(), area);
        return;
    }
    // Conf, amount, fee, type and the spaces between them take 52 columns; the txid gets the rest.
    let txid_width = usize::from(area.width.saturating_sub(52)).clamp(8, 64);
    let rows = model.transactions.iter().rev().map(|tx| tx_row(model, tx, txid_width));
    let widths = [
        Constraint::Length(6),
        Constraint::Length(17),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Min(8),
    ];
    let header = Row::new(["Conf", "Amount BTC", "Fee BTC", "Type", "Txid"]).bold();
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default();
    if selectable {
        state.select(Some(model.tx_cursor));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

fn tx_row<'a>(model: &Model, tx: &WalletTx, txid_width: usize) -> Row<'a> {
    let net = tx.received.saturating_sub(tx.sent);
    let confirmations = model.confirmations(tx);
    let kind = match (tx.is_coinbase, net >= 0) {
        (true, _) if confirmations < 100 => "mined (imm.)",
        (true, _) => "mined",
        (false, true) => "received",
        (false, false) => "sent",
    };
    let mut txid = hash_to_hex(&tx.txid);
    if txid.len() > txid_width {
        txid.truncate(txid_width.saturating_sub(1));
        txid.push('…');
    }
    let amount = Cell::from(format!("{:>17}", format_btc(net))).style(Style::new().fg(if net < 0 {
        Color::Red
    } else {
        Color::Green
    }));
    Row::new(vec![
        Cell::from(format!("{confirmations:>6}")),
        amount,
        Cell::from(format!("{:>12}", tx.fee.map(format_btc).unwrap_or_default())),
        Cell::from(kind),
        Cell::from(txid),
    ])
}

fn send(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let form = &model.send;
    let errors = form.visible_errors(model.balances.as_ref());
    let mut lines = Vec::new();
    if let Some(line) = no_wallet_line(model) {
        lines.push(line);
    } else if let Some(b) = &model.balances {
        lines.push(Line::from(format!("Available: {} BTC", format_btc(b.trusted))));
    }
    lines.push(Line::from(""));
    let focus = |field: SendField| model.editing && form.focus == field;
    let mut cursor = None;
    let fields = [
        ("Pay to", SendField::Address, &form.address, "", &errors.address),
        ("Amount", SendField::Amount, &form.amount, " BTC", &errors.amount),
        (
            "Fee rate",
            SendField::FeeRate,
            &form.fee_rate,
            " sat/vB (empty: the wallet's default)",
            &errors.fee_rate,
        ),
    ];
    for (name, field, input, unit, error) in fields {
        if focus(field) {
            let x = area.x + 12 + input.cursor() as u16;
            cursor = Some((x.min(area.right().saturating_sub(1)), area.y + lines.len() as u16));
        }
        let mut spans = vec![label(name)];
        spans.extend(input_line(input, focus(field)).spans);
        spans.push(Span::raw(unit).dark_gray());
        lines.push(Line::from(spans));
        lines.push(match error {
            Some(e) => Line::from(format!("{:12}{e}", "")).red(),
            None => Line::from(""),
        });
    }
    let mark = if form.subtract_fee { "[x]" } else { "[ ]" };
    let toggle = Line::from(format!("{mark} Subtract the fee from the amount (Space)"));
    lines.push(if focus(SendField::SubtractFee) {
        toggle.add_modifier(Modifier::UNDERLINED)
    } else {
        toggle
    });
    lines.push(Line::from(""));
    lines.push(if form.pending {
        Line::from("Sending... waiting for the wallet.").yellow()
    } else {
        Line::from("Tab/Up/Down: field   Enter: check and confirm   Esc: leave the form").dark_gray()
    });
    frame.render_widget(Paragraph::new(lines), area);
    if let Some(position) = cursor {
        frame.set_cursor_position(position);
    }
}

fn receive(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let mut lines = Vec::new();
    if let Some(line) = no_wallet_line(model) {
        lines.push(line);
    }
    match &model.receive_address {
        Some((wallet, address)) => {
            lines.push(Line::from(vec![label("Address"), Span::raw(address.clone()).bold()]));
            lines.push(Line::from(vec![label("Wallet"), Span::raw(display_name(wallet))]));
            match qr::qr_lines(address) {
                Ok(qr) => lines.extend(qr),
                Err(e) => lines.push(Line::from(e).red()),
            }
            lines.push(Line::from("n: another address").dark_gray());
        }
        None => lines.push(Line::from("Press n for a new receiving address and its QR code.")),
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn transactions(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let [head, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let head_line = match no_wallet_line(model) {
        Some(line) => line,
        None => Line::from(format!(
            "{} transactions, newest first. Enter: details of the highlighted one.",
            model.transactions.len()
        )),
    };
    frame.render_widget(head_line, head);
    tx_table(frame, model, table, true);
}

fn wallets(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let mut lines = Vec::new();
    if let Some(why) = &model.wallets.disabled {
        lines.push(Line::from(format!("Wallets are disabled: {why}")).yellow());
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    lines.push(Line::from("Enter: select (or load)  c: create  l: load  u: unload  r: refresh").dark_gray());
    lines.push(Line::from(""));
    let rows = model.wallets.rows();
    if rows.is_empty() {
        lines.push(Line::from("No wallets yet: press c to create one."));
    }
    for (i, (name, loaded)) in rows.iter().enumerate() {
        let selected = model.wallets.selected.as_ref() == Some(name);
        let text = format!(
            "{} {:<30} {:<10} {}",
            if selected { "*" } else { " " },
            display_name(name),
            if *loaded { "loaded" } else { "on disk" },
            if selected { "selected" } else { "" },
        );
        let line = Line::from(text);
        lines.push(if i == model.wallets.cursor { line.add_modifier(Modifier::REVERSED) } else { line });
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `text` cut into pieces of at most `width` characters.
fn chunks(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width.max(1)).map(|c| c.iter().collect()).collect()
}

fn console(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let console = &model.console;
    let [output, input] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let width = usize::from(output.width);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if console.output.is_empty() {
        lines.push(
            Line::from("Any RPC, e.g. getblockchaininfo or help. Tab completes a method name.").dark_gray(),
        );
    }
    for entry in &console.output {
        let (text, style) = match entry {
            ConsoleLine::Input(text) => (format!("> {text}"), Style::new().bold()),
            ConsoleLine::Output(text) => (text.clone(), Style::new()),
            ConsoleLine::Error(text) => (format!("error: {text}"), Style::new().fg(Color::Red)),
            ConsoleLine::Note(text) => (text.clone(), Style::new().fg(Color::DarkGray)),
        };
        for line in text.lines() {
            lines.extend(chunks(line, width).into_iter().map(|c| Line::styled(c, style)));
        }
        if text.is_empty() {
            lines.push(Line::from(""));
        }
    }
    if console.pending > 0 {
        lines.push(Line::from("...").yellow());
    }
    let height = usize::from(output.height);
    let end = lines.len().saturating_sub(console.scroll.min(lines.len().saturating_sub(height)));
    let start = end.saturating_sub(height);
    frame.render_widget(Paragraph::new(lines[start..end].to_vec()), output);
    let uri = crate::console::wallet_uri(model.wallets.selected.as_deref());
    let prompt = format!("{uri}> ");
    let prompt_width = prompt.chars().count() as u16;
    let mut spans = vec![Span::raw(prompt).bold()];
    spans.extend(input_line(&console.input, model.editing).spans);
    frame.render_widget(Line::from(spans), input);
    if model.editing {
        let x = input.x + prompt_width + console.input.cursor() as u16;
        frame.set_cursor_position((x.min(input.right().saturating_sub(1)), input.y));
    }
}

fn mining(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let mut lines = Vec::new();
    if let Some(line) = no_wallet_line(model) {
        lines.push(line);
    }
    lines.push(Line::from("Regtest: mine blocks paying to a new address of the selected wallet."));
    lines.push(Line::from(""));
    let mut spans = vec![label("Blocks")];
    spans.extend(input_line(&model.mining.count, model.editing && model.mining.running.is_none()).spans);
    lines.push(Line::from(spans));
    lines.push(Line::from(""));
    let tip = model.chain.as_ref().map_or_else(|| "unknown".to_owned(), |c| c.height.to_string());
    lines.push(Line::from(vec![label("Tip height"), Span::raw(tip)]));
    if let Some(last) = &model.mining.last {
        lines.push(Line::from(vec![label("Last run"), Span::raw(last.clone())]));
    }
    lines.push(Line::from(""));
    lines.push(
        Line::from(if model.mining.running.is_some() {
            "x: stop after the current batch"
        } else {
            "Enter: mine   Esc: leave the field"
        })
        .dark_gray(),
    );
    let input_row =
        lines.iter().position(|l| l.spans.first().is_some_and(|s| s.content.starts_with("Blocks")));
    let [text, gauge] =
        Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(lines), text);
    if let Some((done, total)) = model.mining.running {
        let ratio = if total == 0 { 0.0 } else { f64::from(done) / f64::from(total) };
        let widget = Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("mined {done} of {total} blocks"))
            .gauge_style(Style::new().fg(Color::Cyan));
        frame.render_widget(widget, gauge);
    }
    if model.editing && model.mining.running.is_none() {
        if let Some(row) = input_row {
            let x = area.x + 12 + model.mining.count.cursor() as u16;
            frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y + row as u16));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fee_text;
    use super::*;

    #[test]
    fn ages_and_fee_texts() {
        assert_eq!(age(100, 130), "30 s ago");
        assert_eq!(age(100, 100 + 120), "2 min ago");
        assert_eq!(age(0, 7200), "2 h ago");
        assert_eq!(age(0, 3 * 86400), "3 days ago");
        assert_eq!(age(500, 100), "0 s ago");
        assert_eq!(fee_text(1000), "1");
        assert_eq!(fee_text(2500), "2.5");
        assert_eq!(fee_text(1), "0.001");
        assert_eq!(chunks("abcdef", 4), vec!["abcd".to_owned(), "ef".to_owned()]);
    }
}
