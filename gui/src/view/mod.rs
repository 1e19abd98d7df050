//! [`draw`]: the [`Model`] as a frame. Pure: reads the model, writes the
//! frame; tests draw on ratatui's `TestBackend`.
//!
//! Layout, top to bottom: the tab bar (one line), a banner while a side is
//! disconnected, the screen, the status line. Dialogs are drawn over it.
//! Below 80x24 only a request for a larger terminal is drawn.

mod qr;
mod screens;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use crate::keys::{display_name, KEYS};
use crate::model::{Dialog, Model, Phase, Screen, TextInput};
use interfaces::format_btc;

/// The smallest terminal the gui draws in.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws `model` on `frame`.
pub fn draw(frame: &mut Frame<'_>, model: &Model) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "The terminal is {}x{}; the gui needs {}x{}. Enlarge it, or press q to quit.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let banners = banner_lines(model);
    let [tabs, banner, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banners.len() as u16),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, model, tabs);
    frame.render_widget(Paragraph::new(banners), banner);
    match &model.phase {
        Phase::Starting => draw_starting(frame, model, body),
        Phase::Failed(message) => draw_failed(frame, message, body),
        Phase::Ready | Phase::ShuttingDown => screens::draw_screen(frame, model, body),
    }
    draw_status(frame, model, status);
    if let Some(dialog) = &model.dialog {
        draw_dialog(frame, model, dialog, area);
    }
}

fn draw_tabs(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let mut spans = Vec::new();
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let text = format!(" {} {} ", i + 1, screen.title());
        let style = if *screen == model.screen && model.phase != Phase::Starting {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Line::from(spans), area);
}

fn banner_lines(model: &Model) -> Vec<Line<'static>> {
    let style = Style::new().fg(Color::White).bg(Color::Red).bold();
    let mut lines = Vec::new();
    if let Some(why) = &model.node_lost {
        lines.push(Line::styled(
            format!(" Node disconnected: {why}. Last known state shown; q quits."),
            style,
        ));
    }
    if let Some(why) = &model.wallet_lost {
        lines.push(Line::styled(
            format!(" Wallet disconnected: {why}. Last known state shown; r on Wallets retries."),
            style,
        ));
    }
    lines
}

fn draw_status(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let line = if model.phase == Phase::ShuttingDown {
        let what = if model.start_node { "Stopping the node..." } else { "Leaving..." };
        Line::from(format!("{what} (Ctrl-C again: leave without waiting)")).yellow()
    } else if let Some(progress) = &model.progress {
        Line::from(format!("{} {}%", progress.title, progress.percent)).yellow()
    } else if let Some(status) = &model.status {
        let line = Line::from(status.text.clone());
        if status.error {
            line.red().bold()
        } else {
            line.green()
        }
    } else {
        Line::from(hint(model)).dark_gray()
    };
    frame.render_widget(line, area);
}

fn hint(model: &Model) -> &'static str {
    match (&model.phase, model.editing) {
        (Phase::Starting, _) => "q quit  ? keys",
        (Phase::Failed(_), _) => "q quit",
        (_, true) => "Esc leave the field  Ctrl-C quit",
        _ => match model.screen {
            Screen::Receive => "n new address  1-7 screens  ? keys  q quit",
            Screen::Transactions => "Up/Down move  Enter details  ? keys  q quit",
            Screen::Wallets => "Enter select/load  c create  u unload  r refresh  ? keys  q quit",
            Screen::Send | Screen::Console | Screen::Mining => "Enter edit  1-7 screens  ? keys  q quit",
            Screen::Overview => "1-7 screens  Tab next  ? keys  q quit",
        },
    }
}

fn draw_starting(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let title = if model.start_node { " Starting the node " } else { " Connecting to the node " };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, messages, gauge] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(format!("Connection: {}", model.connection)), head);
    let shown = usize::from(messages.height);
    let tail = model.init_messages.iter().skip(model.init_messages.len().saturating_sub(shown));
    frame.render_widget(Paragraph::new(tail.map(|m| Line::from(m.clone())).collect::<Vec<_>>()), messages);
    if let Some(progress) = &model.progress {
        let gauge_widget = Gauge::default()
            .percent(progress.percent.min(100) as u16)
            .label(format!("{} {}%", progress.title, progress.percent.min(100)))
            .gauge_style(Style::new().fg(Color::Cyan));
        frame.render_widget(gauge_widget, gauge);
    }
}

