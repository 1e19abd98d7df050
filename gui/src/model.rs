//! [`Model`]: everything the screens show, changed only by key presses
//! ([`handle_key`](crate::handle_key)) and backend [`Update`]s
//! ([`Model::apply`]). Plain data: no interface object, no terminal.

use interfaces::{format_btc, hash_to_hex, parse_btc, Balances, Progress, WalletTx, MAX_MONEY};

use crate::message::{ChainState, Peer, Update};

/// The screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Balances, recent transactions, the chain.
    Overview,
    /// Pay to an address.
    Send,
    /// A new address and its QR code.
    Receive,
    /// Every wallet transaction.
    Transactions,
    /// Create, load, unload, select.
    Wallets,
    /// Any RPC.
    Console,
    /// Generate regtest blocks.
    Mining,
}

impl Screen {
    /// Every screen in tab order (key `1` is the first).
    pub const ALL: [Screen; 7] = [
        Screen::Overview,
        Screen::Send,
        Screen::Receive,
        Screen::Transactions,
        Screen::Wallets,
        Screen::Console,
        Screen::Mining,
    ];

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Overview => "Overview",
            Screen::Send => "Send",
            Screen::Receive => "Receive",
            Screen::Transactions => "Transactions",
            Screen::Wallets => "Wallets",
            Screen::Console => "Console",
            Screen::Mining => "Mining",
        }
    }

    pub(crate) fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// Whether the screen has a text field that takes the keys when shown.
    pub(crate) fn has_input(self) -> bool {
        matches!(self, Screen::Send | Screen::Console | Screen::Mining)
    }
}

/// Where the node is in its life, as the gui sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for `Node::init` (or, when joined, for the first state).
    Starting,
    /// Running.
    Ready,
    /// `Node::init` failed with this message.
    Failed(String),
    /// Quit was confirmed; waiting for the backend to finish.
    ShuttingDown,
}

/// A one-line text field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextInput {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
    /// The text is a suggestion: the first character typed replaces it (as a selected default
    /// does in a dialog), any other edit keeps it.
    suggested: bool,
}

impl TextInput {
    /// A field holding `text`, the cursor at its end.
    pub fn with_text(text: &str) -> Self {
        Self { text: text.to_owned(), cursor: text.chars().count(), suggested: false }
    }

    /// A field holding the suggestion `text`, which the first character typed replaces.
    pub fn with_suggestion(text: &str) -> Self {
        Self { suggested: true, ..Self::with_text(text) }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor position in characters.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text.char_indices().nth(chars).map_or(self.text.len(), |(i, _)| i)
    }

