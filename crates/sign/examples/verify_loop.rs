//! Profiling aid: `valgrind --tool=callgrind target/release/examples/verify_loop MODE`,
//! MODE one of hmac, verify, parse, parsed (100,000 runs each).
#![allow(missing_docs, clippy::unwrap_used)]
use kassa_sign::encode::Encoder;
use kassa_sign::return_url::{self, Params};
use kassa_sign::{ResponseKey, hmac_sha256};
use std::hint::black_box;
fn main() {
    let mode = std::env::args().nth(1).unwrap();
    let key = ResponseKey::new(b"krk_0123456789abcdef0123456789abcdef".to_vec());
    let params = Params::from_pairs([("order_id", "shop69c0b0fa86f9"), ("status", "CHARGED"), ("status_id", "21")]).unwrap();
    let query = return_url::sign(&key, &params);
    let bytes = return_url::string_to_sign(&params, Encoder::Canonical);
    let parsed = Params::parse_query(&query).unwrap();
    for _ in 0..100_000 {
        match mode.as_str() {
            "hmac" => {
                black_box(hmac_sha256(black_box(b"krk_0123456789abcdef0123456789abcdef"), black_box(bytes.as_bytes())));
            }
            "verify" => {
                black_box(return_url::verify_query(black_box(&key), black_box(&query)).unwrap());
            }
            "parse" => {
                black_box(Params::parse_query(black_box(&query)).unwrap());
            }
            "parsed" => {
                return_url::verify(black_box(&key), black_box(&parsed)).unwrap();
            }
            _ => panic!(),
        }
    }
}
