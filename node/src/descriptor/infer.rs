//! The descriptor Bitcoin Core infers for an output script (`InferDescriptor`): what
//! `scantxoutset` and the decoded outputs of `getblock`/`decoderawtransaction` show.

use bitcoin::bip32::DerivationPath;
use bitcoin::key::{PublicKey, XOnlyPublicKey};
use bitcoin::script::Instruction;
use bitcoin::{Address, Network, Script, ScriptBuf};

use super::key::{format_child, DerivedKey};
use super::with_checksum;

/// The descriptor for `script`, knowing the keys `known` (and so the P2PKH, P2WPKH and
/// P2SH-P2WPKH scripts made of them, shown with their origins as `[fingerprint/path]key`), with
/// its checksum: `pk`/`pkh`/`wpkh`/`sh(wpkh)` when the key is known, `rawtr`, bare `multi`,
/// `addr` for any other script with an address, else `raw`.
pub(crate) fn infer_descriptor(script: &Script, known: &[DerivedKey]) -> String {
    let key_for = |matches: &dyn Fn(&PublicKey) -> bool| known.iter().find(|k| !k.xonly && matches(&k.key));
    let body = if let Some(key) = p2pk_key(script) {
        let shown = known.iter().find(|k| k.key == key).map_or_else(|| key.to_string(), show);
        format!("pk({shown})")
    } else if let Some(key) = key_for(&|k| ScriptBuf::new_p2pkh(&k.pubkey_hash()) == *script) {
        format!("pkh({})", show(key))
    } else if let Some(key) =
        key_for(&|k| k.wpubkey_hash().is_ok_and(|h| ScriptBuf::new_p2wpkh(&h) == *script))
    {
        format!("wpkh({})", show(key))
    } else if let Some(key) =
        key_for(&|k| k.wpubkey_hash().is_ok_and(|h| ScriptBuf::new_p2wpkh(&h).to_p2sh() == *script))
    {
        format!("sh(wpkh({}))", show(key))
    } else if script.is_p2tr() {
        match script.as_bytes().get(2..34).and_then(|b| XOnlyPublicKey::from_slice(b).ok()) {
            Some(key) => format!("rawtr({key})"),
            None => format!("raw({})", hex(script.as_bytes())),
        }
    } else if let Some(multi) = bare_multisig(script) {
        multi
    } else if let Ok(address) = Address::from_script(script, Network::Regtest) {
        format!("addr({address})")
    } else {
        format!("raw({})", hex(script.as_bytes()))
    };
    with_checksum(&body)
}

/// `[fingerprint/path]key` (hardened steps as `h`, as Core writes inferred origins), or the key.
fn show(key: &DerivedKey) -> String {
    match &key.origin {
        Some((fingerprint, path)) => {
            let steps: String = DerivationPath::from(path.clone())
                .into_iter()
                .map(|c| format!("/{}", format_child(*c, false)))
                .collect();
            format!("[{fingerprint}{steps}]{}", key.key)
        }
        None => key.key.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn p2pk_key(script: &Script) -> Option<PublicKey> {
    if !script.is_p2pk() {
        return None;
    }
    let bytes = script.as_bytes();
    let key = bytes.get(1..bytes.len().checked_sub(1)?)?;
    PublicKey::from_slice(key).ok()
}

/// `multi(k,key,...)` for a bare `k <keys> n OP_CHECKMULTISIG` whose keys are all valid.
fn bare_multisig(script: &Script) -> Option<String> {
    if !script.is_multisig() {
        return None;
    }
    let mut items: Vec<Instruction<'_>> = script.instructions().collect::<Result<_, _>>().ok()?;
    items.pop(); // OP_CHECKMULTISIG
    items.pop(); // n
    let (first, keys) = items.split_first()?;
    let required = first.opcode().and_then(|op| {
        let n = op.to_u8();
        (0x51..=0x60).contains(&n).then(|| n - 0x50)
    })?;
    let keys: Vec<String> = keys
        .iter()
        .map(|k| k.push_bytes().and_then(|b| PublicKey::from_slice(b.as_bytes()).ok()).map(|k| k.to_string()))
        .collect::<Option<_>>()?;
    Some(format!("multi({required},{})", keys.join(",")))
}
