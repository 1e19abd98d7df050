//! Key handling: what a key does to the model, what it asks of the
//! backend, and what is then drawn.

mod common;

use common::{check, check_absent, ctrl, key, ready_model, type_text};
use gui::{handle_key, Command, Dialog, Model, Phase, Screen, SendField, Update};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};

fn press(model: &mut Model, code: KeyCode) -> Vec<Command> {
    handle_key(model, key(code))
}

#[test]
fn q_asks_to_confirm_and_n_stays() {
    let mut model = ready_model(true);
    assert_eq!(press(&mut model, KeyCode::Char('q')), vec![]);
    assert_eq!(model.dialog, Some(Dialog::ConfirmQuit));
    check(&model, &["Quit the gui?"]);
    assert_eq!(press(&mut model, KeyCode::Char('n')), vec![]);
    assert_eq!(model.dialog, None);
    assert_eq!(model.phase, Phase::Ready);
    // Another key than y/n keeps the question open.
    press(&mut model, KeyCode::Char('q'));
    press(&mut model, KeyCode::Char('x'));
    assert_eq!(model.dialog, Some(Dialog::ConfirmQuit));
    assert_eq!(press(&mut model, KeyCode::Char('y')), vec![Command::Shutdown]);
    assert_eq!(model.phase, Phase::ShuttingDown);
    check(&model, &["Stopping the node..."]);
    // Waiting: keys do nothing, a second Ctrl-C leaves without waiting.
    assert_eq!(press(&mut model, KeyCode::Char('q')), vec![]);
    assert!(!model.finished);
    assert_eq!(handle_key(&mut model, ctrl('c')), vec![]);
    assert!(model.finished);
}

#[test]
fn ctrl_c_asks_to_quit_even_inside_a_field() {
    let mut model = ready_model(false);
    model.show(Screen::Console);
    assert!(model.editing);
    handle_key(&mut model, ctrl('c'));
    assert_eq!(model.dialog, Some(Dialog::ConfirmQuit));
    check(&model, &["The node keeps running"]);
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::Shutdown]);
}

#[test]
fn key_releases_are_ignored() {
    let mut model = ready_model(true);
    let release = KeyEvent {
        code: KeyCode::Char('q'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    };
    handle_key(&mut model, release);
    assert_eq!(model.dialog, None);
}

#[test]
fn digits_function_keys_and_tab_switch_screens() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('4'));
    assert_eq!(model.screen, Screen::Transactions);
    press(&mut model, KeyCode::Tab);
    assert_eq!(model.screen, Screen::Wallets);
    press(&mut model, KeyCode::BackTab);
    press(&mut model, KeyCode::BackTab);
    assert_eq!(model.screen, Screen::Receive);
    // A screen with a field takes the keys at once: digits are typed, Esc leaves.
    press(&mut model, KeyCode::Char('2'));
    assert_eq!(model.screen, Screen::Send);
    assert!(model.editing);
    press(&mut model, KeyCode::Char('1'));
    assert_eq!(model.screen, Screen::Send);
    assert_eq!(model.send.address.text(), "1");
    press(&mut model, KeyCode::F(6));
    assert_eq!(model.screen, Screen::Console);
    press(&mut model, KeyCode::Esc);
    assert!(!model.editing);
    press(&mut model, KeyCode::Char('?'));
    assert_eq!(model.dialog, Some(Dialog::Help));
    press(&mut model, KeyCode::Char('x'));
    assert_eq!(model.dialog, None);
    press(&mut model, KeyCode::Char('1'));
    assert_eq!(model.screen, Screen::Overview);
}

#[test]
fn typing_an_invalid_amount_shows_the_validation_message() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('2'));
    type_text(&mut model, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080");
    press(&mut model, KeyCode::Tab);
    assert_eq!(model.send.focus, SendField::Amount);
    type_text(&mut model, "1.123456789");
    check(&model, &["Invalid amount: up to 8 decimals"]);
    // Enter refuses and says why; no dialog, no command.
    assert_eq!(press(&mut model, KeyCode::Enter), vec![]);
    assert_eq!(model.dialog, None);
    check(&model, &["Invalid amount"]);
    // Fixing it clears the message.
    press(&mut model, KeyCode::Backspace);
    check_absent(&model, "Invalid amount");
    type_text(&mut model, "x");
    check(&model, &["Invalid amount"]);
}