    pub(crate) fn insert(&mut self, c: char) {
        if std::mem::take(&mut self.suggested) {
            self.text.clear();
            self.cursor = 0;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    pub(crate) fn backspace(&mut self) {
        self.suggested = false;
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub(crate) fn delete(&mut self) {
        self.suggested = false;
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub(crate) fn left(&mut self) {
        self.suggested = false;
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub(crate) fn right(&mut self) {
        self.suggested = false;
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub(crate) fn home(&mut self) {
        self.suggested = false;
        self.cursor = 0;
    }

    pub(crate) fn end(&mut self) {
        self.suggested = false;
        self.cursor = self.text.chars().count();
    }

    pub(crate) fn set(&mut self, text: &str) {
        *self = Self::with_text(text);
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// The fields of the Send screen, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendField {
    /// Destination address.
    #[default]
    Address,
    /// Amount in BTC.
    Amount,
    /// Optional fee rate in sat/vB.
    FeeRate,
    /// The subtract-fee toggle.
    SubtractFee,
}

impl SendField {
    const ORDER: [SendField; 4] =
        [SendField::Address, SendField::Amount, SendField::FeeRate, SendField::SubtractFee];

    pub(crate) fn step(self, forward: bool) -> Self {
        let at = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if forward { (at + 1) % n } else { (at + n - 1) % n }]
    }
}

/// The Send form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendForm {
    /// Destination address.
    pub address: TextInput,
    /// Amount in BTC, as typed.
    pub amount: TextInput,
    /// Fee rate in sat/vB, as typed; empty for the wallet's default.
    pub fee_rate: TextInput,
    /// Take the fee out of the amount.
    pub subtract_fee: bool,
    /// The focused field.
    pub focus: SendField,
    /// A payment is on its way to the wallet.
    pub pending: bool,
}

/// A payment that passed validation, as the confirmation dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// Destination address.
    pub address: String,
    /// Satoshis.
    pub amount: i64,
    /// Satoshis per 1000 vbytes, or the wallet's default.
    pub fee_rate_sat_per_kvb: Option<i64>,
    /// Take the fee out of the amount.
    pub subtract_fee: bool,
}

/// What is wrong with each field of the Send form (`None`: nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendErrors {
    /// About the address.
    pub address: Option<String>,
    /// About the amount.
    pub amount: Option<String>,
    /// About the fee rate.
    pub fee_rate: Option<String>,
}

impl SendForm {
    /// Checks every field; the request when all are valid. An empty field
    /// is an error too, but [`SendForm::visible_errors`] hides those while
    /// the user has not typed there.
    pub fn validate(&self, balances: Option<&Balances>) -> Result<SendRequest, SendErrors> {
        let mut errors = SendErrors::default();
        let address = self.address.text().trim();
        if address.is_empty() {
            errors.address = Some("Enter an address".into());
        } else if !address.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.address = Some("An address has only letters and digits".into());
        }
        let amount = match parse_btc(self.amount.text()) {
            _ if self.amount.text().trim().is_empty() => {
                errors.amount = Some("Enter an amount in BTC".into());
                0
            }
            Ok(0) => {
                errors.amount = Some("The amount must be more than 0".into());
                0
            }
            Ok(sats) => {
                if let Some(b) = balances.filter(|b| sats > b.trusted) {
                    errors.amount = Some(format!("More than the available {} BTC", format_btc(b.trusted)));
                }
                sats
            }
            Err(e) => {
                errors.amount =
                    Some(format!("{e}: up to 8 decimals, at most {} BTC", MAX_MONEY / interfaces::COIN));
                0
            }
        };
        let fee_rate = match parse_fee_rate(self.fee_rate.text()) {
            Ok(rate) => rate,
            Err(e) => {
                errors.fee_rate = Some(e);
                None
            }
        };
        if errors == SendErrors::default() {
            Ok(SendRequest {
                address: address.to_owned(),
                amount,
                fee_rate_sat_per_kvb: fee_rate,
                subtract_fee: self.subtract_fee,
            })
        } else {
            Err(errors)
        }
    }

    /// The errors to show while typing: those of fields that hold text.
    pub fn visible_errors(&self, balances: Option<&Balances>) -> SendErrors {
        let mut errors = self.validate(balances).err().unwrap_or_default();
        if self.address.text().is_empty() {
            errors.address = None;
        }
        if self.amount.text().is_empty() {
            errors.amount = None;
        }
        errors
    }

    pub(crate) fn focused_input(&mut self) -> Option<&mut TextInput> {
        match self.focus {
            SendField::Address => Some(&mut self.address),
            SendField::Amount => Some(&mut self.amount),
            SendField::FeeRate => Some(&mut self.fee_rate),
            SendField::SubtractFee => None,
        }
    }
}

/// A fee rate in sat/vB with at most 3 decimals (Bitcoin Core's `fee_rate`
/// precision) as satoshis per 1000 vbytes; empty is `None`.
pub(crate) fn parse_fee_rate(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || "Fee rate: sat/vB with up to 3 decimals, e.g. 2.5".to_owned();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 3
        || (text.contains('.') && fraction.is_empty())
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| bad())?;
    let rate = whole.checked_mul(1000).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)?;
    // 1,000,000 sat/vB is far above anything sane; refuse rather than pay it by a typo.
    if rate == 0 || rate > 1_000_000_000 {
        return Err("Fee rate: more than 0 and at most 1000000 sat/vB".into());
    }
    Ok(Some(rate))
}

/// One entry of the console's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleLine {
    /// A command as typed.
    Input(String),
    /// A result.
    Output(String),
    /// An error.
    Error(String),
    /// A note from the gui (completion candidates, help).
    Note(String),
}

