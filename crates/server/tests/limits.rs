//! Abuse limits (issue 18): an order stops taking payments after its failed
//! attempts reach the limit; payment attempts are limited per client token
//! and per client address, failed API keys per address, and requests served
//! at once. A limit answers 429 with `Retry-After` and the JSON error, and
//! changes nothing. SQLite, or PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_server::http::limits::LimitSettings;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

mod common;
use common::basic;

type Server = common::M1Server;

fn start(limits: LimitSettings) -> Server {
    common::start_m1("krk_x", |_| {}, |db| async { db }, move |base| kassa_server::Config { limits, ..common::test_config(base) })
}

/// (status, Retry-After, body).
type Answer = (u16, Option<String>, Value);

impl Server {
    fn call(&self, method: &str, path: &str, auth: &str, content_type: &str, body: &str) -> Answer {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) };
        let req = ureq::http::Request::builder().method(method).uri(url).header("authorization", auth).header("content-type", content_type);
        let mut resp = self.agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), retry, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A new order: (Kassa id, client token).
    fn order(&self, order_id: &str) -> (String, String) {
        let (code, _, body) = self.call(
            "POST",
            "/orders",
            &basic(&self.api_key),
            "application/x-www-form-urlencoded",
            &format!("order_id={order_id}&amount=10&options.get_client_auth_token=true"),
        );
        assert_eq!(code, 200, "{body}");
        (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string())
    }

    fn card(&self, ord: &str, token: &str) -> Answer {
        let mut body = common::card_fields("4111111111111111");
        body["order_id"] = json!(ord);
        self.call("POST", "/txns", &format!("Bearer {token}"), "application/json", &body.to_string())
    }
}

