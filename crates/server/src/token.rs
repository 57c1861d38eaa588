//! Order-scoped client tokens: what the payment page uses instead of the API key.
//!
//! Format: `kct_<base64url(order_pk "." expiry_ms)>.<base64url(HMAC-SHA256)>`,
//! signed with a server key kept in the database. Stateless to check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The key that signs client tokens. `Debug` shows no key material.
pub struct TokenKey(Vec<u8>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

impl TokenKey {
    /// Wraps key bytes.
    pub fn new(key: Vec<u8>) -> TokenKey {
        TokenKey(key)
    }

    fn mac(&self, msg: &[u8]) -> HmacSha256 {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        m.update(msg);
        m
    }

    /// A token for `order_pk` valid until `expires_ms`.
    pub fn issue(&self, order_pk: &str, expires_ms: i64) -> String {
        let body = format!("{order_pk}.{expires_ms}");
        let tag = self.mac(body.as_bytes()).finalize().into_bytes();
        format!("kct_{}.{}", URL_SAFE_NO_PAD.encode(body), URL_SAFE_NO_PAD.encode(tag))
    }

    /// A keyed digest of a card number (Juspay's `card_fingerprint`): the
    /// same card gives the same value on this server, and the value tells
    /// nothing of the number without the key.
    pub fn fingerprint(&self, card_number: &str) -> String {
        let mut m = self.mac(b"kassa card fingerprint v1\0");
        m.update(card_number.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// The order a token is good for, if it is authentic and not expired at `now_ms`.
    pub fn check(&self, token: &str, now_ms: i64) -> Option<String> {
        let rest = token.strip_prefix("kct_")?;
        let (body_b64, tag_b64) = rest.split_once('.')?;
        let body = URL_SAFE_NO_PAD.decode(body_b64).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag_b64).ok()?;
        self.mac(&body).verify_slice(&tag).ok()?;
        let body = String::from_utf8(body).ok()?;
        let (order_pk, exp) = body.rsplit_once('.')?;
        let exp: i64 = exp.parse().ok()?;
        (now_ms < exp).then(|| order_pk.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_check() {
        let k = TokenKey::new(vec![7; 32]);
        let t = k.issue("ord_abc", 1000);
        assert_eq!(k.check(&t, 999).as_deref(), Some("ord_abc"));
        assert_eq!(k.check(&t, 1000), None, "expired");
        assert_eq!(TokenKey::new(vec![8; 32]).check(&t, 0), None, "other key");
        let forged = t.replacen("kct_", "kct_A", 1);
        assert_eq!(k.check(&forged, 0), None);
        assert_eq!(k.check("kct_", 0), None);
        assert_eq!(k.check("", 0), None);
    }
}
