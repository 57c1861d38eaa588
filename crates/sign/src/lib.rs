//! Kassa signing helper: the signatures a merchant backend creates and checks.
//!
//! Pure library: no I/O, no clock (callers pass the time where one matters).
//! Tags are compared in constant time; key types never print key material.
//!
//! | scheme | module |
//! |---|---|
//! | Juspay return URL (seed 000) | [`return_url`] |
//! | Process SDK `orderDetails`, RSA-SHA256 (seed 001) | [`order_details`] |
//! | Razorpay payment, subscription, payment link, webhook (seed 002) | [`razorpay`] |
//! | Paytm `head.signature` checksum (seed 004) | [`paytm`] |
//! | Kassa's own webhook signature | [`webhook`] |
//!
//! # Juspay return URL (seed 000)
//!
//! ```
//! use kassa_sign::{ResponseKey, return_url};
//! let key = ResponseKey::new(b"my-response-key".to_vec());
//! let signed = return_url::sign_query(&key, "order_id=ord_1&status=CHARGED&status_id=21").unwrap();
//! assert!(signed.contains("signature_algorithm=HMAC-SHA256"));
//! let params = return_url::verify_query(&key, &signed).unwrap();
//! assert_eq!(params.get("status"), Some("CHARGED"));
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod encode;
pub mod order_details;
pub mod paytm;
pub mod razorpay;
pub mod return_url;
pub mod webhook;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Why a signature was refused. Says what was wrong, never echoes a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignError {
    /// The signature is not in the expected encoding (`"hex"`, `"base64"`, …).
    BadEncoding(&'static str),
    /// A key could not be read (bad PEM, wrong key type, unsupported size).
    BadKey(&'static str),
    /// An input was malformed; the text says which and how.
    BadInput(String),
    /// The signature does not match. Paytm checksums fail this way for
    /// every reason (bad base64, bad padding, wrong key), so a caller learns nothing more.
    Mismatch,
    /// A timestamp is outside the tolerance window.
    Stale,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::BadEncoding(e) => write!(f, "signature is not valid {e}"),
            SignError::BadKey(why) => write!(f, "key rejected: {why}"),
            SignError::BadInput(why) => f.write_str(why),
            SignError::Mismatch => f.write_str("signature does not match"),
            SignError::Stale => f.write_str("timestamp is outside the tolerance window"),
        }
    }
}

impl std::error::Error for SignError {}

/// HMAC-SHA256 of `msg` with `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// Verifies a hex HMAC-SHA256 tag (either case) in constant time.
pub(crate) fn verify_hex_tag(key: &[u8], msg: &[u8], tag_hex: &str) -> Result<(), SignError> {
    let tag = hex::decode(tag_hex.trim()).map_err(|_| SignError::BadEncoding("hex"))?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(msg);
    m.verify_slice(&tag).map_err(|_| SignError::Mismatch)
}

/// A merchant's response key (the HMAC key of return-URL signatures),
/// kept as a keyed HMAC state so each signature skips the key schedule.
/// `Debug` shows no key material.
#[derive(Clone)]
pub struct ResponseKey {
    keyed: Hmac<Sha256>,
    len: usize,
}

impl ResponseKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> ResponseKey {
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("HMAC accepts keys of any length");
        ResponseKey { keyed, len: bytes.len() }
    }

    /// Reads a key as stored in a file: surrounding whitespace (a trailing
    /// newline) is not part of the key.
    pub fn from_file_contents(s: &str) -> ResponseKey {
        ResponseKey::new(s.trim().as_bytes().to_vec())
    }

    /// A fresh MAC under this key.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }
}

impl fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseKey(<{} bytes redacted>)", self.len)
    }
}
