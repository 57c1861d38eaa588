//! Juspay return-URL signatures (seed 000, "Status Verification").
//!
//! String to sign: every parameter except `signature` and
//! `signature_algorithm`, each key and value percent-encoded, sorted by encoded
//! key (byte order), joined as `k=v` with `&`, and the whole string
//! percent-encoded once more. The tag is HMAC-SHA256 with the merchant's
//! response key, base64-encoded and percent-encoded; on the wire the query
//! string encodes it again, so `=` travels as `%253D`.
//!
//! Decisions where the seed is silent:
//! - a key given twice is refused ([`ReturnUrlError::DuplicateParam`]): a
//!   signature cannot say which of two `status` values it covers;
//! - an empty value takes part as `key=`;
//! - `+` and `%20` both decode to a space before re-encoding, so either
//!   spelling verifies;
//! - the `signature` value may arrive encoded once or twice; a literal space
//!   in it (a `+` that a sender left unencoded) is read as `+`.

use crate::ResponseKey;
use crate::encode::{Encoder, first_special, form_decode_from, hex_byte, variants_keeping};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::borrow::Cow;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm Juspay and Kassa use.
pub const ALGORITHM: &str = "HMAC-SHA256";

/// Why a return URL was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnUrlError {
    /// The query is not valid form encoding (bad `%` escape, not UTF-8, no `=`).
    MalformedQuery,
    /// A required parameter is absent.
    MissingParam(&'static str),
    /// A parameter appears more than once.
    DuplicateParam(String),
    /// `signature_algorithm` names something other than HMAC-SHA256.
    UnsupportedAlgorithm(String),
    /// The signature is not base64 of a 32-byte tag.
    BadSignatureEncoding,
    /// Well-formed, but not made with this key over these parameters.
    SignatureMismatch,
}

impl ReturnUrlError {
    /// True when the input was readable and the signature is simply not valid
    /// (as opposed to a malformed input).
    pub fn is_invalid_signature(&self) -> bool {
        match self {
            ReturnUrlError::MissingParam(_)
            | ReturnUrlError::DuplicateParam(_)
            | ReturnUrlError::UnsupportedAlgorithm(_)
            | ReturnUrlError::BadSignatureEncoding
            | ReturnUrlError::SignatureMismatch => true,
            ReturnUrlError::MalformedQuery => false,
        }
    }
}

impl fmt::Display for ReturnUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReturnUrlError::MalformedQuery => f.write_str("the query string is not valid form encoding"),
            ReturnUrlError::MissingParam(p) => write!(f, "missing parameter `{p}`"),
            ReturnUrlError::DuplicateParam(p) => write!(f, "parameter `{}` appears more than once", truncate(p)),
            ReturnUrlError::UnsupportedAlgorithm(a) => {
                write!(f, "unsupported signature_algorithm `{}` (only {ALGORITHM} is accepted)", truncate(a))
            }
            ReturnUrlError::BadSignatureEncoding => f.write_str("signature is not base64 of a 32-byte HMAC-SHA256 tag"),
            ReturnUrlError::SignatureMismatch => f.write_str("signature does not match the parameters"),
        }
    }
}

impl std::error::Error for ReturnUrlError {}

fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// Decoded query parameters in their original order. Borrows from the query
/// string wherever a value needed no decoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    /// Parameters from decoded pairs; refuses duplicate keys.
    pub fn from_pairs<K: Into<Cow<'a, str>>, V: Into<Cow<'a, str>>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Params<'a>, ReturnUrlError> {
        let mut out: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
        for (k, v) in pairs {
            let k = k.into();
            if out.iter().any(|(e, _)| *e == k) {
                return Err(ReturnUrlError::DuplicateParam(k.into_owned()));
            }
            out.push((k, v.into()));
        }
        Ok(Params(out))
    }

    /// Parses a query string as it travels on the wire (a leading `?` is allowed).
    ///
    /// Each `&`-separated part is split at its first `=` (memchr), and a key or
    /// value is decoded only when it holds a `+` or `%`; others are borrowed.
    pub fn parse_query(query: &'a str) -> Result<Params<'a>, ReturnUrlError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let bytes = query.as_bytes();
        let mut pairs: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(8);
        let mut start = 0;
        while start < bytes.len() {
            let end = memchr::memchr(b'&', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            if end > start {
                let eq = memchr::memchr(b'=', &bytes[start..end]).ok_or(ReturnUrlError::MalformedQuery)? + start;
                let key_special = first_special(&bytes[start..eq]).map(|i| start + i);
                let k = decode_part(query, start, eq, key_special)?;
                if k.is_empty() {
                    return Err(ReturnUrlError::MalformedQuery);
                }
                if pairs.iter().any(|(e, _)| *e == k) {
                    return Err(ReturnUrlError::DuplicateParam(k.into_owned()));
                }
                let value_special = first_special(&bytes[eq + 1..end]).map(|i| eq + 1 + i);
                let v = decode_part(query, eq + 1, end, value_special)?;
                pairs.push((k, v));
            }
            start = end + 1;
        }
        Ok(Params(pairs))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_ref())
    }

    /// All pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// Copies whatever was borrowed.
    pub fn into_owned(self) -> Params<'static> {
        Params(self.0.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned()))).collect())
    }

    fn signed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter(|(k, _)| *k != "signature" && *k != "signature_algorithm")
    }

    /// The query string on the wire, canonical encoding.
    pub fn to_query(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.iter() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&Encoder::Canonical.encode(k));
            out.push('=');
            out.push_str(&Encoder::Canonical.encode(v));
        }
        out
    }
}

/// `query[from..to]` form-decoded; `special` is the first `+` or `%` in it, if any.
fn decode_part(query: &str, from: usize, to: usize, special: Option<usize>) -> Result<Cow<'_, str>, ReturnUrlError> {
    // `from` and `to` sit at ASCII bytes (`&`, `=` or the ends), so they are char boundaries.
    let part = query.get(from..to).ok_or(ReturnUrlError::MalformedQuery)?;
    match special {
        None => Ok(Cow::Borrowed(part)),
        Some(at) => form_decode_from(part.as_bytes(), at - from).map(Cow::Owned).ok_or(ReturnUrlError::MalformedQuery),
    }
}

/// The signed pairs in the seed's order: sorted by encoded key.
fn sorted_signed<'p>(params: &'p Params<'_>, encoder: Encoder) -> Vec<(&'p str, &'p str)> {
    let mut pairs: Vec<(&str, &str)> = params.signed().collect();
    if pairs.iter().all(|(k, _)| k.bytes().all(|b| encoder.keeps(b))) {
        // Keys the encoder leaves alone sort the same encoded or not.
        pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    } else {
        pairs.sort_by_cached_key(|(k, _)| encoder.encode(k));
    }
    pairs
}

