//! Exact amounts of money: two decimal places, never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minor units (cents) per major unit.
const MINOR_PER_MAJOR: i64 = 100;
/// Number of decimal places every amount carries.
const SCALE: u32 = 2;
/// `Money::MAX` in minor units: the largest value a `NUMERIC(12,2)` column holds.
const MAX_MINOR_UNITS: i64 = 999_999_999_999;

/// A non-negative amount of money in the deployment's currency.
///
/// The amount always has exactly two decimal places and lies between
/// [`Money::ZERO`] and [`Money::MAX`], so it fits a `NUMERIC(12,2)` column.
/// It is displayed and serialized as a string such as `"149.90"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

/// Why a value is not a valid amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a plain decimal number such as `149.90`.
    #[error("must be a decimal amount like \"149.90\"")]
    Invalid,
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// More than two decimal places.
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    /// Above [`Money::MAX`].
    #[error("must be at most 9999999999.99")]
    TooLarge,
}

impl Money {
    /// Nothing: `0.00`.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, SCALE));

    /// The largest amount, `9999999999.99` (the limit of `NUMERIC(12,2)`).
    pub const MAX: Money = Money(Decimal::from_parts(
        (MAX_MINOR_UNITS & 0xFFFF_FFFF) as u32,
        (MAX_MINOR_UNITS >> 32) as u32,
        0,
        false,
        SCALE,
    ));

    /// Parses a plain decimal string: digits with an optional fraction of at
    /// least one digit (`"149"`, `"149.9"`, `"149.90"`).
    ///
    /// Signs, exponents, whitespace and special values such as `NaN` are
    /// rejected. Trailing zeros beyond two decimal places are accepted
    /// (`"1.230"` is `1.23`); any other third decimal is [`MoneyError::TooPrecise`].
    /// A leading minus on an otherwise valid number is [`MoneyError::Negative`].
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let (negative, unsigned) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((_, "")) => return Err(MoneyError::Invalid),
            Some((whole, fraction)) => (whole, fraction),
            None => (unsigned, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(MoneyError::Invalid);
        }
        if negative {
            return Err(MoneyError::Negative);
        }

        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > SCALE as usize {
            return Err(MoneyError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        // Ten digits is the most `NUMERIC(12,2)` holds; checking the length
        // first also keeps the conversion below from overflowing.
        if whole.len() > 10 {
            return Err(MoneyError::TooLarge);
        }

        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::Invalid)? };
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| MoneyError::Invalid)? * 10,
            _ => fraction.parse().map_err(|_| MoneyError::Invalid)?,
        };
        Money::from_minor_units(whole * MINOR_PER_MAJOR + fraction)
    }

    /// Accepts a decimal under the same rules as [`Money::parse`]: it must
    /// not be negative, must have at most two decimal places once trailing
    /// zeros are dropped (`1.2300` is fine), and must not exceed [`Money::MAX`].
    pub fn from_decimal(d: Decimal) -> Result<Money, MoneyError> {
        if d.is_zero() {
            // Also covers a negative zero.
            return Ok(Money::ZERO);
        }
        if d.is_sign_negative() {
            return Err(MoneyError::Negative);
        }
        let mut normalized = d.normalize();
        if normalized.scale() > SCALE {
            return Err(MoneyError::TooPrecise);
        }
        if normalized > Money::MAX.0 {
            return Err(MoneyError::TooLarge);
        }
        normalized.rescale(SCALE);
        Ok(Money(normalized))
    }

    /// The amount `cents / 100`.
    pub fn from_minor_units(cents: i64) -> Result<Money, MoneyError> {
        if cents < 0 {
            Err(MoneyError::Negative)
        } else if cents > MAX_MINOR_UNITS {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Money(Decimal::new(cents, SCALE)))
        }
    }

    /// The amount in minor units (cents): `149.90` is `14990`.
    pub fn minor_units(self) -> i64 {
        // The scale is always 2 and the value at most `MAX`, so the mantissa
        // is the number of cents and fits an `i64`.
        i64::try_from(self.0.mantissa()).expect("money is at most Money::MAX")
    }

    /// The amount as a decimal with exactly two decimal places.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Whether this is `0.00`.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`, or `None` above [`Money::MAX`].
    pub fn checked_add(self, other: Money) -> Option<Money> {
        Money::from_minor_units(self.minor_units() + other.minor_units()).ok()
    }

    /// `self - other`, or `None` if that would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        Money::from_minor_units(self.minor_units() - other.minor_units()).ok()
    }

    /// `self - other`, or [`Money::ZERO`] if that would be negative.
    pub fn saturating_sub(self, other: Money) -> Money {
        self.checked_sub(other).unwrap_or(Money::ZERO)
    }

    /// `self * n`, or `None` if `n` is negative or the product exceeds [`Money::MAX`].
    pub fn checked_mul(self, n: i64) -> Option<Money> {
        if n < 0 {
            return None;
        }
        let cents = self.minor_units().checked_mul(n)?;
        Money::from_minor_units(cents).ok()
    }
}

