//! Card number checks shared by the payment page and the server.

use serde::{Deserialize, Serialize};

/// Card brands the page recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardBrand {
    /// Visa.
    Visa,
    /// Mastercard.
    Mastercard,
    /// RuPay.
    RuPay,
    /// American Express.
    Amex,
    /// Maestro.
    Maestro,
    /// Diners Club.
    Diners,
}

impl CardBrand {
    /// The `payment_method` value of `POST /txns`.
    pub fn code(self) -> &'static str {
        match self {
            CardBrand::Visa => "VISA",
            CardBrand::Mastercard => "MASTERCARD",
            CardBrand::RuPay => "RUPAY",
            CardBrand::Amex => "AMEX",
            CardBrand::Maestro => "MAESTRO",
            CardBrand::Diners => "DINERS",
        }
    }

    /// The brand of a [`CardBrand::code`].
    pub fn from_code(code: &str) -> Option<CardBrand> {
        [CardBrand::Visa, CardBrand::Mastercard, CardBrand::RuPay, CardBrand::Amex, CardBrand::Maestro, CardBrand::Diners]
            .into_iter()
            .find(|b| b.code() == code)
    }

    /// The name shown to shoppers.
    pub fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::RuPay => "RuPay",
            CardBrand::Amex => "American Express",
            CardBrand::Maestro => "Maestro",
            CardBrand::Diners => "Diners Club",
        }
    }

    /// The CVV length for this brand.
    pub fn cvv_len(self) -> usize {
        match self {
            CardBrand::Amex => 4,
            CardBrand::Visa | CardBrand::Mastercard | CardBrand::RuPay | CardBrand::Maestro | CardBrand::Diners => 3,
        }
    }

    /// Accepted number lengths.
    pub fn lengths(self) -> &'static [usize] {
        match self {
            CardBrand::Amex => &[15],
            CardBrand::Diners => &[14, 16],
            CardBrand::Maestro => &[12, 13, 14, 15, 16, 17, 18, 19],
            CardBrand::Visa => &[13, 16, 19],
            CardBrand::Mastercard | CardBrand::RuPay => &[16],
        }
    }
}

