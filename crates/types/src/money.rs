//! Money as integer minor units. Never a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount accepted, in minor units (₹ 1,00,00,00,000.00 — one thousand crore).
pub const MAX_MINOR: u64 = 1_000_000_000_000;

/// A positive amount of money in minor units (paise for INR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(u64);

/// Why an amount string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Empty string.
    Empty,
    /// Anything but digits with an optional `.` and at most two fraction digits
    /// (signs, exponents, spaces, commas, several dots).
    Malformed,
    /// More than two digits after the decimal point, such as `100.1532`.
    TooManyDecimals,
    /// Zero is not a payable amount.
    Zero,
    /// Above [`MAX_MINOR`].
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::Empty => "amount is empty",
            AmountError::Malformed => "amount must be a decimal number such as 100 or 100.15",
            AmountError::TooManyDecimals => "amount may have at most two digits after the decimal point",
            AmountError::Zero => "amount must be greater than zero",
            AmountError::TooLarge => "amount is too large",
        })
    }
}

impl std::error::Error for AmountError {}

impl Amount {
    /// An amount from minor units; `None` for zero or above [`MAX_MINOR`].
    pub fn from_minor(minor: u64) -> Option<Amount> {
        (minor > 0 && minor <= MAX_MINOR).then_some(Amount(minor))
    }

    /// The amount in minor units.
    pub fn minor(self) -> u64 {
        self.0
    }

    /// Parses the wire form of seed 000 (`"10.00"`, `"100"`, `"100.5"`).
    ///
    /// ```
    /// use kassa_types::{Amount, AmountError};
    /// assert_eq!(Amount::parse("100.15").unwrap().minor(), 10015);
    /// assert_eq!(Amount::parse("100.1532"), Err(AmountError::TooManyDecimals));
    /// assert_eq!(Amount::parse("1e3"), Err(AmountError::Malformed));
    /// ```
    pub fn parse(s: &str) -> Result<Amount, AmountError> {
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Malformed);
        }
        let frac = frac.unwrap_or("");
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Malformed);
        }
        if s.ends_with('.') {
            return Err(AmountError::Malformed);
        }
        if frac.len() > 2 {
            return Err(AmountError::TooManyDecimals);
        }
        // Strip leading zeros so long zero-padded inputs do not overflow.
        let int = int.trim_start_matches('0');
        if int.len() > 13 {
            return Err(AmountError::TooLarge);
        }
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| AmountError::TooLarge)? };
        let mut fraction: u64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| AmountError::Malformed)? };
        if frac.len() == 1 {
            fraction *= 10;
        }
        let minor = whole.checked_mul(100).and_then(|w| w.checked_add(fraction)).ok_or(AmountError::TooLarge)?;
        if minor == 0 {
            return Err(AmountError::Zero);
        }
        if minor > MAX_MINOR {
            return Err(AmountError::TooLarge);
        }
        Ok(Amount(minor))
    }

    /// The wire form with exactly two fraction digits: `10015` → `"100.15"`.
    pub fn to_decimal_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// Currencies Kassa accepts. All have two minor-unit digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Indian rupee (the default).
    INR,
    /// US dollar.
    USD,
    /// Euro.
    EUR,
    /// Pound sterling.
    GBP,
    /// Singapore dollar.
    SGD,
    /// UAE dirham.
    AED,
}

impl Currency {
    /// Parses an ISO 4217 code (upper case, as on the wire).
    pub fn parse(s: &str) -> Option<Currency> {
        Some(match s {
            "INR" => Currency::INR,
            "USD" => Currency::USD,
            "EUR" => Currency::EUR,
            "GBP" => Currency::GBP,
            "SGD" => Currency::SGD,
            "AED" => Currency::AED,
            _ => return None,
        })
    }

    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::INR => "INR",
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::SGD => "SGD",
            Currency::AED => "AED",
        }
    }

    /// The symbol shown to shoppers.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::INR => "₹",
            Currency::USD => "$",
            Currency::EUR => "€",
            Currency::GBP => "£",
            Currency::SGD => "S$",
            Currency::AED => "AED ",
        }
    }

    /// `₹1,234.50`-style display with Indian digit grouping for INR
    /// (`₹1,00,000.00`) and groups of three for the others.
    ///
    /// ```
    /// use kassa_types::{Amount, Currency};
    /// let a = Amount::parse("123456.5").unwrap();
    /// assert_eq!(Currency::INR.format(a), "₹1,23,456.50");
    /// assert_eq!(Currency::USD.format(a), "$123,456.50");
    /// ```
    pub fn format(self, amount: Amount) -> String {
        let whole = (amount.minor() / 100).to_string();
        let frac = amount.minor() % 100;
        let grouped = match self {
            Currency::INR => group_indian(&whole),
            Currency::USD | Currency::EUR | Currency::GBP | Currency::SGD | Currency::AED => group_thousands(&whole),
        };
        format!("{}{}.{:02}", self.symbol(), grouped, frac)
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn group_indian(digits: &str) -> String {
    if digits.len() <= 3 {
        return digits.to_string();
    }
    let (head, last3) = digits.split_at(digits.len() - 3);
    let mut out = String::new();
    for (i, c) in head.chars().enumerate() {
        if i > 0 && (head.len() - i) % 2 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push(',');
    out.push_str(last3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_amounts() {
        for (s, m) in [("1", 100), ("10.00", 1000), ("100.15", 10015), ("0.5", 50), ("0.01", 1), ("007.10", 710)] {
            assert_eq!(Amount::parse(s).map(Amount::minor), Ok(m), "{s}");
        }
    }

    #[test]
    fn refuses_malformed_amounts() {
        for s in ["-1", "+1", "1e3", "1,000", " 1", "1 ", ".5", "5.", "1.2.3", "NaN", "inf", "١٢"] {
            assert_eq!(Amount::parse(s), Err(AmountError::Malformed), "{s}");
        }
        assert_eq!(Amount::parse(""), Err(AmountError::Empty));
        assert_eq!(Amount::parse("100.1532"), Err(AmountError::TooManyDecimals));
        assert_eq!(Amount::parse("0"), Err(AmountError::Zero));
        assert_eq!(Amount::parse("0.00"), Err(AmountError::Zero));
        assert_eq!(Amount::parse("99999999999999999999999999"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse("10000000001"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse("10000000000").map(Amount::minor), Ok(MAX_MINOR));
    }

    #[test]
    fn formats_round_trip() {
        let a = Amount::parse("100.5").unwrap();
        assert_eq!(a.to_decimal_string(), "100.50");
        assert_eq!(Amount::parse(&a.to_decimal_string()), Ok(a));
        assert_eq!(Currency::INR.format(Amount::parse("1").unwrap()), "₹1.00");
        assert_eq!(Currency::INR.format(Amount::parse("1000").unwrap()), "₹1,000.00");
        assert_eq!(Currency::INR.format(Amount::parse("10000000").unwrap()), "₹1,00,00,000.00");
        assert_eq!(Currency::EUR.format(Amount::parse("1234567").unwrap()), "€1,234,567.00");
    }
}
