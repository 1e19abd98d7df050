//! Paying to an address: choose the fee rate, build with BDK's `TxBuilder`, sign with the
//! wallet's own signers, record and write the transaction, and only then broadcast it.
//!
//! Step by step ([`send`]):
//! 1. Fee rate: `fee_rate` if given (refused below the node's relay minimum), else the node's
//!    estimate for `conf_target` (default 6), else Core's regtest fallback fee, 20 sat/vB; never
//!    below the relay minimum.
//!
//! The whole of steps 2 and 3 holds the wallet's send lock (one payment at a time): a payment
//! that spends the change of the previous one is built only once that one is in the mempool, so
//! it is never broadcast first (the node would refuse it for missing inputs).
//! 2. Under the state lock (so two sends never pick the same coins): build (coins Core would not
//!    spend, untrusted unconfirmed and immature coinbase, are excluded; the imports' coins are
//!    handed to BDK's builder as "foreign" coins and chosen by the same coin selection as the
//!    wallet's own, see [`ImportsOptional`]), sign (BDK's signers for the wallet's inputs, then
//!    the imports' keys for theirs, [`crate::imports::Imports::sign`]), check the fee
//!    against Core's default `-maxtxfee` (0.10 BTC), add the transaction to the wallet as
//!    unconfirmed and write it to the file. A crash after this point loses nothing: the next load
//!    resubmits it. If the write fails, the transaction is marked evicted at once (the client gets
//!    the error; nothing is broadcast, nothing resubmitted later).
//! 3. Without the state lock (the node notifies on this thread, and callbacks run):
//!    `broadcast_transaction`. If the node refuses it, the wallet marks it evicted, so its coins
//!    are spendable again, and the error carries the node's reason.

use std::str::FromStr;

use std::collections::BTreeMap;

use bdk_wallet::coin_selection::{
    CoinSelectionAlgorithm, CoinSelectionResult, DefaultCoinSelectionAlgorithm, InsufficientFunds,
};
use bdk_wallet::error::CreateTxError;
use bdk_wallet::{SignOptions, WeightedUtxo};
use bitcoin::consensus::serialize;
use bitcoin::psbt;
use bitcoin::secp256k1::rand::RngCore;
use bitcoin::{Address, Amount, FeeRate, Network, OutPoint, Sequence, Transaction, Txid, Weight};
use interfaces::{Error, ErrorKind, RpcError};

use crate::imports::{Imports, PartId};
use crate::state::{now, Coin, Keyed, Owner, State};
use crate::store::TxNote;
use crate::sync::MAX_TX_FEE_SAT;
use crate::wallet::WalletInner;

/// The highest fee rate a payment may ask for, in sat/kvB: one virtual byte paying Core's default
/// `-maxtxfee` (0.10 BTC). Every transaction at a higher rate would exceed that fee; refusing it
/// up front also keeps the fee arithmetic (BDK's `rate * weight`, unchecked) far from overflow.
pub(crate) const MAX_FEE_RATE_SAT_PER_KVB: i64 = MAX_TX_FEE_SAT * 1000;

/// Core's error for a fee above `-maxtxfee`.
const MAX_FEE_EXCEEDED: &str = "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)";

/// Core's default `-txconfirmtarget`.
pub(crate) const DEFAULT_CONF_TARGET: u32 = 6;

/// Weight of a P2WPKH input's witness at most (item count, 73-byte signature, 33-byte key, and
/// their lengths).
const P2WPKH_WITNESS_WEIGHT: u64 = 109;

/// What to pay.
#[derive(Debug, Clone)]
pub(crate) struct SendRequest {
    /// Who is paid, in output order (one for `sendtoaddress`, several for `sendmany`).
    pub(crate) recipients: Vec<Recipient>,
    pub(crate) fee_rate_sat_per_kvb: Option<i64>,
    pub(crate) conf_target: Option<u32>,
    pub(crate) replaceable: Option<bool>,
    pub(crate) comment: String,
    pub(crate) comment_to: String,
}

/// One output of a payment.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub(crate) address: Address,
    pub(crate) amount: Amount,
    /// Whether this output pays (its share of) the fee (`subtractfeefrom`).
    pub(crate) subtract_fee: bool,
}

