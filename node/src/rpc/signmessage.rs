//! Bitcoin Core's `rpc/signmessage.cpp` methods: `signmessagewithprivkey` and `verifymessage`,
//! in Core's message-signing format: the double SHA-256 of `"Bitcoin Signed Message:\n"` and the
//! message (both length-prefixed), signed as a 65-byte recoverable signature (header byte
//! `27 + recovery id`, `+ 4` for a compressed key), base64-encoded. Only P2PKH addresses can
//! verify, as in Core: the key is recovered from the signature and its hash compared.

use base64::Engine;
use bitcoin::hashes::Hash;
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, Secp256k1};
use bitcoin::sign_message::signed_msg_hash;
use bitcoin::{NetworkKind, PrivateKey, PublicKey};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::address::{self, Destination};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Util",
        "signmessagewithprivkey",
        ["privkey", "message"],
        2,
        "Sign a message with the private key of an address (WIF); returns the signature, base64.",
        signmessagewithprivkey,
        usage = "signmessagewithprivkey \"privkey\" \"message\""
    ),
    builtin!(
        "Util",
        "verifymessage",
        ["address", "signature", "message"],
        3,
        "Verify a signed message: true when signature (base64) is the P2PKH address's key's \
         signature of message.",
        verifymessage,
        usage = "verifymessage \"address\" \"signature\" \"message\""
    ),
];

/// Core answers a wrong argument count with the usage; here the method name leads it.
fn check_arity(args: &[Value], name: &str, n: usize) -> Result<(), RpcError> {
    if args.len() != n {
        let usage = super::find_builtin(name).map(|m| format!("{}\n\n{}", m.synopsis(), m.help));
        return Err(RpcError::new(RpcError::MISC_ERROR, usage.unwrap_or_else(|| name.to_string())));
    }
    Ok(())
}

/// Core's compact signature of `message` by `key`, base64.
pub(crate) fn sign(key: &PrivateKey, message: &str) -> String {
    let secp = Secp256k1::signing_only();
    let digest = Message::from_digest(signed_msg_hash(message).to_byte_array());
    let (id, compact) = secp.sign_ecdsa_recoverable(&digest, &key.inner).serialize_compact();
    let mut bytes = Vec::with_capacity(65);
    // The id is 0-3, so the header is 27-34.
    let header = 27 + u8::try_from(id.to_i32()).unwrap_or(0) + if key.compressed { 4 } else { 0 };
    bytes.push(header);
    bytes.extend_from_slice(&compact);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The key that made `signature` (65 bytes) over `message`, if one can be recovered.
pub(crate) fn recover(signature: &[u8], message: &str) -> Option<PublicKey> {
    let (&header, compact) = signature.split_first()?;
    if signature.len() != 65 || !(27..=34).contains(&header) {
        return None;
    }
    let flags = header - 27;
    let id = RecoveryId::from_i32(i32::from(flags & 3)).ok()?;
    let recoverable = RecoverableSignature::from_compact(compact, id).ok()?;
    let digest = Message::from_digest(signed_msg_hash(message).to_byte_array());
    let inner = Secp256k1::verification_only().recover_ecdsa(&digest, &recoverable).ok()?;
    Some(PublicKey { inner, compressed: flags & 4 != 0 })
}

fn signmessagewithprivkey(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_arity(args, "signmessagewithprivkey", 2)?;
    let wif = as_str(&args[0])?;
    let message = as_str(&args[1])?;
    let key = PrivateKey::from_wif(wif)
        .ok()
        .filter(|k| k.network == NetworkKind::Test)
        .ok_or_else(|| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Invalid private key"))?;
    Ok(json!(sign(&key, message)))
}

fn verifymessage(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_arity(args, "verifymessage", 3)?;
    let address = as_str(&args[0])?;
    let signature = as_str(&args[1])?;
    let message = as_str(&args[2])?;
    let destination = address::decode(address)
        .map_err(|_| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Invalid address"))?;
    let Destination::PubkeyHash(hash) = destination else {
        return Err(RpcError::new(RpcError::TYPE_ERROR, "Address does not refer to key"));
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| RpcError::new(RpcError::TYPE_ERROR, "Malformed base64 encoding"))?;
    Ok(json!(recover(&signature, message).is_some_and(|key| key.pubkey_hash() == hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N";
    const MESSAGE: &str = "This is just a test message";

    #[test]
    fn signs_as_core() {
        let key = PrivateKey::from_wif(KEY).expect("test key");
        let signature = sign(&key, MESSAGE);
        assert_eq!(
            signature,
            "INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0="
        );
        let bytes = base64::engine::general_purpose::STANDARD.decode(&signature).expect("base64");
        let secp = Secp256k1::signing_only();
        assert_eq!(recover(&bytes, MESSAGE), Some(key.public_key(&secp)));
        assert_ne!(recover(&bytes, "another message"), Some(key.public_key(&secp)));
        assert_eq!(recover(&bytes[..64], MESSAGE), None);
    }
}