/// The exact bytes that are HMAC'd, for `encoder` (what [`sign`] and
/// [`verify`] stream into the MAC without building it).
pub fn string_to_sign(params: &Params<'_>, encoder: Encoder) -> String {
    let joined = sorted_signed(params, encoder)
        .iter()
        .map(|(k, v)| format!("{}={}", encoder.encode(k), encoder.encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    encoder.encode(&joined)
}

/// Feeds `s`, percent-encoded twice with `encoder`, to the MAC in one pass:
/// runs of kept bytes go through as one slice (SHA-256 buffers blocks itself).
/// Returns the [`Encoder::bit`]s of the variants that would have kept one of
/// the bytes it encoded (see [`variants_keeping`]).
fn update_double_encoded(mac: &mut HmacSha256, s: &str, encoder: Encoder) -> u8 {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut differs = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if encoder.keeps(b) {
            continue;
        }
        mac.update(&bytes[run..i]);
        run = i + 1;
        if b == b' ' {
            mac.update(b"%2B"); // ' ' → '+' → "%2B"
        } else {
            differs |= variants_keeping(b);
            mac.update(&[b'%', b'2', b'5', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    mac.update(&bytes[run..]);
    differs
}

fn mac(key: &ResponseKey) -> HmacSha256 {
    key.mac()
}

/// The MAC over [`string_to_sign`], computed without allocating it (up to 16
/// parameters with plain keys are sorted on the stack), and the
/// [`Encoder::bit`]s of the variants that would have encoded some byte otherwise.
fn mac_over(key: &ResponseKey, params: &Params<'_>, encoder: Encoder) -> (HmacSha256, u8) {
    let mut stack: [(&str, &str); 16] = [("", ""); 16];
    let mut n = 0;
    let mut plain = true;
    for (k, v) in params.signed() {
        plain &= k.bytes().all(|b| encoder.keeps(b));
        if let Some(slot) = stack.get_mut(n) {
            *slot = (k, v);
        }
        n += 1;
    }
    let heap;
    let pairs: &[(&str, &str)] = if plain && n <= stack.len() {
        stack[..n].sort_unstable_by(|a, b| a.0.cmp(b.0));
        &stack[..n]
    } else {
        heap = sorted_signed(params, encoder);
        &heap
    };
    let mut m = mac(key);
    let mut differs = 0;
    for (i, &(k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            m.update(b"%26"); // '&'
        }
        differs |= update_double_encoded(&mut m, k, encoder);
        m.update(b"%3D"); // '='
        differs |= update_double_encoded(&mut m, v, encoder);
    }
    (m, differs)
}

/// The base64 tag for `params` (before the seed's final percent-encoding).
pub fn signature_base64(key: &ResponseKey, params: &Params<'_>) -> String {
    STANDARD.encode(mac_over(key, params, Encoder::Canonical).0.finalize().into_bytes())
}

/// Adds `signature` and `signature_algorithm` to `params` (replacing any
/// present) and returns the query string as it travels on the wire.
pub fn sign(key: &ResponseKey, params: &Params<'_>) -> String {
    let mut all: Vec<(Cow<'_, str>, Cow<'_, str>)> = params.signed().map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v))).collect();
    let sig_param = Encoder::Canonical.encode(&signature_base64(key, params));
    all.push((Cow::Borrowed("signature"), Cow::Owned(sig_param)));
    all.push((Cow::Borrowed("signature_algorithm"), Cow::Borrowed(ALGORITHM)));
    Params(all).to_query()
}

/// Signs a query string given as it travels on the wire.
pub fn sign_query(key: &ResponseKey, query: &str) -> Result<String, ReturnUrlError> {
    Ok(sign(key, &Params::parse_query(query)?))
}

/// Verifies already-decoded parameters (as a web framework hands them over).
pub fn verify(key: &ResponseKey, params: &Params<'_>) -> Result<(), ReturnUrlError> {
    let algorithm = params.get("signature_algorithm").ok_or(ReturnUrlError::MissingParam("signature_algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(ReturnUrlError::UnsupportedAlgorithm(algorithm.to_string()));
    }
    let sig = params.get("signature").ok_or(ReturnUrlError::MissingParam("signature"))?;
    let mut tag = [0u8; 48];
    let n = decode_signature(sig, &mut tag)?;
    let tag = &tag[..n];
    let (canonical, differs) = mac_over(key, params, Encoder::Canonical);
    if canonical.verify_slice(tag).is_ok() {
        return Ok(());
    }
    // A variant is tried only when some signed parameter holds a character where it differs.
    for enc in [Encoder::Python, Encoder::Java] {
        if differs & enc.bit() != 0 && mac_over(key, params, enc).0.verify_slice(tag).is_ok() {
            return Ok(());
        }
    }
    Err(ReturnUrlError::SignatureMismatch)
}

/// Verifies a query string as it travels on the wire and returns its parameters.
pub fn verify_query<'q>(key: &ResponseKey, query: &'q str) -> Result<Params<'q>, ReturnUrlError> {
    let params = Params::parse_query(query)?;
    verify(key, &params)?;
    Ok(params)
}

/// Decodes the `signature` value after one query decode, still percent-encoded
/// once (`…%3D`, the seed's form) or already plain (`…=`), into `out`;
/// returns the tag length (always 32).
fn decode_signature(sig: &str, out: &mut [u8; 48]) -> Result<usize, ReturnUrlError> {
    // Percent-decode once more on the stack; `+` and a space both stand for base64's `+`.
    let mut plain = [0u8; 64];
    let mut len = 0;
    let bytes = sig.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = match bytes[i] {
            b'%' => {
                let b = hex_byte(bytes.get(i + 1), bytes.get(i + 2)).ok_or(ReturnUrlError::BadSignatureEncoding)?;
                i += 3;
                b
            }
            b' ' => {
                i += 1;
                b'+'
            }
            b => {
                i += 1;
                b
            }
        };
        *plain.get_mut(len).ok_or(ReturnUrlError::BadSignatureEncoding)? = b;
        len += 1;
    }
    let n = STANDARD.decode_slice(&plain[..len], out).map_err(|_| ReturnUrlError::BadSignatureEncoding)?;
    if n != 32 {
        return Err(ReturnUrlError::BadSignatureEncoding);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ResponseKey {
        ResponseKey::new(b"test-response-key".to_vec())
    }

    #[test]
    fn streamed_mac_equals_mac_over_string_to_sign() {
        for (k, v) in [("order_id", "o 1~*é₹%+&="), ("a b", "x"), ("~k", ""), ("Z", "z")] {
            let p = Params::from_pairs([(k, v), ("status", "CHARGED")]).unwrap();
            for enc in [Encoder::Canonical, Encoder::Python, Encoder::Java] {
                let mut m = mac(&key());
                m.update(string_to_sign(&p, enc).as_bytes());
                assert_eq!(m.finalize().into_bytes(), mac_over(&key(), &p, enc).0.finalize().into_bytes(), "{k} {v} {enc:?}");
            }
        }
    }

    #[test]
    fn round_trip() {
        let q = sign_query(&key(), "order_id=ord_1&status=CHARGED&status_id=21").unwrap();
        assert!(q.starts_with("order_id=ord_1&status=CHARGED&status_id=21&signature="));
        assert!(q.ends_with("&signature_algorithm=HMAC-SHA256"));
        let p = verify_query(&key(), &q).unwrap();
        assert_eq!(p.get("status"), Some("CHARGED"));
    }

    #[test]
    fn tampering_is_rejected() {
        let q = sign_query(&key(), "order_id=ord_1&status=CHARGED&status_id=21").unwrap();
        let bad = q.replace("status=CHARGED", "status=CHARGEd");
        assert_eq!(verify_query(&key(), &bad), Err(ReturnUrlError::SignatureMismatch));
        let extra = format!("{q}&udf1=x");
        assert_eq!(verify_query(&key(), &extra), Err(ReturnUrlError::SignatureMismatch));
        let other = ResponseKey::new(b"other".to_vec());
        assert_eq!(verify_query(&other, &q), Err(ReturnUrlError::SignatureMismatch));
        let dup = format!("{q}&status=CHARGED");
        assert_eq!(verify_query(&key(), &dup), Err(ReturnUrlError::DuplicateParam("status".into())));
    }

    #[test]
    fn algorithm_is_checked() {
        let q = sign_query(&key(), "order_id=ord_1").unwrap().replace("HMAC-SHA256", "HMAC-SHA1");
        assert_eq!(verify_query(&key(), &q), Err(ReturnUrlError::UnsupportedAlgorithm("HMAC-SHA1".into())));
        let q = sign_query(&key(), "order_id=ord_1").unwrap().replace("&signature_algorithm=HMAC-SHA256", "");
        assert_eq!(verify_query(&key(), &q), Err(ReturnUrlError::MissingParam("signature_algorithm")));
    }

    #[test]
    fn signature_encoded_once_or_twice() {
        let params = Params::from_pairs([("order_id", "ord_1"), ("status", "CHARGED")]).unwrap();
        let b64 = signature_base64(&key(), &params);
        for wire in [Encoder::Canonical.encode(&Encoder::Canonical.encode(&b64)), Encoder::Canonical.encode(&b64)] {
            let q = format!("order_id=ord_1&status=CHARGED&signature={wire}&signature_algorithm=HMAC-SHA256");
            assert!(verify_query(&key(), &q).is_ok(), "{q}");
        }
    }

    #[test]
    fn spaces_as_plus_or_percent20() {
        let q = sign_query(&key(), "order_id=o1&udf1=hello+world").unwrap();
        let alt = q.replace("hello+world", "hello%20world");
        assert!(verify_query(&key(), &alt).is_ok());
    }

    #[test]
    fn python_and_java_encoders_are_accepted() {
        for (enc, value) in [(Encoder::Python, "a~b"), (Encoder::Java, "a*b")] {
            let params = Params::from_pairs([("order_id", "o1"), ("udf1", value)]).unwrap();
            let mut m = mac(&key());
            m.update(string_to_sign(&params, enc).as_bytes());
            let tag = m.finalize().into_bytes();
            let sig = Encoder::Canonical.encode(&STANDARD.encode(tag));
            let q = format!("{}&signature={}&signature_algorithm=HMAC-SHA256", params.to_query(), Encoder::Canonical.encode(&sig));
            assert!(verify_query(&key(), &q).is_ok(), "{enc:?}");
        }
    }
}
