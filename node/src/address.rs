//! Addresses read as Bitcoin Core reads them on regtest (its `DecodeDestination`), with its
//! messages for every way an address can be wrong and, for a bech32 string whose checksum fails,
//! the positions of the characters in error. `validateaddress` answers with these; the plain
//! "is it a regtest address" question elsewhere is rust-bitcoin's.

mod bech32;

use bitcoin::hashes::Hash;
use bitcoin::script::ScriptBuf;
use bitcoin::{PubkeyHash, ScriptHash, WitnessProgram, WitnessVersion};

/// Regtest's base58 version bytes and bech32 human-readable part.
const PUBKEY_PREFIX: u8 = 0x6f;
const SCRIPT_PREFIX: u8 = 0xc4;
const HRP: &str = "bcrt";
/// Longest witness program (BIP141).
const MAX_PROGRAM: usize = 40;

/// What an address pays to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Base58 P2PKH.
    PubkeyHash(PubkeyHash),
    /// Base58 P2SH.
    ScriptHash(ScriptHash),
    /// A segwit output: version and program (P2WPKH, P2WSH, P2TR, P2A or one not defined yet).
    Witness {
        /// Witness version, 0-16.
        version: u8,
        /// Witness program, 2-40 bytes.
        program: Vec<u8>,
    },
}

impl Destination {
    /// The output script it stands for.
    pub fn script_pubkey(&self) -> ScriptBuf {
        match self {
            Destination::PubkeyHash(hash) => ScriptBuf::new_p2pkh(hash),
            Destination::ScriptHash(hash) => ScriptBuf::new_p2sh(hash),
            Destination::Witness { version, program } => {
                let program = WitnessVersion::try_from(*version)
                    .ok()
                    .and_then(|v| WitnessProgram::new(v, program).ok());
                // Decoding checked version and length, which is all `new` checks.
                program.map(|p| ScriptBuf::new_witness_program(&p)).unwrap_or_default()
            }
        }
    }
}

/// Why an address is invalid: Core's message and, for bech32 checksum errors, the string
/// positions in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    /// Core's text, e.g. `Invalid Bech32 checksum`.
    pub message: String,
    /// Positions (0-based, ascending) of the characters in error; often empty.
    pub locations: Vec<usize>,
}

fn fail<T>(message: impl Into<String>) -> Result<T, AddressError> {
    Err(AddressError { message: message.into(), locations: Vec::new() })
}

/// Reads a regtest address, answering Core's error for anything else.
pub fn decode(s: &str) -> Result<Destination, AddressError> {
    let looks_bech32 = s.get(..HRP.len()).is_some_and(|start| start.eq_ignore_ascii_case(HRP));
    if !looks_bech32 {
        return decode_base58(s);
    }
    let Some(decoded) = bech32::decode(s) else {
        let (message, locations) = bech32::locate_errors(s);
        return Err(AddressError { message, locations });
    };
    let Some((&version, rest)) = decoded.data.split_first() else {
        return fail("Empty Bech32 data section");
    };
    if decoded.hrp != HRP {
        return fail(format!(
            "Invalid or unsupported prefix for Segwit (Bech32) address (expected {HRP}, got {}).",
            decoded.hrp
        ));
    }
    match (version, decoded.encoding) {
        (0, bech32::Encoding::Bech32m) => return fail("Version 0 witness address must use Bech32 checksum"),
        (1.., bech32::Encoding::Bech32) => {
            return fail("Version 1+ witness address must use Bech32m checksum")
        }
        _ => {}
    }
    let Some(program) = bech32::to_bytes(rest) else {
        return fail("Invalid padding in Bech32 data section");
    };
    let size = |n: usize| format!("{n} {}", if n == 1 { "byte" } else { "bytes" });
    if version == 0 && program.len() != 20 && program.len() != 32 {
        return fail(format!("Invalid Bech32 v0 address program size ({}), per BIP141", size(program.len())));
    }
    if version > 16 {
        return fail("Invalid Bech32 address witness version");
    }
    if !(2..=MAX_PROGRAM).contains(&program.len()) {
        return fail(format!("Invalid Bech32 address program size ({})", size(program.len())));
    }
    Ok(Destination::Witness { version, program })
}

