//! Paytm checksums (seed 004, `head.signature`), as the public PaytmChecksum
//! library computes them:
//!
//! 1. the string to sign is the request body as sent, or, for the map form,
//!    the values sorted by key and joined with `|` (a value `null`, any case, counts as empty);
//! 2. a random 4-character salt; `hash = hex(SHA-256(string + "|" + salt)) + salt`;
//! 3. `checksum = base64(AES-CBC(key, iv = "@@@@&&&&####$$$$", PKCS#7(hash)))`.
//!
//! Verification decrypts, takes the salt from the last four characters and
//! recomputes. Every failure — bad base64, bad padding, wrong key, wrong hash —
//! is the same [`SignError::Mismatch`], so a caller cannot be used as a padding oracle.
//!
//! ```
//! use kassa_sign::paytm::{MerchantKey, generate, verify};
//! let key = MerchantKey::new(b"0123456789abcdef".to_vec()).unwrap();
//! let body = r#"{"mid":"YOUR_MID_HERE","orderId":"Ravi1366"}"#;
//! let checksum = generate(&key, body).unwrap();
//! assert!(verify(&key, body, &checksum).is_ok());
//! assert!(verify(&key, "{}", &checksum).is_err());
//! ```

use crate::SignError;
use aws_lc_rs::cipher::{
    AES_128, AES_256, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::fmt;

const IV: &[u8; 16] = b"@@@@&&&&####$$$$";
const SALT_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";

/// A Paytm merchant key (16 bytes for AES-128, 32 for AES-256). `Debug` shows no key material.
#[derive(Clone)]
pub struct MerchantKey(Vec<u8>);

impl MerchantKey {
    /// Wraps a key; refuses lengths AES cannot use.
    pub fn new(bytes: Vec<u8>) -> Result<MerchantKey, SignError> {
        match bytes.len() {
            16 | 32 => Ok(MerchantKey(bytes)),
            _ => Err(SignError::BadKey("a Paytm merchant key is 16 or 32 characters")),
        }
    }

    /// Reads a key as stored in a file (surrounding whitespace dropped).
    pub fn from_file_contents(s: &str) -> Result<MerchantKey, SignError> {
        MerchantKey::new(s.trim().as_bytes().to_vec())
    }

    fn cipher_key(&self) -> Result<UnboundCipherKey, SignError> {
        let alg = if self.0.len() == 16 { &AES_128 } else { &AES_256 };
        UnboundCipherKey::new(alg, &self.0).map_err(|_| SignError::BadKey("AES key rejected"))
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "paytm::MerchantKey(<{} bytes redacted>)", self.0.len())
    }
}

/// The string to sign for the map form: values sorted by key, joined with `|`.
pub fn string_from_params<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted
        .iter()
        .filter(|(k, _)| *k != "CHECKSUMHASH")
        .map(|(_, v)| if v.eq_ignore_ascii_case("null") { "" } else { v })
        .collect::<Vec<_>>()
        .join("|")
}

fn salted_hash(data: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{data}|{salt}").as_bytes());
    format!("{}{salt}", hex::encode(digest))
}

/// The checksum with a given salt (4 characters). [`generate`] draws the salt at random.
pub fn checksum_with_salt(key: &MerchantKey, data: &str, salt: &str) -> Result<String, SignError> {
    if salt.len() != 4 || !salt.bytes().all(|b| SALT_CHARS.contains(&b)) {
        return Err(SignError::BadInput("the salt is 4 letters or digits".into()));
    }
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(key.cipher_key()?).map_err(|_| SignError::BadKey("AES key rejected"))?;
    let mut buf = salted_hash(data, salt).into_bytes();
    enc.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(IV)))
        .map_err(|_| SignError::BadKey("AES encryption failed"))?;
    Ok(STANDARD.encode(buf))
}

/// A fresh checksum for `data` (the body string, or [`string_from_params`]).
pub fn generate(key: &MerchantKey, data: &str) -> Result<String, SignError> {
    let mut raw = [0u8; 4];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| SignError::BadInput("no randomness available".into()))?;
    let salt: String = raw.iter().map(|b| char::from(SALT_CHARS[usize::from(*b) % SALT_CHARS.len()])).collect();
    checksum_with_salt(key, data, &salt)
}

/// Verifies a checksum for `data`. Any failure is [`SignError::Mismatch`].
pub fn verify(key: &MerchantKey, data: &str, checksum: &str) -> Result<(), SignError> {
    let expected = decrypt(key, checksum).ok_or(SignError::Mismatch)?;
    if expected.len() < 4 || !expected.is_char_boundary(expected.len() - 4) {
        return Err(SignError::Mismatch);
    }
    let salt = &expected[expected.len() - 4..];
    let actual = salted_hash(data, salt);
    aws_lc_rs::constant_time::verify_slices_are_equal(actual.as_bytes(), expected.as_bytes()).map_err(|_| SignError::Mismatch)
}

fn decrypt(key: &MerchantKey, checksum: &str) -> Option<String> {
    let mut buf = STANDARD.decode(checksum.trim().as_bytes()).ok()?;
    let dec = PaddedBlockDecryptingKey::cbc_pkcs7(key.cipher_key().ok()?).ok()?;
    let plain = dec.decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(IV))).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MerchantKey {
        MerchantKey::new(b"aBcDeFgHiJkLmNoP".to_vec()).unwrap()
    }

    /// Known answer from the reference library itself: `paytmchecksum` 1.7 on
    /// PyPI, `PaytmChecksum.calculateChecksum("hello|world", "aBcDeFgHiJkLmNoP", "ABCD")`.
    /// `tests/crosscheck.rs` also checks random inputs against that package.
    #[test]
    fn known_answer() {
        let sum = checksum_with_salt(&key(), "hello|world", "ABCD").unwrap();
        assert_eq!(sum, "jBImqbZtp3yT2E4Wp2RJ4G8dQnAlp2juFQaTN5jNSL4D9P8YsCidBHa2PfbbMvXiKShKZP8yo7B5MUV3iAsrti73ejaWvCD+szvEUKp+cis=");
        assert!(verify(&key(), "hello|world", &sum).is_ok());
    }

    #[test]
    fn map_form_sorts_and_blanks_null() {
        let s = string_from_params(&[("ORDERID", "o1"), ("MID", "m1"), ("CUST", "NULL"), ("CHECKSUMHASH", "x")]);
        assert_eq!(s, "|m1|o1");
    }

    #[test]
    fn every_failure_looks_the_same() {
        let sum = generate(&key(), "body").unwrap();
        let other = MerchantKey::new(b"0000000000000000".to_vec()).unwrap();
        for (k, data, c) in [
            (&key(), "bodY", sum.as_str()),
            (&other, "body", sum.as_str()),
            (&key(), "body", "not base64!"),
            (&key(), "body", "AAAA"),
            (&key(), "body", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ] {
            assert_eq!(verify(k, data, c), Err(SignError::Mismatch));
        }
        assert!(MerchantKey::new(b"short".to_vec()).is_err());
        assert!(!format!("{:?}", key()).contains("aBcD"));
    }
}
