"""A Bitcoin Core-style IPC client (pycapnp) against a running node's node.sock.

Usage: node_socket_client.py <socket path> <dir with init.capnp> <dir holding mp/proxy.capnp>

Does what Bitcoin Core's Python IPC tests and bitcoin-cli -ipcconnect do first: construct
without a threadMap, makeThread, makeEcho + echo, makeRpc + executeRpc (a good call, an RPC
error, a request that is no JSON), makeMiningOld2's error. One line per check; exits non-zero
on the first failure.
"""

import asyncio
import json
import os
import sys

import capnp


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        raise SystemExit(1)


async def main(sock, schema_dir, import_dir):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    init_schema = capnp.load(os.path.join(schema_dir, "init.capnp"), imports=[import_dir, site])
    stream = await capnp.AsyncIoStream.create_unix_connection(sock)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(init_schema.Init)

    # Core's clients send construct with no threadMap of their own.
    thread_map = (await init.construct()).threadMap
    request = thread_map.makeThread_request()
    request.name = "pythread"
    thread = (await request.send()).result
    ctx = {"thread": thread}

    echo = (await init.makeEcho(context=ctx)).result
    check("makeEcho + echo", (await echo.echo(context=ctx, echo="hello node")).result == "hello node")

    rpc = (await init.makeRpc(context=ctx)).result
    request = json.dumps({"method": "getblockcount", "params": [], "id": 1})
    reply = json.loads((await rpc.executeRpc(context=ctx, request=request, uri="/", user="")).result)
    check("executeRpc getblockcount", reply.get("result") == int(sys.argv[4]) and reply.get("error") is None, reply)

    request = json.dumps({"method": "nosuchmethod", "params": [], "id": 2})
    reply = json.loads((await rpc.executeRpc(context=ctx, request=request, uri="/", user="")).result)
    check("RPC errors come back inside the reply", reply.get("error", {}).get("code") == -32601, reply)

    try:
        await rpc.executeRpc(context=ctx, request="{not json", uri="/", user="")
        check("executeRpc refuses what is no JSON", False, "no error")
    except Exception as e:
        check("executeRpc refuses what is no JSON", "invalid JSON received over IPC" in str(e), str(e))

    # The connection is still usable after that error.
    reply = json.loads((await rpc.executeRpc(context=ctx, request=request, uri="/", user="")).result)
    check("connection usable after an error", reply.get("id") == 2, reply)

    try:
        await init.makeMiningOld2()
        check("makeMiningOld2 fails", False, "no error")
    except Exception as e:
        check("makeMiningOld2 message", "Old mining interface (@2) not supported. Please update your client!" in str(e), str(e))

    await echo.destroy(context=ctx)
    check("Echo.destroy", True)


asyncio.run(capnp.run(main(sys.argv[1], sys.argv[2], sys.argv[3])))
