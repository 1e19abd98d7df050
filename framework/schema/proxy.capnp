# The framework's own wire contract. Its file ID, declaration names and
# ordinals are those of libmultiprocess's proxy schema, so C++ peers and
# Bitcoin Core's IPC clients address the same interfaces we do.
@0xcc316e3f71a040fb;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("mp");

# Code-generator annotations. Only `wrap`, `name` and `skip` steer the Rust
# generator; the others are accepted so that schemas written for the C++
# generator compile unchanged.
annotation include(file): Text;
annotation includeTypes(file): Text;
annotation wrap(interface, struct): Text;   # Rust path of the trait or struct
annotation count(param, struct, interface): Int32;
annotation exception(param): Text;
annotation name(field, method): Text;       # Rust name when it differs
annotation skip(field): Void;               # field not mapped to Rust

# Creates server threads on behalf of a client: each client thread that calls
# gets its own server thread (1:1 threading).
interface ThreadMap {
  makeThread @0 (name :Text) -> (result :Thread);
  makePool @1 (count :UInt32) -> ();
}

# A thread in the process that created this capability. Calls naming it in
# `Context.thread` run on that thread, queued in arrival order.
interface Thread {
  getName @0 () -> (result :Text);
}

# First parameter of every method that runs on a mapped thread.
struct Context {
  thread @0 :Thread;          # where the call runs; null: the pool
  callbackThread @1 :Thread;  # where calls back into the caller run
}
