"""An independent implementation (pycapnp, over C++ KJ) talking to foo-server.

Usage: pycapnp_client.py <socket path> <dir with foo.capnp> <dir holding mp/proxy.capnp>

Exercises the conventions peers rely on (shared/WIRE.md section 1): construct
with a null ThreadMap, makeThread, Context.thread, FIFO order on one thread,
pool dispatch, and the errors for no thread / foreign thread handles.
Prints one line per check and exits non-zero on the first failure.
"""

import asyncio
import os
import sys
import time

import capnp


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        raise SystemExit(1)


async def connect(path, foo):
    stream = await capnp.AsyncIoStream.create_unix_connection(path)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(foo.FooInit)
    return client, init


async def make_thread(thread_map, name):
    # `name` clashes with a keyword of pycapnp's call helper: build the request.
    request = thread_map.makeThread_request()
    request.name = name
    return (await request.send()).result


async def expect_error(name, promise, needle):
    try:
        await promise
    except Exception as e:  # pycapnp raises KjException
        check(name, needle in str(e), str(e))
        return
    check(name, False, "no error")


async def main(sock, schema_dir, import_dir):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    foo = capnp.load(os.path.join(schema_dir, "foo.capnp"), imports=[import_dir, site])
    proxy = capnp.load(os.path.join(import_dir, "mp", "proxy.capnp"), imports=[import_dir, site])

    class PyThread(proxy.Thread.Server):
        """Our callback thread: the server calls back through it."""

        async def getName(self, **kwargs):
            return "pycapnp-callback"

    class SlowCallback(foo.FooCallback.Server):
        """Answers after a pause, so a request queued behind it must wait."""

        async def call(self, arg, **kwargs):
            await asyncio.sleep(0.3)
            return arg * 10

        async def destroy(self, **kwargs):
            pass

    client, init = await connect(sock, foo)
    constructed = await init.construct()  # no ThreadMap of our own: null
    thread_map = constructed.threadMap
    thread = await make_thread(thread_map, "pycapnp-main")
    check("thread name", (await thread.getName()).result == "pycapnp-main")
    ctx = {"thread": thread}

    obj = (await init.makeFoo(context=ctx)).result
    check("add on a mapped thread", (await obj.add(context=ctx, a=2, b=3)).result == 5)
    check("call without Context", (await obj.addOnLoop(a=40, b=2)).result == 42)
    echoed = (await obj.passStruct(context=ctx, arg={"name": "py", "numbers": [1, 2], "flag": True})).result
    check("struct", echoed.name == "py!" and list(echoed.numbers) == [2, 1] and not echoed.flag)

    # Three calls sent at once on one thread run in arrival order.
    order = []

    async def record(label, promise):
        await promise
        order.append(label)

    started = time.monotonic()
    await asyncio.gather(
        record("sleep", obj.sleep(context=ctx, ms=300)),
        record("add1", obj.add(context=ctx, a=1, b=1)),
        record("add2", obj.add(context=ctx, a=2, b=2)),
    )
    took = time.monotonic() - started
    check("FIFO on one thread", order == ["sleep", "add1", "add2"], order)
    check("queued, not run in parallel", took >= 0.29, f"{took:.3f}s")

    # A queued request must not run inside a running request that is
    # waiting for a callback: it waits its turn (FIFO), then runs.
    cb_ctx = {"thread": thread, "callbackThread": PyThread()}
    await obj.saveCallback(context=cb_ctx, cb=SlowCallback())
    order = []
    await asyncio.gather(
        record("callSaved", obj.callSaved(context=cb_ctx, arg=4)),
        record("add", obj.add(context=cb_ctx, a=1, b=2)),
    )
    check("FIFO while a request waits on a callback", order == ["callSaved", "add"], order)

    await expect_error(
        "implementation error text",
        obj.fail(context=ctx, message="out of cheese"),
        "std::exception: out of cheese",
    )
    await expect_error(
        "no thread and no pool",
        obj.add(context={}, a=1, b=1),
        "remote exception: std::exception: no thread specified and no pool configured",
    )
    await thread_map.makePool(count=2)
    check("pool dispatch", (await obj.add(context={}, a=3, b=4)).result == 7)

    # A thread made on another connection is not this connection's.
    other_client, other_init = await connect(sock, foo)
    other_map = (await other_init.construct()).threadMap
    foreign = await make_thread(other_map, "other")
    await expect_error("foreign thread handle", obj.add(context={"thread": foreign}, a=1, b=1), "invalid thread handle")
    check("server still serves", (await obj.add(context=ctx, a=5, b=5)).result == 10)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        raise SystemExit(2)

    async def run():
        async with capnp.kj_loop():
            await main(*sys.argv[1:])

    asyncio.run(run())
    print("all checks passed")
