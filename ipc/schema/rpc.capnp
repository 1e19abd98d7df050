# Bitcoin Core's `src/ipc/capnp/rpc.capnp` (see WIRE.md section 2): a whole
# JSON-RPC request text in, the response text out.
@0x9c3505dc45e146ac;

using Proxy = import "/mp/proxy.capnp";

interface Rpc $Proxy.wrap("interfaces::Rpc") {
  executeRpc @0 (context :Proxy.Context, request :Text, uri :Text, user :Text) -> (result :Text);
}
