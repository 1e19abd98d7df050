# What the node and a gui need from the wallet. Our own file (fresh file
# ID). Amounts are Int64 satoshis; txids are 32-byte Data in internal byte
# order.
@0xe56638e57663f93c;

using Proxy = import "/mp/proxy.capnp";
using Common = import "common.capnp";
using Handler = import "handler.capnp";

interface WalletLoader $Proxy.wrap("interfaces::WalletLoader") {
  destroy @0 (context :Proxy.Context) -> ();
  registerRpcs @1 (context :Proxy.Context) -> ();
  load @2 (context :Proxy.Context) -> ();
  flush @3 (context :Proxy.Context) -> ();
  stop @4 (context :Proxy.Context) -> ();
  createWallet @5 (context :Proxy.Context, name :Text, options :CreateWalletOptions) -> (result :Wallet);
  loadWallet @6 (context :Proxy.Context, name :Text) -> (result :Wallet);
  unloadWallet @7 (context :Proxy.Context, name :Text) -> ();
  listWallets @8 (context :Proxy.Context) -> (result :List(Text));
  listWalletDir @9 (context :Proxy.Context) -> (result :List(Text));
  getWallet @10 (context :Proxy.Context, name :Text) -> (result :Wallet);
  handleLoadWallet @11 (context :Proxy.Context, callback :LoadWalletCallback) -> (result :Handler.Handler);
  getWallets @12 (context :Proxy.Context) -> (result :List(Wallet));
}

interface Wallet $Proxy.wrap("interfaces::Wallet") {
  destroy @0 (context :Proxy.Context) -> ();
  getWalletName @1 (context :Proxy.Context) -> (result :Text);
  getNewAddress @2 (context :Proxy.Context, label :Text) -> (result :Text);
  getBalances @3 (context :Proxy.Context) -> (result :Balances);
  sendToAddress @4 (context :Proxy.Context, address :Text, amount :Int64, options :SendOptions) -> (result :Data);
  listTransactions @5 (context :Proxy.Context) -> (result :List(WalletTx));
  getTransaction @6 (context :Proxy.Context, txid :Data) -> (result :WalletTx, hasResult :Bool);
  listUnspent @7 (context :Proxy.Context) -> (result :List(Utxo));
  handleTransactionChanged @8 (context :Proxy.Context, callback :TransactionChangedCallback) -> (result :Handler.Handler);
}

interface LoadWalletCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, wallet :Wallet) -> ();
}

interface TransactionChangedCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, txid :Data, change :ChangeType) -> ();
}

enum ChangeType {
  new @0;
  updated @1;
  deleted @2;
}

struct CreateWalletOptions $Proxy.wrap("interfaces::CreateWalletOptions") {
  disablePrivateKeys @0 :Bool;
  blank @1 :Bool;
  loadOnStartup @2 :Bool;
  hasLoadOnStartup @3 :Bool;
}

struct SendOptions $Proxy.wrap("interfaces::SendOptions") {
  subtractFeeFromAmount @0 :Bool;
  feeRateSatPerKvb @1 :Int64;
  hasFeeRateSatPerKvb @2 :Bool;
  confTarget @3 :UInt32;
  hasConfTarget @4 :Bool;
  replaceable @5 :Bool;
  hasReplaceable @6 :Bool;
  comment @7 :Text;
}

struct Balances $Proxy.wrap("interfaces::Balances") {
  trusted @0 :Int64;
  untrustedPending @1 :Int64;
  immature @2 :Int64;
}

struct WalletTx $Proxy.wrap("interfaces::WalletTx") {
  txid @0 :Data;
  tx @1 :Data;
  received @2 :Int64;
  sent @3 :Int64;
  fee @4 :Int64;
  hasFee @5 :Bool;
  confirmedIn @6 :Common.BlockRef;
  hasConfirmedIn @7 :Bool;
  time @8 :Int64;
  isCoinbase @9 :Bool;
}

struct Utxo $Proxy.wrap("interfaces::Utxo") {
  txid @0 :Data;
  vout @1 :UInt32;
  value @2 :Int64;
  scriptPubkey @3 :Data;
  address @4 :Text;
  hasAddress @5 :Bool;
  confirmedIn @6 :Common.BlockRef;
  hasConfirmedIn @7 :Bool;
  isChange @8 :Bool;
  isCoinbase @9 :Bool;
}
