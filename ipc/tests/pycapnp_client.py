"""pycapnp (C++ Cap'n Proto under Python) as a Bitcoin Core-style IPC client.

Usage: pycapnp_client.py <socket path> <dir with init.capnp> <dir holding mp/proxy.capnp>

Loads our schemas (which state Bitcoin Core's file IDs, names and ordinals)
and calls Init the way Core's Python IPC tests do. Prints one line per check
and exits non-zero on the first failure.
"""

import asyncio
import os
import sys

import capnp


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        raise SystemExit(1)


async def main(sock, schema_dir, import_dir):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    imports = [import_dir, site]
    init_schema = capnp.load(os.path.join(schema_dir, "init.capnp"), imports=imports)

    stream = await capnp.AsyncIoStream.create_unix_connection(sock)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(init_schema.Init)
    thread_map = (await init.construct()).threadMap
    request = thread_map.makeThread_request()
    request.name = "pycapnp-main"
    thread = (await request.send()).result
    ctx = {"thread": thread}

    echo = (await init.makeEcho(context=ctx)).result
    check("Init.makeEcho + Echo.echo", (await echo.echo(context=ctx, echo="hello")).result == "hello")

    try:
        await init.makeMiningOld2()
        check("Init.makeMiningOld2 fails", False, "no error")
    except Exception as e:  # pycapnp raises KjException
        text = str(e)
        check("makeMiningOld2 is a remote exception", "remote exception: std::exception: " in text, text)
        check(
            "makeMiningOld2 message",
            "Old mining interface (@2) not supported. Please update your client!" in text,
            text,
        )

    mining = (await init.makeMining(context=ctx)).result
    check("Init.makeMining + Mining.isTestChain", (await mining.isTestChain(context=ctx)).result is True)

    rpc = (await init.makeRpc(context=ctx)).result
    answer = (await rpc.executeRpc(context=ctx, request='{"id":1}', uri="/", user="u")).result
    check("Init.makeRpc + Rpc.executeRpc", answer == '{"id":1}|/|u', answer)

    echo2 = (await init.makeEcho(context=ctx)).result
    await echo2.destroy(context=ctx)
    check("Echo.destroy", True)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        raise SystemExit(2)

    async def run():
        async with capnp.kj_loop():
            await main(*sys.argv[1:])

    asyncio.run(run())
    print("all checks passed")
