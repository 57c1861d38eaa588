//! Kassa signing helper: the signatures a merchant backend creates and checks.
//!
//! Pure library: no I/O, no clock (callers pass the time where one matters).
//! Tags are compared in constant time; key types never print key material.
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
pub mod return_url;

use std::fmt;

/// A merchant's response key (the HMAC key of return-URL signatures).
/// `Debug` shows no key material.
#[derive(Clone)]
pub struct ResponseKey(Vec<u8>);

impl ResponseKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> ResponseKey {
        ResponseKey(bytes)
    }

    /// Reads a key as stored in a file: surrounding whitespace (a trailing
    /// newline) is not part of the key.
    pub fn from_file_contents(s: &str) -> ResponseKey {
        ResponseKey(s.trim().as_bytes().to_vec())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseKey(<{} bytes redacted>)", self.0.len())
    }
}
