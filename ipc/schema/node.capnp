# The node as a front end (the gui) sees it. Our own file (fresh file ID).
# Callbacks (`Box<dyn Fn(..)>` in Rust) are interfaces with one `call`
# method and no wrap annotation.
@0x86758cb5ff860dc6;

using Proxy = import "/mp/proxy.capnp";
using Handler = import "handler.capnp";
using Wallet = import "wallet.capnp";

interface Node $Proxy.wrap("interfaces::Node") {
  destroy @0 (context :Proxy.Context) -> ();
  init @1 (context :Proxy.Context) -> ();
  startShutdown @2 (context :Proxy.Context) -> ();
  shutdownRequested @3 (context :Proxy.Context) -> (result :Bool);
  shutdown @4 (context :Proxy.Context) -> ();
  getBlockCount @5 (context :Proxy.Context) -> (result :Int32);
  getBestBlockHash @6 (context :Proxy.Context) -> (result :Data);
  getLastBlockTime @7 (context :Proxy.Context) -> (result :Int64);
  getMempoolSize @8 (context :Proxy.Context) -> (result :UInt64);
  getVerificationProgress @9 (context :Proxy.Context) -> (result :Float64);
  isInitialBlockDownload @10 (context :Proxy.Context) -> (result :Bool);
  executeRpc @11 (context :Proxy.Context, request :Text, uri :Text) -> (result :Text);
  listRpcCommands @12 (context :Proxy.Context) -> (result :List(Text));
  walletLoader @13 (context :Proxy.Context) -> (result :Wallet.WalletLoader);
  handleNotifyBlockTip @14 (context :Proxy.Context, callback :NotifyBlockTipCallback) -> (result :Handler.Handler);
  handleInitMessage @15 (context :Proxy.Context, callback :InitMessageCallback) -> (result :Handler.Handler);
  handleShowProgress @16 (context :Proxy.Context, callback :ShowProgressCallback) -> (result :Handler.Handler);
}

interface NotifyBlockTipCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, tip :BlockTip) -> ();
}

interface InitMessageCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, message :Text) -> ();
}

interface ShowProgressCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, progress :Progress) -> ();
}

struct BlockTip $Proxy.wrap("interfaces::BlockTip") {
  hash @0 :Data;
  height @1 :Int32;
  time @2 :Int64;
  verificationProgress @3 :Float64;
  initialDownload @4 :Bool;
}

struct Progress $Proxy.wrap("interfaces::Progress") {
  title @0 :Text;
  percent @1 :UInt32;
  resumePossible @2 :Bool;
}