/// The console screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsoleState {
    /// The command line.
    pub input: TextInput,
    /// Commands entered, oldest first.
    pub history: Vec<String>,
    /// Where Up/Down is in `history`; `None` at the new line.
    pub history_pos: Option<usize>,
    /// What was typed before browsing the history.
    pub draft: String,
    /// The output, oldest first.
    pub output: Vec<ConsoleLine>,
    /// How many lines the view is scrolled up from the bottom.
    pub scroll: usize,
    /// Method names for completion (from `Node::list_rpc_commands`).
    pub commands: Vec<String>,
    /// Requests sent and not yet answered.
    pub pending: u32,
    /// The next JSON-RPC id.
    pub next_id: u64,
}

/// The mining screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiningState {
    /// How many blocks, as typed.
    pub count: TextInput,
    /// `(done, total)` while mining.
    pub running: Option<(u32, u32)>,
    /// What the last run did.
    pub last: Option<String>,
}

impl Default for MiningState {
    fn default() -> Self {
        Self { count: TextInput::with_suggestion("1"), running: None, last: None }
    }
}

/// The wallets the node reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalletsState {
    /// Loaded, in load order.
    pub loaded: Vec<String>,
    /// On disk, sorted.
    pub on_disk: Vec<String>,
    /// The wallet the other screens use.
    pub selected: Option<String>,
    /// The highlighted row of [`WalletsState::rows`].
    pub cursor: usize,
    /// Wallets are disabled: why.
    pub disabled: Option<String>,
}

impl WalletsState {
    /// Every wallet to list: the loaded ones first (load order), then the
    /// others on disk; with whether each is loaded.
    pub fn rows(&self) -> Vec<(String, bool)> {
        let mut rows: Vec<(String, bool)> = self.loaded.iter().map(|n| (n.clone(), true)).collect();
        rows.extend(self.on_disk.iter().filter(|n| !self.loaded.contains(n)).map(|n| (n.clone(), false)));
        rows
    }
}

/// A window over the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The keys.
    Help,
    /// "Quit?" (and whether quitting stops the node).
    ConfirmQuit,
    /// "Send this?"
    ConfirmSend(SendRequest),
    /// The name of a wallet to create.
    CreateWallet(TextInput),
    /// A message to acknowledge.
    Message {
        /// Title.
        title: String,
        /// Text.
        text: String,
        /// Shown as an error.
        error: bool,
    },
}

/// A line for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// The gui's whole state.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// How the gui reaches the node ("in process", "joined unix:/path", ...).
    pub connection: String,
    /// Whether the gui started the node (and stops it on quit).
    pub start_node: bool,
    /// Where the node is in its life.
    pub phase: Phase,
    /// The screen shown.
    pub screen: Screen,
    /// Whether the screen's text field takes the keys (Esc leaves it).
    pub editing: bool,
    /// A window over the screen.
    pub dialog: Option<Dialog>,
    /// The node's start-up messages, oldest first.
    pub init_messages: Vec<String>,
    /// The last progress report; cleared at 100 %.
    pub progress: Option<Progress>,
    /// The chain; `None` until read.
    pub chain: Option<ChainState>,
    /// Transactions in the mempool.
    pub mempool_size: Option<u64>,
    /// The wallets.
    pub wallets: WalletsState,
    /// Balances of the selected wallet.
    pub balances: Option<Balances>,
    /// Transactions of the selected wallet, oldest first.
    pub transactions: Vec<WalletTx>,
    /// The highlighted row of the Transactions screen (0 is the newest).
    pub tx_cursor: usize,
    /// The Send form.
    pub send: SendForm,
    /// The last receiving address: `(wallet, address)`.
    pub receive_address: Option<(String, String)>,
    /// The console.
    pub console: ConsoleState,
    /// Mining.
    pub mining: MiningState,
    /// The node is gone: why (shown as a banner, for good).
    pub node_lost: Option<String>,
    /// The wallet side is gone: why (shown as a banner until it answers again).
    pub wallet_lost: Option<String>,
    /// The status line.
    pub status: Option<Status>,
    /// Now, UNIX seconds (for the tip's age); set by the UI loop.
    pub now: i64,
    /// The backend is done; the UI loop ends.
    pub finished: bool,
    /// What a failed `Node::shutdown` said.
    pub shutdown_error: Option<String>,
}

