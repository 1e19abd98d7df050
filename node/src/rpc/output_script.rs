//! Bitcoin Core's `rpc/output_script.cpp` methods this node has: `validateaddress`.

use bitcoin::{Address, Network};
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::address::{self, Destination};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[builtin!(
    "Util",
    "validateaddress",
    ["address"],
    1,
    "Return information about the given bitcoin address.\n\nResult: isvalid, and for a valid address \
     address, scriptPubKey, isscript, iswitness, witness_version, witness_program; for an invalid one \
     error and error_locations (the positions of the characters in error, when they can be found).",
    validateaddress
)];

fn validateaddress(_d: &Dispatcher, args: &[Value]) -> CallResult {
    let Some(given) = args.first().filter(|_| args.len() <= 1) else {
        // Core answers a wrong argument count with the method's help; an explicit null is a
        // type error instead.
        let help = super::find_builtin("validateaddress").map(|m| format!("{}\n\n{}", m.synopsis(), m.help));
        return Err(interfaces::RpcError::new(interfaces::RpcError::MISC_ERROR, help.unwrap_or_default()));
    };
    let text = as_str(given)?;
    match address::decode(text) {
        Ok(destination) => Ok(valid_json(&destination)),
        Err(e) => Ok(json!({"isvalid": false, "error_locations": e.locations, "error": e.message})),
    }
}

/// Core's answer for a valid address: its canonical form, script and what kind it is
/// (`DescribeAddress`: no `isscript` for a witness version nobody defined yet).
fn valid_json(destination: &Destination) -> Value {
    let script = destination.script_pubkey();
    let canonical =
        Address::from_script(&script, Network::Regtest).map(|a| a.to_string()).unwrap_or_default();
    let mut o = json!({"isvalid": true, "address": canonical, "scriptPubKey": hex(script.as_bytes())});
    match destination {
        Destination::PubkeyHash(_) => {
            o["isscript"] = json!(false);
            o["iswitness"] = json!(false);
        }
        Destination::ScriptHash(_) => {
            o["isscript"] = json!(true);
            o["iswitness"] = json!(false);
        }
        Destination::Witness { version, program } => {
            let defined = match version {
                0 => Some(program.len() == 32),
                // Taproot and pay-to-anchor are both scripts to Core.
                1 if program.len() == 32 || program.as_slice() == [0x4e, 0x73] => Some(true),
                _ => None,
            };
            if let Some(isscript) = defined {
                o["isscript"] = json!(isscript);
            }
            o["iswitness"] = json!(true);
            o["witness_version"] = json!(version);
            o["witness_program"] = json!(hex(program));
        }
    }
    o
}