impl SendRequest {
    /// The total paid to the recipients.
    pub(crate) fn total(&self) -> Amount {
        self.recipients.iter().fold(Amount::ZERO, |sum, r| sum + r.amount)
    }
}

/// A broadcast payment.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) txid: Txid,
    /// Core's `fee_reason` for `sendtoaddress verbose=true`.
    pub(crate) fee_reason: &'static str,
}

/// A failed payment: the interface error and the bitcoind RPC code it maps to.
#[derive(Debug, Clone)]
pub(crate) struct SendError {
    pub(crate) code: i32,
    pub(crate) error: Error,
}

impl SendError {
    fn new(code: i32, kind: ErrorKind, message: impl Into<String>) -> SendError {
        SendError { code, error: Error::new(kind, message) }
    }

    fn insufficient(message: impl Into<String>) -> SendError {
        SendError::new(RpcError::WALLET_INSUFFICIENT_FUNDS, ErrorKind::InsufficientFunds, message)
    }
}

impl From<Error> for SendError {
    fn from(error: Error) -> SendError {
        SendError { code: RpcError::WALLET_ERROR, error }
    }
}

/// Parses `text` as an address of `network`; Core's error otherwise.
pub(crate) fn parse_address(text: &str, network: Network) -> interfaces::Result<Address> {
    Address::from_str(text)
        .ok()
        .and_then(|a| a.require_network(network).ok())
        .ok_or_else(|| Error::invalid_parameter(format!("Invalid Bitcoin address: {text}")))
}

/// Formats a fee rate in sat/kvB as Core's `CFeeRate::ToString(SAT_VB)`: `1.000 sat/vB`.
pub(crate) fn fee_rate_text(sat_per_kvb: i64) -> String {
    format!("{}.{:03} sat/vB", sat_per_kvb / 1000, (sat_per_kvb % 1000).abs())
}

/// Pays `request` from `wallet` (see the module docs).
pub(crate) fn send(wallet: &WalletInner, request: SendRequest) -> Result<Sent, SendError> {
    // Core's SendMoney refuses a wallet without private keys before it looks at the fee.
    if !wallet.with_state(|state| Ok(state.flags.private_keys_enabled))? {
        return Err(keys_disabled());
    }
    let relay_min = wallet.chain.relay_min_fee()?.max(1000);
    let (rate, fee_reason) = match request.fee_rate_sat_per_kvb {
        Some(rate) if rate < 0 => {
            return Err(SendError::new(
                RpcError::INVALID_PARAMETER,
                ErrorKind::InvalidParameter,
                "Invalid fee rate",
            ))
        }
        Some(rate) if rate < relay_min => {
            return Err(SendError::insufficient(format!(
                "Fee rate ({}) is lower than the minimum fee rate setting ({})",
                fee_rate_text(rate),
                fee_rate_text(relay_min)
            )))
        }
        Some(rate) => (rate, "PayTxFee set"),
        None => {
            let target = request.conf_target.unwrap_or(DEFAULT_CONF_TARGET);
            match wallet.chain.estimate_fee(target)? {
                Some(e) if e.sat_per_kvb >= relay_min => (e.sat_per_kvb, "Estimate"),
                Some(_) => (relay_min, "Minimum Required Fee"),
                None => match wallet.fallback_fee {
                    Some(rate) if rate >= relay_min => (rate, "Fallback fee"),
                    Some(_) => (relay_min, "Minimum Required Fee"),
                    // bitcoind's answer with -fallbackfee=0 and no estimate.
                    None => {
                        return Err(SendError::insufficient(
                            "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee.",
                        ))
                    }
                },
            }
        }
    };
    let _sending = wallet.send_lock.acquire()?;
    let (tx, changed) = wallet.with_state(|state| Ok(build_and_record(state, &request, rate)))??;
    let txid = tx.compute_txid();
    wallet.fire(&changed);
    tracing::info!(target: "wallet", wallet = %wallet.name, %txid, amount = %request.total(), "sending");

    match wallet.chain.broadcast_transaction(serialize(&tx), MAX_TX_FEE_SAT) {
        Ok(_) => {
            // In the mempool (a node in this process has notified it already; a remote one may
            // notify later): trusted from now on, so the next send may spend its change.
            let _ = wallet.with_state(|state| {
                state.set_in_mempool(txid, true);
                Ok(())
            });
            Ok(Sent { txid, fee_reason })
        }
        Err(e) if matches!(e.kind(), ErrorKind::Rejected | ErrorKind::InvalidParameter) => {
            tracing::warn!(target: "wallet", wallet = %wallet.name, %txid, reason = %e,
                "the node refused the transaction; its coins are spendable again");
            let changed = wallet.with_state(|state| {
                let changed = state.apply_evicted(txid, now());
                state.persist()?;
                Ok(changed)
            })?;
            wallet.fire(&changed);
            Err(SendError::new(RpcError::VERIFY_REJECTED, ErrorKind::Rejected, e.message()))
        }
        Err(e) => {
            // Possibly sent; kept in the wallet, resubmitted on the next load.
            tracing::warn!(target: "wallet", wallet = %wallet.name, %txid, error = %e, "broadcast failed");
            Err(SendError::from(e.context("broadcast")))
        }
    }
}

