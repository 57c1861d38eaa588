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
use crate::encode::{Encoder, form_decode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
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

/// Decoded query parameters in their original order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parameters from decoded pairs; refuses duplicate keys.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Params, ReturnUrlError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            let k = k.into();
            if out.iter().any(|(e, _)| *e == k) {
                return Err(ReturnUrlError::DuplicateParam(k));
            }
            out.push((k, v.into()));
        }
        Ok(Params(out))
    }

    /// Parses a query string as it travels on the wire (a leading `?` is allowed).
    pub fn parse_query(query: &str) -> Result<Params, ReturnUrlError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut pairs = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or(ReturnUrlError::MalformedQuery)?;
            let k = form_decode(k).ok_or(ReturnUrlError::MalformedQuery)?;
            let v = form_decode(v).ok_or(ReturnUrlError::MalformedQuery)?;
            if k.is_empty() {
                return Err(ReturnUrlError::MalformedQuery);
            }
            pairs.push((k, v));
        }
        Params::from_pairs(pairs)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// All pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn signed(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter().filter(|(k, _)| k != "signature" && k != "signature_algorithm")
    }

    /// The query string on the wire, canonical encoding.
    pub fn to_query(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.0 {
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

/// The exact bytes that are HMAC'd, for `encoder`.
pub fn string_to_sign(params: &Params, encoder: Encoder) -> String {
    let mut pairs: Vec<(String, String)> =
        params.signed().map(|(k, v)| (encoder.encode(k), encoder.encode(v))).collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut joined = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            joined.push('&');
        }
        joined.push_str(k);
        joined.push('=');
        joined.push_str(v);
    }
    encoder.encode(&joined)
}

fn mac(key: &ResponseKey, msg: &[u8]) -> HmacSha256 {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key.bytes()).expect("HMAC accepts keys of any length");
    m.update(msg);
    m
}

/// The base64 tag for `params` (before the seed's final percent-encoding).
pub fn signature_base64(key: &ResponseKey, params: &Params) -> String {
    let tag = mac(key, string_to_sign(params, Encoder::Canonical).as_bytes()).finalize().into_bytes();
    STANDARD.encode(tag)
}

/// Adds `signature` and `signature_algorithm` to `params` (replacing any
/// present) and returns the query string as it travels on the wire.
pub fn sign(key: &ResponseKey, params: &Params) -> String {
    let base: Vec<(String, String)> = params.signed().cloned().collect();
    let base = Params(base);
    let sig_param = Encoder::Canonical.encode(&signature_base64(key, &base));
    let mut all = base.0;
    all.push(("signature".into(), sig_param));
    all.push(("signature_algorithm".into(), ALGORITHM.into()));
    Params(all).to_query()
}

/// Signs a query string given as it travels on the wire.
pub fn sign_query(key: &ResponseKey, query: &str) -> Result<String, ReturnUrlError> {
    Ok(sign(key, &Params::parse_query(query)?))
}

/// Verifies already-decoded parameters (as a web framework hands them over).
pub fn verify(key: &ResponseKey, params: &Params) -> Result<(), ReturnUrlError> {
    let algorithm = params.get("signature_algorithm").ok_or(ReturnUrlError::MissingParam("signature_algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(ReturnUrlError::UnsupportedAlgorithm(algorithm.to_string()));
    }
    let sig = params.get("signature").ok_or(ReturnUrlError::MissingParam("signature"))?;
    let tag = decode_signature(sig)?;
    let mut encoders = vec![Encoder::Canonical];
    for variant in [Encoder::Python, Encoder::Java] {
        if params.signed().any(|(k, v)| k.contains(variant.differs_on()) || v.contains(variant.differs_on())) {
            encoders.push(variant);
        }
    }
    for enc in encoders {
        if mac(key, string_to_sign(params, enc).as_bytes()).verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(ReturnUrlError::SignatureMismatch)
}

/// Verifies a query string as it travels on the wire and returns its parameters.
pub fn verify_query(key: &ResponseKey, query: &str) -> Result<Params, ReturnUrlError> {
    let params = Params::parse_query(query)?;
    verify(key, &params)?;
    Ok(params)
}

/// The tag bytes from the `signature` value after one query decode: still
/// percent-encoded once (`…%3D`, the seed's form) or already plain (`…=`).
fn decode_signature(sig: &str) -> Result<Vec<u8>, ReturnUrlError> {
    let plain = if sig.contains('%') {
        form_decode(&sig.replace('+', "%2B")).ok_or(ReturnUrlError::BadSignatureEncoding)?
    } else {
        sig.to_string()
    };
    let plain = plain.replace(' ', "+");
    let tag = STANDARD.decode(plain.as_bytes()).map_err(|_| ReturnUrlError::BadSignatureEncoding)?;
    if tag.len() != 32 {
        return Err(ReturnUrlError::BadSignatureEncoding);
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ResponseKey {
        ResponseKey::new(b"test-response-key".to_vec())
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
            let tag = mac(&key(), string_to_sign(&params, enc).as_bytes()).finalize().into_bytes();
            let sig = Encoder::Canonical.encode(&STANDARD.encode(tag));
            let q = format!("{}&signature={}&signature_algorithm=HMAC-SHA256", params.to_query(), Encoder::Canonical.encode(&sig));
            assert!(verify_query(&key(), &q).is_ok(), "{enc:?}");
        }
    }
}