fn decode_base58(s: &str) -> Result<Destination, AddressError> {
    match bitcoin::base58::decode_check(s) {
        // Core reads at most 21 bytes of payload (version byte and a 20-byte hash).
        Ok(data) if data.len() <= 21 => {
            let (prefix, hash) = data.split_first().map_or((None, &[][..]), |(p, h)| (Some(*p), h));
            match (prefix, hash.len()) {
                (Some(PUBKEY_PREFIX), 20) => {
                    PubkeyHash::from_slice(hash).map(Destination::PubkeyHash).or_else(|_| fail("bad hash"))
                }
                (Some(SCRIPT_PREFIX), 20) => {
                    ScriptHash::from_slice(hash).map(Destination::ScriptHash).or_else(|_| fail("bad hash"))
                }
                (Some(PUBKEY_PREFIX | SCRIPT_PREFIX), _) => {
                    fail("Invalid length for Base58 address (P2PKH or P2SH)")
                }
                _ => fail("Invalid or unsupported Base58-encoded address."),
            }
        }
        _ => match bitcoin::base58::decode(s) {
            Ok(data) if data.len() <= 100 => {
                fail("Invalid checksum or length of Base58 address (P2PKH or P2SH)")
            }
            _ => fail("Invalid or unsupported Segwit (Bech32) or Base58 encoding."),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(s: &str) -> String {
        decode(s).err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn messages_as_core() {
        let cases = [
            (
                "bcrt1s0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav25430mtr",
                "Invalid Bech32 address program size (41 bytes)",
            ),
            (
                "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
                "Invalid or unsupported Segwit (Bech32) or Base58 encoding.",
            ),
            (
                "bcrt1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqdmchcc",
                "Version 1+ witness address must use Bech32m checksum",
            ),
            (
                "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7k35mrzd",
                "Version 0 witness address must use Bech32 checksum",
            ),
            (
                "bcrt130xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqynjegk",
                "Invalid Bech32 address witness version",
            ),
            (
                "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kqqq5k3my",
                "Invalid Bech32 v0 address program size (21 bytes), per BIP141",
            ),
            ("17VZNX1SN5NtKa8UQFxwQbFeFc3iqRYhem", "Invalid or unsupported Base58-encoded address."),
            (
                "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJJfn",
                "Invalid checksum or length of Base58 address (P2PKH or P2SH)",
            ),
            (
                "2VKf7XKMrp4bVNVmuRbyCewkP8FhGLP2E54LHDPakr9Sq5mtU2",
                "Invalid checksum or length of Base58 address (P2PKH or P2SH)",
            ),
            ("asfah14i8fajz0123f", "Invalid or unsupported Segwit (Bech32) or Base58 encoding."),
            (
                "1q049ldschfnwystcqnsvyfpj23mpsg3jcedq9xv",
                "Invalid or unsupported Segwit (Bech32) or Base58 encoding.",
            ),
        ];
        for (address, message) in cases {
            assert_eq!(error(address), message, "{address}");
        }
    }

    #[test]
    fn valid_ones_decode() {
        for address in [
            "bcrt1qtmp74ayg7p24uslctssvjm06q5phz4yrxucgnv",
            "bcrt1p424qxxyd0r",
            "BCRT1QPLMTZKC2XHARPPZDLNPAQL78RSHJ68U33RAH7R",
            "bcrt1qdg3myrgvzw7ml9q0ejxhlkyxm7vl9r56yzkfgvzclrf4hkpx9yfqhpsuks",
            "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
        ] {
            assert!(decode(address).is_ok(), "{address}: {:?}", decode(address));
        }
        let unknown = decode("bcrt1p424qxxyd0r").ok();
        assert_eq!(unknown, Some(Destination::Witness { version: 1, program: vec![0xaa, 0xaa] }));
    }
}
