# A callback registration; dropping the client proxy destroys the server
# object, which unregisters. Our own file (fresh file ID).
@0x94306f3a3e858ba8;

using Proxy = import "/mp/proxy.capnp";

interface Handler $Proxy.wrap("interfaces::Handler") {
  destroy @0 (context :Proxy.Context) -> ();
  disconnect @1 (context :Proxy.Context) -> ();
}
