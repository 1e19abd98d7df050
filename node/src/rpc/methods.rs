//! The built-in methods: bitcoind's names, argument order, errors and result shapes.
//!
//! `getrawtransaction` finds mempool transactions, and, without a transaction index, confirmed
//! ones by scanning the active chain's blocks from the tip down (or only `blockhash` when given).

use std::str::FromStr;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{Address, Amount, Block, BlockHash, Network, ScriptBuf, Transaction, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::amount::{amount_from_value, amount_value};
use super::{CallResult, Dispatcher};
use crate::chain::ChainState;
use crate::mempool::MempoolError;
use crate::Inner;

/// One built-in method.
pub struct Builtin {
    /// Help category.
    pub category: &'static str,
    /// Method name.
    pub name: &'static str,
    /// Argument names in order (`name` required, `name?` optional is shown in the synopsis only).
    pub args: &'static [&'static str],
    /// Number of required arguments.
    pub required: usize,
    /// Help text after the synopsis.
    pub help: &'static str,
    /// The implementation.
    pub run: fn(&Dispatcher, &[Value]) -> CallResult,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtin").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Builtin {
    /// `name "arg" ( "optional" )`.
    pub fn synopsis(&self) -> String {
        let mut s = self.name.to_string();
        for (i, a) in self.args.iter().enumerate() {
            if i < self.required {
                s.push_str(&format!(" \"{a}\""));
            } else {
                s.push_str(&format!(" ( \"{a}\" )"));
            }
        }
        s
    }
}

macro_rules! builtin {
    ($cat:literal, $name:literal, [$($arg:literal),*], $req:literal, $help:literal, $run:path) => {
        Builtin { category: $cat, name: $name, args: &[$($arg),*], required: $req, help: $help, run: $run }
    };
}

/// Every built-in method, in `help` order.
pub static BUILTINS: &[Builtin] = &[
    builtin!("Blockchain", "getbestblockhash", [], 0, "Returns the hash of the best (tip) block.", getbestblockhash),
    builtin!("Blockchain", "getblock", ["blockhash", "verbosity"], 1, "Returns a block: verbosity 0 hex, 1 object with txids (default), 2 with decoded transactions.", getblock),
    builtin!("Blockchain", "getblockchaininfo", [], 0, "Returns an object with the state of the blockchain.", getblockchaininfo),
    builtin!("Blockchain", "getblockcount", [], 0, "Returns the height of the most-work fully-validated chain.", getblockcount),
    builtin!("Blockchain", "getblockhash", ["height"], 1, "Returns the hash of the block at height in the best chain.", getblockhash),
    builtin!("Blockchain", "getblockheader", ["blockhash", "verbose"], 1, "Returns a block header: verbose true (default) an object, false hex.", getblockheader),
    builtin!("Blockchain", "getchaintips", [], 0, "Returns the tips of the block tree.", getchaintips),
    builtin!("Blockchain", "getmempoolinfo", [], 0, "Returns details on the mempool.", getmempoolinfo),
    builtin!("Blockchain", "getrawmempool", ["verbose", "mempool_sequence"], 0, "Returns the txids in the mempool (verbose: an object by txid).", getrawmempool),
    builtin!("Control", "help", ["command"], 0, "Lists the commands, or shows help for one.", help),
    builtin!("Control", "stop", [], 0, "Requests a clean shutdown of the node.", stop),
    builtin!("Control", "uptime", [], 0, "Returns the seconds since the server started.", uptime),
    builtin!("Generating", "generateblock", ["output", "transactions", "submit"], 2, "Mines a block with the given transactions (txids from the mempool or raw hex) paying to output (an address).", generateblock),
    builtin!("Generating", "generatetoaddress", ["nblocks", "address", "maxtries"], 2, "Mines nblocks blocks paying to address; returns their hashes.", generatetoaddress),
    builtin!("Rawtransactions", "getrawtransaction", ["txid", "verbose", "blockhash"], 1, "Returns a transaction from the mempool or, without a txindex, from a scan of the active chain (or only blockhash).", getrawtransaction),
    builtin!("Rawtransactions", "sendrawtransaction", ["hexstring", "maxfeerate", "maxburnamount"], 1, "Submits a raw transaction to the mempool; maxfeerate in BTC/kvB (default 0.10, 0 no limit).", sendrawtransaction),
];