impl fmt::Display for Money {
    /// Always two decimal places: `149.90`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.minor_units();
        let text = format!("{}.{:02}", cents / MINOR_PER_MAJOR, cents % MINOR_PER_MAJOR);
        f.pad(&text)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Serialize for Money {
    /// As a JSON string, `"149.90"`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// From a string only; a JSON number is refused so no float ever becomes money.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any` so that a number reaches the visitor and gets the
        // explanatory message rather than a generic type error.
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

const NOT_A_NUMBER: &str = "money must be a string like \"149.90\", not a number";

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("money as a string like \"149.90\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        Money::parse(v).map_err(|e| E::custom(format_args!("invalid money {v:?}: {e}")))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Money, E> {
        Err(E::custom(NOT_A_NUMBER))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Money, E> {
        Err(E::custom(NOT_A_NUMBER))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Money, E> {
        Err(E::custom(NOT_A_NUMBER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_and_pads_to_two_places() {
        assert_eq!(m("149.9").to_string(), "149.90");
        assert_eq!(m("149.90").to_string(), "149.90");
        assert_eq!(m("149").to_string(), "149.00");
        assert_eq!(m("0").to_string(), "0.00");
        assert_eq!(m("0.05").to_string(), "0.05");
        assert_eq!(m("007.50").to_string(), "7.50");
        assert_eq!(m("1.230").to_string(), "1.23");
        assert_eq!(m("1234567.89").to_string(), "1234567.89");
        assert_eq!(m("9999999999.99"), Money::MAX);
        assert_eq!("12.5".parse::<Money>(), Ok(m("12.50")));
    }

    #[test]
    fn amount_always_has_scale_two() {
        for s in ["0", "1", "149.9", "1.230", "9999999999.99"] {
            assert_eq!(m(s).amount().scale(), 2, "{s}");
        }
        assert_eq!(Money::ZERO.amount().scale(), 2);
        assert_eq!(Money::MAX.amount().scale(), 2);
        assert_eq!(Money::MAX.minor_units(), 999_999_999_999);
    }

    #[test]
    fn rejects_malformed_strings() {
        for s in ["", "abc", " 1", "1 ", "1e3", "NaN", "inf", "+1", ".5", "1.", "1..2", "1.2.3", "1,50", "--1", "-"] {
            assert_eq!(Money::parse(s), Err(MoneyError::Invalid), "{s:?}");
        }
    }

    #[test]
    fn rejects_negative_precise_and_large_values() {
        assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("-0.01"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("0.001"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("10000000000"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("10000000000.00"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("99999999999999999999999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(MoneyError::TooPrecise.to_string(), "must have at most 2 decimal places");
    }

    #[test]
    fn from_decimal_follows_the_same_rules() {
        assert_eq!(Money::from_decimal(Decimal::new(12300, 4)), Ok(m("1.23")));
        assert_eq!(Money::from_decimal(Decimal::new(12300, 4)).unwrap().amount().scale(), 2);
        assert_eq!(Money::from_decimal(Decimal::new(5, 0)), Ok(m("5.00")));
        assert_eq!(Money::from_decimal(Decimal::new(1234, 3)), Err(MoneyError::TooPrecise));
        assert_eq!(Money::from_decimal(Decimal::new(-1, 0)), Err(MoneyError::Negative));
        assert_eq!(Money::from_decimal(Decimal::new(1_000_000_000_000, 2)), Err(MoneyError::TooLarge));
        assert_eq!(Money::from_decimal(-Decimal::ZERO), Ok(Money::ZERO));
        assert_eq!(Money::from_decimal(Money::MAX.amount()), Ok(Money::MAX));
    }

    #[test]
    fn minor_units_round_trip() {
        assert_eq!(Money::from_minor_units(14990), Ok(m("149.90")));
        assert_eq!(m("1234567.89").minor_units(), 123_456_789);
        assert_eq!(Money::from_minor_units(-1), Err(MoneyError::Negative));
        assert_eq!(Money::from_minor_units(1_000_000_000_000), Err(MoneyError::TooLarge));
        assert_eq!(Money::from_minor_units(0), Ok(Money::ZERO));
        assert!(Money::ZERO.is_zero());
        assert!(!m("0.01").is_zero());
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(m("0.10").checked_add(m("0.20")), Some(m("0.30")));
        assert_eq!(m("0.10").checked_add(m("0.20")).unwrap().amount(), Decimal::new(30, 2));
        assert_eq!(m("1234567.89").checked_add(m("0.11")), Some(m("1234568.00")));
        assert_eq!(m("9999999999.98").checked_add(m("0.01")), Some(Money::MAX));
        assert_eq!(Money::MAX.checked_add(m("0.01")), None);
        assert_eq!(m("0.30").checked_sub(m("0.10")), Some(m("0.20")));
        assert_eq!(m("1").checked_sub(m("1")), Some(Money::ZERO));
        assert_eq!(m("1").checked_sub(m("1.01")), None);
        assert_eq!(m("1").saturating_sub(m("5")), Money::ZERO);
        assert_eq!(m("5").saturating_sub(m("1.25")), m("3.75"));
        assert_eq!(m("0.10").checked_mul(3), Some(m("0.30")));
        assert_eq!(m("19.99").checked_mul(0), Some(Money::ZERO));
        assert_eq!(m("1").checked_mul(-1), None);
        assert_eq!(Money::MAX.checked_mul(2), None);
        assert_eq!(m("0.01").checked_mul(i64::MAX), None);
    }

    #[test]
    fn orders_by_value() {
        assert!(m("9.99") < m("10"));
        assert!(Money::ZERO < m("0.01"));
        assert_eq!(m("2").max(m("1.5")), m("2"));
    }

    #[test]
    fn serializes_as_a_string() {
        assert_eq!(serde_json::to_string(&m("149.9")).unwrap(), r#""149.90""#);
        assert_eq!(serde_json::to_string(&Money::MAX).unwrap(), r#""9999999999.99""#);
        for s in ["0.00", "0.30", "1234567.89", "9999999999.99"] {
            let json = serde_json::to_string(&m(s)).unwrap();
            assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m(s));
        }
    }

    #[test]
    fn deserializes_from_strings_only() {
        assert_eq!(serde_json::from_str::<Money>(r#""149.9""#).unwrap(), m("149.90"));
        for json in ["149.9", "149", "-1", "1e3"] {
            let err = serde_json::from_str::<Money>(json).unwrap_err().to_string();
            assert!(err.contains(r#"money must be a string like "149.90""#), "{json}: {err}");
        }
        let err = serde_json::from_str::<Money>(r#""1.234""#).unwrap_err().to_string();
        assert!(err.contains("at most 2 decimal places"), "{err}");
        assert!(serde_json::from_str::<Money>(r#""-5""#).is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
    }
}
