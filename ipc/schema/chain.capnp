# What a chain client (the wallet) asks of the node, the notifications it
# gets back, and the registration of its RPC methods with the node's
# dispatcher. Our own file (fresh file ID). Hashes and txids are 32-byte
# Data in internal byte order; transactions and blocks are Data holding the
# consensus serialization with witness; heights are Int32 (as in
# Bitcoin Core), converted to the Rust u32 with a range check.
@0x89c6283533aa6e60;

using Proxy = import "/mp/proxy.capnp";
using Common = import "common.capnp";
using Handler = import "handler.capnp";

interface Chain $Proxy.wrap("interfaces::Chain") {
  destroy @0 (context :Proxy.Context) -> ();
  getHeight @1 (context :Proxy.Context) -> (result :Int32, hasResult :Bool);
  getTip @2 (context :Proxy.Context) -> (result :Common.BlockRef, hasResult :Bool);
  getBlockHash @3 (context :Proxy.Context, height :Int32) -> (result :Data, hasResult :Bool);
  findBlock @4 (context :Proxy.Context, hash :Data, request :FoundBlockRequest) -> (result :FoundBlock, hasResult :Bool);
  isInMempool @5 (context :Proxy.Context, txid :Data) -> (result :Bool);
  broadcastTransaction @6 (context :Proxy.Context, tx :Data, maxTxFee :Int64) -> (result :Data);
  estimateFee @7 (context :Proxy.Context, targetBlocks :UInt32) -> (result :FeeEstimate, hasResult :Bool);
  relayMinFee @8 (context :Proxy.Context) -> (result :Int64);
  handleNotifications @9 (context :Proxy.Context, notifications :ChainNotifications) -> (result :Handler.Handler);
  waitForNotificationsIfTipChanged @10 (context :Proxy.Context, oldTip :Data) -> ();
  handleRpc @11 (context :Proxy.Context, command :RpcCommand) -> (result :Handler.Handler);
  requestMempoolTransactions @12 (context :Proxy.Context, notifications :ChainNotifications) -> ();
  initMessage @13 (context :Proxy.Context, message :Text) -> ();
  showProgress @14 (context :Proxy.Context, title :Text, percent :UInt32, resumePossible :Bool) -> ();
  shutdownRequested @15 (context :Proxy.Context) -> (result :Bool);
}

interface ChainNotifications $Proxy.wrap("interfaces::ChainNotifications") {
  destroy @0 (context :Proxy.Context) -> ();
  transactionAddedToMempool @1 (context :Proxy.Context, tx :Data) -> ();
  transactionRemovedFromMempool @2 (context :Proxy.Context, txid :Data, reason :MempoolRemovalReason) -> ();
  blockConnected @3 (context :Proxy.Context, block :BlockInfo) -> ();
  blockDisconnected @4 (context :Proxy.Context, block :BlockInfo) -> ();
  updatedBlockTip @5 (context :Proxy.Context) -> ();
}

# One registered RPC method's implementation (the wallet's side).
interface RpcActor $Proxy.wrap("interfaces::RpcActor") {
  destroy @0 (context :Proxy.Context) -> ();
  execute @1 (context :Proxy.Context, request :RpcRequest) -> (result :RpcReply);
}

enum MempoolRemovalReason {
  expiry @0;
  sizeLimit @1;
  reorg @2;
  block @3;
  conflict @4;
  replaced @5;
}

struct FoundBlockRequest $Proxy.wrap("interfaces::FoundBlockRequest") {
  wantHeader @0 :Bool;
  wantData @1 :Bool;
}

struct FoundBlock $Proxy.wrap("interfaces::FoundBlock") {
  hash @0 :Data;
  height @1 :Int32;
  time @2 :Int64;
  maxTime @3 :Int64;
  mtpTime @4 :Int64;
  prevHash @5 :Data;
  hasPrevHash @6 :Bool;
  inActiveChain @7 :Bool;
  nextHash @8 :Data;
  hasNextHash @9 :Bool;
  header @10 :Data;
  hasHeader @11 :Bool;
  data @12 :Data;
  hasData @13 :Bool;
}

struct BlockInfo $Proxy.wrap("interfaces::BlockInfo") {
  hash @0 :Data;
  prevHash @1 :Data;
  hasPrevHash @2 :Bool;
  height @3 :Int32;
  time @4 :Int64;
  data @5 :Data;
}

struct FeeEstimate $Proxy.wrap("interfaces::FeeEstimate") {
  satPerKvb @0 :Int64;
  targetBlocks @1 :UInt32;
}

struct RpcCommand $Proxy.wrap("interfaces::RpcCommand") {
  category @0 :Text;
  name @1 :Text;
  argNames @2 :List(Text);
  help @3 :Text;
  actor @4 :RpcActor;
}

struct RpcRequest $Proxy.wrap("interfaces::RpcRequest") {
  method @0 :Text;
  params @1 :Text;
  uri @2 :Text;
  user @3 :Text;
  lastHandler @4 :Bool;
}

struct RpcReply $Proxy.wrap("interfaces::RpcReply") {
  handled @0 :Bool;
  result @1 :Text;
  error @2 :RpcError;
  hasError @3 :Bool;
}

struct RpcError $Proxy.wrap("interfaces::RpcError") {
  code @0 :Int32;
  message @1 :Text;
}