// ---- argument helpers ----

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(v: &Value, expected: &str) -> RpcError {
    RpcError::new(
        RpcError::TYPE_ERROR,
        format!("JSON value of type {} is not of expected type {expected}", type_name(v)),
    )
}

fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !v.is_null())
}

fn required<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a Value, RpcError> {
    arg(args, i).ok_or_else(|| {
        let synopsis =
            BUILTINS.iter().find(|b| b.name == name).map_or_else(|| name.to_string(), Builtin::synopsis);
        RpcError::new(RpcError::MISC_ERROR, synopsis)
    })
}

fn check_count(args: &[Value], name: &str) -> Result<(), RpcError> {
    let Some(b) = BUILTINS.iter().find(|b| b.name == name) else { return Ok(()) };
    if args.len() > b.args.len() {
        return Err(RpcError::new(RpcError::MISC_ERROR, b.synopsis()));
    }
    for i in 0..b.required {
        required(args, i, name)?;
    }
    Ok(())
}

fn as_str(v: &Value) -> Result<&str, RpcError> {
    v.as_str().ok_or_else(|| type_error(v, "string"))
}

fn as_i64(v: &Value) -> Result<i64, RpcError> {
    match v {
        Value::Number(n) => {
            n.as_i64().ok_or_else(|| RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range"))
        }
        _ => Err(type_error(v, "number")),
    }
}

fn as_bool(v: &Value) -> Result<bool, RpcError> {
    v.as_bool().ok_or_else(|| type_error(v, "bool"))
}

fn parse_hash<T: FromStr>(v: &Value, name: &str) -> Result<T, RpcError> {
    let s = as_str(v)?;
    if s.len() != 64 {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("{name} must be of length 64 (not {}, for '{s}')", s.len()),
        ));
    }
    s.parse().map_err(|_| {
        RpcError::new(RpcError::INVALID_PARAMETER, format!("{name} must be hexadecimal string (not '{s}')"))
    })
}

fn parse_address(v: &Value) -> Result<Address, RpcError> {
    let s = as_str(v)?;
    Address::from_str(s)
        .ok()
        .and_then(|a| a.require_network(Network::Regtest).ok())
        .ok_or_else(|| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Error: Invalid address"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

fn btc(amount: Amount) -> Value {
    amount_value(i64::try_from(amount.to_sat()).unwrap_or(i64::MAX))
}

/// Bitcoin Core's `GetDifficulty`: the target's ratio to the 0x1d00ffff one.
pub fn difficulty(bits: u32) -> f64 {
    let mut shift = (bits >> 24) & 0xff;
    let mantissa = f64::from(bits & 0x00ff_ffff);
    if mantissa == 0.0 {
        return 0.0;
    }
    let mut diff = f64::from(0x0000_ffffu32) / mantissa;
    while shift < 29 {
        diff *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        diff /= 256.0;
        shift -= 1;
    }
    diff
}

/// A real number as bitcoind prints one (UniValue: C++ stream, 16 significant digits, shortest
/// of fixed and scientific notation, e.g. `4.656542373906925e-10`), not Rust's shortest
/// round-trip form (`4.6565423739069247e-10`).
fn real_value(value: f64) -> Value {
    serde_json::Number::from_str(&format_16g(value)).map(Value::Number).unwrap_or(Value::Null)
}

/// C's `%.16g`.
fn format_16g(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".into();
    }
    let scientific = format!("{value:.15e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |digits: &str| -> String {
        if digits.contains('.') {
            digits.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            digits.to_string()
        }
    };
    if (-4..16).contains(&exponent) {
        let decimals = usize::try_from(15 - exponent).unwrap_or(0);
        trim(&format!("{value:.decimals$}"))
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.unsigned_abs())
    }
}

fn find_block<'a>(chain: &'a ChainState, hash: &BlockHash) -> Result<&'a Block, RpcError> {
    chain.block(hash).ok_or_else(|| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Block not found"))
}

// ---- JSON shapes ----

fn script_type(script: &bitcoin::Script) -> &'static str {
    if script.is_p2wpkh() {
        "witness_v0_keyhash"
    } else if script.is_p2pkh() {
        "pubkeyhash"
    } else if script.is_p2sh() {
        "scripthash"
    } else if script.is_p2wsh() {
        "witness_v0_scripthash"
    } else if script.is_p2tr() {
        "witness_v1_taproot"
    } else if script.is_op_return() {
        "nulldata"
    } else if script.is_p2pk() {
        "pubkey"
    } else {
        "nonstandard"
    }
}

