//! [`handle_key`]: a key press changes the [`Model`] and may ask the
//! backend for something. Pure: no terminal, no node; tests call it directly.
//!
//! Two modes. On a screen with a text field (Send, Console, Mining) the
//! field takes the keys as soon as the screen is shown; `Esc` leaves it.
//! Outside a field, `1`..`7` / `Tab` switch screens, `?` shows the keys and
//! `q` asks to quit. `F1`..`F7` switch screens and `Ctrl-C` asks to quit in
//! either mode.

use interfaces::{format_btc, hash_to_hex};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::console;
use crate::message::Command;
use crate::model::{ConsoleLine, Dialog, Model, Phase, Screen, SendField, TextInput};

/// The key list the help dialog and the README show: `(keys, what)`.
pub const KEYS: &[(&str, &str)] = &[
    ("1..7, F1..F7", "Overview Send Receive Transactions Wallets Console Mining"),
    ("Tab, Shift-Tab", "next / previous screen (outside a field)"),
    ("Esc", "leave a text field (then the keys below work)"),
    ("?", "this help"),
    ("q, Ctrl-C", "quit (asks to confirm)"),
    ("Send", "Tab/Up/Down field, Space toggle, Enter check and confirm"),
    ("Receive", "n or Enter: new address with its QR code"),
    ("Transactions", "Up/Down/PgUp/PgDn move, Enter details"),
    ("Wallets", "Enter select/load, c create, l load, u unload, r refresh"),
    ("Console", "Enter run, Up/Down history, Tab complete, PgUp/PgDn scroll"),
    ("Console", "'clear' empties the output; the selected wallet is used"),
    ("Mining", "type a count, Enter mine, x (outside the field) cancel"),
];

/// Handles one key press: updates `model`, returns what the backend must do.
pub fn handle_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // A status message lasts until the next key.
    model.status = None;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return match model.phase {
            // A second Ctrl-C while waiting for the backend leaves without waiting.
            Phase::ShuttingDown => {
                model.finished = true;
                Vec::new()
            }
            Phase::Failed(_) => quit(model),
            _ => {
                model.dialog = Some(Dialog::ConfirmQuit);
                Vec::new()
            }
        };
    }
    if model.phase == Phase::ShuttingDown {
        return Vec::new();
    }
    if let Some(dialog) = model.dialog.take() {
        return dialog_key(model, dialog, key);
    }
    match model.phase {
        Phase::Failed(_) => match key.code {
            KeyCode::Char('q') | KeyCode::Enter | KeyCode::Esc => quit(model),
            _ => Vec::new(),
        },
        Phase::Starting => {
            match key.code {
                KeyCode::Char('q') => model.dialog = Some(Dialog::ConfirmQuit),
                KeyCode::Char('?') => model.dialog = Some(Dialog::Help),
                _ => {}
            }
            Vec::new()
        }
        Phase::Ready => ready_key(model, key),
        Phase::ShuttingDown => Vec::new(),
    }
}

fn quit(model: &mut Model) -> Vec<Command> {
    model.phase = Phase::ShuttingDown;
    model.dialog = None;
    model.editing = false;
    vec![Command::Shutdown]
}

fn dialog_key(model: &mut Model, dialog: Dialog, key: KeyEvent) -> Vec<Command> {
    match dialog {
        Dialog::Help | Dialog::Message { .. } => {
            // Any key closes; the key itself does nothing else.
        }
        Dialog::ConfirmQuit => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => return quit(model),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {}
            _ => model.dialog = Some(Dialog::ConfirmQuit),
        },
        Dialog::ConfirmSend(request) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                model.send.pending = true;
                model.info(format!("Sending {} BTC...", format_btc(request.amount)));
                return vec![Command::Send {
                    address: request.address,
                    amount: request.amount,
                    fee_rate_sat_per_kvb: request.fee_rate_sat_per_kvb,
                    subtract_fee: request.subtract_fee,
                }];
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => model.info("Not sent."),
            _ => model.dialog = Some(Dialog::ConfirmSend(request)),
        },
        Dialog::CreateWallet(mut input) => match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => {
                let name = input.text().trim().to_owned();
                if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
                    model.error("A wallet name: not empty, no / or \\");
                    model.dialog = Some(Dialog::CreateWallet(input));
                } else {
                    model.info(format!("Creating wallet {name}..."));
                    return vec![Command::CreateWallet(name)];
                }
            }
            _ => {
                edit(&mut input, key);
                model.dialog = Some(Dialog::CreateWallet(input));
            }
        },
    }
    Vec::new()
}

/// Line-editing keys; `true` if the key was one.
fn edit(input: &mut TextInput, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
            input.insert(c)
        }
        KeyCode::Backspace => input.backspace(),
        KeyCode::Delete => input.delete(),
        KeyCode::Left => input.left(),
        KeyCode::Right => input.right(),
        KeyCode::Home => input.home(),
        KeyCode::End => input.end(),
        _ => return false,
    }
    true
}

