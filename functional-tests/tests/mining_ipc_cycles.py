"""Many mining clients that each connect, create a template, start a waitNext and disconnect in
the middle of it (what a crashing or restarting template provider does).

Usage: mining_ipc_cycles.py <socket> <schema dir> <dir holding mp/proxy.capnp> <cycles>
Prints "done <cycles>" at the end; exits non-zero on the first failure.
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


async def main(sock, schema_dir, import_dir, cycles):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    imports = [import_dir, site]
    init_schema = capnp.load(os.path.join(schema_dir, "init.capnp"), imports=imports)
    mining_schema = capnp.load(os.path.join(schema_dir, "mining.capnp"), imports=imports)
    for n in range(cycles):
        await cycle(init_schema, mining_schema, sock, n)
    print("done %d" % cycles, flush=True)


asyncio.run(capnp.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))))