/// A decoded transaction as `decoderawtransaction` / `getrawtransaction` verbose show it.
pub fn tx_json(tx: &Transaction) -> Value {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let witness: Vec<String> = i.witness.iter().map(hex).collect();
            let mut o = if tx.is_coinbase() {
                json!({"coinbase": hex(i.script_sig.as_bytes())})
            } else {
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "vout": i.previous_output.vout,
                    "scriptSig": {"asm": i.script_sig.to_asm_string(), "hex": hex(i.script_sig.as_bytes())},
                })
            };
            if !witness.is_empty() {
                o["txinwitness"] = json!(witness);
            }
            o["sequence"] = json!(i.sequence.0);
            o
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let mut spk = json!({
                "asm": o.script_pubkey.to_asm_string(),
                "desc": "",
                "hex": hex(o.script_pubkey.as_bytes()),
                "type": script_type(&o.script_pubkey),
            });
            if let Ok(address) = Address::from_script(&o.script_pubkey, Network::Regtest) {
                spk["address"] = json!(address.to_string());
            }
            if let Some(map) = spk.as_object_mut() {
                map.remove("desc");
            }
            json!({"value": btc(o.value), "n": n, "scriptPubKey": spk})
        })
        .collect();
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
    })
}

fn header_json(chain: &ChainState, hash: &BlockHash, block: &Block) -> Value {
    let height = chain.block_height(hash).unwrap_or(0);
    let active = chain.is_active(hash);
    let confirmations = if active { i64::from(chain.height()) - i64::from(height) + 1 } else { -1 };
    let h = &block.header;
    let mut o = json!({
        "hash": hash.to_string(),
        "confirmations": confirmations,
        "height": height,
        "version": h.version.to_consensus(),
        "versionHex": format!("{:08x}", h.version.to_consensus()),
        "merkleroot": h.merkle_root.to_string(),
        "time": h.time,
        "mediantime": chain.median_time_past_of(height),
        "nonce": h.nonce,
        "bits": format!("{:08x}", h.bits.to_consensus()),
        "difficulty": real_value(difficulty(h.bits.to_consensus())),
        "chainwork": chain.block_chain_work(hash).map(|w| hex(&w.to_be_bytes())).unwrap_or_default(),
        "nTx": block.txdata.len(),
    });
    if height > 0 {
        o["previousblockhash"] = json!(h.prev_blockhash.to_string());
    }
    if active {
        if let Some(next) = chain.block_hash(height.saturating_add(1)) {
            o["nextblockhash"] = json!(next.to_string());
        }
    }
    o
}

// ---- methods ----

fn getblockcount(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockcount")?;
    Ok(json!(d.node().lock().chain.height()))
}

fn getbestblockhash(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getbestblockhash")?;
    Ok(json!(d.node().lock().chain.tip().to_string()))
}

fn getblockhash(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockhash")?;
    let height = as_i64(required(args, 0, "getblockhash")?)?;
    let out_of_range = || RpcError::new(RpcError::INVALID_PARAMETER, "Block height out of range");
    let height = u32::try_from(height).map_err(|_| out_of_range())?;
    let hash = d.node().lock().chain.block_hash(height).ok_or_else(out_of_range)?;
    Ok(json!(hash.to_string()))
}

fn getblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblock")?;
    let hash: BlockHash = parse_hash(required(args, 0, "getblock")?, "blockhash")?;
    let verbosity = match arg(args, 1) {
        None => 1,
        Some(Value::Bool(b)) => i64::from(*b),
        Some(v) => as_i64(v)?,
    };
    let inner = d.node().lock();
    let block = find_block(&inner.chain, &hash)?;
    if verbosity <= 0 {
        return Ok(json!(hex(&serialize(block))));
    }
    let mut o = header_json(&inner.chain, &hash, block);
    o["strippedsize"] = json!(
        serialize(&block.header).len()
            + block.txdata.iter().map(|t| t.base_size()).sum::<usize>()
            + bitcoin::VarInt::from(block.txdata.len()).size()
    );
    o["size"] = json!(block.total_size());
    o["weight"] = json!(block.weight().to_wu());
    o["tx"] = if verbosity == 1 {
        json!(block.txdata.iter().map(|t| t.compute_txid().to_string()).collect::<Vec<_>>())
    } else {
        json!(block.txdata.iter().map(tx_json).collect::<Vec<_>>())
    };
    Ok(o)
}

