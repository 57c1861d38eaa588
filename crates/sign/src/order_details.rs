//! Process SDK `orderDetails` signatures (seed 001): RSA-SHA256 with PKCS#1
//! v1.5 padding over the exact JSON string, by the merchant's private key.
//! Output is base64 as in the seed's sample (hex on request); verification
//! accepts either. Keys are PEM, PKCS#1 (`RSA PRIVATE KEY` / `RSA PUBLIC KEY`)
//! or PKCS#8 / SPKI (`PRIVATE KEY` / `PUBLIC KEY`), 2048 to 8192 bits.
//!
//! RSA comes from `aws-lc-rs` (the `rsa` crate carries the open advisory
//! RUSTSEC-2023-0071).
//!
//! ```
//! use kassa_sign::order_details::{OrderDetails, RsaPrivateKey, RsaPublicKey, SigEncoding, generate_key_pair, sign, verify};
//! let (private_pem, public_pem) = generate_key_pair().unwrap();
//! let key = RsaPrivateKey::from_pem(&private_pem).unwrap();
//! let details = OrderDetails::new("R1096438018", "idea_preprod", "1.00", "1234567890")
//!     .customer_email("customer@example.com")
//!     .return_url("https://shop.example/end");
//! let json = details.to_json(1_571_922_200_845).unwrap();
//! let signature = sign(&key, &json, SigEncoding::Base64).unwrap();
//! let public = RsaPublicKey::from_pem(&public_pem).unwrap();
//! assert!(verify(&public, &json, &signature).is_ok());
//! assert!(verify(&public, &json.replace("1.00", "0.01"), &signature).is_err());
//! ```

use crate::SignError;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kassa_types::{Amount, Currency, validate_order_id};
use std::fmt;

/// How a signature is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigEncoding {
    /// Standard base64 with padding (the seed's sample).
    Base64,
    /// Lowercase hex.
    Hex,
}

/// A merchant's RSA private key. `Debug` shows no key material.
pub struct RsaPrivateKey(KeyPair);

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey(<{}-bit key redacted>)", self.0.public_modulus_len() * 8)
    }
}

impl RsaPrivateKey {
    /// Reads a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<RsaPrivateKey, SignError> {
        let block = pem::parse(text.trim()).map_err(|_| SignError::BadKey("not a PEM block"))?;
        let key = match block.tag() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => KeyPair::from_der(block.contents()),
            _ => return Err(SignError::BadKey("expected a PEM `PRIVATE KEY` or `RSA PRIVATE KEY`")),
        };
        key.map(RsaPrivateKey).map_err(|_| SignError::BadKey("not an RSA private key of 2048 to 8192 bits"))
    }

    /// The matching public key.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.public_key().as_ref().to_vec())
    }
}

/// A merchant's registered RSA public key (DER inside).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey(Vec<u8>);

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bytes)", self.0.len())
    }
}

impl RsaPublicKey {
    /// Reads a PEM public key, SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(text: &str) -> Result<RsaPublicKey, SignError> {
        let block = pem::parse(text.trim()).map_err(|_| SignError::BadKey("not a PEM block"))?;
        match block.tag() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {}
            _ => return Err(SignError::BadKey("expected a PEM `PUBLIC KEY` or `RSA PUBLIC KEY`")),
        }
        aws_lc_rs::rsa::PublicKey::from_der(block.contents()).map_err(|_| SignError::BadKey("not an RSA public key"))?;
        Ok(RsaPublicKey(block.contents().to_vec()))
    }

    /// The key as PEM (`BEGIN PUBLIC KEY` when it was read as SPKI, else `RSA PUBLIC KEY`).
    pub fn to_pem(&self) -> String {
        let spki = aws_lc_rs::rsa::PublicKey::from_der(&self.0)
            .ok()
            .and_then(|k| AsDer::<PublicKeyX509Der<'_>>::as_der(&k).ok().map(|d| d.as_ref().to_vec()));
        match spki {
            Some(der) => pem::encode(&pem::Pem::new("PUBLIC KEY", der)),
            None => pem::encode(&pem::Pem::new("RSA PUBLIC KEY", self.0.clone())),
        }
    }
}

/// Signs the exact `orderDetails` string.
pub fn sign(key: &RsaPrivateKey, order_details: &str, encoding: SigEncoding) -> Result<String, SignError> {
    let mut sig = vec![0u8; key.0.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    key.0.sign(&RSA_PKCS1_SHA256, &rng, order_details.as_bytes(), &mut sig).map_err(|_| SignError::BadKey("RSA signing failed"))?;
    Ok(match encoding {
        SigEncoding::Base64 => STANDARD.encode(sig),
        SigEncoding::Hex => hex::encode(sig),
    })
}

/// Verifies a base64 or hex signature over the exact `orderDetails` string.
pub fn verify(key: &RsaPublicKey, order_details: &str, signature: &str) -> Result<(), SignError> {
    let signature = signature.trim();
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.0);
    let mut decoded_any = false;
    // A string of hex digits could also be base64; try hex first, then base64.
    for bytes in [hex::decode(signature).ok(), STANDARD.decode(signature).ok()].into_iter().flatten() {
        decoded_any = true;
        if public.verify(order_details.as_bytes(), &bytes).is_ok() {
            return Ok(());
        }
    }
    if decoded_any { Err(SignError::Mismatch) } else { Err(SignError::BadEncoding("base64 or hex")) }
}

