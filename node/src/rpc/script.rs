//! Scripts as bitcoind shows them: [`asm`], Bitcoin Core's disassembly (`ScriptToAsmStr`):
//! pushes as hex (up to four bytes as a script number), small numbers as `0`..`16`/`-1`, other
//! opcodes by Core's names (`OP_CHECKLOCKTIMEVERIFY`, not rust-bitcoin's `OP_CLTV`), and in a
//! scriptSig a DER signature with its sighash type written `[ALL]`. Descriptors live in
//! `crate::descriptor`.

use bitcoin::script::Instruction;
use bitcoin::Script;

use super::util::hex;

/// Core's opcode names for 0x4f..=0xba (`GetOpName`).
const OP_NAMES: [&str; 108] = [
    "-1",
    "OP_RESERVED",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "OP_NOP",
    "OP_VER",
    "OP_IF",
    "OP_NOTIF",
    "OP_VERIF",
    "OP_VERNOTIF",
    "OP_ELSE",
    "OP_ENDIF",
    "OP_VERIFY",
    "OP_RETURN",
    "OP_TOALTSTACK",
    "OP_FROMALTSTACK",
    "OP_2DROP",
    "OP_2DUP",
    "OP_3DUP",
    "OP_2OVER",
    "OP_2ROT",
    "OP_2SWAP",
    "OP_IFDUP",
    "OP_DEPTH",
    "OP_DROP",
    "OP_DUP",
    "OP_NIP",
    "OP_OVER",
    "OP_PICK",
    "OP_ROLL",
    "OP_ROT",
    "OP_SWAP",
    "OP_TUCK",
    "OP_CAT",
    "OP_SUBSTR",
    "OP_LEFT",
    "OP_RIGHT",
    "OP_SIZE",
    "OP_INVERT",
    "OP_AND",
    "OP_OR",
    "OP_XOR",
    "OP_EQUAL",
    "OP_EQUALVERIFY",
    "OP_RESERVED1",
    "OP_RESERVED2",
    "OP_1ADD",
    "OP_1SUB",
    "OP_2MUL",
    "OP_2DIV",
    "OP_NEGATE",
    "OP_ABS",
    "OP_NOT",
    "OP_0NOTEQUAL",
    "OP_ADD",
    "OP_SUB",
    "OP_MUL",
    "OP_DIV",
    "OP_MOD",
    "OP_LSHIFT",
    "OP_RSHIFT",
    "OP_BOOLAND",
    "OP_BOOLOR",
    "OP_NUMEQUAL",
    "OP_NUMEQUALVERIFY",
    "OP_NUMNOTEQUAL",
    "OP_LESSTHAN",
    "OP_GREATERTHAN",
    "OP_LESSTHANOREQUAL",
    "OP_GREATERTHANOREQUAL",
    "OP_MIN",
    "OP_MAX",
    "OP_WITHIN",
    "OP_RIPEMD160",
    "OP_SHA1",
    "OP_SHA256",
    "OP_HASH160",
    "OP_HASH256",
    "OP_CODESEPARATOR",
    "OP_CHECKSIG",
    "OP_CHECKSIGVERIFY",
    "OP_CHECKMULTISIG",
    "OP_CHECKMULTISIGVERIFY",
    "OP_NOP1",
    "OP_CHECKLOCKTIMEVERIFY",
    "OP_CHECKSEQUENCEVERIFY",
    "OP_NOP4",
    "OP_NOP5",
    "OP_NOP6",
    "OP_NOP7",
    "OP_NOP8",
    "OP_NOP9",
    "OP_NOP10",
    "OP_CHECKSIGADD",
];

fn op_name(op: u8) -> &'static str {
    match op {
        0x4c => "OP_PUSHDATA1",
        0x4d => "OP_PUSHDATA2",
        0x4e => "OP_PUSHDATA4",
        0x4f..=0xba => OP_NAMES.get(usize::from(op - 0x4f)).copied().unwrap_or("OP_UNKNOWN"),
        0xff => "OP_INVALIDOPCODE",
        _ => "OP_UNKNOWN",
    }
}

/// A push of at most four bytes read as a script number (little-endian, sign bit on top, not
/// necessarily minimal).
fn script_number(bytes: &[u8]) -> i64 {
    let Some((last, _)) = bytes.split_last() else { return 0 };
    let mut value: i64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        value |= i64::from(*b) << (8 * i);
    }
    if last & 0x80 != 0 {
        let top = 8 * (bytes.len() - 1) + 7;
        -(value & !(1i64 << top))
    } else {
        value
    }
}