fn getblockheader(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockheader")?;
    let hash: BlockHash = parse_hash(required(args, 0, "getblockheader")?, "blockhash")?;
    let verbose = arg(args, 1).map(as_bool).transpose()?.unwrap_or(true);
    let inner = d.node().lock();
    let block = find_block(&inner.chain, &hash)?;
    if !verbose {
        return Ok(json!(hex(&serialize(&block.header))));
    }
    Ok(header_json(&inner.chain, &hash, block))
}

fn getblockchaininfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockchaininfo")?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let tip = chain.tip();
    let bits = chain.header(&tip).map_or(0, |h| h.bits.to_consensus());
    let size_on_disk: usize = (0..=chain.height())
        .filter_map(|h| chain.block_hash(h).and_then(|b| chain.block(&b)).map(|b| b.total_size() + 8))
        .sum();
    Ok(json!({
        "chain": "regtest",
        "blocks": chain.height(),
        "headers": chain.height(),
        "bestblockhash": tip.to_string(),
        "bits": format!("{bits:08x}"),
        "difficulty": real_value(difficulty(bits)),
        "time": chain.header(&tip).map_or(0, |h| h.time),
        "mediantime": chain.median_time_past(),
        "verificationprogress": 1,
        "initialblockdownload": false,
        "chainwork": hex(&chain.chain_work().to_be_bytes()),
        "size_on_disk": size_on_disk,
        "pruned": false,
        "warnings": "",
    }))
}

fn getchaintips(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getchaintips")?;
    let inner = d.node().lock();
    Ok(json!([{
        "height": inner.chain.height(),
        "hash": inner.chain.tip().to_string(),
        "branchlen": 0,
        "status": "active",
    }]))
}

fn getmempoolinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getmempoolinfo")?;
    let inner = d.node().lock();
    let pool = &inner.mempool;
    let min = Amount::from_sat(crate::MIN_RELAY_FEE_SAT_PER_KVB);
    Ok(json!({
        "loaded": true,
        "size": pool.len(),
        "bytes": pool.total_vsize(),
        "usage": pool.entries().map(|(_, e)| e.tx.total_size()).sum::<usize>(),
        "total_fee": btc(pool.total_fee()),
        "maxmempool": 300_000_000,
        "mempoolminfee": btc(min),
        "minrelaytxfee": btc(min),
        "incrementalrelayfee": btc(min),
        "unbroadcastcount": 0,
        "fullrbf": false,
    }))
}

fn mempool_entry_json(inner: &Inner, txid: &Txid) -> Value {
    let pool = &inner.mempool;
    let Some(entry) = pool.get(txid) else { return Value::Null };
    let depends: Vec<String> = entry
        .tx
        .input
        .iter()
        .map(|i| i.previous_output.txid)
        .filter(|t| pool.contains(t))
        .map(|t| t.to_string())
        .collect();
    let spentby: Vec<String> = (0..entry.tx.output.len())
        .filter_map(|vout| {
            let vout = u32::try_from(vout).ok()?;
            pool.spender(&bitcoin::OutPoint { txid: *txid, vout })
        })
        .map(|t| t.to_string())
        .collect();
    json!({
        "vsize": entry.vsize,
        "weight": entry.tx.weight().to_wu(),
        "time": entry.time,
        "height": inner.chain.height(),
        "descendantcount": 1,
        "ancestorcount": 1,
        "wtxid": entry.tx.compute_wtxid().to_string(),
        "fees": {"base": btc(entry.fee), "modified": btc(entry.fee), "ancestor": btc(entry.fee), "descendant": btc(entry.fee)},
        "depends": depends,
        "spentby": spentby,
        "bip125-replaceable": false,
        "unbroadcast": false,
    })
}

fn getrawmempool(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrawmempool")?;
    let verbose = arg(args, 0).map(as_bool).transpose()?.unwrap_or(false);
    let inner = d.node().lock();
    if !verbose {
        return Ok(json!(inner.mempool.txids().iter().map(ToString::to_string).collect::<Vec<_>>()));
    }
    let mut map = serde_json::Map::new();
    for txid in inner.mempool.txids() {
        map.insert(txid.to_string(), mempool_entry_json(&inner, txid));
    }
    Ok(Value::Object(map))
}

