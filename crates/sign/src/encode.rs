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

/// Which bytes each encoder keeps, indexed by `Encoder as usize`: a table
/// lookup, as the signature path asks for every byte it hashes.
const KEEPS: [[bool; 256]; 3] = [keep_table(None), keep_table(Some(b'~')), keep_table(Some(b'*'))];

const fn keep_table(extra: Option<u8>) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_';
        if let Some(e) = extra
            && e == c
        {
            t[b] = true;
        }
        b += 1;
    }
    t
}

/// For each byte, the [`Encoder::bit`]s of the encoders that keep it where
/// the canonical one encodes it (`~` Python, `*` Java), read off [`KEEPS`].
const VARIANTS_KEEPING: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let mut e = 1;
        while e < 3 {
            if KEEPS[e][b] && !KEEPS[0][b] {
                t[b] |= 1 << e;
            }
            e += 1;
        }
        b += 1;
    }
    t
};

/// The [`Encoder::bit`]s of the encoders that keep `b` where the canonical one does not.
pub(crate) fn variants_keeping(b: u8) -> u8 {
    VARIANTS_KEEPING[usize::from(b)]
}

/// The value of each hex digit, `0xFF` for a byte that is not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0xFF,
        };
        b += 1;
    }
    t
};

/// The byte `%XX` stands for, given the two bytes after the `%`.
pub(crate) fn hex_byte(hi: Option<&u8>, lo: Option<&u8>) -> Option<u8> {
    let (hi, lo) = (HEX_VALUE[usize::from(*hi?)], HEX_VALUE[usize::from(*lo?)]);
    if (hi | lo) > 15 { None } else { Some(hi << 4 | lo) }
}

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
    /// This encoder's bit in [`variants_keeping`]'s answer.
    pub(crate) fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether this encoder keeps byte `b` as is.
    pub fn keeps(self, b: u8) -> bool {
        KEEPS[self as usize][usize::from(b)]
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

/// Index of the first `+` or `%` (the bytes form decoding changes) in `bytes`.
pub(crate) fn first_special(bytes: &[u8]) -> Option<usize> {
    memchr::memchr2(b'+', b'%', bytes)
}

/// [`form_decode`] that borrows when there is nothing to decode.
pub fn form_decode_cow(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    let bytes = s.as_bytes();
    let Some(first) = first_special(bytes) else {
        return Some(std::borrow::Cow::Borrowed(s));
    };
    form_decode_from(bytes, first).map(std::borrow::Cow::Owned)
}

/// Decodes `bytes`, whose first special byte is at `first`.
pub(crate) fn form_decode_from(bytes: &[u8], first: usize) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                out.push(hex_byte(bytes.get(i + 1), bytes.get(i + 2))?);
                i += 3;
            }
            _ => {
                // A run of plain bytes, copied at once.
                let run = first_special(&bytes[i..]).unwrap_or(bytes.len() - i);
                out.extend_from_slice(&bytes[i..i + run]);
                i += run;
            }
        }
    }
    String::from_utf8(out).ok()
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
