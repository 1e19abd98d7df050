//! Mining benchmark (prints figures; not a test): `Mining.createNewBlock` with 0, 1000 and 5000
//! mempool transactions, and the latency from a new block to a `waitNext` client holding the
//! next template, both in process (the node's own `interfaces::Mining`, no IPC hop).
//!
//! ```sh
//! cargo run --release -p mpx-node --bin mining-bench
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey, Signing};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};
use interfaces::{BlockCreateOptions, BlockTemplate, BlockWaitOptions, Mining};
use node::mining::{assemble, grind, AssembleOptions, NodeMining};
use node::{ChainParams, ChainState, NodeState};

const OUTPUTS: usize = 5000;
const ROUNDS: usize = 30;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mining-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Wallet<C: Signing> {
    secp: Secp256k1<C>,
    secret: SecretKey,
    public: PublicKey,
    script: ScriptBuf,
}

impl<C: Signing> Wallet<C> {
    fn spend(&self, prevouts: &[(OutPoint, TxOut)], outputs: Vec<TxOut>) -> Result<Transaction, String> {
        let input = prevouts
            .iter()
            .map(|(p, _)| TxIn {
                previous_output: *p,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            })
            .collect();
        let mut tx = Transaction { version: Version::TWO, lock_time: LockTime::ZERO, input, output: outputs };
        let mut witnesses = Vec::new();
        {
            let mut cache = SighashCache::new(&tx);
            for (i, (_, prev)) in prevouts.iter().enumerate() {
                let sighash = cache
                    .p2wpkh_signature_hash(i, &prev.script_pubkey, prev.value, EcdsaSighashType::All)
                    .map_err(|e| e.to_string())?;
                let signature =
                    self.secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &self.secret);
                let sig = bitcoin::ecdsa::Signature { signature, sighash_type: EcdsaSighashType::All };
                witnesses.push(Witness::p2wpkh(&sig, &self.public));
            }
        }
        for (input, witness) in tx.input.iter_mut().zip(witnesses) {
            input.witness = witness;
        }
        Ok(tx)
    }
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    let min = samples.first().copied().unwrap_or_default();
    format!(
        "median {:.3} ms, min {:.3} ms, max {:.3} ms ({} runs)",
        ms(median),
        ms(min),
        ms(max),
        samples.len()
    )
}

fn run() -> Result<(), String> {
    let secp = Secp256k1::new();
    let secret = SecretKey::from_slice(&[7; 32]).map_err(|e| e.to_string())?;
    let public = secret.public_key(&secp);
    let script = ScriptBuf::new_p2wpkh(&CompressedPublicKey(public).wpubkey_hash());
    let wallet = Wallet { secp, secret, public, script };

    let mut chain = ChainState::new(ChainParams::regtest());
    for _ in 0..101 {
        chain.mine_block(&wallet.script, vec![]).map_err(|e| e.to_string())?;
    }
    // One coinbase fanned out into OUTPUTS coins, one per mempool transaction later.
    let first = chain.block_hash(1).and_then(|h| chain.block(&h)).ok_or("no block 1")?;
    let coinbase = first.txdata.first().ok_or("no coinbase")?;
    let coin = (OutPoint { txid: coinbase.compute_txid(), vout: 0 }, coinbase.output[0].clone());
    let each = coin.1.value.to_sat() / OUTPUTS as u64 - 1000;
    let fan_out = wallet.spend(
        std::slice::from_ref(&coin),
        (0..OUTPUTS)
            .map(|_| TxOut { value: Amount::from_sat(each), script_pubkey: wallet.script.clone() })
            .collect(),
    )?;
    chain.mine_block(&wallet.script, vec![fan_out.clone()]).map_err(|e| e.to_string())?;
    let node = Arc::new(NodeState::new(chain));
    let mining = NodeMining::new(node.clone());
    let options = BlockCreateOptions::default();

    println!("mining-bench: in process, {} CPUs", thread::available_parallelism().map_or(0, |n| n.get()));
    latency(&node, &mining, "empty mempool")?;

    let mut next = 0usize;
    for target in [0usize, 1000, 5000] {
        let start = Instant::now();
        while next < target {
            let prev =
                (OutPoint { txid: fan_out.compute_txid(), vout: next as u32 }, fan_out.output[next].clone());
            // Fees from 1 to 50 sat/vB so the selection has an order to find.
            let fee = 110 * (1 + (next as u64 * 7919) % 50);
            let tx = wallet.spend(
                &[prev],
                vec![TxOut { value: Amount::from_sat(each - fee), script_pubkey: wallet.script.clone() }],
            )?;
            node.submit_transaction(tx, None).map_err(|e| e.reject_reason())?;
            next += 1;
        }
        if target > 0 {
            println!("  (filled the mempool to {target} in {:.1} s)", start.elapsed().as_secs_f64());
        }
        let mut samples = Vec::new();
        let mut txs = 0;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let template =
                mining.create_new_block(options, false).map_err(|e| e.to_string())?.ok_or("none")?;
            samples.push(start.elapsed());
            txs = template.get_tx_fees().map_err(|e| e.to_string())?.len();
        }
        println!("createNewBlock, {target} mempool txs ({txs} in the template): {}", summary(samples));
    }
    latency(&node, &mining, "5000 mempool txs")?;
    Ok(())
}

/// A client waits in `waitNext`; a block (built beforehand, no mempool transactions, so the
/// pool stays as it is) is submitted; measured: from the submit call to the client holding the
/// new template, and the submit alone.
fn latency(node: &Arc<NodeState>, mining: &NodeMining, label: &str) -> Result<(), String> {
    let mut total = Vec::new();
    let mut submit = Vec::new();
    for _ in 0..ROUNDS {
        let template: Arc<dyn BlockTemplate> = Arc::from(
            mining
                .create_new_block(BlockCreateOptions::default(), false)
                .map_err(|e| e.to_string())?
                .ok_or("none")?,
        );
        let waiter = {
            let template = template.clone();
            thread::spawn(move || {
                let next = template.wait_next(BlockWaitOptions::default());
                (Instant::now(), next.map(|t| t.is_some()))
            })
        };
        let block = {
            let inner = node.lock();
            let options =
                AssembleOptions { use_mempool: false, ..AssembleOptions::paying_to(ScriptBuf::new()) };
            let mut block =
                assemble(&inner.chain, &inner.mempool, &options).map_err(|e| e.to_string())?.block;
            grind(&mut block, inner.chain.params().pow_limit).map_err(|e| e.to_string())?;
            block
        };
        thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        node.submit_block(block).map_err(|e| e.to_string())?;
        submit.push(start.elapsed());
        let (held, got) = waiter.join().map_err(|_| "the waiter panicked")?;
        if got != Ok(true) {
            return Err("waitNext returned no template".into());
        }
        total.push(held.duration_since(start));
    }
    println!("new tip -> waitNext holds the next template, {label}: {}", summary(total));
    println!("  of which submitting the block: {}", summary(submit));
    Ok(())
}
