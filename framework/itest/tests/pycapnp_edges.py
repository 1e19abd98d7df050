"""pycapnp (C++ KJ underneath) at the edges where C++ libmultiprocess peers
found our processes behaving differently from theirs.

Usage:
  pycapnp_edges.py server <socket path> <dir with foo.capnp> <dir holding mp/proxy.capnp>
      Serves FooInit on the socket, with a ThreadMap of its own, to one
      client. Foo.destroy behaves like a C++ server's: it needs a thread
      in its Context (else it fails with `no thread specified and no pool
      configured`) and takes a while. Prints one line per event:
      `listening`, `destroy thread=<name> known=<True|False>`,
      `destroy without thread`, `destroy answered`, `disconnected`.
  pycapnp_edges.py chained|pipelined|errors <socket path> <dir with foo.capnp> <dir holding mp/proxy.capnp>
      Drives foo-server: `chained`: a destroy releases the object at once
      (chained destroys); `pipelined`: a Context.thread that is a pipelined
      makeThread result is accepted; `errors`: an error whose kind crosses
      to framework peers reads exactly as before (`remote exception:
      std::exception: <message>`). Prints one line per check, exits
      non-zero on a failure.
"""

import asyncio
import os
import sys

import capnp

# How long Foo.destroy takes on the server: a client that closes without
# waiting for the answer disconnects in the middle of it.
DESTROY_SECONDS = 0.5


def load(schema_dir, import_dir):
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    foo = capnp.load(os.path.join(schema_dir, "foo.capnp"), imports=[import_dir, site])
    proxy = capnp.load(os.path.join(import_dir, "mp", "proxy.capnp"), imports=[import_dir, site])
    return foo, proxy


def say(line):
    print(line, flush=True)


async def serve(sock, schema_dir, import_dir):
    foo, proxy = load(schema_dir, import_dir)
    made = set()

    class PyThread(proxy.Thread.Server):
        def __init__(self, name):
            self.name = name

        async def getName(self, **kwargs):
            return self.name

    class PyThreadMap(proxy.ThreadMap.Server):
        async def makeThread(self, name, _context, **kwargs):
            made.add(name)
            _context.results.result = PyThread(name)

    class PyFoo(foo.FooInterface.Server):
        async def destroy(self, context, **kwargs):
            try:
                name = (await context.thread.getName()).result
            except Exception:
                say("destroy without thread")
                raise Exception("no thread specified and no pool configured")
            say(f"destroy thread={name} known={name in made}")
            await asyncio.sleep(DESTROY_SECONDS)
            say("destroy answered")

        async def add(self, context, a, b, **kwargs):
            return a + b

    class PyInit(foo.FooInit.Server):
        def __init__(self):
            self.map = PyThreadMap()

        async def construct(self, threadMap, _context, **kwargs):
            _context.results.threadMap = self.map

        async def makeFoo(self, context, _context, **kwargs):
            _context.results.result = PyFoo()

        async def processId(self, **kwargs):
            return os.getpid()

    done = asyncio.Event()

    async def connected(stream):
        server = capnp.TwoPartyServer(stream, bootstrap=PyInit())
        await server.on_disconnect()
        say("disconnected")
        done.set()

    server = await capnp.AsyncIoStream.create_unix_server(connected, sock)
    say("listening")
    async with server:
        await done.wait()


def check(name, ok, detail=""):
    say(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""))
    if not ok:
        raise SystemExit(1)


async def drive(mode, sock, schema_dir, import_dir):
    foo, proxy = load(schema_dir, import_dir)
    stream = await capnp.AsyncIoStream.create_unix_connection(sock)
    client = capnp.TwoPartyClient(stream)
    init = client.bootstrap().cast_as(foo.FooInit)
    thread_map = (await init.construct()).threadMap

    async def make_thread(name):
        request = thread_map.makeThread_request()
        request.name = name
        return (await request.send()).result

    thread = await make_thread("pycapnp-main")
    ctx = {"thread": thread}
    if mode == "chained":
        await chained(foo, init, ctx)
    elif mode == "errors":
        await errors(init, ctx)
    else:
        await pipelined(proxy, init, thread_map, thread, ctx)


async def errors(init, ctx):
    obj = (await init.makeFoo(context=ctx)).result
    for kind in ("not-found", "already-exists", "invalid-input", "other"):
        try:
            await obj.failWith(context=ctx, kind=kind, message="no such wallet")
            check(f"{kind} fails", False, "it succeeded")
        except capnp.KjException as e:
            expected = "remote exception: std::exception: no such wallet"
            check(f"{kind}: the description is exactly the C++ one", e.description == expected, repr(e.description))
            check(f"{kind}: a failure", e.type == "FAILED", e.type)


async def chained(foo, init, ctx):
    # Chained destroys: destroying a Foo releases it now, and with it the
    # callback it saved, whose proxy destroys our callback object, all while
    # we still hold our reference to the Foo.
    destroyed = asyncio.Event()

    class Callback(foo.FooCallback.Server):
        async def call(self, arg, **kwargs):
            return arg

        async def destroy(self, **kwargs):
            destroyed.set()

    obj = (await init.makeFoo(context=ctx)).result
    await obj.saveCallback(context=ctx, cb=Callback())
    await obj.destroy(context=ctx)
    try:
        await asyncio.wait_for(destroyed.wait(), 5)
        chained = True
    except asyncio.TimeoutError:
        chained = False
    check("destroy releases the object, whose proxies send their destroy", chained)
    try:
        await obj.add(context=ctx, a=1, b=1)
        check("a call after destroy fails", False, "it succeeded")
    except Exception as e:
        check("a call after destroy fails", "destroyed" in str(e), str(e))



async def pipelined(proxy, init, thread_map, thread, ctx):
    # A Context.thread that is the pipelined result of a makeThread sent in
    # the same breath: the call waits for the thread, it is no foreign handle.
    obj = (await init.makeFoo(context=ctx)).result
    calls = []
    for i in range(20):
        request = thread_map.makeThread_request()
        request.name = f"piped-{i}"
        made = request.send()
        calls.append(obj.add(context={"thread": made.result}, a=i, b=1))
        calls.append(made)
    answers = await asyncio.gather(*calls, return_exceptions=True)
    failures = [str(a) for a in answers if isinstance(a, Exception)]
    sums = [a.result for a in answers[0::2] if not isinstance(a, Exception)]
    check("pipelined makeThread results are accepted as threads", not failures, failures[:3])
    check("and the calls ran", sums == [i + 1 for i in range(20)], sums)

    # The same, with the answer late for sure: the thread comes through a
    # ThreadMap of ours that answers with the server's own thread after a
    # pause, so the call arrives with a promise that resolves later.
    class LateMap(proxy.ThreadMap.Server):
        async def makeThread(self, name, _context, **kwargs):
            await asyncio.sleep(0.2)
            _context.results.result = thread

    request = proxy.ThreadMap._new_client(LateMap()).makeThread_request()
    request.name = "late"
    late = request.send()
    answer = await obj.add(context={"thread": late.result}, a=40, b=2)
    check("a thread that resolves later is waited for", answer.result == 42, answer.result)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("server", "chained", "pipelined", "errors"):
        print(__doc__)
        raise SystemExit(2)

    async def run():
        async with capnp.kj_loop():
            if sys.argv[1] == "server":
                await serve(*sys.argv[2:])
            else:
                await drive(*sys.argv[1:])

    asyncio.run(run())
    if sys.argv[1] != "server":
        say("all checks passed")
