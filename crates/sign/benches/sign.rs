//! Signing benchmarks. The return-URL budget (SPEC §6) is verification at
//! most 2× one bare HMAC-SHA256 over the same bytes: both are measured here,
//! in the same run, so the ratio holds on any machine.
//!
//! `cargo bench -p kassa-sign --bench sign`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use kassa_sign::encode::Encoder;
use kassa_sign::order_details::{self, RsaPrivateKey, SigEncoding};
use kassa_sign::return_url::{self, Params};
use kassa_sign::{ResponseKey, hmac_sha256, paytm};
use std::hint::black_box;

fn return_url(c: &mut Criterion) {
    let key = ResponseKey::new(b"krk_0123456789abcdef0123456789abcdef".to_vec());
    let params = Params::from_pairs([("order_id", "shop69c0b0fa86f9"), ("status", "CHARGED"), ("status_id", "21")]).unwrap();
    let query = return_url::sign(&key, &params);
    let bytes = return_url::string_to_sign(&params, Encoder::Canonical);
    let mut g = c.benchmark_group("return_url");
    g.bench_function("bare_hmac_sha256_same_bytes", |b| {
        b.iter(|| hmac_sha256(black_box(b"krk_0123456789abcdef0123456789abcdef"), black_box(bytes.as_bytes())))
    });
    g.bench_function("verify_query", |b| b.iter(|| return_url::verify_query(black_box(&key), black_box(&query)).unwrap()));
    g.bench_function("sign", |b| b.iter(|| return_url::sign(black_box(&key), black_box(&params))));
    g.bench_function("parts/parse_query", |b| b.iter(|| Params::parse_query(black_box(&query)).unwrap()));
    g.bench_function("parts/signature_base64", |b| b.iter(|| return_url::signature_base64(black_box(&key), black_box(&params))));
    let parsed = Params::parse_query(&query).unwrap();
    g.bench_function("parts/verify_parsed", |b| b.iter(|| return_url::verify(black_box(&key), black_box(&parsed)).unwrap()));
    g.finish();
}

fn rsa(c: &mut Criterion) {
    let key = RsaPrivateKey::from_pem(include_str!("../tests/keys/pkcs8_private.pem")).unwrap();
    let public = key.public_key();
    let json = order_details::OrderDetails::new("R1096438018", "idea_preprod", "1.00", "1234567890").to_json(1_571_922_200_845).unwrap();
    let sig = order_details::sign(&key, &json, SigEncoding::Base64).unwrap();
    let mut g = c.benchmark_group("order_details_rsa2048");
    g.bench_function("sign", |b| b.iter(|| order_details::sign(black_box(&key), black_box(&json), SigEncoding::Base64).unwrap()));
    g.bench_function("verify", |b| b.iter(|| order_details::verify(black_box(&public), black_box(&json), black_box(&sig)).unwrap()));
    g.finish();
}

fn paytm_checksum(c: &mut Criterion) {
    let key = paytm::MerchantKey::new(b"aBcDeFgHiJkLmNoP".to_vec()).unwrap();
    let body = r#"{"requestType":"PAYMENT","mid":"YOUR_MID_HERE","websiteName":"retail","orderId":"Ravi1366","txnAmount":{"value":"1","currency":"INR"},"userInfo":{"custId":"cus0012"}}"#;
    let sum = paytm::generate(&key, body).unwrap();
    let mut g = c.benchmark_group("paytm");
    g.bench_function("generate", |b| b.iter(|| paytm::generate(black_box(&key), black_box(body)).unwrap()));
    g.bench_function("verify", |b| b.iter(|| paytm::verify(black_box(&key), black_box(body), black_box(&sum)).unwrap()));
    g.finish();
}

criterion_group!(benches, return_url, rsa, paytm_checksum);
criterion_main!(benches);
