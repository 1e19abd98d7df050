//! Bech32 and bech32m (BIP173, BIP350) as Bitcoin Core reads them for addresses: decoding with
//! its rules (90 characters at most, one case, separator `1` with a 6-character checksum after
//! it) and, for a string that fails, Core's message and the positions of the characters in error
//! (`validateaddress`'s `error_locations`).
//!
//! The checksum is linear over GF(2): flipping a data character changes the checksum residue by
//! an amount that depends only on the position and the flip. So the errors are found by lookup
//! in the table of those amounts, a single error directly and a pair through a hash map; the code
//! corrects up to two substitutions uniquely within 90 characters, which is what Core reports.

use std::collections::HashMap;

/// The 32 characters, by value.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// Longest string accepted.
const MAX_LENGTH: usize = 90;
/// Characters of checksum after the data.
const CHECKSUM_LENGTH: usize = 6;

/// Which checksum constant a string verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// BIP173.
    Bech32,
    /// BIP350.
    Bech32m,
}

impl Encoding {
    fn constant(self) -> u32 {
        match self {
            Encoding::Bech32 => 1,
            Encoding::Bech32m => 0x2bc8_30a3,
        }
    }
}

/// A string that decoded: its human-readable part (lowercase), encoding and 5-bit data values
/// (checksum removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) hrp: String,
    pub(crate) encoding: Encoding,
    pub(crate) data: Vec<u8>,
}

fn polymod_step(checksum: u32, value: u8) -> u32 {
    const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let top = checksum >> 25;
    let mut next = ((checksum & 0x01ff_ffff) << 5) ^ u32::from(value);
    for (i, g) in GENERATOR.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            next ^= g;
        }
    }
    next
}

fn polymod(values: impl IntoIterator<Item = u8>) -> u32 {
    values.into_iter().fold(1, polymod_step)
}

fn expand_hrp(hrp: &str) -> Vec<u8> {
    let bytes = hrp.as_bytes();
    bytes.iter().map(|c| c >> 5).chain([0]).chain(bytes.iter().map(|c| c & 31)).collect()
}

fn value_of(c: u8) -> Option<u8> {
    let lower = c.to_ascii_lowercase();
    CHARSET.iter().position(|&x| x == lower).and_then(|v| u8::try_from(v).ok())
}

/// Positions of characters outside the printable range or in the other case than the first
/// letter's (Core flags the letters after the case was set, not the first one).
fn character_errors(s: &str) -> Vec<usize> {
    let (mut lower, mut upper) = (false, false);
    let mut errors = Vec::new();
    for (i, c) in s.bytes().enumerate() {
        if c.is_ascii_lowercase() {
            if upper {
                errors.push(i);
            } else {
                lower = true;
            }
        } else if c.is_ascii_uppercase() {
            if lower {
                errors.push(i);
            } else {
                upper = true;
            }
        } else if !(33..=126).contains(&c) {
            errors.push(i);
        }
    }
    errors
}

/// The separator's position, if it leaves a non-empty hrp and room for the checksum.
fn separator(s: &str) -> Result<usize, (&'static str, Vec<usize>)> {
    let pos = s.rfind('1').ok_or(("Missing separator", Vec::new()))?;
    if pos == 0 || pos + CHECKSUM_LENGTH >= s.len() {
        return Err(("Invalid separator position", vec![pos]));
    }
    Ok(pos)
}

/// Decodes `s` by Core's rules; `None` for anything that is not a valid bech32 or bech32m string.
pub(crate) fn decode(s: &str) -> Option<Decoded> {
    if s.len() > MAX_LENGTH || !character_errors(s).is_empty() {
        return None;
    }
    let pos = separator(s).ok()?;
    let hrp = s[..pos].to_ascii_lowercase();
    let values: Vec<u8> = s.as_bytes()[pos + 1..].iter().map(|&c| value_of(c)).collect::<Option<_>>()?;
    let residue = polymod(expand_hrp(&hrp).into_iter().chain(values.iter().copied()));
    let encoding = [Encoding::Bech32, Encoding::Bech32m].into_iter().find(|e| e.constant() == residue)?;
    let data = values[..values.len() - CHECKSUM_LENGTH].to_vec();
    Some(Decoded { hrp, encoding, data })
}