#[test]
fn a_valid_payment_is_confirmed_then_sent_exactly() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('2'));
    type_text(&mut model, "bcrt1qabc");
    press(&mut model, KeyCode::Down);
    type_text(&mut model, "0.1");
    press(&mut model, KeyCode::Down);
    type_text(&mut model, "2.5");
    press(&mut model, KeyCode::Down);
    press(&mut model, KeyCode::Char(' '));
    assert!(model.send.subtract_fee);
    assert_eq!(press(&mut model, KeyCode::Enter), vec![]);
    assert!(matches!(model.dialog, Some(Dialog::ConfirmSend(_))));
    check(&model, &["Send 0.10000000 BTC", "fee rate: 2.5 sat/vB", "taken from the amount"]);
    let commands = press(&mut model, KeyCode::Char('y'));
    assert_eq!(
        commands,
        vec![Command::Send {
            address: "bcrt1qabc".into(),
            amount: 10_000_000,
            fee_rate_sat_per_kvb: Some(2500),
            subtract_fee: true,
        }]
    );
    assert!(model.send.pending);
    // While the wallet works, Enter does not send twice.
    assert_eq!(press(&mut model, KeyCode::Enter), vec![]);
    model.apply(Update::SendFailed("Insufficient funds".into()));
    check(&model, &["Send failed", "Insufficient funds"]);
    assert!(!model.send.pending);
    // The form is kept for another try; n in the dialog cancels.
    press(&mut model, KeyCode::Esc);
    press(&mut model, KeyCode::Enter);
    assert_eq!(press(&mut model, KeyCode::Char('n')), vec![]);
    assert_eq!(model.dialog, None);
    assert_eq!(model.send.amount.text(), "0.1");
}

#[test]
fn sending_without_a_wallet_is_refused() {
    let mut model = Model::new(true, "in process");
    model.apply(Update::Started);
    press(&mut model, KeyCode::Char('2'));
    type_text(&mut model, "bcrt1qabc");
    press(&mut model, KeyCode::Tab);
    type_text(&mut model, "1");
    assert_eq!(press(&mut model, KeyCode::Enter), vec![]);
    check(&model, &["No wallet selected"]);
}

#[test]
fn console_runs_commands_for_the_selected_wallet_with_history_and_completion() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('6'));
    type_text(&mut model, "getblockh");
    press(&mut model, KeyCode::Tab);
    assert_eq!(model.console.input.text(), "getblockhash ");
    type_text(&mut model, "0");
    let commands = press(&mut model, KeyCode::Enter);
    assert_eq!(
        commands,
        vec![Command::ExecuteRpc {
            request: r#"{"jsonrpc":"1.0","id":1,"method":"getblockhash","params":[0]}"#.into(),
            uri: "/wallet/w1".into(),
        }]
    );
    check(&model, &["> getblockhash 0", "..."]);
    model.apply(Update::RpcResult(Ok("0f9188f1".into())));
    check(&model, &["0f9188f1"]);
    // Ambiguous completion lists the candidates.
    type_text(&mut model, "getb");
    press(&mut model, KeyCode::Tab);
    assert_eq!(model.console.input.text(), "getblock");
    check(&model, &["getblockchaininfo  getblockcount  getblockhash"]);
    // History.
    press(&mut model, KeyCode::Up);
    assert_eq!(model.console.input.text(), "getblockhash 0");
    press(&mut model, KeyCode::Down);
    assert_eq!(model.console.input.text(), "getblock");
    // A line that does not parse is an error, not a request.
    model.console.input = gui::TextInput::default();
    type_text(&mut model, "getblock \"open");
    assert_eq!(press(&mut model, KeyCode::Enter), vec![]);
    check(&model, &["error: unterminated \" quote"]);
    type_text(&mut model, "clear");
    press(&mut model, KeyCode::Enter);
    assert!(model.console.output.is_empty());
}

#[test]
fn console_without_a_wallet_uses_the_root_uri() {
    let mut model = Model::new(false, "joined");
    model.apply(Update::Started);
    press(&mut model, KeyCode::Char('6'));
    type_text(&mut model, "getblockcount");
    let commands = press(&mut model, KeyCode::Enter);
    assert!(matches!(&commands[..], [Command::ExecuteRpc { uri, .. }] if uri == "/"), "{commands:?}");
}