/// A fresh 2048-bit key pair as PEM: (PKCS#8 private key, SPKI public key).
pub fn generate_key_pair() -> Result<(String, String), SignError> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| SignError::BadKey("key generation failed"))?;
    let private: Pkcs8V1Der<'_> = key.as_der().map_err(|_| SignError::BadKey("key encoding failed"))?;
    let public: PublicKeyX509Der<'_> = key.public_key().as_der().map_err(|_| SignError::BadKey("key encoding failed"))?;
    Ok((
        pem::encode(&pem::Pem::new("PRIVATE KEY", private.as_ref().to_vec())),
        pem::encode(&pem::Pem::new("PUBLIC KEY", public.as_ref().to_vec())),
    ))
}

/// The fields of seed 001's `orderDetails` table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderDetails {
    /// Merchant's order id (letters, digits, `_`, `-`; at most 20).
    pub order_id: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Decimal with at most two fraction digits (`"100.15"`).
    pub amount: String,
    /// Customer id (empty for a guest).
    pub customer_id: String,
    /// ISO 4217 currency (default INR).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub currency: Option<String>,
    /// Customer email.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_email: Option<String>,
    /// Customer phone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_phone: Option<String>,
    /// Where the shopper returns.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub return_url: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Preferred gateway.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gateway_id: Option<String>,
}

#[derive(serde::Serialize)]
struct WithTimestamp<'a> {
    #[serde(flatten)]
    details: &'a OrderDetails,
    timestamp: String,
}

impl OrderDetails {
    /// The required fields.
    pub fn new(order_id: &str, merchant_id: &str, amount: &str, customer_id: &str) -> OrderDetails {
        OrderDetails {
            order_id: order_id.into(),
            merchant_id: merchant_id.into(),
            amount: amount.into(),
            customer_id: customer_id.into(),
            currency: None,
            customer_email: None,
            customer_phone: None,
            return_url: None,
            description: None,
            gateway_id: None,
        }
    }

    /// Sets `customer_email`.
    pub fn customer_email(mut self, v: &str) -> OrderDetails {
        self.customer_email = Some(v.into());
        self
    }

    /// Sets `customer_phone`.
    pub fn customer_phone(mut self, v: &str) -> OrderDetails {
        self.customer_phone = Some(v.into());
        self
    }

    /// Sets `currency`.
    pub fn currency(mut self, v: &str) -> OrderDetails {
        self.currency = Some(v.into());
        self
    }

    /// Sets `return_url`.
    pub fn return_url(mut self, v: &str) -> OrderDetails {
        self.return_url = Some(v.into());
        self
    }

