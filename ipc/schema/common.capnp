# Types shared by several interfaces. File ID, names and ordinals are
# Bitcoin Core's `src/ipc/capnp/common.capnp` (see WIRE.md section 2).
@0xcd2c6232cb484a28;

using Proxy = import "/mp/proxy.capnp";

# A block by hash (32 bytes, internal byte order) and height. `height` is
# Int32 on the wire like Bitcoin Core's; the Rust side is u32, converted
# with a range check.
struct BlockRef $Proxy.wrap("interfaces::BlockRef") {
  hash @0 :Data;
  height @1 :Int32;
}
