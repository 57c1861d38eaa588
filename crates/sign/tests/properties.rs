//! Property tests: every scheme round-trips, and changing, adding or removing
//! any parameter or byte is rejected.

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_sign::order_details::{self, RsaPrivateKey, SigEncoding};
use kassa_sign::return_url::{self, Params};
use kassa_sign::webhook::{self, WebhookSecret};
use kassa_sign::{ResponseKey, paytm, razorpay};
use proptest::prelude::*;

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z_]{1,10}", "\\PC{0,16}", 1..6).prop_map(|m| m.into_iter().collect())
}

/// The query parser as the seed reads it, written the slow obvious way: split
/// on `&`, skip empty parts, split each at its first `=`, form-decode both
/// sides, refuse empty or repeated keys.
fn reference_parse(q: &str) -> Option<Vec<(String, String)>> {
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut out: Vec<(String, String)> = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let (k, v) = (kassa_sign::encode::form_decode(k)?, kassa_sign::encode::form_decode(v)?);
        if k.is_empty() || out.iter().any(|(e, _)| *e == k) {
            return None;
        }
        out.push((k, v));
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn query_parser_matches_reference(q in "[?ab=&+%2F0é]{0,24}") {
        let got = Params::parse_query(&q).ok().map(|p| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
        prop_assert_eq!(got, reference_parse(&q), "{:?}", q);
    }

    #[test]
    fn return_url_round_trip_and_tamper(ps in params(), key in "\\PC{1,24}", extra in "[a-z]{1,8}", pick in any::<prop::sample::Index>(), add in "\\PC{1,4}") {
        let k = ResponseKey::new(key.into_bytes());
        let p = Params::from_pairs(ps.clone()).unwrap();
        let q = return_url::sign(&k, &p);
        let got = return_url::verify_query(&k, &q).unwrap();
        for (name, value) in &ps {
            prop_assert_eq!(got.get(name), Some(value.as_str()));
        }
        let i = pick.index(ps.len());
        let sig: Vec<(String, String)> = Params::parse_query(&q).unwrap().iter().filter(|(n, _)| n.starts_with("signature")).map(|(a, b)| (a.to_string(), b.to_string())).collect();
        // Change one value.
        let mut changed = ps.clone();
        changed[i].1.push_str(&add);
        let q2 = Params::from_pairs(changed.into_iter().chain(sig.clone())).unwrap().to_query();
        prop_assert!(return_url::verify_query(&k, &q2).is_err());
        // Remove one parameter.
        let mut removed = ps.clone();
        removed.remove(i);
        let q3 = Params::from_pairs(removed.into_iter().chain(sig.clone())).unwrap().to_query();
        prop_assert!(return_url::verify_query(&k, &q3).is_err());
        // Add one parameter.
        if !ps.iter().any(|(n, _)| *n == extra) {
            let q4 = [q.as_str(), "&", extra.as_str(), "=1"].concat();
            prop_assert!(return_url::verify_query(&k, &q4).is_err());
        }
    }

    #[test]
    fn return_url_signature_bytes_are_checked(ps in params(), pos in any::<prop::sample::Index>()) {
        let k = ResponseKey::new(b"k".to_vec());
        let p = Params::from_pairs(ps).unwrap();
        let b64 = return_url::signature_base64(&k, &p);
        let mut bytes = b64.into_bytes();
        let i = pos.index(bytes.len() - 1); // keep the final '=' padding
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).unwrap();
        let q = format!("{}&signature={}&signature_algorithm=HMAC-SHA256", p.to_query(), kassa_sign::encode::Encoder::Canonical.encode(&forged));
        prop_assert!(return_url::verify_query(&k, &q).is_err());
    }

    #[test]
    fn razorpay_tamper(order in "[a-zA-Z0-9_]{1,20}", pay in "[a-zA-Z0-9_]{1,20}", body in proptest::collection::vec(any::<u8>(), 0..200), flip in any::<prop::sample::Index>()) {
        let s = razorpay::Secret::new(b"secret".to_vec());
        let sig = razorpay::payment_signature(&s, &order, &pay);
        prop_assert!(razorpay::verify_payment(&s, &order, &pay, &sig).is_ok());
        let other_order = format!("{order}x");
        prop_assert!(razorpay::verify_payment(&s, &other_order, &pay, &sig).is_err());
        let w = razorpay::webhook_signature(&s, &body);
        prop_assert!(razorpay::verify_webhook(&s, &body, &w).is_ok());
        let mut b2 = body.clone();
        if b2.is_empty() { b2.push(0) } else { let i = flip.index(b2.len()); b2[i] ^= 1; }
        prop_assert!(razorpay::verify_webhook(&s, &b2, &w).is_err());
    }

    #[test]
    fn paytm_tamper(body in "\\PC{0,120}", flip in any::<prop::sample::Index>()) {
        let key = paytm::MerchantKey::new(b"aBcDeFgHiJkLmNoP".to_vec()).unwrap();
        let c = paytm::generate(&key, &body).unwrap();
        prop_assert!(paytm::verify(&key, &body, &c).is_ok());
        let longer = format!("{body} ");
        prop_assert_eq!(paytm::verify(&key, &longer, &c), Err(kassa_sign::SignError::Mismatch));
        let mut cb = c.clone().into_bytes();
        let i = flip.index(cb.len() - 2);
        cb[i] = if cb[i] == b'A' { b'B' } else { b'A' };
        prop_assert_eq!(paytm::verify(&key, &body, &String::from_utf8(cb).unwrap()), Err(kassa_sign::SignError::Mismatch));
    }

    #[test]
    fn webhook_tamper(body in proptest::collection::vec(any::<u8>(), 0..200), t in 1_600_000_000u64..1_900_000_000, skew in 0u64..300, flip in any::<prop::sample::Index>()) {
        let s = WebhookSecret::new(b"whsec".to_vec());
        let h = webhook::signature_header(&s, t, &body);
        prop_assert!(webhook::verify(&s, &h, &body, t + skew, 300).is_ok());
        prop_assert!(webhook::verify(&s, &h, &body, t + 301 + skew, 300).is_err());
        let mut b2 = body.clone();
        if b2.is_empty() { b2.push(b'x') } else { let i = flip.index(b2.len()); b2[i] ^= 0x80; }
        prop_assert!(webhook::verify(&s, &h, &b2, t, 300).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn order_details_tamper(amount in 1u32..1_000_000, id in "[A-Za-z0-9]{1,20}", flip in any::<prop::sample::Index>()) {
        let key = RsaPrivateKey::from_pem(include_str!("keys/pkcs8_private.pem")).unwrap();
        let amt = format!("{}.{:02}", amount / 100, amount % 100);
        let json = order_details::OrderDetails::new(&id, "m1", &amt, "c1").to_json(1_700_000_000_000).unwrap();
        let sig = order_details::sign(&key, &json, SigEncoding::Base64).unwrap();
        prop_assert!(order_details::verify(&key.public_key(), &json, &sig).is_ok());
        let mut bytes = json.clone().into_bytes();
        let i = flip.index(bytes.len());
        bytes[i] ^= 0x01;
        if let Ok(t) = String::from_utf8(bytes) {
            prop_assert!(order_details::verify(&key.public_key(), &t, &sig).is_err());
        }
    }
}
