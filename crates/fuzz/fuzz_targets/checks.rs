//! What each fuzz target checks, on any input: no panic, and the properties
//! named below. Shared by the libFuzzer targets (this folder) and by the
//! regression replay in the main test suite
//! (`crates/server/tests/fuzz_regressions.rs`).

#![allow(dead_code)]

use kassa_sign::return_url::{self, Params};
use kassa_sign::{ResponseKey, paytm, razorpay, webhook};
use kassa_types::Amount;

/// The request body decoder, as form and as JSON: decodes or refuses with a
/// 4xx, never a 5xx.
pub(crate) fn form_decoder(data: &[u8]) {
    let body = axum::body::Bytes::copy_from_slice(data);
    for ct in ["application/x-www-form-urlencoded", "application/json", "application/json; charset=utf-8"] {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(ct));
        if let Err(e) = kassa_server::http::body::Fields::parse(&headers, &body) {
            assert!(e.status.is_client_error(), "{ct}: {}", e.status);
        }
    }
}

/// The amount parser: whatever it accepts prints back to an amount that
/// parses to the same value, within two decimals and without overflow.
pub(crate) fn amount(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(a) = Amount::parse(s) {
        let again = Amount::parse(&a.to_decimal_string()).expect("a printed amount parses");
        assert_eq!(again, a);
        assert!(s.split_once('.').is_none_or(|(_, f)| f.len() <= 2));
        let _ = a.checked_add(a);
    }
}

/// The return-URL query canonicaliser: a query it parses signs to a query
/// that verifies, and any change to that signed query's bytes is refused.
pub(crate) fn query_canonical(data: &[u8]) {
    let Ok(q) = std::str::from_utf8(data) else { return };
    let key = ResponseKey::new(b"krk_fuzz".to_vec());
    let _ = return_url::verify_query(&key, q);
    let Ok(params) = Params::parse_query(q) else { return };
    let signed = return_url::sign(&key, &params);
    assert!(return_url::verify_query(&key, &signed).is_ok(), "{signed}");
    // Flip one byte of the signed query in the signature: refused.
    if let Some(at) = signed.find("signature=") {
        let mut bytes = signed.clone().into_bytes();
        let i = at + "signature=".len();
        if i < bytes.len() {
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(t) = String::from_utf8(bytes) {
                assert!(return_url::verify_query(&key, &t).is_err(), "{t}");
            }
        }
    }
}

/// The signature parsers (webhook header, Razorpay hex, Paytm checksum):
/// garbage is refused, never accepted, never a panic.
pub(crate) fn signatures(data: &[u8]) {
    // The first half is the signature (header), the second the signed body.
    let (head, body) = data.split_at(data.len() / 2);
    let head = String::from_utf8_lossy(head);
    let secret = webhook::WebhookSecret::new(b"whsec_fuzz".to_vec());
    assert!(webhook::verify(&secret, &head, body, 1_700_000_000, 300).is_err());
    let rz = razorpay::Secret::new(b"rzp_fuzz".to_vec());
    assert!(razorpay::verify_webhook(&rz, body, &head).is_err());
    assert!(razorpay::verify_payment(&rz, "order_1", "pay_1", &head).is_err());
    if let Ok(key) = paytm::MerchantKey::new(b"aBcDeFgHiJkLmNoP".to_vec()) {
        assert!(paytm::verify(&key, &String::from_utf8_lossy(body), &head).is_err());
    }
}