type Built = (Transaction, crate::state::Changed);

/// Core's error for a wallet created with `disable_private_keys`.
fn keys_disabled() -> SendError {
    SendError::new(
        RpcError::WALLET_ERROR,
        ErrorKind::Failed,
        "Error: Private keys are disabled for this wallet",
    )
}

fn build_and_record(state: &mut State, request: &SendRequest, rate: i64) -> Result<Built, SendError> {
    if !state.flags.private_keys_enabled {
        return Err(keys_disabled());
    }
    // Locked coins (lockunspent) are no candidates, imported ones included.
    let coins: Vec<Coin> =
        state.coins().into_iter().filter(|c| !state.is_locked(&c.output.outpoint)).collect();
    let unspendable = state.unspendable();
    // A blank wallet has no descriptors, so no coins: Core's coin selection finds nothing.
    let Some(Keyed { wallet, signers, imports, own_keychains, .. }) = state.keyed.as_mut() else {
        return Err(SendError::insufficient("Insufficient funds"));
    };
    if !*own_keychains {
        // Only imports, none of them active: no keychain to take change from (Core says the same
        // when it would need change).
        return Err(SendError::from(Error::failed(
            "Transaction needs a change address, but we can't generate it.",
        )));
    }
    let Some(signers) = signers.as_ref() else { return Err(keys_disabled()) };
    if rate > MAX_FEE_RATE_SAT_PER_KVB {
        // The RPC answers as Core does for such a rate (it fails the maximum-fee check, -6); to
        // an `interfaces::Wallet` caller it is an out-of-range parameter.
        return Err(SendError {
            code: RpcError::WALLET_INSUFFICIENT_FUNDS,
            error: Error::invalid_parameter(MAX_FEE_EXCEEDED),
        });
    }
    let sequence = match request.replaceable {
        Some(false) => Sequence::ENABLE_LOCKTIME_NO_RBF,
        _ => Sequence::ENABLE_RBF_NO_LOCKTIME,
    };
    let rate_u64 = u64::try_from(rate).unwrap_or(u64::MAX);
    let fee_rate = FeeRate::from_sat_per_kwu(rate_u64.div_ceil(4));
    let imported = imported_coins(&coins, wallet, imports)?;
    let outputs: Vec<(bitcoin::ScriptBuf, Amount)> =
        request.recipients.iter().map(|r| (r.address.script_pubkey(), r.amount)).collect();
    let payers: Vec<usize> =
        request.recipients.iter().enumerate().filter(|(_, r)| r.subtract_fee).map(|(i, _)| i).collect();

    let mut psbt = if !payers.is_empty() {
        // Pass 1: the coins that cover the amounts alone. Pass 2: the same coins, the paying
        // recipients receiving their amounts less the fee for that transaction's size, split
        // evenly (the first of them also pays what does not divide), as Core splits it.
        let first = {
            let mut b = wallet.build_tx().coin_selection(ImportsOptional::default());
            for (script, amount) in &outputs {
                b.add_recipient(script.clone(), *amount);
            }
            b.fee_absolute(Amount::ZERO).unspendable(unspendable).set_exact_sequence(sequence);
            offer(&mut b, &imported, sequence)?;
            b.finish().map_err(create_error)?
        };
        let inputs: Vec<OutPoint> = first.unsigned_tx.input.iter().map(|i| i.previous_output).collect();
        let witness_weight: u64 =
            inputs.iter().map(|o| imported.get(o).map_or(P2WPKH_WITNESS_WEIGHT, |c| c.weight.to_wu())).sum();
        let weight = first.unsigned_tx.weight().to_wu() + 2 + witness_weight;
        let fee = Amount::from_sat(rate_u64.saturating_mul(weight.div_ceil(4)).div_ceil(1000));
        let count = payers.len() as u64;
        let share = fee.to_sat() / count;
        let leftover = fee.to_sat() - share * count;
        let mut reduced = outputs.clone();
        for (n, index) in payers.iter().enumerate() {
            let (script, amount) = &mut reduced[*index];
            let pays = Amount::from_sat(share + if n == 0 { leftover } else { 0 });
            *amount =
                amount.checked_sub(pays).filter(|r| *r >= script.minimal_non_dust()).ok_or_else(|| {
                    SendError::insufficient("The transaction amount is too small to pay the fee")
                })?;
        }
        let own: Vec<OutPoint> = inputs.iter().filter(|o| !imported.contains_key(o)).copied().collect();
        let mut b = wallet.build_tx();
        b.add_utxos(&own)
            .map_err(|e| SendError::from(Error::failed(e.to_string())))?
            .manually_selected_only();
        for (script, amount) in reduced {
            b.add_recipient(script, amount);
        }
        b.fee_absolute(fee).set_exact_sequence(sequence);
        let chosen: BTreeMap<OutPoint, ImportedCoin> =
            imported.iter().filter(|(o, _)| inputs.contains(o)).map(|(o, c)| (*o, c.clone())).collect();
        offer(&mut b, &chosen, sequence)?;
        b.finish().map_err(create_error)?
    } else {
        let mut b = wallet.build_tx().coin_selection(ImportsOptional::default());
        for (script, amount) in outputs {
            b.add_recipient(script, amount);
        }
        b.fee_rate(fee_rate).unspendable(unspendable).set_exact_sequence(sequence);
        offer(&mut b, &imported, sequence)?;
        b.finish().map_err(create_error)?
    };

    // The wallet's own inputs: BDK signs and finalizes them. The imports' inputs: their keys.
    let own_done = wallet
        .sign_with_signers(&mut psbt, &[&signers.external, &signers.internal], SignOptions::default())
        .map_err(|e| SendError::from(Error::failed(format!("Signing transaction failed: {e}"))))?;
    if !own_done {
        let imported_inputs: Vec<(usize, PartId, u32)> = psbt
            .unsigned_tx
            .input
            .iter()
            .enumerate()
            .filter_map(|(n, i)| imported.get(&i.previous_output).map(|c| (n, c.part, c.index)))
            .collect();
        imports.sign(&mut psbt, &imported_inputs, wallet.secp_ctx()).map_err(SendError::from)?;
    }
    let finalized =
        psbt.inputs.iter().all(|i| i.final_script_sig.is_some() || i.final_script_witness.is_some());
    if !finalized {
        return Err(SendError::from(Error::failed("Signing transaction failed")));
    }
    let fee = psbt.fee().map_err(|e| SendError::from(Error::failed(e.to_string())))?;
    if fee.to_sat() > u64::try_from(MAX_TX_FEE_SAT).unwrap_or(u64::MAX) {
        return Err(SendError::insufficient(MAX_FEE_EXCEEDED));
    }
    let tx = psbt.extract_tx_unchecked_fee_rate();
    let txid = tx.compute_txid();
    // Record before broadcasting: BDK sees it as unconfirmed, its inputs as spent.
    let changed = state.apply_unconfirmed(tx.clone(), now());
    if state.transaction(txid).is_none() {
        return Err(SendError::from(Error::failed("the wallet did not take its own transaction")));
    }
    state.set_note(txid, TxNote { comment: request.comment.clone(), comment_to: request.comment_to.clone() });
    if let Err(e) = state.persist() {
        undo_unwritten(state, txid);
        return Err(SendError::from(e));
    }
    Ok((tx, changed))
}