fn assert_limited(answer: &Answer, code: &str) {
    let (status, retry, body) = answer;
    assert_eq!(*status, 429, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
}

#[test]
fn an_order_takes_no_more_attempts_after_its_failed_ones_reach_the_limit() {
    let s = start(LimitSettings { failed_attempts_per_order: 3, ..LimitSettings::default() });
    let (ord, token) = s.order("fail1");
    for _ in 0..3 {
        let (code, _, txn) = s.card(&ord, &token);
        assert_eq!(code, 200, "{txn}");
        let cancel = format!("/txns/{}/cancel", txn["txn_uuid"].as_str().unwrap());
        assert_eq!(s.call("POST", &cancel, &format!("Bearer {token}"), "application/json", "{}").0, 200);
    }
    let (code, _, body) = s.card(&ord, &token);
    assert_eq!((code, body["error_code"].as_str()), (409, Some("too_many_failed_attempts")), "{body}");
    // Nothing was recorded: the order's latest attempt is still the third.
    let (_, _, st) = s.call("GET", "/orders/fail1", &basic(&s.api_key), "text/plain", "");
    assert_eq!((st["status"].as_str(), st["txn_id"].as_str()), (Some("AUTHENTICATION_FAILED"), Some("m1-fail1-3")), "{st}");
    // Another order is not affected.
    let (ord, token) = s.order("fail2");
    assert_eq!(s.card(&ord, &token).0, 200);
}

#[test]
fn payment_attempts_are_limited_per_token_and_per_address() {
    let s = start(LimitSettings { txns_per_minute_per_token: 3, txns_per_minute_per_address: 6, ..LimitSettings::default() });
    let (ord, token) = s.order("rate1");
    // A bank page left open takes another attempt: three go through, the fourth is limited.
    for _ in 0..3 {
        assert_eq!(s.card(&ord, &token).0, 200);
    }
    assert_limited(&s.card(&ord, &token), "too_many_requests");
    // Other orders from the same address: until the address's own limit (6 attempts).
    let (ord2, token2) = s.order("rate2");
    assert_eq!(s.card(&ord2, &token2).0, 200);
    assert_eq!(s.card(&ord2, &token2).0, 200);
    let (ord3, token3) = s.order("rate3");
    assert_eq!(s.card(&ord3, &token3).0, 200);
    let (code, retry, body) = s.card(&ord3, &token3);
    assert_limited(&(code, retry, body.clone()), "too_many_requests");
    assert!(body["error_message"].as_str().unwrap().contains("address"), "{body}");
    // The merchant's API is not a payment attempt: unaffected.
    assert_eq!(s.call("GET", "/orders/rate1", &basic(&s.api_key), "text/plain", "").0, 200);
}

#[test]
fn failed_api_keys_lock_the_address_out_whatever_key_comes_next() {
    let s = start(LimitSettings { auth_failures_per_minute_per_address: 3, ..LimitSettings::default() });
    for _ in 0..3 {
        let (code, _, body) = s.call("GET", "/orders/x1", &basic("ksk_wrong"), "text/plain", "");
        assert_eq!((code, body["error_code"].as_str()), (401, Some("access_denied")), "{body}");
    }
    // The fourth failure locks the address out; then even the right key is refused, before it is looked at.
    assert_eq!(s.call("GET", "/orders/x1", &basic("ksk_wrong"), "text/plain", "").0, 401);
    assert_limited(&s.call("GET", "/orders/x1", &basic("ksk_wrong"), "text/plain", ""), "too_many_failed_logins");
    assert_limited(&s.call("GET", "/orders/x1", &basic(&s.api_key), "text/plain", ""), "too_many_failed_logins");
    // Pages and client tokens are not behind the API key.
    assert_eq!(s.call("GET", "/health", "", "text/plain", "").0, 200);
}

#[test]
fn requests_past_the_concurrency_limit_get_a_429_at_once() {
    // A gateway that accepts connections and never answers: a payment through it holds its request
    // (up to the gateway timeout), and so the server's only slot.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_url = format!("http://{}", hole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hole.incoming() {
            held.push(s);
        }
    });
    let s = common::start_m1(
        "krk_x",
        |_| {},
        move |db| async move {
            let account = kassa_server::gateway::route::Account {
                id: kassa_server::random_id("gwa_"),
                merchant_id: "m1".into(),
                reference_id: String::new(),
                priority: 0,
                credentials: kassa_server::gateway::route::Credentials::Razorpay {
                    key_id: "rzp_test_x".into(),
                    key_secret: "y".into(),
                    webhook_secret: None,
                },
                base_url: hole_url,
            };
            db.add_gateway_account(&account).await.unwrap();
            db
        },
        |base| kassa_server::Config {
            limits: LimitSettings { max_concurrent_requests: 1, ..LimitSettings::default() },
            gateway_timeout_ms: 1500,
            ..common::test_config(base)
        },
    );
    let (code, _, created) = s.call(
        "POST",
        "/orders",
        &basic(&s.api_key),
        "application/x-www-form-urlencoded",
        "order_id=slow1&amount=10&customer_id=c&customer_email=a%40b.in&customer_phone=9999999999&description=T&options.get_client_auth_token=true",
    );
    assert_eq!(code, 200, "{created}");
    let (ord, token) = (created["id"].as_str().unwrap().to_string(), created["juspay"]["client_auth_token"].as_str().unwrap().to_string());
    // A body that trickles in holds no slot: the server still answers.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /orders HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\norder_id=",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.call("GET", "/health", "", "text/plain", "").0, 200);
    std::thread::scope(|scope| {
        let paying = scope.spawn(|| s.card(&ord, &token));
        std::thread::sleep(Duration::from_millis(400));
        // The payment waiting on its gateway holds the only slot.
        assert_limited(&s.call("GET", "/health", "", "text/plain", ""), "overloaded");
        let (code, _, body) = paying.join().unwrap();
        assert_eq!(code, 400, "the gateway never answered: {body}");
    });
    // Once it is done, requests are served again.
    assert_eq!(s.call("GET", "/health", "", "text/plain", "").0, 200);
    drop(slow);
}
