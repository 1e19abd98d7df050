# Layouts the runtime uses to handle the conventional methods of any
# interface without its generated types: `construct` params and results
# carry one ThreadMap in pointer slot 0, `destroy` params one Context.
# Private to the framework; never sent under its own IDs.
@0xe5c7d4b3a2918f60;

using Proxy = import "proxy.capnp";

struct ThreadMapSlot {
  threadMap @0 :Proxy.ThreadMap;
}

struct ContextSlot {
  context @0 :Proxy.Context;
}