/// An imported coin offered to coin selection.
#[derive(Debug, Clone)]
struct ImportedCoin {
    part: PartId,
    index: u32,
    input: psbt::Input,
    weight: Weight,
}

/// The imports' coins coin selection may use (spendable as Core counts it, keys at hand), with
/// what a PSBT needs to spend each.
fn imported_coins(
    coins: &[Coin],
    wallet: &bdk_wallet::Wallet,
    imports: &Imports,
) -> Result<BTreeMap<OutPoint, ImportedCoin>, SendError> {
    let mut out = BTreeMap::new();
    for coin in coins.iter().filter(|c| c.spendable()) {
        let Owner::Import(part, index) = coin.owner else { continue };
        if !imports.can_sign(part) || wallet.is_outpoint_locked(coin.output.outpoint) {
            continue;
        }
        let outpoint = coin.output.outpoint;
        let Some(prev) = wallet.tx_graph().get_tx(outpoint.txid) else { continue };
        let (input, weight) = imports.psbt_input(part, index, &prev, outpoint.vout)?;
        out.insert(outpoint, ImportedCoin { part, index, input, weight });
    }
    Ok(out)
}

/// Offers `coins` to the builder (BDK calls them foreign: its own keychains do not own them).
fn offer<Cs>(
    builder: &mut bdk_wallet::TxBuilder<'_, Cs>,
    coins: &BTreeMap<OutPoint, ImportedCoin>,
    sequence: Sequence,
) -> Result<(), SendError> {
    for (outpoint, coin) in coins {
        builder
            .add_foreign_utxo_with_sequence(*outpoint, coin.input.clone(), coin.weight, sequence)
            .map_err(|e| SendError::from(Error::failed(format!("an imported coin: {e}"))))?;
    }
    Ok(())
}

