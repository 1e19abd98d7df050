//! A Rust mining client as a pool's software would write it: capnpc-rust's types of the schema and
//! capnp-rpc directly, none of the framework's proxies, against the real `mpx-node` on its
//! socket. It mines a block the way a template provider does (coinbase from `getCoinbaseTx`,
//! merkle path, ground nonce, `submitSolution`) and times a new block reaching a `waitNext`.
//!
//! Needs the `mpx-node` binary next to this test's (`cargo build -p mpx-daemon` first).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{absolute, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use capnp_rpc::{rpc_twoparty_capnp, twoparty, RpcSystem};
use futures::task::LocalSpawnExt;
use ipc::{init_capnp, mining_capnp, rpc_capnp};

const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

/// A non-blocking unix stream for capnp-rpc on a single-threaded executor (it asks to be polled
/// again when the socket has nothing: fine for a test client).
struct Io(UnixStream);

impl futures::io::AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut().0.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }
}

impl futures::io::AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut().0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The node, killed when dropped.
struct Node {
    child: Child,
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node() -> Node {
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe.parent().and_then(|deps| deps.parent()).expect("target dir").join("mpx-node");
    assert!(bin.exists(), "{} is missing: cargo build -p mpx-daemon first", bin.display());
    let dir = tempfile::tempdir().expect("datadir");
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let child = Command::new(&bin)
        .arg(format!("-datadir={}", dir.path().display()))
        .arg(format!("-rpcport={port}"))
        .arg("-ipcbind=unix")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mpx-node starts");
    let socket = dir.path().join("regtest/node.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the node did not open its socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    Node { child, _dir: dir, socket }
}

type Failure = Box<dyn std::error::Error>;

#[test]
fn a_capnpc_rust_client_mines_a_block_through_the_socket() -> Result<(), Failure> {
    let node = start_node();
    let stream = UnixStream::connect(&node.socket)?;
    stream.set_nonblocking(true)?;
    let reader = Io(stream.try_clone()?);
    let network = twoparty::VatNetwork::new(
        futures::io::BufReader::new(reader),
        Io(stream),
        rpc_twoparty_capnp::Side::Client,
        Default::default(),
    );
    let mut rpc_system = RpcSystem::new(Box::new(network), None);
    let init: init_capnp::init::Client = rpc_system.bootstrap(rpc_twoparty_capnp::Side::Server);
    let mut pool = futures::executor::LocalPool::new();
    pool.spawner().spawn_local(async move {
        let _ = rpc_system.await;
    })?;
    pool.run_until(client(init))
}

async fn client(init: init_capnp::init::Client) -> Result<(), Failure> {
    // construct with no ThreadMap of ours, then a server thread for each of our two "threads".
    let thread_map = init.construct_request().send().promise.await?.get()?.get_thread_map()?;
    let make_thread = |name: &'static str| {
        let mut request = thread_map.make_thread_request();
        request.get().set_name(name);
        request.send().promise
    };
    let mining_thread = make_thread("rust-mining").await?.get()?.get_result()?;
    let rpc_thread = make_thread("rust-rpc").await?.get()?.get_result()?;

    let mut request = init.make_mining_request();
    request.get().init_context().set_thread(mining_thread.clone());
    let mining: mining_capnp::mining::Client = request.send().promise.await?.get()?.get_result()?;
    let mut request = init.make_rpc_request();
    request.get().init_context().set_thread(rpc_thread.clone());
    let rpc: rpc_capnp::rpc::Client = request.send().promise.await?.get()?.get_result()?;
    let execute = |method: &str, params: &str| {
        let mut request = rpc.execute_rpc_request();
        let mut p = request.get();
        p.reborrow().init_context().set_thread(rpc_thread.clone());
        p.set_request(format!(r#"{{"method":"{method}","params":{params},"id":1}}"#).as_str());
        p.set_uri("/");
        p.set_user("");
        request.send().promise
    };
    let reply = execute("generatetoaddress", &format!(r#"[1, "{ELSEWHERE}"]"#)).await?;
    assert!(reply.get()?.get_result()?.to_str()?.contains(r#""error":null"#));

    let mut request = mining.create_new_block_request();
    {
        let mut p = request.get();
        p.reborrow().init_context().set_thread(mining_thread.clone());
        p.set_cooldown(false);
        // The options' defaults come from the schema: an unset struct reads as them.
    }
    let template = request.send().promise.await?.get()?.get_result()?;

    let with_context =
        |mut ctx: framework::proxy_capnp::context::Builder<'_>| ctx.set_thread(mining_thread.clone());
    let mut request = template.get_coinbase_tx_request();
    with_context(request.get().init_context());
    let reply = request.send().promise.await?;
    let cb = reply.get()?.get_result()?;
    let mut request = template.get_coinbase_merkle_path_request();
    with_context(request.get().init_context());
    let path_reply = request.send().promise.await?;
    let path = path_reply.get()?.get_result()?;
    let mut request = template.get_block_request();
    with_context(request.get().init_context());
    let block_reply = request.send().promise.await?;
    let mut block: Block = deserialize(block_reply.get()?.get_result()?)?;
    assert_eq!(block.header.merkle_root, block.compute_merkle_root().ok_or("no root")?);

    // The coinbase: height prefix + 4 bytes of extranonce, the whole reward, the required outputs.
    let mut script_sig = cb.get_script_sig_prefix()?.to_vec();
    script_sig.extend_from_slice(&[4, 0xde, 0xad, 0xbe, 0xef]);
    let mut output = vec![TxOut {
        value: bitcoin::Amount::from_sat(u64::try_from(cb.get_block_reward_remaining())?),
        script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
    }];
    for required in cb.get_required_outputs()?.iter() {
        output.push(deserialize(required?)?);
    }
    let coinbase = Transaction {
        version: bitcoin::transaction::Version(i32::try_from(cb.get_version())?),
        lock_time: absolute::LockTime::from_consensus(cb.get_lock_time()),
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence(cb.get_sequence()),
            witness: Witness::from_slice(&[cb.get_witness()?]),
        }],
        output,
    };
    // The merkle path folds the coinbase into the root (the template has no other transaction
    // here, so the path is empty and the root is the coinbase txid).
    let mut root = coinbase.compute_txid().to_byte_array();
    for sibling in path.iter() {
        let mut both = root.to_vec();
        both.extend_from_slice(sibling?);
        root = bitcoin::hashes::sha256d::Hash::hash(&both).to_byte_array();
    }
    block.txdata[0] = coinbase.clone();
    assert_eq!(block.compute_merkle_root().ok_or("no root")?.to_byte_array(), root);
    block.header.merkle_root = bitcoin::TxMerkleNode::from_byte_array(root);
    while !block.header.target().is_met_by(block.block_hash()) {
        block.header.nonce += 1;
    }

    let mut request = template.submit_solution_request();
    {
        let mut p = request.get();
        p.reborrow().init_context().set_thread(mining_thread.clone());
        p.set_version(u32::from_ne_bytes(block.header.version.to_consensus().to_ne_bytes()));
        p.set_timestamp(block.header.time);
        p.set_nonce(block.header.nonce);
        p.set_coinbase(&serialize(&coinbase));
    }
    let reply = request.send().promise.await?;
    let r = reply.get()?;
    assert!(r.get_result(), "{:?} {:?}", r.get_reason()?.to_str(), r.get_debug()?.to_str());

    let mut request = mining.get_tip_request();
    request.get().init_context().set_thread(mining_thread.clone());
    let reply = request.send().promise.await?;
    let tip = reply.get()?;
    assert!(tip.get_has_result());
    assert_eq!(tip.get_result()?.get_hash()?, block.block_hash().to_byte_array());
    assert_eq!(tip.get_result()?.get_height(), 2);

    // A new block (mined through the Rpc on the other thread) reaches a waitNext in flight.
    let mut samples = Vec::new();
    let mut request = mining.create_new_block_request();
    request.get().init_context().set_thread(mining_thread.clone());
    let mut template = request.send().promise.await?.get()?.get_result()?;
    for _ in 0..20 {
        let mut request = template.wait_next_request();
        {
            let mut p = request.get();
            p.reborrow().init_context().set_thread(mining_thread.clone());
            p.init_options().set_timeout(30_000.0);
        }
        let waiting = request.send().promise;
        // Let the wait reach the node before the block is mined.
        let mut request = mining.is_test_chain_request();
        request.get().init_context().set_thread(rpc_thread.clone());
        request.send().promise.await?;
        let sent = Instant::now();
        let generate = execute("generatetoaddress", &format!(r#"[1, "{ELSEWHERE}"]"#));
        let (next, generated) = futures::future::join(
            async {
                let reply = waiting.await;
                (Instant::now(), reply)
            },
            generate,
        )
        .await;
        generated?;
        let (held, reply) = next;
        let reply = reply?;
        samples.push(held.duration_since(sent));
        template = reply.get()?.get_result()?;
    }
    samples.sort();
    eprintln!(
        "capnpc-rust client over the socket: generatetoaddress sent -> waitNext holds the next template: \
         median {:.3} ms, min {:.3} ms, max {:.3} ms ({} runs)",
        samples[samples.len() / 2].as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        samples.len()
    );
    let mut request = template.get_block_header_request();
    with_context(request.get().init_context());
    let reply = request.send().promise.await?;
    let header: bitcoin::block::Header = deserialize(reply.get()?.get_result()?)?;
    let mut request = mining.get_tip_request();
    request.get().init_context().set_thread(mining_thread.clone());
    let reply = request.send().promise.await?;
    assert_eq!(header.prev_blockhash.to_byte_array(), reply.get()?.get_result()?.get_hash()?);
    assert_eq!(reply.get()?.get_result()?.get_height(), 22);
    Ok(())
}
