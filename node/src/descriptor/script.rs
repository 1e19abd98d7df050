//! Expanding a parsed descriptor into the output scripts it stands for at one index.

use bitcoin::hashes::{hash160, Hash};
use bitcoin::key::{TweakedPublicKey, XOnlyPublicKey};
use bitcoin::opcodes::all::{
    OP_CHECKMULTISIG, OP_CHECKSIG, OP_CHECKSIGADD, OP_DUP, OP_EQUALVERIFY, OP_HASH160, OP_NUMEQUAL,
};
use bitcoin::script::Builder;
use bitcoin::secp256k1::{Secp256k1, Signing, Verification};
use bitcoin::taproot::TaprootBuilder;
use bitcoin::{CompressedPublicKey, PublicKey, ScriptBuf};

use super::key::{xonly, DerivedKey, KeyExpr};
use super::{Expanded, Expr, Tree};

/// Bitcoin Core's `MAX_SCRIPT_ELEMENT_SIZE`: the largest redeem script P2SH can push.
const MAX_P2SH_SCRIPT_SIZE: usize = 520;

struct Expander<'a, C: Signing + Verification> {
    secp: &'a Secp256k1<C>,
    index: u32,
    out: &'a mut Expanded,
}

impl<C: Signing + Verification> Expander<'_, C> {
    fn key(&mut self, key: &KeyExpr) -> Result<DerivedKey, String> {
        let derived = key.derive(self.secp, self.index)?;
        self.out.keys.push(derived.clone());
        Ok(derived)
    }

    fn keys(&mut self, keys: &[KeyExpr]) -> Result<Vec<DerivedKey>, String> {
        keys.iter().map(|k| self.key(k)).collect()
    }

    /// The script of an expression below the top level (inside `sh`/`wsh`).
    fn inner(&mut self, expr: &Expr) -> Result<ScriptBuf, String> {
        match expr {
            Expr::Pk(k) => Ok(ScriptBuf::new_p2pk(&self.key(k)?.key)),
            Expr::Pkh(k) => Ok(ScriptBuf::new_p2pkh(&self.key(k)?.key.pubkey_hash())),
            Expr::Wpkh(k) => wpkh(&self.key(k)?.key),
            Expr::Multi { threshold, keys, sorted } => {
                let mut keys: Vec<PublicKey> = self.keys(keys)?.into_iter().map(|d| d.key).collect();
                if *sorted {
                    keys.sort_by_key(|k| k.to_bytes());
                }
                Ok(multisig(*threshold, &keys))
            }
            Expr::Wsh(inner) => Ok(self.inner(inner)?.to_p2wsh()),
            other => Err(format!("{} cannot be used here", other.name())),
        }
    }

    /// A tapscript leaf.
    fn leaf(&mut self, expr: &Expr) -> Result<ScriptBuf, String> {
        match expr {
            Expr::Pk(k) => Ok(Builder::new()
                .push_x_only_key(&xonly(&self.key(k)?))
                .push_opcode(OP_CHECKSIG)
                .into_script()),
            Expr::Pkh(k) => {
                let hash = hash160::Hash::hash(&xonly(&self.key(k)?).serialize());
                Ok(Builder::new()
                    .push_opcode(OP_DUP)
                    .push_opcode(OP_HASH160)
                    .push_slice(hash.to_byte_array())
                    .push_opcode(OP_EQUALVERIFY)
                    .push_opcode(OP_CHECKSIG)
                    .into_script())
            }
            Expr::MultiA { threshold, keys, sorted } => {
                let mut keys: Vec<XOnlyPublicKey> = self.keys(keys)?.iter().map(xonly).collect();
                if *sorted {
                    keys.sort_by_key(|k| k.serialize());
                }
                let mut builder = Builder::new();
                for (i, key) in keys.iter().enumerate() {
                    builder = builder.push_x_only_key(key);
                    builder = builder.push_opcode(if i == 0 { OP_CHECKSIG } else { OP_CHECKSIGADD });
                }
                let threshold = i64::try_from(*threshold).unwrap_or(i64::MAX);
                Ok(builder.push_int(threshold).push_opcode(OP_NUMEQUAL).into_script())
            }
            other => Err(format!("{} cannot be used in a tapscript leaf", other.name())),
        }
    }

    fn leaves(&mut self, tree: &Tree, depth: u8, out: &mut Vec<(u8, ScriptBuf)>) -> Result<(), String> {
        match tree {
            Tree::Leaf(expr) => out.push((depth, self.leaf(expr)?)),
            Tree::Branch(left, right) => {
                let next = depth.checked_add(1).ok_or("tr(): script tree too deep")?;
                self.leaves(left, next, out)?;
                self.leaves(right, next, out)?;
            }
        }
        Ok(())
    }

    fn top(&mut self, expr: &Expr) -> Result<(), String> {
        let scripts = match expr {
            Expr::Combo(k) => {
                let key = self.key(k)?.key;
                let mut scripts = vec![ScriptBuf::new_p2pk(&key), ScriptBuf::new_p2pkh(&key.pubkey_hash())];
                if key.compressed {
                    let witness = wpkh(&key)?;
                    scripts.push(witness.to_p2sh());
                    scripts.insert(2, witness);
                }
                scripts
            }
            Expr::Sh(inner) => vec![self.inner(inner)?.to_p2sh()],
            Expr::Tr { internal, tree } => {
                let internal = xonly(&self.key(internal)?);
                let merkle_root = match tree {
                    None => None,
                    Some(tree) => {
                        let mut leaves = Vec::new();
                        self.leaves(tree, 0, &mut leaves)?;
                        let mut builder = TaprootBuilder::new();
                        for (depth, script) in leaves {
                            builder = builder.add_leaf(depth, script).map_err(|e| format!("tr(): {e}"))?;
                        }
                        let spend_info = builder
                            .finalize(self.secp, internal)
                            .map_err(|_| "tr(): incomplete script tree".to_string())?;
                        spend_info.merkle_root()
                    }
                };
                vec![ScriptBuf::new_p2tr(self.secp, internal, merkle_root)]
            }
            Expr::RawTr(k) => {
                let key = xonly(&self.key(k)?);
                vec![ScriptBuf::new_p2tr_tweaked(TweakedPublicKey::dangerous_assume_tweaked(key))]
            }
            Expr::Addr(address) => vec![address.script_pubkey()],
            Expr::Raw(script) => vec![script.clone()],
            other => vec![self.inner(other)?],
        };
        self.out.scripts.extend(scripts);
        Ok(())
    }
}