/// BDK's default coin selection, except that the coins BDK is handed as required (the imports'
/// coins, which it cannot list itself) are only candidates, like the wallet's own.
#[derive(Debug, Default)]
struct ImportsOptional(DefaultCoinSelectionAlgorithm);

impl CoinSelectionAlgorithm for ImportsOptional {
    fn coin_select<R: RngCore>(
        &self,
        required_utxos: Vec<WeightedUtxo>,
        optional_utxos: Vec<WeightedUtxo>,
        fee_rate: FeeRate,
        target_amount: Amount,
        drain_script: &bitcoin::Script,
        rand: &mut R,
    ) -> Result<CoinSelectionResult, InsufficientFunds> {
        let mut candidates = required_utxos;
        candidates.extend(optional_utxos);
        self.0.coin_select(Vec::new(), candidates, fee_rate, target_amount, drain_script, rand)
    }
}

/// Takes back a payment whose write failed (disk full, I/O error): the client is told it failed,
/// so it must not stay in the wallet, be written by a later write and be resubmitted on the next
/// load (a retried payment would then pay twice). It is marked evicted in memory at once (its
/// coins are spendable again); the eviction stays staged with the addition, so whichever write
/// succeeds next records both, and the file never holds the payment as pending.
fn undo_unwritten(state: &mut State, txid: Txid) {
    state.apply_evicted(txid, now());
    state.discard_pending_note(txid);
    if let Err(e) = state.persist() {
        tracing::warn!(target: "wallet", %txid, error = %e,
            "a payment that could not be written was undone in memory; the next write records it as evicted");
    }
}

