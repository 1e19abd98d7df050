//! The descriptor checksum (BIP380): computing it, and splitting and checking the `#checksum` a
//! descriptor string may carry, with Bitcoin Core's messages.

/// Characters a descriptor may contain, in the order the checksum's symbol values use.
const INPUT: &str =
    "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
/// The checksum's own alphabet (bech32's).
const CHECKSUM: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u64; 5] = [0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd];

fn polymod(c: u64, value: u64) -> u64 {
    let top = c >> 35;
    let mut c = ((c & 0x7_ffff_ffff) << 5) ^ value;
    for (i, g) in GENERATOR.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            c ^= g;
        }
    }
    c
}

/// The checksum of `descriptor` (without `#`), or `None` for a character outside the alphabet.
pub(crate) fn checksum(descriptor: &str) -> Option<String> {
    let mut c = 1u64;
    let mut class = 0u64;
    let mut class_count = 0;
    for ch in descriptor.chars() {
        let pos = u64::try_from(INPUT.find(ch)?).ok()?;
        c = polymod(c, pos & 31);
        class = class * 3 + (pos >> 5);
        class_count += 1;
        if class_count == 3 {
            c = polymod(c, class);
            class = 0;
            class_count = 0;
        }
    }
    if class_count > 0 {
        c = polymod(c, class);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    Some(
        (0..8)
            .map(|j| CHECKSUM.get(((c >> (5 * (7 - j))) & 31) as usize).map_or('?', |b| char::from(*b)))
            .collect(),
    )
}

/// `descriptor#checksum`.
pub(crate) fn with_checksum(descriptor: &str) -> String {
    match checksum(descriptor) {
        Some(sum) => format!("{descriptor}#{sum}"),
        None => descriptor.to_string(),
    }
}

/// Splits `text` into its body and checks its `#checksum`; `required` makes a missing one an
/// error (`deriveaddresses`, `importdescriptors`), as in Core.
pub(crate) fn strip_checksum(text: &str, required: bool) -> Result<&str, String> {
    let mut parts = text.split('#');
    let body = parts.next().unwrap_or_default();
    let Some(sum) = parts.next() else {
        return if required { Err("Missing checksum".into()) } else { Ok(body) };
    };
    if parts.next().is_some() {
        return Err("Multiple '#' symbols".into());
    }
    if sum.len() != 8 {
        return Err(format!("Expected 8 character checksum, not {} characters", sum.len()));
    }
    let computed = checksum(body).ok_or("Invalid characters in payload")?;
    if sum != computed {
        return Err(format!("Provided checksum '{sum}' does not match computed checksum '{computed}'"));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_bip380_examples() {
        assert_eq!(checksum("raw(deadbeef)").as_deref(), Some("89f8spxm"));
        assert_eq!(
            checksum("addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)").as_deref(),
            Some("02wpgw69"),
            "Core's descriptor_tests"
        );
        assert_eq!(strip_checksum("raw(deadbeef)#89f8spxm", true), Ok("raw(deadbeef)"));
        assert_eq!(strip_checksum("raw(deadbeef)", true), Err("Missing checksum".into()));
        assert_eq!(strip_checksum("raw(deadbeef)", false), Ok("raw(deadbeef)"));
        assert!(strip_checksum("raw(deadbeef)#89f8spxn", false).unwrap_err().contains("does not match"));
        assert_eq!(
            strip_checksum("raw(deadbeef)#89f8", false),
            Err("Expected 8 character checksum, not 4 characters".into())
        );
        assert_eq!(strip_checksum("a#b#c", false), Err("Multiple '#' symbols".into()));
    }
}
