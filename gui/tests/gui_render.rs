//! Every screen and dialog drawn on ratatui's `TestBackend`, at 80x24 and
//! at a larger size, checked by the text on screen.

mod common;

use common::{check, check_absent, ready_model, render, TIP_HASH};
use gui::{
    ConsoleLine, Dialog, Model, Peer, Phase, Screen, SendForm, SendRequest, TextInput, Update, KEYS, MIN_SIZE,
};
use interfaces::Progress;

fn on(screen: Screen) -> Model {
    let mut model = ready_model(true);
    model.show(screen);
    model
}

#[test]
fn tab_bar_names_every_screen_at_80_columns() {
    let model = ready_model(true);
    let rows = render(&model, 80, 24);
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let tab = format!("{} {}", i + 1, screen.title());
        assert!(rows[0].contains(&tab), "{tab:?} missing from {:?}", rows[0]);
    }
}

#[test]
fn overview_shows_balances_chain_and_recent_transactions() {
    check(
        &on(Screen::Overview),
        &[
            "Overview | wallet w1",
            "Available",
            "50.00000000 BTC",
            "Pending",
            "1.23456789 BTC",
            "Immature",
            "5000.00000000 BTC",
            "5051.23456789 BTC",
            "height 120, 2 min ago",
            TIP_HASH,
            "2 transactions",
            "in process",
            "Recent transactions",
            "-1.00001410",
            "c3c3c3c3c3c3",
        ],
    );
}

#[test]
fn overview_without_wallet_or_with_wallets_disabled() {
    let mut model = Model::new(false, "joined unix:/tmp/node.sock");
    model.apply(Update::Started);
    check(&model, &["no wallet", "No wallet selected", "joined unix:/tmp/node.sock", "Tip", "unknown"]);
    model.apply(Update::WalletsDisabled("wallets are disabled (-disablewallet)".into()));
    check(&model, &["Wallets are disabled: wallets are disabled (-disablewallet)"]);
}

#[test]
fn send_form_shows_fields_and_validation_as_typed() {
    let mut model = on(Screen::Send);
    check(
        &model,
        &["Available: 50.00000000 BTC", "Pay to", "Amount", "BTC", "Fee rate", "sat/vB", "[ ] Subtract"],
    );
    // Empty fields are not yet errors.
    check_absent(&model, "Enter an amount");
    model.send = SendForm {
        address: TextInput::with_text("bcrt1q-bad"),
        amount: TextInput::with_text("0.123456789"),
        fee_rate: TextInput::with_text("1.2345"),
        subtract_fee: true,
        ..SendForm::default()
    };
    check(
        &model,
        &[
            "bcrt1q-bad",
            "An address has only letters and digits",
            "Invalid amount: up to 8 decimals",
            "Fee rate: sat/vB with up to 3 decimals",
            "[x] Subtract",
        ],
    );
    model.send.amount = TextInput::with_text("51");
    check(&model, &["More than the available 50.00000000 BTC"]);
    model.send.pending = true;
    check(&model, &["Sending... waiting for the wallet."]);
}

#[test]
fn receive_shows_the_address_and_its_qr_code() {
    let mut model = on(Screen::Receive);
    check(&model, &["Press n for a new receiving address"]);
    let address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    model.apply(Update::NewAddress { wallet: "w1".into(), address: address.into() });
    check(&model, &[address, "Wallet", "▄▄▄▄▄▄▄", "█"]);
    // The whole code fits at 80x24: its last row (the quiet zone's bottom) is on screen.
    let rows = render(&model, 80, 24);
    let qr_rows = rows.iter().filter(|r| r.contains('█') || r.contains('▀') || r.contains('▄')).count();
    assert!(qr_rows >= 13, "{qr_rows} QR rows:\n{}", rows.join("\n"));
    check(&model, &["n: another address"]);
}

#[test]
fn transactions_lists_confirmations_amounts_fees_and_txids() {
    let model = on(Screen::Transactions);
    check(
        &model,
        &[
            "4 transactions, newest first",
            "Conf",
            "Amount BTC",
            "Fee BTC",
            "Txid",
            "   120",
            "mined (imm.)",
            "    11",
            "received",
            "1.23456789",
            "sent",
            "-1.00001410",
            "0.00001410",
            "c3c3c3c3c3c3c3c3",
        ],
    );
    // The larger screen has room for a whole txid.
    let wide = render(&model, 132, 40).join("\n");
    assert!(wide.contains(&"b2".repeat(32)), "{wide}");
}

#[test]
fn wallets_lists_loaded_and_on_disk_wallets() {
    check(&on(Screen::Wallets), &["* w1", "loaded", "selected", "w2", "old", "on disk", "c: create"]);
}

#[test]
fn console_shows_history_results_errors_and_the_wallet_uri() {
    let mut model = on(Screen::Console);
    check(&model, &["Any RPC", "/wallet/w1> "]);
    model.console.output.push(ConsoleLine::Input("getblockchaininfo".into()));
    model.apply(Update::RpcResult(Ok("{\n  \"blocks\": 120\n}".into())));
    model.console.output.push(ConsoleLine::Input("nosuch".into()));
    model.apply(Update::RpcResult(Err("Method not found (code -32601)".into())));
    check(&model, &["> getblockchaininfo", "\"blocks\": 120", "error: Method not found (code -32601)"]);
}

