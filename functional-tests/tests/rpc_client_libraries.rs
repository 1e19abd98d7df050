//! The node as the RPC client libraries people use see it. `bitcoincore-rpc` (the crate BDK's
//! bitcoind emitter builds on) refuses chunked replies and needs bitcoind's result shapes: here it
//! fetches a ~0.9 MB block (a 1.8 MB hex reply) and its transaction from the real `mpx-node`.

use bitcoin::hashes::Hash as _;
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    absolute::LockTime, transaction::Version, Address, Amount, BlockHash, CompressedPublicKey, Network,
    OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use bitcoincore_rpc::RpcApi;
use functional_tests::TestFramework;
use serde_json::json;

/// Outputs of the large transaction: 28,000 P2WPKH outputs are ~0.87 MB, under the block weight
/// limit with room for the coinbase.
const OUTPUTS: usize = 28_000;

#[test]
fn bitcoincore_rpc_fetches_a_large_block_and_transaction() {
    let mut test = TestFramework::new("rpc_client_bitcoincore_rpc", 1);
    test.start_all();
    let node = &test.nodes[0];

    let secp = Secp256k1::new();
    let secret = SecretKey::from_slice(&[7u8; 32]).expect("key");
    let public = PublicKey::from_secret_key(&secp, &secret);
    let script = ScriptBuf::new_p2wpkh(&CompressedPublicKey(public).wpubkey_hash());
    let address = Address::from_script(&script, Network::Regtest).expect("address").to_string();
    node.call("generatetoaddress", json!([101, address]));

    // Spend block 1's coinbase into many small outputs, signed here.
    let block1 = node.call("getblockhash", json!([1]));
    let coinbase_txid = node.call("getblock", json!([block1]))["tx"][0].as_str().expect("txid").to_string();
    let coinbase_txid: Txid = coinbase_txid.parse().expect("txid");
    let spent = TxOut { value: Amount::from_btc(50.0).expect("amount"), script_pubkey: script.clone() };
    let each = Amount::from_sat(1_000);
    let mut outputs = vec![TxOut { value: each, script_pubkey: script.clone() }; OUTPUTS];
    let fee = Amount::from_sat(1_000_000);
    outputs.push(TxOut { value: spent.value - each * OUTPUTS as u64 - fee, script_pubkey: script.clone() });
    let mut tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid: coinbase_txid, vout: 0 },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: outputs,
    };
    let sighash = SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, &script, spent.value, EcdsaSighashType::All)
        .expect("sighash");
    let signature = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &secret);
    let signature = bitcoin::ecdsa::Signature { signature, sighash_type: EcdsaSighashType::All };
    tx.input[0].witness = Witness::p2wpkh(&signature, &public);
    let raw = bitcoin::consensus::encode::serialize_hex(&tx);
    let made = node.call("generateblock", json!([address, [raw]]));
    let hash: BlockHash = made["hash"].as_str().expect("hash").parse().expect("block hash");

    // The library's own HTTP transport and types, with the node's cookie.
    let url = format!("http://127.0.0.1:{}", node.rpc_port());
    let client = bitcoincore_rpc::Client::new(&url, bitcoincore_rpc::Auth::CookieFile(node.cookie_file()))
        .expect("client");
    assert_eq!(client.get_block_count().expect("getblockcount"), 102);
    assert_eq!(client.get_best_block_hash().expect("getbestblockhash"), hash);
    let block = client.get_block(&hash).expect("getblock of a large block");
    let size = bitcoin::consensus::encode::serialize(&block).len();
    assert!(size > 850_000, "the block is {size} bytes");
    assert_eq!(block.txdata.len(), 2);
    assert_eq!(block.txdata[1].compute_txid(), tx.compute_txid());
    let fetched = client.get_raw_transaction(&tx.compute_txid(), Some(&hash)).expect("getrawtransaction");
    assert_eq!(fetched, tx);
    let header = client.get_block_header_info(&hash).expect("getblockheader");
    assert_eq!((header.height, header.confirmations), (102, 1));
}
