@0x893db95f456ed0e3;

using Proxy = import "/mp/proxy.capnp";

interface PrinterInterface $Proxy.wrap("crate::Printer") {
  destroy @0 (context :Proxy.Context) -> ();
  print @1 (context :Proxy.Context, text :Text) -> ();
}
