//! Helpers shared by the gui's tests: drawing a model as text, and a model
//! filled the way the backend would fill it.
#![allow(dead_code)]

use gui::{ChainState, Model, Update};
use interfaces::{Balances, BlockRef, WalletTx, COIN};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

/// The sizes every screen is checked at: the minimum and a larger one.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (132, 40)];

/// `model` drawn on a `width` x `height` terminal, one string per row.
pub fn render(model: &Model, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| gui::draw(frame, model)).expect("draw");
    let buffer = terminal.backend().buffer();
    (0..height).map(|y| (0..width).map(|x| buffer[(x, y)].symbol().to_owned()).collect::<String>()).collect()
}

/// Asserts that every text in `expect` is drawn, at every size in [`SIZES`].
#[track_caller]
pub fn check(model: &Model, expect: &[&str]) {
    for (width, height) in SIZES {
        let rows = render(model, width, height);
        let screen = rows.join("\n");
        for text in expect {
            assert!(screen.contains(text), "{text:?} not drawn at {width}x{height}:\n{screen}");
        }
    }
}

/// Asserts that `text` is not drawn at any size.
#[track_caller]
pub fn check_absent(model: &Model, text: &str) {
    for (width, height) in SIZES {
        let screen = render(model, width, height).join("\n");
        assert!(!screen.contains(text), "{text:?} drawn at {width}x{height}:\n{screen}");
    }
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types `text` into `model`, one key per character; returns the commands.
pub fn type_text(model: &mut Model, text: &str) -> Vec<gui::Command> {
    text.chars().flat_map(|c| gui::handle_key(model, key(KeyCode::Char(c)))).collect()
}

pub const TIP_HASH: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

pub fn tip_hash() -> [u8; 32] {
    interfaces::hash_from_hex(TIP_HASH).expect("hex")
}

pub fn txid(byte: u8) -> [u8; 32] {
    [byte; 32]
}

/// A started model: wallet `w1` selected with balances and four
/// transactions, tip at height 120, two transactions in the mempool.
pub fn ready_model(start_node: bool) -> Model {
    let mut model = Model::new(start_node, "in process");
    model.now = 1_700_000_120;
    model.apply(Update::Started);
    model.apply(Update::Chain(ChainState {
        height: 120,
        hash: tip_hash(),
        time: 1_700_000_000,
        initial_download: false,
    }));
    model.apply(Update::Mempool(2));
    model.apply(Update::RpcCommands(
        ["getblockchaininfo", "getblockcount", "getblockhash", "getnewaddress", "stop"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ));
    model.apply(Update::Wallets {
        loaded: vec!["w1".into(), "w2".into()],
        on_disk: vec!["old".into(), "w1".into(), "w2".into()],
        selected: Some("w1".into()),
    });
    let block = |height| Some(BlockRef { hash: [height as u8; 32], height });
    model.apply(Update::WalletData {
        name: "w1".into(),
        balances: Balances { trusted: 50 * COIN, untrusted_pending: 123_456_789, immature: 5000 * COIN },
        transactions: vec![
            WalletTx {
                txid: txid(0xa1),
                received: 50 * COIN,
                confirmed_in: block(1),
                is_coinbase: true,
                ..Default::default()
            },
            WalletTx {
                txid: txid(0xd4),
                received: 50 * COIN,
                confirmed_in: block(100),
                is_coinbase: true,
                ..Default::default()
            },
            WalletTx {
                txid: txid(0xb2),
                received: 123_456_789,
                confirmed_in: block(110),
                ..Default::default()
            },
            WalletTx {
                txid: txid(0xc3),
                sent: 2 * COIN,
                received: COIN - 1410,
                fee: Some(1410),
                ..Default::default()
            },
        ],
    });
    model
}
