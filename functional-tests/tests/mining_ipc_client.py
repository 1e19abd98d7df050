"""A Stratum v2 template provider's use of a node's Mining interface (pycapnp), as Bitcoin
Core's clients drive `bitcoin-node -ipcbind=unix`.

Usage: mining_ipc_client.py <socket> <schema dir> <dir holding mp/proxy.capnp> <payout address>
       <payer wallet> <elsewhere address>

Creates a template, builds its own coinbase from getCoinbaseTx paying <payout address>, folds
the merkle path, grinds the nonce, submits (a bad nonce first: high-hash; then the solution; then
again: duplicate, accepted as Core answers), then waitTipChanged / waitNext across a new block and a fee rise (the blocks
and the payment made through Rpc.executeRpc on a second thread), timeouts, interruptWait,
interrupt, calls queued on one thread, checkBlock, lookups, and finally disconnects in the middle
of a waitNext. One line per check; exits non-zero on the first failure.
"""

import asyncio
import hashlib
import json
import os
import struct
import sys
import time

import capnp


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        raise SystemExit(1)


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def compact_size(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def push(data):
    assert len(data) < 0x4C
    return bytes([len(data)]) + data


CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def segwit_v0_script(address):
    """The scriptPubKey of a bech32 segwit v0 address (BIP173), checksum not verified."""
    data = [CHARSET.index(c) for c in address[address.rindex("1") + 1:-6]]
    acc, bits, program = 0, 0, []
    for value in data[1:]:
        acc = (acc << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            program.append((acc >> bits) & 0xFF)
    assert data[0] == 0
    return b"\x00" + push(bytes(program))


def coinbase_tx(cb, payout_script, extranonce):
    """The client's coinbase: (serialization with witness, txid)."""
    script_sig = bytes(cb.scriptSigPrefix) + push(struct.pack("<I", extranonce))
    outputs = [struct.pack("<q", cb.blockRewardRemaining) + compact_size(len(payout_script)) + payout_script]
    outputs += [bytes(o) for o in cb.requiredOutputs]
    body_in = compact_size(1) + b"\x00" * 32 + b"\xff" * 4 + compact_size(len(script_sig)) + script_sig
    body_in += struct.pack("<I", cb.sequence)
    body_out = compact_size(len(outputs)) + b"".join(outputs)
    version = struct.pack("<I", cb.version)
    lock = struct.pack("<I", cb.lockTime)
    stripped = version + body_in + body_out + lock
    witness = bytes(cb.witness)
    stack = compact_size(1) + compact_size(len(witness)) + witness if witness else compact_size(0)
    full = version + b"\x00\x01" + body_in + body_out + stack + lock
    return full, sha256d(stripped)


def fold(txid, path):
    h = txid
    for sibling in path:
        h = sha256d(h + bytes(sibling))
    return h


def meets_target(header):
    bits = struct.unpack("<I", header[72:76])[0]
    target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
    return int.from_bytes(sha256d(header), "little") <= target


def header_with(template_header, root, nonce):
    return template_header[:36] + root + template_header[68:76] + struct.pack("<I", nonce)


async def main(sock, schema_dir, import_dir, payout_address, payer, elsewhere):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    imports = [import_dir, site]
    init_schema = capnp.load(os.path.join(schema_dir, "init.capnp"), imports=imports)
    mining_schema = capnp.load(os.path.join(schema_dir, "mining.capnp"), imports=imports)
    stream = await capnp.AsyncIoStream.create_unix_connection(sock)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(init_schema.Init)
    thread_map = (await init.construct()).threadMap

    async def make_thread(name):
        request = thread_map.makeThread_request()
        request.name = name
        return {"thread": (await request.send()).result}

    ctx = await make_thread("pythread")
    rpc_ctx = await make_thread("pyrpc")
    mining = (await init.makeMining(context=ctx)).result
    rpc = (await init.makeRpc(context=rpc_ctx)).result

    async def call(method, params, wallet=None):
        request = json.dumps({"method": method, "params": params, "id": 1})
        uri = "/wallet/" + wallet if wallet else "/"
        reply = json.loads((await rpc.executeRpc(context=rpc_ctx, request=request, uri=uri, user="")).result)
        if reply.get("error") is not None:
            raise RuntimeError(reply["error"])
        return reply["result"]

    check("isTestChain", (await mining.isTestChain(context=ctx)).result is True)
    check("isInitialBlockDownload", (await mining.isInitialBlockDownload(context=ctx)).result is False)
    tip = await mining.getTip(context=ctx)
    height = await call("getblockcount", [])
    check("getTip", tip.hasResult and tip.result.height == height and len(tip.result.hash) == 32, tip.result)
    check("getTip hash", bytes(tip.result.hash)[::-1].hex() == await call("getbestblockhash", []))

    options = mining_schema.BlockCreateOptions.new_message()
    check("BlockCreateOptions defaults", (options.useMempool, options.blockReservedWeight,
                                          options.coinbaseOutputMaxAdditionalSigops) == (True, 8000, 400))
    template = (await mining.createNewBlock(context=ctx, options=options, cooldown=False)).result
    header = bytes((await template.getBlockHeader(context=ctx)).result)
    check("getBlockHeader", len(header) == 80 and header[4:36] == bytes(tip.result.hash))
    block = bytes((await template.getBlock(context=ctx)).result)
    check("getBlock", block[:80] == header and len(block) > 80)
    check("getTxFees", list((await template.getTxFees(context=ctx)).result) == [])
    check("getTxSigops", list((await template.getTxSigops(context=ctx)).result) == [])
    cb = (await template.getCoinbaseTx(context=ctx)).result
    check("getCoinbaseTx", bytes(cb.scriptSigPrefix) == push(struct.pack("<H", height + 1)[:1 if height + 1 < 128 else 2])
          and cb.blockRewardRemaining == 50 * 100_000_000 and len(cb.requiredOutputs) == 1
          and bytes(cb.requiredOutputs[0])[9:15] == bytes.fromhex("6a24aa21a9ed") and len(cb.witness) == 32,
          (bytes(cb.scriptSigPrefix).hex(), cb.blockRewardRemaining))
    path = list((await template.getCoinbaseMerklePath(context=ctx)).result)
    check("getCoinbaseMerklePath (coinbase only: empty)", path == [])

    payout = segwit_v0_script(payout_address)
    coinbase, txid = coinbase_tx(cb, payout, 1)
    root = fold(txid, path)
    nonces = range(0, 1 << 20)
    bad = next(n for n in nonces if not meets_target(header_with(header, root, n)))
    good = next(n for n in nonces if meets_target(header_with(header, root, n)))
    version, timestamp = struct.unpack("<I", header[0:4])[0], struct.unpack("<I", header[68:72])[0]

    res = await template.submitSolution(context=ctx, version=version, timestamp=timestamp, nonce=bad, coinbase=coinbase)
    check("submitSolution, nonce misses the target: high-hash", res.result is False and res.reason == "high-hash", res.reason)
    try:
        await template.submitSolutionOld7(context=ctx, version=version, timestamp=timestamp, nonce=good, coinbase=coinbase)
        check("submitSolutionOld7 fails", False, "no error")
    except Exception as e:
        check("submitSolutionOld7 tells the client to update",
              "Old submitSolution (@7) not supported. Please update your client!" in str(e), str(e))
    res = await template.submitSolution(context=ctx, version=version, timestamp=timestamp, nonce=good, coinbase=coinbase)
    check("submitSolution", res.result is True and res.reason == "", (res.reason, res.debug))
    new_hash = sha256d(header_with(header, root, good))
    new_tip = (await mining.getTip(context=ctx)).result
    check("the solved block is the tip", bytes(new_tip.hash) == new_hash and new_tip.height == height + 1)
    res = await template.submitSolution(context=ctx, version=version, timestamp=timestamp, nonce=good, coinbase=coinbase)
    # Core's SubmitBlock: a known block is "accepted" (true) with reason "duplicate".
    check("submitSolution again: duplicate", res.result is True and res.reason == "duplicate", res.reason)
    stale_coinbase, stale_txid = coinbase_tx(cb, payout, 2)
    stale_root = fold(stale_txid, path)
    stale = next(n for n in nonces if meets_target(header_with(header, stale_root, n)))
    res = await template.submitSolution(context=ctx, version=version, timestamp=timestamp, nonce=stale, coinbase=stale_coinbase)
    # Stored on a side branch with equal work: accepted (true), not connected ("inconclusive").
    check("a stale solution: inconclusive", res.result is True and res.reason == "inconclusive", res.reason)
    tip_after = (await mining.getTip(context=ctx)).result
    check("a stale solution leaves the tip", bytes(tip_after.hash) == new_hash)
    await template.destroy(context=ctx)

    # waitTipChanged: the current tip on timeout.
    res = await mining.waitTipChanged(context=ctx, currentTip=new_hash, timeout=50.0)
    check("waitTipChanged timeout answers the tip", bytes(res.result.hash) == new_hash)

    # waitNext across a new block: the blocks come through the Rpc on another server thread
    # (on the waiting one they would queue behind the wait).
    template = (await mining.createNewBlock(context=ctx, options=options, cooldown=False)).result
    wait_options = mining_schema.BlockWaitOptions.new_message()
    check("BlockWaitOptions defaults", wait_options.timeout > 1e300 and wait_options.feeThreshold == 2100000000000000)
    wait_options.timeout = 20000.0
    waiting = template.waitNext(context=ctx, options=wait_options)
    await asyncio.sleep(0.2)
    mined = (await call("generatetoaddress", [1, elsewhere]))[0]
    res = await waiting
    ok = res._has("result")
    next_header = bytes((await res.result.getBlockHeader(context=ctx)).result) if ok else b""
    check("waitNext: a template on the new tip", ok and next_header[4:36] == bytes.fromhex(mined)[::-1])
    template = res.result

    # waitNext across a fee rise.
    wait_options.feeThreshold = 1
    waiting = template.waitNext(context=ctx, options=wait_options)
    await asyncio.sleep(0.2)
    await call("sendtoaddress", [elsewhere, 1], wallet=payer)
    res = await waiting
    fees = list((await res.result.getTxFees(context=ctx)).result) if res._has("result") else []
    check("waitNext: a template when fees rise", len(fees) == 1 and fees[0] > 0, fees)
    template = res.result
    lookup = (await mining.getTransactionsByTxID(context=ctx, txids=[b"\x00" * 32])).result
    check("getTransactionsByTxID: unknown is empty", [bytes(t) for t in lookup] == [b""])

    # None on timeout and on interruptWait.
    wait_options.feeThreshold = 2100000000000000
    wait_options.timeout = 50.0
    res = await template.waitNext(context=ctx, options=wait_options)
    check("waitNext timeout: no template", not res._has("result"))
    wait_options.timeout = 60000.0
    started = time.monotonic()
    waiting = template.waitNext(context=ctx, options=wait_options)
    await asyncio.sleep(0.2)
    await template.interruptWait()
    res = await waiting
    check("interruptWait ends waitNext without a template", not res._has("result") and time.monotonic() - started < 10)

    # interrupt ends waitTipChanged.
    started = time.monotonic()
    waiting = mining.waitTipChanged(context=ctx, currentTip=bytes.fromhex(mined)[::-1], timeout=60000.0)
    await asyncio.sleep(0.2)
    await mining.interrupt()
    res = await waiting
    check("interrupt ends waitTipChanged", len(res.result.hash) == 0 and time.monotonic() - started < 10)

    # Several calls sent at once on one server thread queue and run in order.
    first = mining.waitTipChanged(context=ctx, currentTip=bytes.fromhex(mined)[::-1], timeout=300.0)
    second = mining.getTip(context=ctx)
    third = mining.isTestChain(context=ctx)
    results = await asyncio.gather(first, second, third)
    check("calls queued on one thread", bytes(results[0].result.hash) == bytes(results[1].result.hash)
          and results[2].result is True)

    # checkBlock: the template's own block without its proof of work.
    block = bytes((await template.getBlock(context=ctx)).result)
    check_options = mining_schema.BlockCheckOptions.new_message()
    check_options.checkPow = False
    res = await mining.checkBlock(context=ctx, block=block, options=check_options)
    check("checkBlock without PoW", res.result is True, (res.reason, res.debug))
    check_options.checkPow = True
    res = await mining.checkBlock(context=ctx, block=block, options=check_options)
    check("checkBlock with PoW", res.result is (res.reason == "") and res.reason in ("", "high-hash"), res.reason)

    # Gone in the middle of a wait: the node cancels the call.
    wait_options.timeout = 600000.0
    template.waitNext(context=ctx, options=wait_options)
    await asyncio.sleep(0.3)
    print("disconnecting during waitNext", flush=True)


asyncio.run(capnp.run(main(*sys.argv[1:7])))
