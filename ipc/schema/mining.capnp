# The mining interface `Init.makeMining` (@3) returns. The file ID, the
# interface name and `isTestChain @0` are Bitcoin Core's
# `src/ipc/capnp/mining.capnp`, so a Core client's `isTestChain` call
# reaches us; Core's later methods (@1 and up) are not provided yet
# (placeholder until the mining issue).
@0xc77d03df6a41b505;

using Proxy = import "/mp/proxy.capnp";

interface Mining $Proxy.wrap("interfaces::Mining") {
  isTestChain @0 (context :Proxy.Context) -> (result :Bool);
}
