//! 256-bit hashes as they cross interfaces: `[u8; 32]` in internal byte
//! order (the order `rust-bitcoin` serializes and Bitcoin Core keeps in
//! memory). Humans and JSON-RPC see them reversed; these helpers convert.

/// The hex text Bitcoin shows for a hash (block hash, txid): the bytes in
/// reverse order, lowercase.
///
/// ```
/// let mut hash = [0u8; 32];
/// hash[0] = 0x06; // internal order: the first byte is shown last
/// let hex = interfaces::hash_to_hex(&hash);
/// assert!(hex.ends_with("06") && hex.starts_with("00"));
/// assert_eq!(interfaces::hash_from_hex(&hex), Some(hash));
/// ```
pub fn hash_to_hex(hash: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for byte in hash.iter().rev() {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// Parses the hex text Bitcoin shows for a hash back into internal byte
/// order. `None` unless `hex` is exactly 64 hex digits (either case).
pub fn hash_from_hex(hex: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        hash[31 - i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitcoin's regtest genesis block hash, as shown and in internal order.
    const GENESIS_HEX: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

    fn genesis_internal() -> [u8; 32] {
        let mut h = [0u8; 32];
        // Internal order starts with the last shown byte pair.
        let shown: Vec<u8> =
            (0..32).map(|i| u8::from_str_radix(&GENESIS_HEX[2 * i..2 * i + 2], 16).unwrap()).collect();
        for (i, b) in shown.iter().enumerate() {
            h[31 - i] = *b;
        }
        h
    }

    #[test]
    fn regtest_genesis_round_trips() {
        let internal = genesis_internal();
        assert_eq!(internal[0], 0x06);
        assert_eq!(internal[31], 0x0f);
        assert_eq!(hash_to_hex(&internal), GENESIS_HEX);
        assert_eq!(hash_from_hex(GENESIS_HEX), Some(internal));
        assert_eq!(hash_from_hex(&GENESIS_HEX.to_uppercase()), Some(internal));
    }

    #[test]
    fn from_hex_rejects_bad_input() {
        for bad in ["", "00", &GENESIS_HEX[1..], &format!("{GENESIS_HEX}00"), &GENESIS_HEX.replace('f', "g")]
        {
            assert_eq!(hash_from_hex(bad), None, "{bad:?}");
        }
        // 64 bytes but not 64 ASCII digits.
        let multibyte = format!("é{}", &GENESIS_HEX[2..]);
        assert_eq!(hash_from_hex(&multibyte), None);
    }

    #[test]
    fn zero_and_all_ones() {
        assert_eq!(hash_to_hex(&[0; 32]), "0".repeat(64));
        assert_eq!(hash_to_hex(&[0xff; 32]), "f".repeat(64));
        assert_eq!(hash_from_hex(&"0".repeat(64)), Some([0; 32]));
    }
}
