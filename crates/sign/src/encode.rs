//! The percent-encoders that return-URL signatures are computed with.
//!
//! Kassa generates with [`Encoder::Canonical`]; verification also accepts the
//! encoders of Juspay's published samples, which differ only on `~` and `*`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Kept as is by the canonical encoder: `A–Z a–z 0–9 - . _` (and space, which becomes `+`).
const CANONICAL: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b' ');
/// Python 3 `urllib.parse.quote_plus` also keeps `~`.
const PYTHON: &AsciiSet = &CANONICAL.remove(b'~');
/// Java `URLEncoder.encode` also keeps `*`.
const JAVA: &AsciiSet = &CANONICAL.remove(b'*');

/// A form-style percent-encoder (space as `+`, uppercase hex, UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoder {
    /// Keeps `A–Z a–z 0–9 - . _`; PHP `urlencode`, Ruby `CGI.escape`.
    Canonical,
    /// Also keeps `~` (Python 3 `quote_plus`).
    Python,
    /// Also keeps `*` (Java `URLEncoder`).
    Java,
}

impl Encoder {
    /// The characters on which this encoder differs from the canonical one.
    pub fn differs_on(self) -> &'static [char] {
        match self {
            Encoder::Canonical => &[],
            Encoder::Python => &['~'],
            Encoder::Java => &['*'],
        }
    }

    /// Whether this encoder keeps byte `b` as is.
    pub fn keeps(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_')
            || (self == Encoder::Python && b == b'~')
            || (self == Encoder::Java && b == b'*')
    }

    /// Encodes `s`.
    ///
    /// ```
    /// use kassa_sign::encode::Encoder;
    /// assert_eq!(Encoder::Canonical.encode("a b~*=é"), "a+b%7E%2A%3D%C3%A9");
    /// assert_eq!(Encoder::Python.encode("a~*"), "a~%2A");
    /// assert_eq!(Encoder::Java.encode("a~*"), "a%7E*");
    /// ```
    pub fn encode(self, s: &str) -> String {
        let set = match self {
            Encoder::Canonical => CANONICAL,
            Encoder::Python => PYTHON,
            Encoder::Java => JAVA,
        };
        let mut out = String::with_capacity(s.len() + s.len() / 2);
        for chunk in utf8_percent_encode(s, set) {
            if chunk.contains(' ') {
                out.push_str(&chunk.replace(' ', "+"));
            } else {
                out.push_str(chunk);
            }
        }
        out
    }
}

/// Decodes one level of form encoding (`+` is a space, `%XX` a byte).
/// Returns `None` for a `%` not followed by two hex digits or bytes that are not UTF-8.
pub fn form_decode(s: &str) -> Option<String> {
    form_decode_cow(s).map(std::borrow::Cow::into_owned)
}

/// [`form_decode`] that borrows when there is nothing to decode.
pub fn form_decode_cow(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(std::borrow::Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keeps_only_unreserved() {
        let all: String = (0x20u8..0x7f).map(char::from).collect();
        let enc = Encoder::Canonical.encode(&all);
        for c in enc.chars() {
            assert!(c.is_ascii_alphanumeric() || "-._+%".contains(c), "{c}");
        }
        assert_eq!(form_decode(&enc).as_deref(), Some(all.as_str()));
    }

    #[test]
    fn decode_rejects_broken_escapes() {
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%FF"), None);
        assert_eq!(form_decode("a+b%2Bc").as_deref(), Some("a b+c"));
    }
}
