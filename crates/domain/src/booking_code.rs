//! Human-friendly booking codes: tickets drawn at random.
//!
//! A code is 40 random bits written as 8 Crockford base32 characters. It says
//! nothing about the reservation, so no one can compute another's code. The
//! bits come from outside (a CSPRNG behind the
//! [`BookingCodes`](crate::ports::BookingCodes) port): the
//! domain does no I/O. Codes are unique because the database says so; a
//! collision is retried with a fresh code.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random bytes in a code: 40 bits, 8 characters.
pub const CODE_BYTES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BookingCode(String);

impl BookingCode {
    /// The code for 40 random bits.
    pub fn from_random(bytes: [u8; CODE_BYTES]) -> BookingCode {
        let bits = bytes.iter().fold(0u64, |bits, byte| (bits << 8) | u64::from(*byte));
        let code = (0..8).rev().map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize])).collect();
        BookingCode(code)
    }

    /// Normalises what a person typed: case, spaces and dashes do not matter,
    /// and the look-alikes O, I and L read as 0, 1 and 1.
    pub fn normalise(typed: &str) -> BookingCode {
        let code = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        BookingCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Trusts a stored code.
    pub fn from_stored(code: String) -> BookingCode {
        BookingCode(code)
    }
}

impl fmt::Display for BookingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_bits_make_eight_crockford_characters() {
        assert_eq!(BookingCode::from_random([0; 5]).as_str(), "00000000");
        assert_eq!(BookingCode::from_random([0xff; 5]).as_str(), "ZZZZZZZZ");
        assert_eq!(BookingCode::from_random([0, 0, 0, 0, 33]).as_str(), "00000011");
        let code = BookingCode::from_random([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(code.as_str().len(), 8);
        assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn distinct_bits_give_distinct_codes() {
        let a = BookingCode::from_random([1, 2, 3, 4, 5]);
        let b = BookingCode::from_random([1, 2, 3, 4, 6]);
        assert_ne!(a, b);
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(BookingCode::normalise(" ab-cd oil1 ").as_str(), "ABCD0111");
    }

    #[test]
    fn a_code_reads_back_as_typed() {
        let code = BookingCode::from_random([9, 8, 7, 6, 5]);
        assert_eq!(BookingCode::normalise(&code.as_str().to_lowercase()), code);
    }
}