/// Why `s` is not a valid bech32(m) string and where, as Core says it (its `LocateErrors`): the
/// message and the string positions in error, ascending (empty when they cannot be located).
pub(crate) fn locate_errors(s: &str) -> (String, Vec<usize>) {
    if s.len() > MAX_LENGTH {
        return ("Bech32 string too long".into(), (MAX_LENGTH..s.len()).collect());
    }
    let bad = character_errors(s);
    if !bad.is_empty() {
        return ("Invalid character or mixed case".into(), bad);
    }
    let pos = match separator(s) {
        Ok(pos) => pos,
        Err((message, at)) => return (message.into(), at),
    };
    let hrp = s[..pos].to_ascii_lowercase();
    let mut values = Vec::with_capacity(s.len() - pos - 1);
    for (i, &c) in s.as_bytes().iter().enumerate().skip(pos + 1) {
        match value_of(c) {
            Some(v) => values.push(v),
            None => return ("Invalid Base 32 character".into(), vec![i]),
        }
    }
    let checksum = polymod(expand_hrp(&hrp).into_iter().chain(values.iter().copied()));
    let mut best: Option<(Encoding, Vec<usize>)> = None;
    for encoding in [Encoding::Bech32, Encoding::Bech32m] {
        let residue = checksum ^ encoding.constant();
        if residue == 0 {
            return (String::new(), Vec::new());
        }
        let found: Vec<usize> = find_errors(residue, values.len()).into_iter().map(|i| pos + 1 + i).collect();
        // The encoding whose explanation needs fewer errors wins; a tie keeps bech32.
        let better = match &best {
            None => !found.is_empty(),
            Some((_, so_far)) => !found.is_empty() && found.len() < so_far.len(),
        };
        if better {
            best = Some((encoding, found));
        }
    }
    match best {
        Some((Encoding::Bech32, at)) => ("Invalid Bech32 checksum".into(), at),
        Some((Encoding::Bech32m, at)) => ("Invalid Bech32m checksum".into(), at),
        None => ("Invalid checksum".into(), Vec::new()),
    }
}

/// Data positions (0-based, ascending) of at most two substituted characters that explain
/// `residue` in a data part of `length` values, or none.
fn find_errors(residue: u32, length: usize) -> Vec<usize> {
    // What changing the value at position i by xor-ing in v does to the checksum: v fed in, then
    // shifted through the `length - 1 - i` values after it.
    let mut effects: Vec<(u32, usize)> = Vec::with_capacity(length * 31);
    for i in 0..length {
        for v in 1..32u8 {
            let mut c = u32::from(v);
            for _ in 0..length - 1 - i {
                c = polymod_step(c, 0);
            }
            effects.push((c, i));
        }
    }
    if let Some(&(_, i)) = effects.iter().find(|(c, _)| *c == residue) {
        return vec![i];
    }
    let by_effect: HashMap<u32, usize> = effects.iter().copied().collect();
    for &(c, i) in &effects {
        if let Some(&j) = by_effect.get(&(residue ^ c)) {
            if j != i {
                return if i < j { vec![i, j] } else { vec![j, i] };
            }
        }
    }
    Vec::new()
}

/// 5-bit values to bytes (no padding added): `None` when the leftover bits are 5 or more, or not
/// zero (Core's "Invalid padding").
pub(crate) fn to_bytes(values: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(values.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &v in values {
        acc = ((acc << 5) | u32::from(v)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    if bits >= 5 || (acc << (8 - bits)) & 0xff != 0 {
        return None;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bip173_and_bip350_vectors() {
        let v0 = decode("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4");
        assert_eq!(v0.as_ref().map(|d| (d.hrp.as_str(), d.encoding)), Some(("bc", Encoding::Bech32)));
        let m = decode("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
        assert_eq!(m.map(|d| d.encoding), Some(Encoding::Bech32m));
        assert_eq!(decode("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"), None);
        assert_eq!(decode("Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"), None);
    }

    #[test]
    fn locates_errors_as_core() {
        let check = |s: &str, message: &str, at: &[usize]| {
            assert_eq!(locate_errors(s), (message.to_string(), at.to_vec()), "{s}");
        };
        check("bcrt1q049edschfnwystcqnsvyfpj23mpsg3jcedq9xv", "Invalid Bech32 checksum", &[9]);
        check("bcrt1qax9suht3qv95sw33xavx8crpxduefdrsvgsklu", "Invalid Bech32 checksum", &[22, 43]);
        check("BCRT1QPLMTZKC2XHARPPZDLNPAQL78RSHJ68U32RAH7R", "Invalid Bech32 checksum", &[38]);
        check("bcrt1ptmp74ayg7p24uslctssvjm06q5phz4yrxucgnv", "Invalid Bech32 checksum", &[5]);
        check(
            "bcrt1qdg3myrgvzw7ml8q0ejxhlkyxn7vl9r56yzkfgvzclrf4hkpx9yfqhpsuks",
            "Invalid Bech32 checksum",
            &[19, 30],
        );
        check("bcrtq049ldschfnwystcqnsvyfpj23mpsg3jcedq9xv", "Missing separator", &[]);
        check("bcrt1q04oldschfnwystcqnsvyfpj23mpsg3jcedq9xv", "Invalid Base 32 character", &[8]);
        check("bcrt1qAb", "Invalid character or mixed case", &[6]);
        check("1qqqqqqqq", "Invalid separator position", &[0]);
        let long = "bcrt1q049edschfnwystcqnsvyfpj23mpsg3jcedq9xv049edschfnwystcqnsvyfpj23mpsg3jcedq9xv049edschfnwystcqnsvyfpj23m";
        check(long, "Bech32 string too long", &(90..108).collect::<Vec<_>>());
    }

    #[test]
    fn padding_rules() {
        assert_eq!(to_bytes(&[31, 28]), Some(vec![0xff]));
        assert_eq!(to_bytes(&[31, 29]), None, "non-zero padding");
        assert_eq!(to_bytes(&[31, 28, 0]), None, "5 bits left over");
    }
}