fn draw_failed(frame: &mut Frame<'_>, message: &str, area: Rect) {
    let block = Block::bordered().title(" The node could not start ").red();
    let text = vec![
        Line::from("The node failed to start:"),
        Line::from(""),
        Line::from(message.to_owned()).bold(),
        Line::from(""),
        Line::from("Press q to quit."),
    ];
    frame.render_widget(Paragraph::new(text).block(block).wrap(Wrap { trim: false }), area);
}

/// A `width` x `height` rectangle centred in `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(area.x + (area.width - width) / 2, area.y + (area.height - height) / 2, width, height)
}

fn draw_dialog(frame: &mut Frame<'_>, model: &Model, dialog: &Dialog, area: Rect) {
    let (title, lines, width) = match dialog {
        Dialog::Help => {
            let lines = KEYS.iter().map(|(keys, what)| Line::from(format!("{keys:<15} {what}"))).collect();
            (" Keys ".to_owned(), lines, 78)
        }
        Dialog::ConfirmQuit => {
            let what = if model.start_node {
                "This stops the node the gui started."
            } else {
                "The node keeps running (the gui only joined it)."
            };
            (
                " Quit ".to_owned(),
                vec![
                    Line::from("Quit the gui?"),
                    Line::from(what),
                    Line::from(""),
                    Line::from("y quit   n stay"),
                ],
                56,
            )
        }
        Dialog::ConfirmSend(request) => {
            let fee = request
                .fee_rate_sat_per_kvb
                .map_or_else(|| "the wallet's default".to_owned(), |r| format!("{} sat/vB", fee_text(r)));
            let wallet = model.wallets.selected.as_deref().map(display_name).unwrap_or_default();
            (
                " Confirm the payment ".to_owned(),
                vec![
                    Line::from(format!("Send {} BTC", format_btc(request.amount))).bold(),
                    Line::from(format!("to   {}", request.address)),
                    Line::from(format!("from wallet {wallet}")),
                    Line::from(format!("fee rate: {fee}")),
                    Line::from(if request.subtract_fee {
                        "The fee is taken from the amount."
                    } else {
                        "The fee is added to the amount."
                    }),
                    Line::from(""),
                    Line::from("y send   n cancel"),
                ],
                78,
            )
        }
        Dialog::CreateWallet(input) => (
            " Create a wallet ".to_owned(),
            vec![
                Line::from("Name of the new wallet:"),
                input_line(input, true),
                Line::from(""),
                Line::from("Enter create   Esc cancel"),
            ],
            50,
        ),
        Dialog::Message { title, text, error } => {
            let mut lines: Vec<Line<'static>> = text.lines().map(|l| Line::from(l.to_owned())).collect();
            if *error {
                lines = lines.into_iter().map(|l| l.red()).collect();
            }
            lines.push(Line::from(""));
            lines.push(Line::from("any key closes"));
            (format!(" {title} "), lines, 78)
        }
    };
    let inner_width = width.min(area.width).saturating_sub(2).max(1);
    let rows: u16 = lines.iter().map(|l| (l.width() as u16).div_ceil(inner_width).max(1)).sum();
    let rect = centered(area, width, rows + 2);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(title);
    if let Dialog::CreateWallet(input) = dialog {
        let x = rect.x + 1 + input.cursor() as u16;
        frame.set_cursor_position((x.min(rect.right().saturating_sub(2)), rect.y + 2));
    }
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}

/// sat/kvB as sat/vB text with up to 3 decimals.
pub(crate) fn fee_text(sat_per_kvb: i64) -> String {
    let whole = sat_per_kvb / 1000;
    let fraction = sat_per_kvb % 1000;
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:03}").trim_end_matches('0').to_owned()
    }
}

/// A text field: its text, underlined when `focused`.
pub(crate) fn input_line(input: &TextInput, focused: bool) -> Line<'static> {
    let style = if focused { Style::new().add_modifier(Modifier::UNDERLINED) } else { Style::new() };
    let text = if input.text().is_empty() && focused { " ".to_owned() } else { input.text().to_owned() };
    Line::from(Span::styled(text, style))
}