fn sendrawtransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "sendrawtransaction")?;
    let hexstring = as_str(required(args, 0, "sendrawtransaction")?)?;
    let decode_failed = || {
        RpcError::new(
            RpcError::DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    };
    let tx: Transaction = unhex(hexstring).and_then(|b| deserialize(&b).ok()).ok_or_else(decode_failed)?;
    let max_rate = match arg(args, 1) {
        None => Amount::from_sat(10_000_000),
        Some(value) => Amount::from_sat(amount_from_value(value)?.unsigned_abs()),
    };
    let max_fee = (max_rate > Amount::ZERO)
        .then(|| Amount::from_sat(max_rate.to_sat().saturating_mul(tx.vsize() as u64) / 1000));
    let txid = tx.compute_txid();
    {
        let inner = d.node().lock();
        if inner.mempool.contains(&txid) {
            return Ok(json!(txid.to_string()));
        }
        let in_utxos = (0..tx.output.len())
            .filter_map(|v| u32::try_from(v).ok())
            .any(|vout| inner.chain.utxos().get(&bitcoin::OutPoint { txid, vout }).is_some());
        if in_utxos {
            return Err(RpcError::new(
                RpcError::VERIFY_ALREADY_IN_CHAIN,
                "Transaction outputs already in utxo set",
            ));
        }
    }
    match d.node().submit_transaction(tx, max_fee) {
        Ok(txid) => Ok(json!(txid.to_string())),
        Err(e) => Err(mempool_rpc_error(&e)),
    }
}

/// bitcoind's code and message for a refused transaction.
pub fn mempool_rpc_error(e: &MempoolError) -> RpcError {
    match e {
        MempoolError::MaxFeeExceeded { .. } => RpcError::new(
            RpcError::VERIFY_ERROR,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        ),
        MempoolError::Invalid(crate::BlockError::MissingOrSpent { .. }) => {
            RpcError::new(RpcError::VERIFY_ERROR, "bad-txns-inputs-missingorspent")
        }
        other => RpcError::new(RpcError::VERIFY_REJECTED, other.reject_reason()),
    }
}

fn getrawtransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrawtransaction")?;
    let txid: Txid = parse_hash(required(args, 0, "getrawtransaction")?, "parameter 1")?;
    let verbose = match arg(args, 1) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => as_i64(v)? != 0,
    };
    let blockhash: Option<BlockHash> = arg(args, 2).map(|v| parse_hash(v, "parameter 3")).transpose()?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let found: Option<(Transaction, Option<BlockHash>)> = if let Some(bh) = blockhash {
        let block = find_block(chain, &bh)?;
        block.txdata.iter().find(|t| t.compute_txid() == txid).map(|t| (t.clone(), Some(bh)))
    } else if let Some(entry) = inner.mempool.get(&txid) {
        Some((entry.tx.clone(), None))
    } else {
        (0..=chain.height()).rev().find_map(|h| {
            let bh = chain.block_hash(h)?;
            let block = chain.block(&bh)?;
            block.txdata.iter().find(|t| t.compute_txid() == txid).map(|t| (t.clone(), Some(bh)))
        })
    };
    let Some((tx, in_block)) = found else {
        let message = if blockhash.is_some() {
            "No such transaction found in the provided block. Use gettransaction for wallet transactions."
        } else {
            "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."
        };
        return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, message));
    };
    if !verbose {
        return Ok(json!(hex(&serialize(&tx))));
    }
    let mut o = tx_json(&tx);
    o["hex"] = json!(hex(&serialize(&tx)));
    if let Some(bh) = in_block {
        let height = chain.block_height(&bh).unwrap_or(0);
        o["blockhash"] = json!(bh.to_string());
        o["in_active_chain"] = json!(chain.is_active(&bh));
        o["confirmations"] = json!(i64::from(chain.height()) - i64::from(height) + 1);
        if let Some(h) = chain.header(&bh) {
            o["time"] = json!(h.time);
            o["blocktime"] = json!(h.time);
        }
    }
    Ok(o)
}