pub(super) fn expand<C: Signing + Verification>(
    expr: &Expr,
    secp: &Secp256k1<C>,
    index: u32,
    out: &mut Expanded,
) -> Result<(), String> {
    Expander { secp, index, out }.top(expr)
}

fn wpkh(key: &PublicKey) -> Result<ScriptBuf, String> {
    let key =
        CompressedPublicKey::try_from(*key).map_err(|_| "Uncompressed keys are not allowed".to_string())?;
    Ok(ScriptBuf::new_p2wpkh(&key.wpubkey_hash()))
}

fn multisig(threshold: usize, keys: &[PublicKey]) -> ScriptBuf {
    let mut builder = Builder::new().push_int(i64::try_from(threshold).unwrap_or(i64::MAX));
    for key in keys {
        builder = builder.push_key(key);
    }
    builder
        .push_int(i64::try_from(keys.len()).unwrap_or(i64::MAX))
        .push_opcode(OP_CHECKMULTISIG)
        .into_script()
}

/// Refuses `sh(multi(...))` whose redeem script could not be pushed (Core's check at parse time).
pub(super) fn check_p2sh_size(sh: &Expr) -> Result<(), String> {
    let Expr::Sh(inner) = sh else { return Ok(()) };
    let Expr::Multi { keys, .. } = inner.as_ref() else { return Ok(()) };
    let size = 3 + keys.iter().map(|k| if k.is_uncompressed() { 66 } else { 34 }).sum::<usize>();
    if size > MAX_P2SH_SCRIPT_SIZE {
        return Err(format!(
            "P2SH script is too large, {size} bytes is larger than {MAX_P2SH_SCRIPT_SIZE} bytes"
        ));
    }
    Ok(())
}

impl Expr {
    fn name(&self) -> &'static str {
        match self {
            Expr::Pk(_) => "pk()",
            Expr::Pkh(_) => "pkh()",
            Expr::Wpkh(_) => "wpkh()",
            Expr::Combo(_) => "combo()",
            Expr::Multi { .. } => "multi()",
            Expr::MultiA { .. } => "multi_a()",
            Expr::Sh(_) => "sh()",
            Expr::Wsh(_) => "wsh()",
            Expr::Tr { .. } => "tr()",
            Expr::RawTr(_) => "rawtr()",
            Expr::Addr(_) => "addr()",
            Expr::Raw(_) => "raw()",
        }
    }
}
