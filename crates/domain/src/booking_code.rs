//! Human-friendly booking codes, unique by construction.
//!
//! A code is a keyed permutation of the reservation id written in Crockford
//! base32: distinct ids always give distinct codes (no retry loop, no
//! collision), and consecutive ids give unrelated-looking codes.

use std::fmt;

use crate::ids::ReservationId;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const HALF_BITS: u32 = 20;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
const ROUND_KEYS: [u64; 4] = [0x9E37_79B9, 0x7F4A_7C15, 0x94D0_49BB, 0xBF58_476D];
/// Codes are 8 characters (40 bits) for ids below 2^40, longer beyond.
const SHORT_BITS: u32 = 2 * HALF_BITS;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BookingCode(String);

impl BookingCode {
    pub fn for_reservation(id: ReservationId) -> BookingCode {
        let raw = id.0 as u64;
        let low = raw & ((1 << SHORT_BITS) - 1);
        let high = raw >> SHORT_BITS;
        let mixed = (high << SHORT_BITS) | permute(low);
        BookingCode(encode(mixed))
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

/// A 4-round Feistel network on 40 bits: a bijection, so no two ids collide.
fn permute(value: u64) -> u64 {
    let (mut left, mut right) = (value >> HALF_BITS, value & HALF_MASK);
    for key in ROUND_KEYS {
        let mixed = (right.wrapping_mul(0x2545_F491).wrapping_add(key) ^ (right >> 7)) & HALF_MASK;
        (left, right) = (right, left ^ mixed);
    }
    (left << HALF_BITS) | right
}

fn encode(mut value: u64) -> String {
    let mut chars = Vec::new();
    while value > 0 || chars.len() < 8 {
        chars.push(ALPHABET[(value & 31) as usize]);
        value >>= 5;
    }
    chars.reverse();
    String::from_utf8(chars).expect("the alphabet is ASCII")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_eight_characters_and_unique_over_many_ids() {
        let mut seen = HashSet::new();
        for id in 1..50_000 {
            let code = BookingCode::for_reservation(ReservationId(id));
            assert_eq!(code.as_str().len(), 8);
            assert!(seen.insert(code), "duplicate code for id {id}");
        }
    }

    #[test]
    fn consecutive_ids_give_unrelated_codes() {
        let a = BookingCode::for_reservation(ReservationId(1));
        let b = BookingCode::for_reservation(ReservationId(2));
        let shared_prefix = a.as_str().chars().zip(b.as_str().chars()).take_while(|(x, y)| x == y).count();
        assert!(shared_prefix < 6, "{a} and {b} look alike");
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(BookingCode::normalise(" ab-cd oil1 ").as_str(), "ABCD0111");
    }

    #[test]
    fn huge_ids_still_get_distinct_codes() {
        let a = BookingCode::for_reservation(ReservationId(1 << 41));
        let b = BookingCode::for_reservation(ReservationId((1 << 41) + 1));
        assert_ne!(a, b);
    }
}