fn generatetoaddress(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generatetoaddress")?;
    let nblocks = as_i64(required(args, 0, "generatetoaddress")?)?;
    let address = parse_address(required(args, 1, "generatetoaddress")?)?;
    if let Some(v) = arg(args, 2) {
        as_i64(v)?;
    }
    let count = u32::try_from(nblocks.max(0)).unwrap_or(u32::MAX).min(10_000);
    let hashes = d
        .node()
        .generate(&address.script_pubkey(), count)
        .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
    Ok(json!(hashes.iter().map(ToString::to_string).collect::<Vec<_>>()))
}

fn generateblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generateblock")?;
    let output = required(args, 0, "generateblock")?;
    let script: ScriptBuf = parse_address(output)
        .map_err(|_| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Error: Invalid address or descriptor"))?
        .script_pubkey();
    let list = required(args, 1, "generateblock")?;
    let items = list.as_array().ok_or_else(|| type_error(list, "array"))?;
    let submit = arg(args, 2).map(as_bool).transpose()?.unwrap_or(true);
    let mut txs = Vec::with_capacity(items.len());
    {
        let inner = d.node().lock();
        for item in items {
            let s = as_str(item)?;
            if let Ok(txid) = Txid::from_str(s) {
                let entry = inner.mempool.get(&txid).ok_or_else(|| {
                    RpcError::new(
                        RpcError::INVALID_ADDRESS_OR_KEY,
                        format!("Transaction {s} not in mempool."),
                    )
                })?;
                txs.push(entry.tx.clone());
            } else {
                let tx: Transaction = unhex(s).and_then(|b| deserialize(&b).ok()).ok_or_else(|| {
                    RpcError::new(
                        RpcError::DESERIALIZATION_ERROR,
                        format!("Transaction decode failed for {s}"),
                    )
                })?;
                txs.push(tx);
            }
        }
    }
    let verify_error = |e: crate::BlockError| {
        RpcError::new(RpcError::VERIFY_ERROR, format!("TestBlockValidity failed: {}", e.reject_reason()))
    };
    if !submit {
        let block = d.node().lock().chain.create_block(&script, txs).map_err(verify_error)?;
        return Ok(json!({"hash": block.block_hash().to_string(), "hex": hex(&serialize(&block))}));
    }
    let hash = d.node().generate_block(&script, txs).map_err(verify_error)?;
    Ok(json!({"hash": hash.to_string()}))
}

fn uptime(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "uptime")?;
    Ok(json!(d.node().uptime()))
}

fn stop(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "stop")?;
    d.node().request_shutdown();
    Ok(json!("mpx-node stopping"))
}

fn help(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "help")?;
    if let Some(v) = arg(args, 0) {
        let name = as_str(v)?;
        return Ok(json!(d.method_help(name).unwrap_or_else(|| format!("help: unknown command: {name}"))));
    }
    let mut list = d.method_list();
    list.sort_by_key(|(cat, name, _)| (cat.to_lowercase(), name.clone()));
    let mut text = String::new();
    let mut category = String::new();
    for (cat, _, synopsis) in list {
        if !cat.eq_ignore_ascii_case(&category) {
            if !text.is_empty() {
                text.push('\n');
            }
            // Core's categories are lowercase names shown capitalised ("wallet" -> "Wallet").
            let mut heading = cat.chars();
            let first = heading.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            text.push_str(&format!("== {first}{} ==\n", heading.as_str()));
            category = cat;
        }
        text.push_str(&synopsis);
        text.push('\n');
    }
    Ok(json!(text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regtest_difficulty_matches_core() {
        assert!((difficulty(0x207f_ffff) - 4.656_542_373_906_925e-10).abs() < 1e-20);
        assert!((difficulty(0x1d00_ffff) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn reals_print_like_univalue() {
        assert_eq!(format_16g(difficulty(0x207f_ffff)), "4.656542373906925e-10");
        assert_eq!(format_16g(1.0), "1");
        assert_eq!(format_16g(0.0), "0");
        assert_eq!(format_16g(0.5), "0.5");
        assert_eq!(format_16g(1234.5678), "1234.5678");
        assert_eq!(format_16g(0.0001), "0.0001");
        assert_eq!(format_16g(0.00001), "1e-05");
        assert_eq!(format_16g(1e16), "1e+16");
        assert_eq!(format_16g(-2.5e-7), "-2.5e-07");
        assert_eq!(real_value(1.0).to_string(), "1");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 255])), Some(vec![0, 1, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