#[test]
fn mining_shows_the_count_and_progress() {
    let mut model = on(Screen::Mining);
    check(&model, &["Regtest: mine blocks", "Blocks", "Tip height", "120", "Enter: mine"]);
    model.apply(Update::Mining { done: 30, total: 100 });
    check(&model, &["mined 30 of 100 blocks", "x: stop"]);
    model.apply(Update::MiningDone { done: 100, total: 100, error: None });
    check(&model, &["Mined 100 blocks."]);
}

#[test]
fn start_up_shows_init_messages_and_progress() {
    let mut model = Model::new(true, "in process");
    model.apply(Update::InitMessage("Loading block index...".into()));
    model.apply(Update::InitMessage("Loading wallet...".into()));
    model.apply(Update::Progress(Progress {
        title: "Rescanning".into(),
        percent: 40,
        resume_possible: false,
    }));
    check(&model, &["Starting the node", "Loading block index...", "Loading wallet...", "Rescanning 40%"]);
    let joined = Model::new(false, "joined unix:/x");
    check(&joined, &["Connecting to the node", "joined unix:/x"]);
}

#[test]
fn start_up_error_is_shown_in_words() {
    let mut model = Model::new(true, "in process");
    model.apply(Update::StartupFailed("Cannot obtain a lock on data directory /tmp/d".into()));
    check(
        &model,
        &["The node failed to start", "Cannot obtain a lock on data directory /tmp/d", "Press q to quit"],
    );
}

#[test]
fn disconnection_shows_a_banner_over_the_last_known_state() {
    let mut model = on(Screen::Overview);
    model.apply(Update::Disconnected { peer: Peer::Wallet, message: "wallet process exited".into() });
    check(&model, &["Wallet disconnected: wallet process exited", "50.00000000 BTC"]);
    model.apply(Update::Disconnected { peer: Peer::Node, message: "peer gone".into() });
    check(&model, &["Node disconnected: peer gone", "q quits", "height 120"]);
    model.apply(Update::Reconnected);
    check_absent(&model, "Wallet disconnected");
}

#[test]
fn help_dialog_lists_every_key_in_full_at_80x24() {
    let mut model = ready_model(true);
    model.dialog = Some(Dialog::Help);
    let expect: Vec<&str> = KEYS.iter().map(|(_, what)| *what).collect();
    check(&model, &expect);
    check(&model, &[" Keys "]);
}

#[test]
fn quit_dialog_says_whether_the_node_stops() {
    let mut model = ready_model(true);
    model.dialog = Some(Dialog::ConfirmQuit);
    check(&model, &["Quit the gui?", "This stops the node the gui started.", "y quit"]);
    let mut joined = ready_model(false);
    joined.dialog = Some(Dialog::ConfirmQuit);
    check(&joined, &["The node keeps running"]);
}

#[test]
fn send_confirmation_dialog_shows_the_payment() {
    let mut model = on(Screen::Send);
    model.dialog = Some(Dialog::ConfirmSend(SendRequest {
        address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".into(),
        amount: 150_000_000,
        fee_rate_sat_per_kvb: Some(2500),
        subtract_fee: true,
    }));
    check(
        &model,
        &[
            "Confirm the payment",
            "Send 1.50000000 BTC",
            "to   bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
            "from wallet w1",
            "fee rate: 2.5 sat/vB",
            "The fee is taken from the amount.",
            "y send",
        ],
    );
}

#[test]
fn create_wallet_and_message_dialogs() {
    let mut model = on(Screen::Wallets);
    model.dialog = Some(Dialog::CreateWallet(TextInput::with_text("savings")));
    check(&model, &["Create a wallet", "Name of the new wallet:", "savings", "Enter create"]);
    model.apply(Update::SendFailed("Insufficient funds".into()));
    check(&model, &["Send failed", "Insufficient funds", "any key closes"]);
    model.apply(Update::Sent { txid: [0xab; 32] });
    check(&model, &["The payment was broadcast.", &"ab".repeat(32)]);
}

#[test]
fn status_line_shows_errors_progress_and_shutdown() {
    let mut model = ready_model(true);
    model.apply(Update::Error("Creating the wallet: already exists".into()));
    check(&model, &["Creating the wallet: already exists"]);
    model.apply(Update::Progress(Progress {
        title: "Rescanning".into(),
        percent: 10,
        resume_possible: true,
    }));
    check(&model, &["Rescanning 10%"]);
    model.apply(Update::Progress(Progress {
        title: "Rescanning".into(),
        percent: 100,
        resume_possible: true,
    }));
    check_absent(&model, "Rescanning");
    model.phase = Phase::ShuttingDown;
    check(&model, &["Stopping the node...", "Ctrl-C again"]);
}

#[test]
fn a_terminal_below_80x24_asks_to_be_enlarged_and_resizing_redraws() {
    let model = ready_model(true);
    let small = render(&model, 60, 20).join("\n");
    assert!(small.contains("the gui needs 80x24"), "{small}");
    assert_eq!(MIN_SIZE, (80, 24));
    // The same model fills whatever size it gets: the status line is always the last row.
    for (width, height) in [(80, 24), (100, 30), (200, 60)] {
        let rows = render(&model, width, height);
        assert_eq!(rows.len(), usize::from(height));
        assert!(rows[usize::from(height) - 1].contains("q quit"), "{width}x{height}: {rows:?}");
    }
}
