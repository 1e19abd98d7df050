# Tiny schema for the runtime's own smoke tests, which drive hand-written
# glue in the shape the code generator emits.
@0xd4a1c3e7b9f20a51;

using Proxy = import "../proxy.capnp";

interface SmokeInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  makeEcho @1 (context :Proxy.Context) -> (result :SmokeEcho);
}

interface SmokeEcho {
  destroy @0 (context :Proxy.Context) -> ();
  echo @1 (context :Proxy.Context, echo :Text) -> (result :Text);
  callBack @2 (context :Proxy.Context, cb :SmokeEcho, text :Text) -> (result :Text);
  echoOnLoop @3 (echo :Text) -> (result :Text);
}