#[test]
fn mining_takes_a_count_and_can_be_cancelled() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('7'));
    press(&mut model, KeyCode::Backspace);
    type_text(&mut model, "x");
    check(&model, &["Only digits"]);
    press(&mut model, KeyCode::Enter);
    check(&model, &["Enter a number of blocks from 1 to 100000"]);
    type_text(&mut model, "1000");
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::Generate { blocks: 1000 }]);
    check(&model, &["mined 0 of 1000 blocks"]);
    // While mining, the count is locked and x stops.
    assert_eq!(type_text(&mut model, "5"), vec![]);
    assert_eq!(model.mining.count.text(), "1000");
    assert_eq!(press(&mut model, KeyCode::Char('x')), vec![Command::CancelGenerate]);
    press(&mut model, KeyCode::Esc);
    assert_eq!(press(&mut model, KeyCode::Char('x')), vec![Command::CancelGenerate]);
}

#[test]
fn receive_asks_for_a_new_address() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('3'));
    assert_eq!(press(&mut model, KeyCode::Char('n')), vec![Command::NewAddress { label: String::new() }]);
}

#[test]
fn wallets_create_load_unload_select() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('5'));
    // Rows: w1, w2 (loaded), old (on disk).
    press(&mut model, KeyCode::Down);
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::SelectWallet("w2".into())]);
    assert_eq!(press(&mut model, KeyCode::Char('u')), vec![Command::UnloadWallet("w2".into())]);
    press(&mut model, KeyCode::Down);
    assert_eq!(press(&mut model, KeyCode::Char('u')), vec![]);
    check(&model, &["Wallet old is not loaded."]);
    assert_eq!(press(&mut model, KeyCode::Char('l')), vec![Command::LoadWallet("old".into())]);
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::LoadWallet("old".into())]);
    press(&mut model, KeyCode::Down);
    assert_eq!(model.wallets.cursor, 2, "the cursor stops at the last row");
    assert_eq!(press(&mut model, KeyCode::Char('r')), vec![Command::RefreshWallets]);
    press(&mut model, KeyCode::Char('c'));
    assert!(matches!(model.dialog, Some(Dialog::CreateWallet(_))));
    assert_eq!(press(&mut model, KeyCode::Enter), vec![], "an empty name is refused");
    type_text(&mut model, "a/b");
    assert_eq!(press(&mut model, KeyCode::Enter), vec![], "a path is refused");
    for _ in 0..3 {
        press(&mut model, KeyCode::Backspace);
    }
    type_text(&mut model, "savings");
    check(&model, &["savings"]);
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::CreateWallet("savings".into())]);
    assert_eq!(model.dialog, None);
}

#[test]
fn transactions_move_and_show_details() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('4'));
    press(&mut model, KeyCode::End);
    assert_eq!(model.tx_cursor, 3);
    press(&mut model, KeyCode::Down);
    assert_eq!(model.tx_cursor, 3);
    press(&mut model, KeyCode::Up);
    press(&mut model, KeyCode::Enter);
    // Row 2 from the newest: the immature coinbase.
    check(&model, &["Transaction", &format!("txid {}", "d4".repeat(32)), "confirmations 21", "coinbase"]);
}

#[test]
fn start_up_keys_and_failure() {
    let mut model = Model::new(true, "in process");
    assert_eq!(press(&mut model, KeyCode::Char('2')), vec![], "no screens before the node is up");
    assert_eq!(model.screen, Screen::Overview);
    press(&mut model, KeyCode::Char('q'));
    assert_eq!(model.dialog, Some(Dialog::ConfirmQuit));
    press(&mut model, KeyCode::Esc);
    model.apply(Update::StartupFailed("bad datadir".into()));
    // After a failed start q quits at once (the node is still shut down by the backend).
    assert_eq!(press(&mut model, KeyCode::Char('q')), vec![Command::Shutdown]);
    model.apply(Update::ShutdownDone { error: None });
    assert!(model.finished);
}

#[test]
fn the_suggested_block_count_is_replaced_by_what_is_typed() {
    let mut model = ready_model(true);
    press(&mut model, KeyCode::Char('7'));
    assert_eq!(model.mining.count.text(), "1");
    type_text(&mut model, "101");
    assert_eq!(model.mining.count.text(), "101", "typing replaces the suggestion, never appends to it");
    assert_eq!(press(&mut model, KeyCode::Enter), vec![Command::Generate { blocks: 101 }]);
    model.apply(Update::MiningDone { done: 101, total: 101, error: None });
    // The last count is suggested again: typing replaces it, editing keys keep it.
    type_text(&mut model, "5");
    assert_eq!(model.mining.count.text(), "5");
    press(&mut model, KeyCode::Char('0'));
    assert_eq!(model.mining.count.text(), "50");
}
