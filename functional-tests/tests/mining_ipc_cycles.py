"""Many mining clients that each connect, create a template, start a waitNext and disconnect in
the middle of it (what a crashing or restarting template provider does).

Usage: mining_ipc_cycles.py <socket> <schema dir> <dir holding mp/proxy.capnp> <cycles>
Prints "done <cycles>" at the end; exits non-zero on the first failure.

With a fifth argument <threads per connection>, instead holds <cycles> connections open, each
with that many server threads waiting in waitNext on a template of its own, prints
"holding <total>", waits for a line on stdin (the test mines a block meanwhile), then prints
"woke <n>": how many waits returned a template for the new tip.
"""

import asyncio
import os
import sys

import capnp


async def cycle(init_schema, mining_schema, sock, n):
    stream = await capnp.AsyncIoStream.create_unix_connection(sock)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(init_schema.Init)
    thread_map = (await init.construct()).threadMap
    request = thread_map.makeThread_request()
    request.name = "cycle%d" % n
    ctx = {"thread": (await request.send()).result}
    mining = (await init.makeMining(context=ctx)).result
    options = mining_schema.BlockCreateOptions.new_message()
    template = (await mining.createNewBlock(context=ctx, options=options, cooldown=False)).result
    wait_options = mining_schema.BlockWaitOptions.new_message()
    wait_options.timeout = 600000.0
    pending = template.waitNext(context=ctx, options=wait_options)
    # Another call queued behind the wait on the same thread: it must be dropped with it.
    queued = template.getBlockHeader(context=ctx)
    await asyncio.sleep(0.01)
    client.close()
    stream.close()
    del pending, queued


async def hold(init_schema, mining_schema, sock, connections, per_connection):
    keep, waits = [], []
    for n in range(connections):
        stream = await capnp.AsyncIoStream.create_unix_connection(sock)
        client = capnp.TwoPartyClient(stream)
        init = client.bootstrap().cast_as(init_schema.Init)
        thread_map = (await init.construct()).threadMap
        keep.append((stream, client, init))
        for t in range(per_connection):
            request = thread_map.makeThread_request()
            request.name = "hold%d.%d" % (n, t)
            ctx = {"thread": (await request.send()).result}
            mining = (await init.makeMining(context=ctx)).result
            options = mining_schema.BlockCreateOptions.new_message()
            template = (await mining.createNewBlock(context=ctx, options=options, cooldown=False)).result
            wait_options = mining_schema.BlockWaitOptions.new_message()
            wait_options.timeout = 120000.0
            keep.append((mining, template))
            waits.append(template.waitNext(context=ctx, options=wait_options))
    print("holding %d" % len(waits), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results = await asyncio.gather(*waits)
    print("woke %d" % sum(1 for r in results if r._has("result")), flush=True)


async def main(sock, schema_dir, import_dir, cycles, per_connection):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    imports = [import_dir, site]
    init_schema = capnp.load(os.path.join(schema_dir, "init.capnp"), imports=imports)
    mining_schema = capnp.load(os.path.join(schema_dir, "mining.capnp"), imports=imports)
    if per_connection:
        await hold(init_schema, mining_schema, sock, cycles, per_connection)
        return
    for n in range(cycles):
        await cycle(init_schema, mining_schema, sock, n)
    print("done %d" % cycles, flush=True)


per = int(sys.argv[5]) if len(sys.argv) > 5 else 0
asyncio.run(capnp.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), per)))