/// The digits of a card number as typed (spaces and dashes dropped);
/// `None` if anything else is present.
pub fn digits(input: &str) -> Option<String> {
    let mut out = String::with_capacity(19);
    for c in input.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The Luhn check over a string of ASCII digits.
///
/// ```
/// assert!(kassa_types::card::luhn_valid("4111111111111111"));
/// assert!(!kassa_types::card::luhn_valid("4111111111111112"));
/// ```
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn prefix_num(digits: &str, n: usize) -> Option<u32> {
    digits.get(..n)?.parse().ok()
}

/// Detects the brand from the leading digits (works on partial input).
pub fn detect_brand(digits: &str) -> Option<CardBrand> {
    let p2 = prefix_num(digits, 2);
    let p3 = prefix_num(digits, 3);
    let p4 = prefix_num(digits, 4);
    let p6 = prefix_num(digits, 6);
    if matches!(p2, Some(34 | 37)) {
        return Some(CardBrand::Amex);
    }
    if matches!(p2, Some(36 | 38 | 39)) || matches!(p3, Some(300..=305)) {
        return Some(CardBrand::Diners);
    }
    // RuPay ranges before Mastercard/Discover-like ranges.
    if matches!(p2, Some(60 | 65 | 81 | 82)) || matches!(p3, Some(508 | 353 | 356)) {
        return Some(CardBrand::RuPay);
    }
    if matches!(p2, Some(51..=55)) || matches!(p4, Some(2221..=2720)) {
        return Some(CardBrand::Mastercard);
    }
    if matches!(p2, Some(50 | 56..=58 | 63 | 67)) || matches!(p6, Some(639_000..=639_999)) {
        return Some(CardBrand::Maestro);
    }
    if digits.starts_with('4') {
        return Some(CardBrand::Visa);
    }
    None
}

/// Groups digits as they are printed on the card: `4111 1111 1111 1111`,
/// Amex `3782 822463 10005`.
pub fn format_number(digits: &str) -> String {
    let groups: &[usize] = match detect_brand(digits) {
        Some(CardBrand::Amex) => &[4, 6, 5],
        Some(CardBrand::Diners) if digits.len() == 14 => &[4, 6, 4],
        _ => &[4, 4, 4, 4, 3],
    };
    let mut out = String::with_capacity(digits.len() + 4);
    let mut rest = digits;
    for &g in groups {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(g.min(rest.len()));
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(head);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push_str(rest);
    }
    out
}

/// A complete, valid card number: digits only, Luhn, a length its brand uses.
pub fn number_valid(digits: &str) -> bool {
    let len_ok = match detect_brand(digits) {
        Some(b) => b.lengths().contains(&digits.len()),
        None => (12..=19).contains(&digits.len()),
    };
    len_ok && luhn_valid(digits)
}

/// Parses `MM/YY` (or `MM/YYYY`) into `(month, four-digit year)`.
pub fn parse_expiry(s: &str) -> Option<(u8, u16)> {
    let (m, y) = s.trim().split_once('/')?;
    let m: u8 = m.trim().parse().ok()?;
    let y = y.trim();
    let y: u16 = match y.len() {
        2 => 2000 + y.parse::<u16>().ok()?,
        4 => y.parse().ok()?,
        _ => return None,
    };
    (1..=12).contains(&m).then_some((m, y))
}

/// Whether a card expiring at the end of `month`/`year` is still usable in
/// `now_month`/`now_year`.
pub fn expiry_not_past(month: u8, year: u16, now_month: u8, now_year: u16) -> bool {
    (year, month) >= (now_year, now_month)
}

/// A CVV of the right length for the brand (3 when unknown).
pub fn cvv_valid(cvv: &str, brand: Option<CardBrand>) -> bool {
    let len = brand.map_or(3, CardBrand::cvv_len);
    cvv.len() == len && cvv.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_brands() {
        let cases = [
            ("4111111111111111", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2221000000000009", CardBrand::Mastercard),
            ("378282246310005", CardBrand::Amex),
            ("36227206271667", CardBrand::Diners),
            ("6521111111111110", CardBrand::RuPay),
            ("6759649826438453", CardBrand::Maestro),
        ];
        for (n, b) in cases {
            assert_eq!(detect_brand(n), Some(b), "{n}");
            assert!(luhn_valid(n), "{n}");
            assert!(number_valid(n), "{n}");
        }
        assert!(!number_valid("4111111111111112"));
        assert!(!number_valid("411111111111111"));
        assert_eq!(detect_brand("9"), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(format_number("4111111111111111"), "4111 1111 1111 1111");
        assert_eq!(format_number("41111"), "4111 1");
        assert_eq!(format_number("378282246310005"), "3782 822463 10005");
        assert_eq!(digits("4111 1111-1111 1111").as_deref(), Some("4111111111111111"));
        assert_eq!(digits("4111a"), None);
    }

    #[test]
    fn expiry_and_cvv() {
        assert_eq!(parse_expiry("12/30"), Some((12, 2030)));
        assert_eq!(parse_expiry("01/2031"), Some((1, 2031)));
        assert_eq!(parse_expiry("13/30"), None);
        assert_eq!(parse_expiry("1230"), None);
        assert!(expiry_not_past(11, 2026, 11, 2026));
        assert!(!expiry_not_past(10, 2026, 11, 2026));
        assert!(cvv_valid("123", Some(CardBrand::Visa)));
        assert!(!cvv_valid("123", Some(CardBrand::Amex)));
        assert!(cvv_valid("1234", Some(CardBrand::Amex)));
        assert!(!cvv_valid("12a", None));
    }
}