/// BIP66 strict DER plus a trailing sighash byte (Core's `IsValidSignatureEncoding`).
fn is_der_signature(sig: &[u8]) -> bool {
    let n = sig.len();
    if !(9..=73).contains(&n) || sig[0] != 0x30 || usize::from(sig[1]) != n - 3 || sig[2] != 0x02 {
        return false;
    }
    let len_r = usize::from(sig[3]);
    if len_r == 0 || 5 + len_r >= n {
        return false;
    }
    let len_s = usize::from(sig[5 + len_r]);
    if len_r + len_s + 7 != n || len_s == 0 || sig[4 + len_r] != 0x02 {
        return false;
    }
    let negative_or_padded = |start: usize, len: usize| {
        sig[start] & 0x80 != 0 || (len > 1 && sig[start] == 0 && sig[start + 1] & 0x80 == 0)
    };
    !negative_or_padded(4, len_r) && !negative_or_padded(6 + len_r, len_s)
}

fn sighash_name(byte: u8) -> Option<&'static str> {
    Some(match byte {
        0x01 => "ALL",
        0x02 => "NONE",
        0x03 => "SINGLE",
        0x81 => "ALL|ANYONECANPAY",
        0x82 => "NONE|ANYONECANPAY",
        0x83 => "SINGLE|ANYONECANPAY",
        _ => return None,
    })
}

/// Bitcoin Core's disassembly of `script`; `scriptsig` decodes signatures' sighash types.
pub(crate) fn asm(script: &Script, scriptsig: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    for instruction in script.instructions() {
        match instruction {
            Err(_) => {
                parts.push("[error]".into());
                break;
            }
            Ok(Instruction::Op(op)) => parts.push(op_name(op.to_u8()).into()),
            Ok(Instruction::PushBytes(bytes)) => {
                let bytes = bytes.as_bytes();
                if bytes.len() <= 4 {
                    parts.push(script_number(bytes).to_string());
                } else if scriptsig && !script.is_op_return() && is_der_signature(bytes) {
                    match bytes.split_last().and_then(|(last, der)| Some((sighash_name(*last)?, der))) {
                        Some((name, der)) => parts.push(format!("{}[{name}]", hex(der))),
                        None => parts.push(hex(bytes)),
                    }
                } else {
                    parts.push(hex(bytes));
                }
            }
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::util::unhex;
    use super::*;
    use bitcoin::ScriptBuf;

    #[test]
    fn asm_follows_core() {
        let p2wpkh =
            ScriptBuf::from_bytes(unhex("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap_or_default());
        assert_eq!(asm(&p2wpkh, false), "0 751e76e8199196d454941c45d1b3a323f1433bd6");
        let p2pkh = ScriptBuf::from_bytes(
            unhex("76a91411b366edfc0a8b66feebae5c2e25a7b6a5d1cf3188ac").unwrap_or_default(),
        );
        assert_eq!(
            asm(&p2pkh, false),
            "OP_DUP OP_HASH160 11b366edfc0a8b66feebae5c2e25a7b6a5d1cf31 OP_EQUALVERIFY OP_CHECKSIG"
        );
        // A coinbase-style height push and small numbers.
        let numbers =
            ScriptBuf::from_bytes(vec![0x02, 0xe8, 0x03, 0x00, 0x51, 0x60, 0x4f, 0x01, 0x81, 0xb1, 0xbb]);
        assert_eq!(asm(&numbers, false), "1000 0 1 16 -1 -1 OP_CHECKLOCKTIMEVERIFY OP_UNKNOWN");
        assert_eq!(asm(&ScriptBuf::from_bytes(vec![0x05, 0x01]), false), "[error]");
    }

    #[test]
    fn signatures_in_a_scriptsig_show_their_sighash_type() {
        let sig = "3044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288e5d794d12d482f0220217f36a485cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb01";
        let script = ScriptBuf::from_bytes([vec![0x47], unhex(sig).unwrap_or_default()].concat());
        assert_eq!(asm(&script, true), format!("{}[ALL]", &sig[..sig.len() - 2]));
        assert_eq!(asm(&script, false), sig);
    }
}
