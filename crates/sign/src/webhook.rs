//! Kassa's own webhook signature: HMAC-SHA256 over `timestamp + "." + body`,
//! sent as the header `Kassa-Signature: t=<unix seconds>,v1=<hex>`.
//! Verification checks the tag in constant time and refuses timestamps
//! outside a tolerance window, so a captured delivery cannot be replayed later.
//!
//! ```
//! use kassa_sign::webhook::{WebhookSecret, signature_header, verify};
//! let secret = WebhookSecret::new(b"whsec_demo".to_vec());
//! let body = br#"{"id":"evt_1","type":"ORDER_SUCCEEDED"}"#;
//! let header = signature_header(&secret, 1_700_000_000, body);
//! assert!(verify(&secret, &header, body, 1_700_000_100, 300).is_ok());
//! assert!(verify(&secret, &header, body, 1_700_000_400, 300).is_err()); // too old
//! ```

use crate::{SignError, hmac_sha256, verify_hex_tag};
use std::fmt;

/// The header Kassa sends the signature in.
pub const HEADER: &str = "Kassa-Signature";

/// The default tolerance, in seconds.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// A merchant's webhook signing secret. `Debug` shows no key material.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Wraps the secret bytes.
    pub fn new(bytes: Vec<u8>) -> WebhookSecret {
        WebhookSecret(bytes)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(<{} bytes redacted>)", self.0.len())
    }
}

fn signed_bytes(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut msg = timestamp.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    msg
}

/// The hex tag for a delivery at `timestamp` (Unix seconds).
pub fn sign(secret: &WebhookSecret, timestamp: u64, body: &[u8]) -> String {
    hex::encode(hmac_sha256(&secret.0, &signed_bytes(timestamp, body)))
}

/// The full header value: `t=<timestamp>,v1=<hex>`.
pub fn signature_header(secret: &WebhookSecret, timestamp: u64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Verifies a `Kassa-Signature` header against the raw body at time `now`
/// (Unix seconds), accepting timestamps within `tolerance_secs` either way.
pub fn verify(secret: &WebhookSecret, header: &str, body: &[u8], now: u64, tolerance_secs: u64) -> Result<(), SignError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<u64>().map_err(|_| SignError::BadInput("t= is not a Unix time".into()))?),
            Some(("v1", v)) => tags.push(v),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| SignError::BadInput("missing t= in the signature header".into()))?;
    if tags.is_empty() {
        return Err(SignError::BadInput("missing v1= in the signature header".into()));
    }
    if now.abs_diff(timestamp) > tolerance_secs {
        return Err(SignError::Stale);
    }
    let msg = signed_bytes(timestamp, body);
    // Several v1= values are allowed while a secret is being rotated.
    if tags.iter().any(|t| verify_hex_tag(&secret.0, &msg, t).is_ok()) { Ok(()) } else { Err(SignError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_and_tampering() {
        let s = WebhookSecret::new(b"secret".to_vec());
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently with Python's hmac module.
        assert_eq!(sign(&s, 1_700_000_000, b"{}"), "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163");
        let h = signature_header(&s, 1_700_000_000, b"{}");
        assert!(verify(&s, &h, b"{}", 1_700_000_000, 300).is_ok());
        assert_eq!(verify(&s, &h, b"{ }", 1_700_000_000, 300), Err(SignError::Mismatch));
        assert_eq!(verify(&s, &h.replace("t=1700000000", "t=1700000001"), b"{}", 1_700_000_000, 300), Err(SignError::Mismatch));
        assert_eq!(verify(&s, &h, b"{}", 1_700_000_301, 300), Err(SignError::Stale));
        assert!(matches!(verify(&s, "v1=00", b"{}", 0, 300), Err(SignError::BadInput(_))));
        assert!(matches!(verify(&s, "t=1", b"{}", 0, 300), Err(SignError::BadInput(_))));
    }
}
