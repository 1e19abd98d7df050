# The bootstrap interface. File ID, names and ordinals @0-@4 are Bitcoin
# Core's `src/ipc/capnp/init.capnp` (see WIRE.md section 2); @5-@7 follow
# Core's unmerged multiprocess branch.
@0xf2c5cfa319406aa6;

using Proxy = import "/mp/proxy.capnp";
using Echo = import "echo.capnp";
using Mining = import "mining.capnp";
using Rpc = import "rpc.capnp";
using Chain = import "chain.capnp";
using Node = import "node.capnp";
using Wallet = import "wallet.capnp";

interface Init $Proxy.wrap("interfaces::Init") {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  makeEcho @1 (context :Proxy.Context) -> (result :Echo.Echo);
  # Deprecated: always fails with Core's "Old mining interface (@2) not
  # supported. Please update your client!".
  makeMiningOld2 @2 () -> ();
  makeMining @3 (context :Proxy.Context) -> (result :Mining.Mining);
  makeRpc @4 (context :Proxy.Context) -> (result :Rpc.Rpc);
  makeChain @5 (context :Proxy.Context) -> (result :Chain.Chain);
  makeNode @6 (context :Proxy.Context) -> (result :Node.Node);
  makeWalletLoader @7 (context :Proxy.Context, chain :Chain.Chain) -> (result :Wallet.WalletLoader);
}
