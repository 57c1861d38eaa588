//! Razorpay signatures (seed 002): lowercase hex HMAC-SHA256 with the key secret.
//!
//! ```
//! use kassa_sign::razorpay::{Secret, webhook_signature, verify_webhook};
//! // Razorpay's published vector (razorpay-python tests, `test_verify_webhook_signature`).
//! let secret = Secret::new(b"123456".to_vec());
//! let body = br#"{"a":1,"b":2,"c":{"d":3}}"#;
//! let sig = "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc";
//! assert_eq!(webhook_signature(&secret, body), sig);
//! assert!(verify_webhook(&secret, body, sig).is_ok());
//! ```

use crate::{SignError, hmac_sha256, verify_hex_tag};
use std::fmt;

/// A Razorpay key secret or webhook secret. `Debug` shows no key material.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the secret bytes.
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    /// Reads a secret as stored in a file (surrounding whitespace dropped).
    pub fn from_file_contents(s: &str) -> Secret {
        Secret(s.trim().as_bytes().to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "razorpay::Secret(<{} bytes redacted>)", self.0.len())
    }
}

fn hex_hmac(secret: &Secret, msg: &[u8]) -> String {
    hex::encode(hmac_sha256(&secret.0, msg))
}

/// The checkout payment signature: HMAC of `order_id + "|" + payment_id`.
pub fn payment_signature(secret: &Secret, order_id: &str, payment_id: &str) -> String {
    hex_hmac(secret, format!("{order_id}|{payment_id}").as_bytes())
}

/// Verifies a checkout payment signature.
pub fn verify_payment(secret: &Secret, order_id: &str, payment_id: &str, signature: &str) -> Result<(), SignError> {
    verify_hex_tag(&secret.0, format!("{order_id}|{payment_id}").as_bytes(), signature)
}

/// The subscription signature: HMAC of `payment_id + "|" + subscription_id`.
pub fn subscription_signature(secret: &Secret, payment_id: &str, subscription_id: &str) -> String {
    hex_hmac(secret, format!("{payment_id}|{subscription_id}").as_bytes())
}

/// Verifies a subscription signature.
pub fn verify_subscription(secret: &Secret, payment_id: &str, subscription_id: &str, signature: &str) -> Result<(), SignError> {
    verify_hex_tag(&secret.0, format!("{payment_id}|{subscription_id}").as_bytes(), signature)
}

/// The payment-link signature: HMAC of
/// `payment_link_id|payment_link_reference_id|payment_link_status|payment_id`.
pub fn payment_link_signature(secret: &Secret, link_id: &str, reference_id: &str, status: &str, payment_id: &str) -> String {
    hex_hmac(secret, format!("{link_id}|{reference_id}|{status}|{payment_id}").as_bytes())
}

/// Verifies a payment-link signature.
pub fn verify_payment_link(
    secret: &Secret,
    link_id: &str,
    reference_id: &str,
    status: &str,
    payment_id: &str,
    signature: &str,
) -> Result<(), SignError> {
    verify_hex_tag(&secret.0, format!("{link_id}|{reference_id}|{status}|{payment_id}").as_bytes(), signature)
}

/// The webhook signature (`X-Razorpay-Signature`) over the raw body bytes.
pub fn webhook_signature(secret: &Secret, body: &[u8]) -> String {
    hex_hmac(secret, body)
}

/// Verifies a webhook signature over the raw body bytes (never a re-serialised body).
pub fn verify_webhook(secret: &Secret, body: &[u8], signature: &str) -> Result<(), SignError> {
    verify_hex_tag(&secret.0, body, signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors published in Razorpay's own SDK test suites:
    /// razorpay-python `tests/test_client_utility.py` and razorpay-ruby
    /// `test/razorpay/test_utility.rb` (client secret `key_secret`; the
    /// subscription and payment-link tests pass `EnLs21M47BllR3X8PSFtjtbd`).
    #[test]
    fn published_vectors() {
        let s = Secret::new(b"key_secret".to_vec());
        let sig = "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89";
        assert_eq!(payment_signature(&s, "fake_order_id", "fake_payment_id"), sig);
        assert!(verify_payment(&s, "fake_order_id", "fake_payment_id", sig).is_ok());
        let s = Secret::new(b"EnLs21M47BllR3X8PSFtjtbd".to_vec());
        let sub = "601f383334975c714c91a7d97dd723eb56520318355863dcf3821c0d07a17693";
        assert_eq!(subscription_signature(&s, "pay_IDZNwZZFtnjyym", "sub_ID6MOhgkcoHj9I"), sub);
        assert!(verify_subscription(&s, "pay_IDZNwZZFtnjyym", "sub_ID6MOhgkcoHj9I", sub).is_ok());
        let link = "07ae18789e35093e51d0a491eb9922646f3f82773547e5b0f67ee3f2d3bf7d5b";
        assert_eq!(payment_link_signature(&s, "plink_IH3cNucfVEgV68", "TSsd1989", "paid", "pay_IH3d0ara9bSsjQ"), link);
        assert!(verify_payment_link(&s, "plink_IH3cNucfVEgV68", "TSsd1989", "paid", "pay_IH3d0ara9bSsjQ", link).is_ok());
        // Webhook vector quoted in the issue and Razorpay's docs: secret `123456`.
        let w = Secret::new(b"123456".to_vec());
        assert_eq!(
            webhook_signature(&w, br#"{"a":1,"b":2,"c":{"d":3}}"#),
            "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc"
        );
    }

    #[test]
    fn tampering_is_rejected() {
        let s = Secret::new(b"k".to_vec());
        let sig = payment_signature(&s, "order_1", "pay_1");
        assert_eq!(verify_payment(&s, "order_1", "pay_2", &sig), Err(SignError::Mismatch));
        assert_eq!(verify_payment(&s, "order_1", "pay_1", &sig.to_uppercase()), Ok(()), "hex is case-insensitive");
        assert_eq!(verify_payment(&s, "order_1", "pay_1", "zz"), Err(SignError::BadEncoding("hex")));
        let sub = subscription_signature(&s, "pay_1", "sub_1");
        assert!(verify_subscription(&s, "pay_1", "sub_1", &sub).is_ok());
        assert!(verify_subscription(&s, "sub_1", "pay_1", &sub).is_err());
        let link = payment_link_signature(&s, "plink_1", "ref", "paid", "pay_1");
        assert!(verify_payment_link(&s, "plink_1", "ref", "paid", "pay_1", &link).is_ok());
        assert!(verify_payment_link(&s, "plink_1", "ref", "cancelled", "pay_1", &link).is_err());
        assert_eq!(format!("{s:?}"), "razorpay::Secret(<1 bytes redacted>)");
    }
}
