//! Profiling aid: `valgrind --tool=callgrind target/release/examples/verify_loop`.
#![allow(missing_docs, clippy::unwrap_used)]
use kassa_sign::{ResponseKey, return_url};
fn main() {
    let key = ResponseKey::new(b"krk_0123456789abcdef0123456789abcdef".to_vec());
    let q = return_url::sign_query(&key, "order_id=shop69c0b0fa86f9&status=CHARGED&status_id=21").unwrap();
    let mut ok = 0;
    for _ in 0..20_000 {
        ok += usize::from(return_url::verify_query(&key, std::hint::black_box(&q)).is_ok());
    }
    println!("{ok}");
}
