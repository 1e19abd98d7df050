# Test interfaces for the framework's behaviour tests, modelled on
# libmultiprocess's test schema: every supported type, in/out/optional
# parameters, callbacks, interface passing, errors, cancellation.
@0xc5a9e2f1d3b4a607;

using Proxy = import "/mp/proxy.capnp";

interface FooInit $Proxy.wrap("crate::FooInit") {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  makeFoo @1 (context :Proxy.Context) -> (result :FooInterface);
  processId @2 () -> (result :UInt32);
}

interface FooInterface $Proxy.wrap("crate::Foo") {
  destroy @0 (context :Proxy.Context) -> ();
  add @1 (context :Proxy.Context, a :Int32, b :Int32) -> (result :Int32);
  addOnLoop @2 (a :Int32, b :Int32) -> (result :Int32);
  passStruct @3 (context :Proxy.Context, arg :FooStruct) -> (result :FooStruct);
  passScalars @4 (context :Proxy.Context, a :Int8, b :UInt16, c :Int64, d :UInt64, e :Float32, f :Float64, g :Bool) -> (result :Text);
  narrow @5 (context :Proxy.Context, value :Int64) -> (result :UInt8);
  inOut @6 (context :Proxy.Context, value :Int32) -> (value :Int32, doubled :Int32);
  optional @7 (context :Proxy.Context, hasValue :Bool, value :Int32, text :Text) -> (result :Text);
  passCollections @8 (context :Proxy.Context, list :List(Text), set :List(Int32), map :List(FooEntry), nested :List(List(UInt8))) -> (result :Text);
  passData @9 (context :Proxy.Context, bytes :Data) -> (result :Data);
  callback @10 (context :Proxy.Context, cb :FooCallback, arg :Int32) -> (result :Int32);
  saveCallback @11 (context :Proxy.Context, cb :FooCallback) -> ();
  callSaved @12 (context :Proxy.Context, arg :Int32) -> (result :Int32);
  passFoo @13 (context :Proxy.Context, foo :FooInterface) -> (result :FooInterface);
  fail @14 (context :Proxy.Context, message :Text) -> ();
  crash @15 (context :Proxy.Context) -> ();
  sleep @16 (context :Proxy.Context, ms :UInt32) -> (result :Bool);
  threadName @17 (context :Proxy.Context) -> (result :Text);
  duration @18 (context :Proxy.Context, d :Float64) -> (result :Float64);
  color @19 (context :Proxy.Context, c :Color) -> (result :Color);
  cancelledCount @20 (context :Proxy.Context) -> (result :UInt32);
  callFn @21 (context :Proxy.Context, f :FooFn, arg :Int32) -> (result :Int32);
  makeFoos @22 (context :Proxy.Context, count :UInt32) -> (result :List(FooInterface));
  passFoos @23 (context :Proxy.Context, foos :List(FooInterface)) -> (result :List(FooInterface));
  threadNames @24 (context :Proxy.Context, foos :List(FooInterface)) -> (result :List(Text));
  addOnLoopEach @25 (context :Proxy.Context, foos :List(FooInterface), a :Int32, b :Int32) -> (result :List(Int32));
  failWith @26 (context :Proxy.Context, kind :Text, message :Text) -> ();
}

# A closure (`Box<dyn Fn(i32) -> TestResult<i32>>`): an interface with one
# `call` method and no wrap annotation.
interface FooFn {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, arg :Int32) -> (result :Int32);
}

interface FooCallback $Proxy.wrap("crate::FooCallback") {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, arg :Int32) -> (result :Int32);
}

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct FooStruct $Proxy.wrap("crate::FooStruct") {
  name @0 :Text;
  numbers @1 :List(Int32);
  flag @2 :Bool;
}

struct FooEntry $Proxy.wrap("(String, i32)") {
  key @0 :Text;
  value @1 :Int32;
}