fn create_error(e: CreateTxError) -> SendError {
    match e {
        CreateTxError::CoinSelection(_) | CreateTxError::NoUtxosSelected => {
            SendError::insufficient("Insufficient funds")
        }
        CreateTxError::OutputBelowDustLimit(_) => SendError::insufficient("Transaction amount too small"),
        other => SendError::from(Error::failed(format!("Error creating the transaction: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bdk_wallet::chain::BlockId;
    use bdk_wallet::KeychainKind;
    use bitcoin::hashes::Hash;
    use bitcoin::{Block, TxIn, TxOut};
    use interfaces::CreateWalletOptions;

    const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    const FUNDS: u64 = 100_000_000;

    /// A new wallet file at `path` whose first address received [`FUNDS`] in block 1.
    fn funded_state(path: &std::path::Path) -> State {
        let genesis = bitcoin::constants::genesis_block(Network::Regtest);
        let mut state = crate::loader::create_state(
            path,
            Network::Regtest,
            genesis.block_hash(),
            &CreateWalletOptions::default(),
        )
        .unwrap();
        let keyed = state.keyed_mut().unwrap();
        let address = keyed.wallet.reveal_next_address(KeychainKind::External).address;
        let funding = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint { txid: Txid::from_byte_array([1; 32]), vout: 0 },
                ..TxIn::default()
            }],
            output: vec![TxOut { value: Amount::from_sat(FUNDS), script_pubkey: address.script_pubkey() }],
        };
        let block = Block {
            header: bitcoin::block::Header {
                prev_blockhash: genesis.block_hash(),
                time: genesis.header.time + 1,
                ..genesis.header
            },
            txdata: vec![funding],
        };
        state.apply_block(&block, 1, BlockId { height: 0, hash: genesis.block_hash() }).unwrap();
        state.persist().unwrap();
        state
    }

    fn payment() -> SendRequest {
        SendRequest {
            recipients: vec![Recipient {
                address: parse_address(ELSEWHERE, Network::Regtest).unwrap(),
                amount: Amount::from_sat(FUNDS / 10),
                subtract_fee: false,
            }],
            fee_rate_sat_per_kvb: None,
            conf_target: None,
            replaceable: None,
            comment: "rent".into(),
            comment_to: String::new(),
        }
    }

    #[test]
    fn a_payment_whose_write_fails_is_undone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        let mut state = funded_state(&path);
        let funded = state.balances();
        assert_eq!(funded.trusted, 100_000_000);

        // The disk fills up: the client gets the error, the wallet keeps nothing of the payment.
        state.store.fail_writes(true);
        let e = build_and_record(&mut state, &payment(), 2_000).unwrap_err();
        assert_eq!(e.code, RpcError::WALLET_ERROR);
        assert!(e.error.message().starts_with("writing the wallet"), "{}", e.error);
        assert_eq!(state.balances(), funded, "its coin is spendable again");
        assert_eq!(state.transactions().len(), 1, "only the funding transaction");
        assert!(state.notes.is_empty());
        // A retry works once the disk has room again.
        state.store.fail_writes(false);
        let (paid, _) = build_and_record(&mut state, &payment(), 2_000).unwrap();
        assert_eq!(state.transactions().len(), 2);
        drop(state);
        let state = crate::loader::load_state(&path, Network::Regtest).unwrap();
        let pending: Vec<Txid> =
            state.transactions().iter().filter(|v| v.confirmed_in.is_none()).map(|v| v.txid).collect();
        assert_eq!(pending, [paid.compute_txid()], "only the retried payment is resubmitted");
    }

    #[test]
    fn a_payment_undone_in_memory_is_written_as_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        let mut state = funded_state(&path);
        state.store.fail_writes(true);
        build_and_record(&mut state, &payment(), 2_000).unwrap_err();
        // The disk recovers; the next write (of anything) records what is staged.
        state.store.fail_writes(false);
        state.set_label(ELSEWHERE.into(), "shop".into());
        state.persist().unwrap();
        drop(state);
        let state = crate::loader::load_state(&path, Network::Regtest).unwrap();
        assert_eq!(state.transactions().len(), 1, "the failed payment is not pending after a reload");
        assert_eq!(state.balances().trusted, 100_000_000);
    }

    /// Every supported imported script type, spent together in one payment: each input's
    /// scriptSig / witness is checked by miniscript's interpreter (signatures verified), since the
    /// node verifies only P2WPKH and P2PKH spends.
    #[test]
    fn imported_coins_of_every_type_are_selected_and_signed() {
        use crate::imports::{parse, Request};
        use bdk_wallet::miniscript::Interpreter;
        use bitcoin::sighash::Prevouts;

        let dir = tempfile::tempdir().unwrap();
        let genesis = bitcoin::constants::genesis_block(Network::Regtest);
        let mut state = crate::loader::create_state(
            &dir.path().join("wallet.sqlite"),
            Network::Regtest,
            genesis.block_hash(),
            &CreateWalletOptions::default(),
        )
        .unwrap();
        let wif = |n: u8| {
            let sk = bitcoin::secp256k1::SecretKey::from_slice(&[n; 32]).unwrap();
            bitcoin::PrivateKey::new(sk, Network::Regtest).to_wif()
        };
        let xprv = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
        let descriptors = [
            format!("pk({})", wif(1)),
            format!("pkh({})", wif(2)),
            format!("wpkh({})", wif(3)),
            format!("sh(wpkh({}))", wif(4)),
            format!("tr({})", wif(5)),
            format!("tr([d34db33f/86h/1h/0h]{xprv}/0/*)"),
        ];
        let keyed = state.keyed_mut().unwrap();
        let mut scripts = Vec::new();
        for d in &descriptors {
            let parsed = parse::parse_body(d, Network::Regtest).unwrap();
            let range = if parsed.ranged { (0, 3) } else { (0, 0) };
            let id = keyed
                .imports
                .add(Request { parsed, range, next_index: 0, internal: false, timestamp: 1 })
                .unwrap();
            scripts.push(keyed.imports.scripts(id)[0].clone());
        }
        let funding = Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: bitcoin::absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint { txid: Txid::from_byte_array([1; 32]), vout: 0 },
                ..TxIn::default()
            }],
            output: scripts
                .iter()
                .map(|spk| TxOut { value: Amount::from_sat(FUNDS), script_pubkey: spk.clone() })
                .collect(),
        };
        let block = Block {
            header: bitcoin::block::Header {
                prev_blockhash: genesis.block_hash(),
                time: genesis.header.time + 1,
                ..genesis.header
            },
            txdata: vec![funding.clone()],
        };
        state.apply_block(&block, 1, BlockId { height: 0, hash: genesis.block_hash() }).unwrap();
        assert_eq!(state.balances().trusted, 6 * 100_000_000);

        let mut request = payment();
        request.recipients[0].amount = Amount::from_sat(FUNDS * 6 - 100_000);
        let (tx, _) = build_and_record(&mut state, &request, 2_000).unwrap();
        assert_eq!(tx.input.len(), 6, "every imported coin is needed");
        let prevouts: Vec<TxOut> = tx
            .input
            .iter()
            .map(|i| funding.output[usize::try_from(i.previous_output.vout).unwrap()].clone())
            .collect();
        let secp = bitcoin::secp256k1::Secp256k1::new();
        for (n, input) in tx.input.iter().enumerate() {
            let spk = &prevouts[n].script_pubkey;
            let interpreter = Interpreter::from_txdata(
                spk,
                &input.script_sig,
                &input.witness,
                input.sequence,
                tx.lock_time,
            )
            .unwrap_or_else(|e| panic!("input {n} ({spk}): {e}"));
            let checked: Vec<_> = interpreter.iter(&secp, &tx, n, &Prevouts::All(&prevouts)).collect();
            assert!(
                !checked.is_empty() && checked.iter().all(Result::is_ok),
                "input {n} ({spk}): {checked:?}"
            );
        }
        assert!(state.balances().trusted < 100_000, "spent, change only");
    }

    #[test]
    fn addresses() {
        let ok = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
        assert!(parse_address(ok, Network::Regtest).is_ok());
        for bad in [
            "",
            "nope",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt081",
        ] {
            let e = parse_address(bad, Network::Regtest).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter);
            assert_eq!(e.message(), format!("Invalid Bitcoin address: {bad}"));
        }
    }

    #[test]
    fn fee_rate_texts() {
        assert_eq!(fee_rate_text(1000), "1.000 sat/vB");
        assert_eq!(fee_rate_text(500), "0.500 sat/vB");
        assert_eq!(fee_rate_text(20_000), "20.000 sat/vB");
        assert_eq!(fee_rate_text(1234), "1.234 sat/vB");
    }
}