fn ready_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if let KeyCode::F(n @ 1..=7) = key.code {
        model.show(Screen::ALL[usize::from(n) - 1]);
        return Vec::new();
    }
    if model.editing {
        if key.code == KeyCode::Esc {
            model.editing = false;
            return Vec::new();
        }
        return match model.screen {
            Screen::Send => send_key(model, key),
            Screen::Console => console_key(model, key),
            Screen::Mining => mining_key(model, key),
            _ => Vec::new(),
        };
    }
    match key.code {
        KeyCode::Char(c @ '1'..='7') => {
            let at = usize::from(c as u8 - b'1');
            model.show(Screen::ALL[at]);
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::BackTab => {
            let n = Screen::ALL.len();
            let at = model.screen.index();
            let next = if key.code == KeyCode::Tab { (at + 1) % n } else { (at + n - 1) % n };
            model.screen = Screen::ALL[next];
            return Vec::new();
        }
        KeyCode::Char('?') => {
            model.dialog = Some(Dialog::Help);
            return Vec::new();
        }
        KeyCode::Char('q') => {
            model.dialog = Some(Dialog::ConfirmQuit);
            return Vec::new();
        }
        KeyCode::Enter | KeyCode::Char('i') if model.screen.has_input() => {
            model.editing = true;
            return Vec::new();
        }
        _ => {}
    }
    match model.screen {
        Screen::Receive => match key.code {
            KeyCode::Char('n') | KeyCode::Enter => match &model.wallets.selected {
                Some(_) => {
                    model.info("Asking the wallet for a new address...");
                    vec![Command::NewAddress { label: String::new() }]
                }
                None => {
                    model.error("No wallet selected: create or load one on the Wallets screen (5).");
                    Vec::new()
                }
            },
            _ => Vec::new(),
        },
        Screen::Transactions => {
            transactions_key(model, key);
            Vec::new()
        }
        Screen::Wallets => wallets_key(model, key),
        Screen::Mining => match key.code {
            KeyCode::Char('x') if model.mining.running.is_some() => {
                model.info("Stopping after the current batch...");
                vec![Command::CancelGenerate]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn send_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let form = &mut model.send;
    match key.code {
        KeyCode::Tab | KeyCode::Down => form.focus = form.focus.step(true),
        KeyCode::BackTab | KeyCode::Up => form.focus = form.focus.step(false),
        KeyCode::Char(' ') if form.focus == SendField::SubtractFee => form.subtract_fee = !form.subtract_fee,
        KeyCode::Enter => {
            if form.pending {
                model.error("A payment is on its way; wait for the wallet's answer.");
            } else if model.wallets.selected.is_none() {
                model.error("No wallet selected: create or load one on the Wallets screen (5).");
            } else {
                match form.validate(model.balances.as_ref()) {
                    Ok(request) => model.dialog = Some(Dialog::ConfirmSend(request)),
                    Err(errors) => {
                        let first =
                            [errors.address, errors.amount, errors.fee_rate].into_iter().flatten().next();
                        model.error(first.unwrap_or_else(|| "Check the fields".into()));
                    }
                }
            }
        }
        _ => {
            if let Some(input) = form.focused_input() {
                edit(input, key);
            }
        }
    }
    Vec::new()
}

fn console_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let console = &mut model.console;
    match key.code {
        KeyCode::Enter => {
            let line = console.input.text().trim().to_owned();
            console.input.clear();
            console.history_pos = None;
            if line.is_empty() {
                return Vec::new();
            }
            if console.history.last() != Some(&line) {
                console.history.push(line.clone());
            }
            console.scroll = 0;
            if line == "clear" {
                console.output.clear();
                return Vec::new();
            }
            console.output.push(ConsoleLine::Input(line.clone()));
            match console::parse_line(&line) {
                Ok(Some(parsed)) => {
                    let id = console.next_id;
                    console.next_id += 1;
                    console.pending += 1;
                    let uri = console::wallet_uri(model.wallets.selected.as_deref());
                    return vec![Command::ExecuteRpc { request: console::request_text(&parsed, id), uri }];
                }
                Ok(None) => {}
                Err(e) => console.output.push(ConsoleLine::Error(e)),
            }
        }
        KeyCode::Up => {
            let at = match console.history_pos {
                None if console.history.is_empty() => return Vec::new(),
                None => {
                    console.draft = console.input.text().to_owned();
                    console.history.len() - 1
                }
                Some(at) => at.saturating_sub(1),
            };
            console.history_pos = Some(at);
            if let Some(line) = console.history.get(at) {
                console.input.set(line);
            }
        }
        KeyCode::Down => match console.history_pos {
            Some(at) if at + 1 < console.history.len() => {
                console.history_pos = Some(at + 1);
                if let Some(line) = console.history.get(at + 1) {
                    console.input.set(line);
                }
            }
            Some(_) => {
                console.history_pos = None;
                let draft = std::mem::take(&mut console.draft);
                console.input.set(&draft);
            }
            None => {}
        },
        KeyCode::Tab => {
            let (completed, candidates) = console::complete(console.input.text(), &console.commands);
            console.input.set(&completed);
            if !candidates.is_empty() {
                console.output.push(ConsoleLine::Note(candidates.join("  ")));
                console.scroll = 0;
            }
        }
        KeyCode::PageUp => console.scroll = console.scroll.saturating_add(10),
        KeyCode::PageDown => console.scroll = console.scroll.saturating_sub(10),
        _ => {
            edit(&mut console.input, key);
        }
    }
    Vec::new()
}

/// The largest count the Mining screen accepts in one run.
pub(crate) const MAX_MINE: u32 = 100_000;

fn mining_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if model.mining.running.is_some() {
        if key.code == KeyCode::Char('x') {
            model.info("Stopping after the current batch...");
            return vec![Command::CancelGenerate];
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => {
            if model.wallets.selected.is_none() {
                model.error("No wallet selected: create or load one on the Wallets screen (5).");
                return Vec::new();
            }
            match model.mining.count.text().trim().parse::<u32>() {
                Ok(blocks @ 1..=MAX_MINE) => {
                    model.mining.running = Some((0, blocks));
                    model.mining.last = None;
                    // The count stays as the suggestion for the next run: typing replaces it.
                    model.mining.count = crate::model::TextInput::with_suggestion(&blocks.to_string());
                    return vec![Command::Generate { blocks }];
                }
                _ => model.error(format!("Enter a number of blocks from 1 to {MAX_MINE}")),
            }
        }
        KeyCode::Char(c) if !c.is_ascii_digit() => model.error("Only digits: the number of blocks"),
        _ => {
            edit(&mut model.mining.count, key);
        }
    }
    Vec::new()
}

fn transactions_key(model: &mut Model, key: KeyEvent) {
    let last = model.transactions.len().saturating_sub(1);
    let cursor = &mut model.tx_cursor;
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *cursor = (*cursor + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => *cursor = cursor.saturating_sub(1),
        KeyCode::PageDown => *cursor = (*cursor + 10).min(last),
        KeyCode::PageUp => *cursor = cursor.saturating_sub(10),
        KeyCode::Home => *cursor = 0,
        KeyCode::End => *cursor = last,
        KeyCode::Enter => {
            // Row 0 is the newest transaction.
            let Some(tx) = model.transactions.iter().rev().nth(model.tx_cursor) else { return };
            let fee = tx.fee.map_or_else(|| "unknown".to_owned(), |f| format!("{} BTC", format_btc(f)));
            let block = tx.confirmed_in.map_or_else(
                || "unconfirmed".to_owned(),
                |b| format!("height {} ({})", b.height, hash_to_hex(&b.hash)),
            );
            let text = format!(
                "txid {}\nreceived {} BTC, sent {} BTC, fee {fee}\nconfirmations {}, block {block}\n{}",
                hash_to_hex(&tx.txid),
                format_btc(tx.received),
                format_btc(tx.sent),
                model.confirmations(tx),
                if tx.is_coinbase { "coinbase (mined)" } else { "" },
            );
            model.dialog = Some(Dialog::Message { title: "Transaction".into(), text, error: false });
        }
        _ => {}
    }
}

fn wallets_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if let Some(why) = &model.wallets.disabled {
        let text = format!("Wallets are disabled: {why}");
        model.error(text);
        return Vec::new();
    }
    let rows = model.wallets.rows();
    let last = rows.len().saturating_sub(1);
    let row = rows.get(model.wallets.cursor).cloned();
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => model.wallets.cursor = (model.wallets.cursor + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => model.wallets.cursor = model.wallets.cursor.saturating_sub(1),
        KeyCode::Char('c') => model.dialog = Some(Dialog::CreateWallet(TextInput::default())),
        KeyCode::Char('r') => return vec![Command::RefreshWallets],
        KeyCode::Enter => match row {
            Some((name, true)) => return vec![Command::SelectWallet(name)],
            Some((name, false)) => {
                model.info(format!("Loading wallet {}...", display_name(&name)));
                return vec![Command::LoadWallet(name)];
            }
            None => model.error("No wallet yet: press c to create one."),
        },
        KeyCode::Char('l') => match row {
            Some((name, false)) => {
                model.info(format!("Loading wallet {}...", display_name(&name)));
                return vec![Command::LoadWallet(name)];
            }
            Some((name, true)) => model.error(format!("Wallet {} is loaded already.", display_name(&name))),
            None => {}
        },
        KeyCode::Char('u') => match row {
            Some((name, true)) => return vec![Command::UnloadWallet(name)],
            Some((name, false)) => model.error(format!("Wallet {} is not loaded.", display_name(&name))),
            None => {}
        },
        _ => {}
    }
    Vec::new()
}

/// A wallet name as shown: the default wallet `""` has no name of its own.
pub(crate) fn display_name(name: &str) -> String {
    if name.is_empty() {
        "(default)".into()
    } else {
        name.to_owned()
    }
}
