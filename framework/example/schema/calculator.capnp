@0xb67dbf34061180a9;

using Proxy = import "/mp/proxy.capnp";

interface CalculatorInterface $Proxy.wrap("crate::Calculator") {
  destroy @0 (context :Proxy.Context) -> ();
  solveEquation @1 (context :Proxy.Context, eqn :Text) -> ();
}