impl Model {
    /// The state before anything is known. `start_node`: the gui starts
    /// the node and stops it on quit; `connection` is shown on the overview.
    pub fn new(start_node: bool, connection: impl Into<String>) -> Self {
        Self {
            connection: connection.into(),
            start_node,
            phase: Phase::Starting,
            screen: Screen::Overview,
            editing: false,
            dialog: None,
            init_messages: Vec::new(),
            progress: None,
            chain: None,
            mempool_size: None,
            wallets: WalletsState::default(),
            balances: None,
            transactions: Vec::new(),
            tx_cursor: 0,
            send: SendForm::default(),
            receive_address: None,
            console: ConsoleState { next_id: 1, ..ConsoleState::default() },
            mining: MiningState::default(),
            node_lost: None,
            wallet_lost: None,
            status: None,
            now: 0,
            finished: false,
            shutdown_error: None,
        }
    }

    pub(crate) fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    pub(crate) fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }

    /// Shows `screen`; its text field (if any) takes the keys.
    pub fn show(&mut self, screen: Screen) {
        self.screen = screen;
        self.editing = screen.has_input();
    }

    /// Confirmations of `tx` at the current tip (0 while unconfirmed).
    pub fn confirmations(&self, tx: &WalletTx) -> u32 {
        match (tx.confirmed_in, &self.chain) {
            (Some(block), Some(chain)) if chain.height >= block.height => chain.height - block.height + 1,
            (Some(_), _) => 1,
            (None, _) => 0,
        }
    }

    /// Applies a backend update.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::InitMessage(message) => {
                self.init_messages.push(message);
                // Keep a bounded tail: nobody reads a thousand start-up lines.
                if self.init_messages.len() > 200 {
                    self.init_messages.remove(0);
                }
            }
            Update::Progress(progress) => {
                self.progress = (progress.percent < 100).then_some(progress);
            }
            Update::Started => {
                if self.phase == Phase::Starting {
                    self.phase = Phase::Ready;
                    self.progress = None;
                    self.editing = self.screen.has_input();
                }
            }
            Update::StartupFailed(message) => {
                if self.phase != Phase::ShuttingDown {
                    self.phase = Phase::Failed(message);
                }
            }
            Update::Chain(chain) => {
                // Read once at start-up; a tip notified meanwhile is newer.
                if self.chain.as_ref().is_none_or(|known| chain.height >= known.height) {
                    self.chain = Some(chain);
                }
            }
            Update::Tip(tip) => {
                self.chain = Some(ChainState {
                    height: tip.height,
                    hash: tip.hash,
                    time: tip.time,
                    initial_download: tip.initial_download,
                });
            }
            Update::Mempool(size) => self.mempool_size = Some(size),
            Update::RpcCommands(commands) => self.console.commands = commands,
            Update::Wallets { loaded, on_disk, selected } => {
                if self.wallets.selected != selected {
                    self.balances = None;
                    self.transactions.clear();
                    self.tx_cursor = 0;
                }
                self.wallets.loaded = loaded;
                self.wallets.on_disk = on_disk;
                self.wallets.selected = selected;
                self.wallets.disabled = None;
                let rows = self.wallets.rows().len();
                self.wallets.cursor = self.wallets.cursor.min(rows.saturating_sub(1));
            }
            Update::WalletsDisabled(why) => self.wallets.disabled = Some(why),
            Update::WalletData { name, balances, transactions } => {
                if self.wallets.selected.as_deref() == Some(name.as_str()) {
                    self.balances = Some(balances);
                    self.transactions = transactions;
                    self.tx_cursor = self.tx_cursor.min(self.transactions.len().saturating_sub(1));
                }
            }
            Update::NewAddress { wallet, address } => self.receive_address = Some((wallet, address)),
            Update::Sent { txid } => {
                self.send = SendForm::default();
                self.dialog = Some(Dialog::Message {
                    title: "Sent".into(),
                    text: format!("The payment was broadcast.\ntxid {}", hash_to_hex(&txid)),
                    error: false,
                });
            }
            Update::SendFailed(message) => {
                self.send.pending = false;
                self.dialog =
                    Some(Dialog::Message { title: "Send failed".into(), text: message, error: true });
            }
            Update::RpcResult(result) => {
                self.console.pending = self.console.pending.saturating_sub(1);
                self.console.output.push(match result {
                    Ok(text) => ConsoleLine::Output(text),
                    Err(text) => ConsoleLine::Error(text),
                });
                self.console.scroll = 0;
                // Bounded: the oldest answers go first.
                let excess = self.console.output.len().saturating_sub(500);
                self.console.output.drain(..excess);
            }
            Update::Mining { done, total } => self.mining.running = Some((done, total)),
            Update::MiningDone { done, total, error } => {
                self.mining.running = None;
                let text = match error {
                    None => format!("Mined {done} blocks."),
                    Some(e) => format!("Mined {done} of {total} blocks: {e}"),
                };
                self.mining.last = Some(text.clone());
                self.info(text);
            }
            Update::Error(message) => self.error(message),
            Update::Info(message) => self.info(message),
            Update::Disconnected { peer: Peer::Node, message } => {
                self.node_lost = Some(message);
                self.send.pending = false;
                self.mining.running = None;
                self.console.pending = 0;
            }
            Update::Disconnected { peer: Peer::Wallet, message } => {
                self.wallet_lost = Some(message);
                self.send.pending = false;
            }
            Update::Reconnected => self.wallet_lost = None,
            Update::ShutdownDone { error } => {
                self.shutdown_error = error;
                self.finished = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(amount: &str, fee: &str) -> SendForm {
        SendForm {
            address: TextInput::with_text("bcrt1qxyz"),
            amount: TextInput::with_text(amount),
            fee_rate: TextInput::with_text(fee),
            ..SendForm::default()
        }
    }

    #[test]
    fn send_form_validates_exactly() {
        let ok = form("0.12345678", "").validate(None).expect("valid");
        assert_eq!(ok.amount, 12_345_678);
        assert_eq!(ok.fee_rate_sat_per_kvb, None);
        assert_eq!(form("1", "2.5").validate(None).expect("valid").fee_rate_sat_per_kvb, Some(2500));
        let errors = form("0.123456789", "").validate(None).unwrap_err();
        assert!(errors.amount.as_deref().is_some_and(|e| e.starts_with("Invalid amount")), "{errors:?}");
        let errors = form("21000001", "").validate(None).unwrap_err();
        assert!(errors.amount.as_deref().is_some_and(|e| e.starts_with("Amount out of range")));
        assert!(form("0", "").validate(None).unwrap_err().amount.is_some());
        assert!(form("1", "1.2345").validate(None).unwrap_err().fee_rate.is_some());
        assert!(form("1", "0").validate(None).unwrap_err().fee_rate.is_some());
        let balances = Balances { trusted: 100, ..Balances::default() };
        assert!(form("0.00000101", "").validate(Some(&balances)).unwrap_err().amount.is_some());
        assert!(form("0.000001", "").validate(Some(&balances)).is_ok());
        assert!(form("0.000001", "").validate(None).is_ok());
    }

    #[test]
    fn fee_rates_parse_to_sat_per_kvb() {
        assert_eq!(parse_fee_rate(""), Ok(None));
        assert_eq!(parse_fee_rate("1"), Ok(Some(1000)));
        assert_eq!(parse_fee_rate("0.001"), Ok(Some(1)));
        assert_eq!(parse_fee_rate("12.34"), Ok(Some(12_340)));
        for bad in ["x", "1.", ".5", "-1", "1e3", "99999999999999999999", "1000001"] {
            assert!(parse_fee_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_input_edits_at_the_cursor_with_multibyte_text() {
        let mut input = TextInput::with_text("äb");
        input.left();
        input.insert('ü');
        assert_eq!(input.text(), "äüb");
        input.home();
        input.delete();
        assert_eq!(input.text(), "üb");
        input.end();
        input.backspace();
        input.backspace();
        input.backspace();
        assert_eq!(input.text(), "");
        assert_eq!(input.cursor(), 0);
    }
}