    /// Checks every field against seed 001's rules.
    pub fn validate(&self) -> Result<(), SignError> {
        validate_order_id(&self.order_id).map_err(|e| SignError::BadInput(e.to_string()))?;
        if self.merchant_id.is_empty() {
            return Err(SignError::BadInput("merchant_id is required".into()));
        }
        Amount::parse(&self.amount).map_err(|e| SignError::BadInput(e.to_string()))?;
        if let Some(c) = &self.currency {
            Currency::parse(c).ok_or_else(|| SignError::BadInput(format!("unknown currency {c:?}")))?;
        }
        if let Some(e) = &self.customer_email
            && !e.contains('@')
        {
            return Err(SignError::BadInput("customer_email is not an email address".into()));
        }
        if let Some(u) = &self.return_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(SignError::BadInput("return_url must be an http(s) URL".into()));
        }
        Ok(())
    }

    /// The JSON string to sign, with `timestamp` (Unix milliseconds, as a string like the seed's sample).
    pub fn to_json(&self, timestamp_ms: u64) -> Result<String, SignError> {
        self.validate()?;
        serde_json::to_string(&WithTimestamp { details: self, timestamp: timestamp_ms.to_string() })
            .map_err(|e| SignError::BadInput(e.to_string()))
    }

    /// [`OrderDetails::to_json`] with the current time.
    pub fn to_json_now(&self) -> Result<String, SignError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.to_json(u64::try_from(now.as_millis()).unwrap_or(u64::MAX))
    }

    /// Reads a signed `orderDetails` string back: the fields and the timestamp.
    pub fn from_json(json: &str) -> Result<(OrderDetails, u64), SignError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|_| SignError::BadInput("orderDetails is not JSON".into()))?;
        let ts = value
            .get("timestamp")
            .and_then(|t| t.as_str().map(str::to_string).or_else(|| t.as_u64().map(|n| n.to_string())))
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| SignError::BadInput("orderDetails has no millisecond timestamp".into()))?;
        let details: OrderDetails = serde_json::from_value(value).map_err(|e| SignError::BadInput(format!("orderDetails: {e}")))?;
        details.validate()?;
        Ok((details, ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS1_PRIVATE: &str = include_str!("../tests/keys/pkcs1_private.pem");
    const PKCS1_PUBLIC: &str = include_str!("../tests/keys/pkcs1_public.pem");
    const SPKI_PUBLIC: &str = include_str!("../tests/keys/spki_public.pem");
    const PKCS8_PRIVATE: &str = include_str!("../tests/keys/pkcs8_private.pem");

    /// The seed's sample `orderDetails` string (seed 001), signed by a key made
    /// with `openssl genrsa`; the signature was made with `openssl dgst -sha256 -sign`
    /// (tests/keys/README.md), an implementation independent of this crate.
    const SEED_JSON: &str = r#"{"order_id":"R1096438018","amount":"1.00","customer_id":"1234567890","merchant_id":"idea_preprod","customer_email":"customer@example.com","customer_phone":"1234567890","return_url":"https:\/\/sandbox.juspay.in\/end","timestamp":"1571922200845"}"#;
    const OPENSSL_SIG: &str = include_str!("../tests/keys/seed_json.sig.b64");

    #[test]
    fn openssl_signature_verifies_with_both_key_formats() {
        for public in [PKCS1_PUBLIC, SPKI_PUBLIC] {
            let k = RsaPublicKey::from_pem(public).unwrap();
            assert!(verify(&k, SEED_JSON, OPENSSL_SIG).is_ok());
            assert_eq!(verify(&k, &SEED_JSON.replace("1.00", "2.00"), OPENSSL_SIG), Err(SignError::Mismatch));
        }
        // PKCS#1 v1.5 is deterministic: our signature equals OpenSSL's, in base64 and hex.
        for private in [PKCS1_PRIVATE, PKCS8_PRIVATE] {
            let key = RsaPrivateKey::from_pem(private).unwrap();
            assert_eq!(sign(&key, SEED_JSON, SigEncoding::Base64).unwrap(), OPENSSL_SIG.trim());
            let hex_sig = sign(&key, SEED_JSON, SigEncoding::Hex).unwrap();
            assert_eq!(hex::decode(&hex_sig).unwrap(), STANDARD.decode(OPENSSL_SIG.trim()).unwrap());
            assert!(verify(&key.public_key(), SEED_JSON, &hex_sig).is_ok());
        }
    }

    #[test]
    fn keys_and_errors() {
        assert!(matches!(RsaPrivateKey::from_pem("nonsense"), Err(SignError::BadKey(_))));
        assert!(matches!(RsaPrivateKey::from_pem(SPKI_PUBLIC), Err(SignError::BadKey(_))));
        assert!(matches!(RsaPublicKey::from_pem(PKCS8_PRIVATE), Err(SignError::BadKey(_))));
        let k = RsaPrivateKey::from_pem(PKCS8_PRIVATE).unwrap();
        assert_eq!(format!("{k:?}"), "RsaPrivateKey(<2048-bit key redacted>)");
        let p = k.public_key();
        assert_eq!(verify(&p, "{}", "!!!"), Err(SignError::BadEncoding("base64 or hex")));
        assert_eq!(RsaPublicKey::from_pem(&p.to_pem()).unwrap(), RsaPublicKey::from_pem(SPKI_PUBLIC).unwrap());
    }

    #[test]
    fn builder_validates_and_reads_back() {
        let d = OrderDetails::new("R1096438018", "idea_preprod", "1.00", "1234567890").currency("INR");
        let json = d.to_json(1_571_922_200_845).unwrap();
        assert!(json.ends_with(r#","timestamp":"1571922200845"}"#), "{json}");
        assert_eq!(OrderDetails::from_json(&json).unwrap(), (d, 1_571_922_200_845));
        for bad in [
            OrderDetails::new("has space", "m", "1", "c"),
            OrderDetails::new("o".repeat(21).as_str(), "m", "1", "c"),
            OrderDetails::new("o1", "m", "100.1532", "c"),
            OrderDetails::new("o1", "", "1", "c"),
            OrderDetails::new("o1", "m", "1", "c").currency("XYZ"),
            OrderDetails::new("o1", "m", "1", "c").return_url("javascript:alert(1)"),
        ] {
            assert!(matches!(bad.to_json(1), Err(SignError::BadInput(_))), "{bad:?}");
        }
        assert!(OrderDetails::from_json(r#"{"order_id":"o1"}"#).is_err());
    }
}
