//! The orders API over a real socket, with a real database: an SQLite file,
//! or PostgreSQL when `KASSA_TEST_POSTGRES` is set (see `common::fresh_database`).

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_server::Config;
use kassa_server::db::{Db, NewMerchant};
use kassa_server::secret::Secret;
use kassa_sign::{ResponseKey, return_url};
use serde_json::Value;

mod common;
use common::basic;
use common::{execute_sql, receiver};

struct Server {
    base: String,
    keys: [(String, String); 2], // (api_key, response_key) of merchants m1, m2
    agent: ureq::Agent,
    db_url: String,
    _dir: tempfile::TempDir,
    /// Dropped with the server: its runtime ends and its database
    /// connections close (PostgreSQL has only so many for all the tests).
    _server: common::InProcess,
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path());
    let db_url = url.clone();
    let retry_ms = RETRY_MS.with(std::cell::Cell::get);
    let (server, keys) = common::serve_in_process(
        url,
        |db| async move {
            let mut keys = Vec::new();
            for id in ["m1", "m2"] {
                let api_key = kassa_server::random_id("ksk_");
                let response_key = kassa_server::random_id("krk_");
                db.create_merchant(&NewMerchant {
                    webhook_username: Some(format!("hook_{id}")),
                    webhook_password: Some(Secret::new("hook-pass")),
                    allowed_origins: if id == "m1" { vec!["https://shop.example".into()] } else { Vec::new() },
                    ..common::test_merchant(id, &api_key, &response_key)
                })
                .await
                .unwrap();
                keys.push((api_key, response_key));
            }
            (db, keys)
        },
        move |base| Config { webhook_retry_base_ms: retry_ms, sandbox_delay_ms: 1500, ..common::test_config(base) },
    );
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    Server { base: server.base.clone(), keys: [keys[0].clone(), keys[1].clone()], agent, db_url, _dir: dir, _server: server }
}

impl Server {
    fn post_form(&self, path: &str, key: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = self.agent.post(format!("{}{path}", self.base)).header("content-type", "application/x-www-form-urlencoded");
        if let Some(k) = key {
            req = req.header("authorization", &basic(k));
        }
        let mut resp = req.send(body).unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn create(&self, body: &str) -> (u16, Value) {
        self.post_form("/orders", Some(&self.keys[0].0), body)
    }

    fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("authorization", &basic(k));
        }
        let mut resp = req.call().unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// `GET /orders/:order_id` as text, to check how numbers are written.
    fn raw_status(&self, order_id: &str) -> String {
        let mut r =
            self.agent.get(format!("{}/orders/{order_id}", self.base)).header("authorization", &basic(&self.keys[0].0)).call().unwrap();
        r.body_mut().read_to_string().unwrap()
    }

    fn status(&self, order_id: &str) -> (u16, Value) {
        self.get(&format!("/orders/{order_id}"), Some(&self.keys[0].0))
    }
}

fn assert_error(resp: &(u16, Value), http: u16, code: &str) {
    assert_eq!(resp.0, http, "{resp:?}");
    assert_eq!(resp.1["status"], "error", "{resp:?}");
    assert_eq!(resp.1["error_code"], code, "{resp:?}");
    assert!(resp.1["error_message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[test]
fn create_status_and_duplicates() {
    let s = start();
    let (code, body) = s.create(
        "order_id=ord_007&amount=10.00&customer_id=guest&customer_email=a%40b.in&return_url=https%3A%2F%2Fshop.example%2Fret&udf1=x+y",
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "CREATED");
    assert_eq!(body["status_id"], 1);
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ord_") && id.len() == 36);
    assert_eq!(body["payment_links"]["web"], format!("{}/merchant/pay/{id}", s.base));
    assert_eq!(body["payment_links"]["mobile"], format!("{}/merchant/pay/{id}?mobile=true", s.base));
    assert_eq!(body["payment_links"]["iframe"], format!("{}/merchant/ipay/{id}", s.base));

    let raw = s.raw_status("ord_007");
    assert!(raw.contains("\"amount\":10.00,"), "amount is the exact decimal: {raw}");
    let (code, st) = s.status("ord_007");
    assert_eq!(code, 200);
    assert_eq!(st["status"], "NEW");
    assert_eq!(st["status_id"], 10);
    assert_eq!(st["currency"], "INR");
    assert_eq!(st["udf1"], "x y");
    assert_eq!(st["customer_email"], "a@b.in");

    // Same parameters again (JSON this time): the existing order, not a new one.
    let mut resp = s
        .agent
        .post(format!("{}/orders", s.base))
        .header("authorization", &basic(&s.keys[0].0))
        .header("content-type", "application/json")
        .send(r#"{"order_id":"ord_007","amount":"10.00","customer_id":"guest","customer_email":"a@b.in","return_url":"https://shop.example/ret","udf1":"x y"}"#)
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let again: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(again["id"], id.as_str());
    // Different parameters, or the same id in another case: conflict.
    assert_error(&s.create("order_id=ord_007&amount=11.00"), 409, "duplicate_order_id");
    assert_error(&s.create("order_id=ORD_007&amount=11.00"), 409, "duplicate_order_id");
    // Another merchant may use the same order id, and cannot see ours.
    let (code, _) = s.post_form("/orders", Some(&s.keys[1].0), "order_id=ord_007&amount=1");
    assert_eq!(code, 200);
    let (code, other) = s.get("/orders/ord_007", Some(&s.keys[1].0));
    assert_eq!(code, 200);
    assert_ne!(other["id"], id.as_str());
}

#[test]
fn bad_input_gets_a_json_4xx_and_changes_nothing() {
    let s = start();
    let cases: &[(&str, u16, &str)] = &[
        ("order_id=a1&amount=100.1532", 400, "invalid_amount"),
        ("order_id=a1&amount=-1", 400, "invalid_amount"),
        ("order_id=a1&amount=1e3", 400, "invalid_amount"),
        ("order_id=a1&amount=0", 400, "invalid_amount"),
        ("order_id=a1&amount=99999999999999999999999", 400, "invalid_amount"),
        ("order_id=a1&amount=NaN", 400, "invalid_amount"),
        ("order_id=abcdefghijklmnopqrstu&amount=1", 400, "invalid_order_id"),
        ("order_id=a%2Fb&amount=1", 400, "invalid_order_id"),
        ("order_id=a1", 400, "missing_parameter"),
        ("amount=1", 400, "missing_parameter"),
        ("order_id=a1&amount=1&amount=2", 400, "duplicate_parameter"),
        ("order_id=a1&amount=1&bogus=1", 400, "unknown_parameter"),
        ("order_id=a1&amount=1&currency=XYZ", 400, "invalid_currency"),
        ("order_id=a1&amount=1&return_url=javascript%3Aalert(1)", 400, "invalid_parameter"),
        ("order_id=a1&amount=1&customer_email=nope", 400, "invalid_parameter"),
        ("order_id=a1&amount=%zz", 400, "invalid_request"),
        ("order_id=a1&amount=1&options.get_client_auth_token=maybe", 400, "invalid_parameter"),
    ];
    for (body, http, code) in cases {
        let resp = s.create(body);
        assert_error(&resp, *http, code);
    }
    // Wrong content type, oversized body, auth, routes.
    let mut r = s
        .agent
        .post(format!("{}/orders", s.base))
        .header("authorization", &basic(&s.keys[0].0))
        .header("content-type", "text/plain")
        .send("order_id=a1&amount=1")
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert_eq!(r.body_mut().read_json::<Value>().unwrap()["error_code"], "unsupported_media_type");
    // Oversized: the server answers from the Content-Length alone, before any body
    // is sent (a raw socket, so the client does not race the early answer).
    {
        use std::io::{Read, Write};
        let addr = s.base.trim_start_matches("http://");
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        write!(
            tcp,
            "POST /orders HTTP/1.1\r\nhost: {addr}\r\nauthorization: {}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 200000\r\nconnection: close\r\n\r\n",
            basic(&s.keys[0].0)
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"error_code\":\"payload_too_large\""), "{answer}");
    }
    assert_error(&s.post_form("/orders", None, "order_id=a1&amount=1"), 401, "access_denied");
    assert_error(&s.post_form("/orders", Some("ksk_wrong"), "order_id=a1&amount=1"), 401, "access_denied");
    assert_error(&s.get("/nope", None), 404, "not_found");
    assert_error(&s.status("a1"), 404, "order_not_found");
    assert_error(&s.get("/orders/a1", None), 401, "access_denied");
    // Nothing was created by any of it.
    assert_error(&s.status("a1"), 404, "order_not_found");
}

fn client_token(s: &Server, order_id: &str, extra: &str) -> (String, String) {
    let (code, body) = s.create(&format!(
        "order_id={order_id}&amount=499&return_url=https%3A%2F%2Fshop.example%2Fret%3Fx%3D1&options.get_client_auth_token=true{extra}"
    ));
    assert_eq!(code, 200, "{body}");
    (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string())
}

fn start_card_txn(s: &Server, ord: &str, token: &str, number: &str) -> (u16, Value) {
    let mut r = s
        .agent
        .post(format!("{}/txns", s.base))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(
            serde_json::json!({
                "order_id": ord, "payment_method_type": "CARD", "card_number": number,
                "card_exp_month": "12", "card_exp_year": "2039", "card_security_code": "123", "name_on_card": "A"
            })
            .to_string(),
        )
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_json().unwrap())
}

/// Posts the bank page's form and returns the redirect target.
fn answer_bank(s: &Server, txn_url: &str, form: &str) -> String {
    let r = s.agent.post(txn_url).header("content-type", "application/x-www-form-urlencoded").send(form).unwrap();
    assert_eq!(r.status().as_u16(), 303, "bank page should redirect");
    r.headers().get("location").unwrap().to_str().unwrap().to_string()
}

#[test]
fn card_payment_redirects_with_a_verifiable_signature() {
    let s = start();
    let (ord, token) = client_token(&s, "pay1", "");
    let (code, txn) = start_card_txn(&s, &ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    assert_eq!(txn["status"], "PENDING_VBV");
    let url = txn["payment"]["authentication"]["url"].as_str().unwrap();
    assert_eq!(s.status("pay1").1["status"], "PENDING_VBV");
    let location = answer_bank(&s, url, "otp=123456&action=submit");
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, "https://shop.example/ret");
    // The merchant's own `x=1` is kept, first, and signed with Kassa's parameters.
    assert!(query.starts_with("x=1&"), "{query}");
    assert!(query.contains("%253D"), "signature is encoded twice on the wire: {query}");
    let key = ResponseKey::new(s.keys[0].1.clone().into_bytes());
    let params = return_url::verify_query(&key, query).unwrap();
    assert_eq!(params.get("status"), Some("CHARGED"));
    assert_eq!(params.get("status_id"), Some("21"));
    assert_eq!(params.get("order_id"), Some("pay1"));
    let other = ResponseKey::new(s.keys[1].1.clone().into_bytes());
    assert!(return_url::verify_query(&other, query).is_err());
    let st = s.status("pay1").1;
    assert_eq!(st["status"], "CHARGED");
    assert_eq!(st["card"]["last_four_digits"], "1111");
    // A charged order takes no new attempt.
    assert_error(&start_card_txn(&s, &ord, &token, "4111111111111111"), 409, "order_not_payable");
}

#[test]
fn txns_require_the_order_token_and_respect_payment_options() {
    let s = start();
    let (ord, token) = client_token(&s, "tok1", "");
    let (ord2, _) = client_token(&s, "tok2", "");
    assert_error(&start_card_txn(&s, &ord, "kct_forged.token", "4111111111111111"), 401, "access_denied");
    assert_error(&start_card_txn(&s, &ord2, &token, "4111111111111111"), 401, "access_denied");
    assert_error(&start_card_txn(&s, &ord, &token, "4111111111111112"), 400, "invalid_card_number");
    let mut r = s
        .agent
        .post(format!("{}/txns", s.base))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!("order_id={ord}&payment_method_type=CARD&payment_options=nb&card_number=4111111111111111&card_exp_month=12&card_exp_year=39&card_security_code=123"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.body_mut().read_json::<Value>().unwrap()["error_code"], "payment_method_not_allowed");
    assert_eq!(s.status("tok1").1["status"], "NEW", "refused attempts change nothing");
}

#[test]
fn concurrent_creates_commit_together_one_order_per_id() {
    // Orders are inserted in groups (one transaction per group): 160 at once,
    // 40 distinct ids, each sent 3 times alike and once with another amount.
    let s = start();
    let bodies: Vec<(usize, String)> = (0..40)
        .flat_map(|i| {
            let same = format!("order_id=burst{i}&amount=5.00&udf1=u{i}");
            [(i, same.clone()), (i, same.clone()), (i, same), (i, format!("order_id=burst{i}&amount=6.00"))]
        })
        .collect();
    let answers: Vec<(usize, (u16, Value))> = std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .iter()
            .map(|(i, body)| {
                let s = &s;
                scope.spawn(move || (*i, s.create(body)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for i in 0..40 {
        let mine: Vec<&(u16, Value)> = answers.iter().filter(|(j, _)| *j == i).map(|(_, a)| a).collect();
        let ok: Vec<&&(u16, Value)> = mine.iter().filter(|a| a.0 == 200).collect();
        // Whichever body came first made the order; the same body again gets it
        // back, the other gets a conflict.
        assert!(ok.len() == 3 || ok.len() == 1, "burst{i}: {mine:?}");
        assert!(ok.iter().all(|a| a.1["id"] == ok[0].1["id"]), "burst{i}: one order: {mine:?}");
        for refused in mine.iter().filter(|a| a.0 != 200) {
            assert_error(refused, 409, "duplicate_order_id");
        }
        let (code, st) = s.status(&format!("burst{i}"));
        assert_eq!(code, 200);
        assert_eq!(st["id"], ok[0].1["id"]);
        assert_eq!(st["amount"], if ok.len() == 3 { 5.0 } else { 6.0 }, "burst{i}");
    }
}

#[test]
fn concurrent_completions_leave_exactly_one_charge() {
    // Hundreds of bank answers at once: 4 orders, 40 attempts each, all approved together.
    const ORDERS: usize = 4;
    const ATTEMPTS: usize = 40;
    let s = start();
    let orders: Vec<(String, Vec<String>)> = (0..ORDERS)
        .map(|o| {
            let (ord, token) = client_token(&s, &format!("race1o{o}"), "");
            let urls = (0..ATTEMPTS)
                .map(|_| {
                    let (code, txn) = start_card_txn(&s, &ord, &token, "5555555555554444");
                    assert_eq!(code, 200, "{txn}");
                    txn["payment"]["authentication"]["url"].as_str().unwrap().to_string()
                })
                .collect();
            (ord, urls)
        })
        .collect();
    let statuses: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = orders
            .iter()
            .flat_map(|(_, urls)| urls.iter())
            .map(|u| {
                let s = &s;
                scope.spawn(move || answer_bank(s, u, "otp=123456&action=submit"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.len(), ORDERS * ATTEMPTS);
    assert!(statuses.iter().all(|l| l.contains("status=CHARGED")), "every redirect reports the order's status: {statuses:?}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = rt.block_on(Db::open(&s.db_url)).unwrap();
    for (o, (ord, _)) in orders.iter().enumerate() {
        assert_eq!(s.status(&format!("race1o{o}")).1["status"], "CHARGED");
        // In the database: one CHARGED attempt; the others were refunded automatically.
        let txns = rt.block_on(db.txn_statuses(ord)).unwrap();
        assert_eq!(txns.len(), ATTEMPTS);
        assert_eq!(txns.iter().filter(|t| **t == kassa_types::OrderStatus::CHARGED).count(), 1, "{txns:?}");
        assert_eq!(txns.iter().filter(|t| **t == kassa_types::OrderStatus::AUTO_REFUNDED).count(), ATTEMPTS - 1, "{txns:?}");
    }
}

#[test]
fn pages_carry_a_strict_csp_and_unknown_links_are_404() {
    let s = start();
    for path in ["/", "/merchant/pay/ord_00000000000000000000000000000000", "/merchant/pay/nope"] {
        let r = s.agent.get(format!("{}{path}", s.base)).call().unwrap();
        let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(r.status().as_u16(), if path == "/" { 200 } else { 404 }, "{path}");
    }
    let (ord, _) = client_token(&s, "page1", "");
    let mut r = s.agent.get(format!("{}/merchant/pay/{ord}", s.base)).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let html = r.body_mut().read_to_string().unwrap();
    assert!(html.contains("id=\"kassa-config\""));
    assert!(!html.contains(&s.keys[0].0) && !html.contains(&s.keys[0].1), "no merchant secret in the page");
    let csp = |path: String| {
        let r = s.agent.get(format!("{}{path}", s.base)).call().unwrap();
        r.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string()
    };
    // The web link is never framed; the iframe link only by the merchant's allowed origins.
    assert!(csp(format!("/merchant/pay/{ord}")).contains("frame-ancestors 'none'"));
    let iframe = csp(format!("/merchant/ipay/{ord}"));
    assert!(iframe.ends_with("frame-ancestors https://shop.example"), "{iframe}");
    let mut r = s.agent.get(format!("{}/merchant/ipay/{ord}", s.base)).call().unwrap();
    let html = r.body_mut().read_to_string().unwrap();
    assert!(html.contains("\"parent_origins\":[\"https://shop.example\"]"), "{html}");
    // Merchant m2 has no allowed origin: nobody may frame its iframe link.
    let (code, body) = s.post_form("/orders", Some(&s.keys[1].0), "order_id=page2&amount=1");
    assert_eq!(code, 200);
    assert!(csp(format!("/merchant/ipay/{}", body["id"].as_str().unwrap())).ends_with("frame-ancestors 'none'"));
}

/// Creates an order and pays it by card; returns its Kassa id.
fn charged_order(s: &Server, order_id: &str) -> String {
    let (ord, token) = client_token(s, order_id, "");
    let (_, txn) = start_card_txn(s, &ord, &token, "4111111111111111");
    answer_bank(s, txn["payment"]["authentication"]["url"].as_str().unwrap(), "otp=123456&action=submit");
    assert_eq!(s.status(order_id).1["status"], "CHARGED");
    ord
}

fn refund(s: &Server, order_id: &str, body: &str) -> (u16, Value, String) {
    let mut r = s
        .agent
        .post(format!("{}/orders/{order_id}/refunds", s.base))
        .header("authorization", &basic(&s.keys[0].0))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(body)
        .unwrap();
    let text = r.body_mut().read_to_string().unwrap();
    (r.status().as_u16(), serde_json::from_str(&text).unwrap(), text)
}

#[test]
fn refunds_partial_multiple_idempotent_and_never_above_paid() {
    let s = start();
    client_token(&s, "unpaid1", "");
    let (code, body, _) = refund(&s, "unpaid1", "unique_request_id=r1&amount=1");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("refund_not_allowed")));

    charged_order(&s, "paid1"); // 499.00
    let (code, first, first_text) = refund(&s, "paid1", "unique_request_id=r1&amount=100");
    assert_eq!(code, 200, "{first}");
    assert!(first_text.contains("\"amount_refunded\":100.00"), "{first_text}");
    assert_eq!(first["refunded"], false);
    assert_eq!(first["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(first["refunds"][0]["unique_request_id"], "r1");
    assert_eq!(first["refunds"][0]["status"], "SUCCESS");
    // A repeat returns the first answer, byte for byte, and refunds nothing more.
    let (code, _, again) = refund(&s, "paid1", "unique_request_id=r1&amount=100");
    assert_eq!((code, again.as_str()), (200, first_text.as_str()));
    let (code, body, _) = refund(&s, "paid1", "unique_request_id=r1&amount=50");
    assert_eq!((code, body["error_code"].as_str()), (409, Some("duplicate_request_id")));
    let (code, body, _) = refund(&s, "paid1", "unique_request_id=r2&amount=399.01");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_refund_amount")));
    let (code, body, text) = refund(&s, "paid1", "unique_request_id=r2&amount=399");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["refunded"], true);
    assert!(text.contains("\"amount_refunded\":499.00"));
    let (code, body, _) = refund(&s, "paid1", "unique_request_id=r3&amount=0.01");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_refund_amount")));
    for bad in [
        "amount=1",
        "unique_request_id=r4",
        "unique_request_id=r4&amount=1e3",
        "unique_request_id=a%20b&amount=1",
        "unique_request_id=r4&amount=1&x=1",
    ] {
        let (code, body, _) = refund(&s, "paid1", bad);
        assert_eq!(code, 400, "{bad}: {body}");
    }
    let (code, _, _) = refund(&s, "nope1", "unique_request_id=r1&amount=1");
    assert_eq!(code, 404);
    let st = s.status("paid1").1;
    assert_eq!(st["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(st["status"], "CHARGED");
}

#[test]
fn concurrent_refunds_never_exceed_the_paid_amount() {
    let s = start();
    charged_order(&s, "race2"); // 499.00
    // Two hundred refunds of 100.00 at once on 499.00: four fit.
    let results: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..200)
            .map(|i| {
                let s = &s;
                scope.spawn(move || refund(s, "race2", &format!("unique_request_id=c{i}&amount=100")).0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|c| **c == 200).count(), 4, "{results:?}");
    assert!(results.iter().all(|c| *c == 200 || *c == 400), "{results:?}");
    let raw = s.raw_status("race2");
    assert!(raw.contains("\"amount_refunded\":400.00"), "{raw}");
    // Repeats of one request id, all at once: one refund.
    let bodies: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| refund(&s, "race2", "unique_request_id=same&amount=99").2)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let st = s.status("race2").1;
    assert_eq!(st["refunds"].as_array().unwrap().iter().filter(|r| r["unique_request_id"] == "same").count(), 1);
    assert!(bodies.iter().all(|b| b.contains("\"amount_refunded\":499.00")), "{bodies:?}");
}

#[test]
fn update_order_before_payment_only() {
    let s = start();
    let (code, _) = s.create("order_id=upd1&amount=10&udf1=keep");
    assert_eq!(code, 200);
    let (code, body) = s.post_form("/orders/upd1", Some(&s.keys[0].0), "amount=12.50&udf2=new&billing_address_city=Pune");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["udf1"], "keep");
    assert_eq!(body["udf2"], "new");
    assert_eq!(body["billing_address_city"], "Pune");
    let raw = s.raw_status("upd1");
    assert!(raw.contains("\"amount\":12.50,"), "{raw}");
    for bad in ["amount=1e3", "amount=-5", "order_id=x", "bogus=1", "udf11=x"] {
        assert_eq!(s.post_form("/orders/upd1", Some(&s.keys[0].0), bad).0, 400, "{bad}");
    }
    assert_error(&s.post_form("/orders/upd1", Some(&s.keys[1].0), "amount=1"), 404, "order_not_found");
    assert_error(&s.post_form("/orders/upd1", None, "amount=1"), 401, "access_denied");
    charged_order(&s, "upd2");
    assert_error(&s.post_form("/orders/upd2", Some(&s.keys[0].0), "amount=1"), 409, "order_not_updatable");
}

#[test]
fn orders_expire_and_cannot_be_paid() {
    let s = start();
    let (code, body) = s.create("order_id=exp1&amount=1&metadata.expiry_in_mins=1440");
    assert_eq!(code, 200, "{body}");
    let expiry = body["payment_links"]["expiry"].as_str().unwrap().to_string();
    let (_, st) = s.status("exp1");
    assert_eq!(st["payment_links"]["expiry"], expiry.as_str());
    for bad in ["0", "1441", "abc", "-1"] {
        let (code, b) = s.create(&format!("order_id=exp2&amount=1&metadata.expiry_in_mins={bad}"));
        assert_eq!((code, b["error_code"].as_str()), (400, Some("invalid_parameter")), "{bad}");
    }
    let (ord, token) = client_token(&s, "exp3", "");
    // Let the order run out, in the database the server uses.
    execute_sql(&s.db_url, "UPDATE orders SET expires_at = 1 WHERE order_id = 'exp3'");
    // The client token is still valid; the order's own expiry refuses the attempt.
    assert_error(&start_card_txn(&s, &ord, &token, "4111111111111111"), 400, "order_expired");
    assert_eq!(s.status("exp3").1["status"], "NEW");
}

#[test]
fn session_creates_the_order_and_an_sdk_payload_with_a_scoped_token() {
    let s = start();
    let body = "order_id=sess1&amount=1.00&customer_id=cust1&customer_email=a%40b.in&customer_phone=9999999999&payment_page_client_id=m1&action=paymentPage&return_url=https%3A%2F%2Fshop.example%2Fr&first_name=Asha&language=hindi";
    let (code, out) = s.post_form("/session", Some(&s.keys[0].0), body);
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["status"], "NEW");
    assert_eq!(out["order_id"], "sess1");
    let id = out["id"].as_str().unwrap();
    assert_eq!(out["payment_links"]["web"], format!("{}/merchant/pay/{id}", s.base));
    let sdk = &out["sdk_payload"];
    assert_eq!(sdk["service"], "in.juspay.hyperpay");
    assert_eq!(sdk["requestId"].as_str().unwrap().len(), 32);
    let p = &sdk["payload"];
    for (k, v) in [
        ("action", "paymentPage"),
        ("merchantId", "m1"),
        ("clientId", "m1"),
        ("orderId", "sess1"),
        ("amount", "1.00"),
        ("customerId", "cust1"),
        ("customerEmail", "a@b.in"),
        ("customerMobile", "9999999999"),
        ("firstName", "Asha"),
        ("language", "hindi"),
    ] {
        assert_eq!(p[k], v, "{k}");
    }
    assert!(
        p.get("apiKey").is_none() && !out.to_string().contains(&s.keys[0].0) && !out.to_string().contains(&s.keys[0].1),
        "no merchant secret in the payload"
    );
    // The token pays this order and no other.
    let token = p["clientAuthToken"].as_str().unwrap();
    let (code, txn) = start_card_txn(&s, id, token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    let (other, _) = client_token(&s, "sess2", "");
    assert_error(&start_card_txn(&s, &other, token, "4111111111111111"), 401, "access_denied");
    // The same session again: the same order, a fresh payload.
    let (code, again) = s.post_form("/session", Some(&s.keys[0].0), body);
    assert_eq!(code, 200);
    assert_eq!(again["id"], id);
    assert_eq!(again["status"], "PENDING_VBV");
    // Refusals.
    assert_error(
        &s.post_form("/session", Some(&s.keys[0].0), "order_id=sess3&amount=1&payment_page_client_id=m2"),
        400,
        "invalid_parameter",
    );
    assert_error(
        &s.post_form("/session", Some(&s.keys[0].0), "order_id=sess3&amount=1&action=paymentManagement"),
        400,
        "missing_parameter",
    );
    assert_error(&s.post_form("/session", Some(&s.keys[0].0), "order_id=sess3&amount=1&language=klingon"), 400, "invalid_parameter");
    assert_error(&s.post_form("/session", Some(&s.keys[0].0), "order_id=sess1&amount=2"), 409, "duplicate_order_id");
    assert_error(&s.post_form("/session", None, "order_id=sess3&amount=1"), 401, "access_denied");
    assert_error(&s.status("sess3"), 404, "order_not_found");
}

#[test]
fn customers_create_read_update_list() {
    let s = start();
    let (code, c) = s.post_form(
        "/customers",
        Some(&s.keys[0].0),
        "object_reference_id=cust_1&mobile_number=9988665522&email_address=a%40b.in&first_name=Asha",
    );
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["object"], "customer");
    let id = c["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cst_"));
    assert_eq!(s.get(&format!("/customers/{id}"), Some(&s.keys[0].0)).1["first_name"], "Asha");
    assert_eq!(s.get("/customers/cust_1", Some(&s.keys[0].0)).1["id"], id.as_str());
    let (code, u) = s.post_form("/customers/cust_1", Some(&s.keys[0].0), "last_name=Rao");
    assert_eq!(code, 200, "{u}");
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Asha"), Some("Rao")));
    s.post_form("/customers", Some(&s.keys[0].0), "object_reference_id=cust_2");
    let (code, l) = s.get("/customers?count=1", Some(&s.keys[0].0));
    assert_eq!(code, 200);
    assert_eq!(l["list"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/customers", Some(&s.keys[0].0)).1["count"], 2);
    // Refusals, and another merchant sees nothing.
    assert_error(&s.post_form("/customers", Some(&s.keys[0].0), "object_reference_id=cust_1"), 409, "duplicate_customer");
    for bad in [
        "",
        "object_reference_id=a%20b",
        "object_reference_id=c3&mobile_number=12ab",
        "object_reference_id=c3&email_address=x",
        "object_reference_id=c3&bogus=1",
    ] {
        assert_eq!(s.post_form("/customers", Some(&s.keys[0].0), bad).0, 400, "{bad}");
    }
    assert_error(&s.get("/customers?count=abc", Some(&s.keys[0].0)), 400, "invalid_parameter");
    assert_error(&s.get("/customers?count=1000", Some(&s.keys[0].0)), 400, "invalid_parameter");
    assert_error(&s.get("/customers/cust_1", Some(&s.keys[1].0)), 404, "customer_not_found");
    assert_error(&s.get("/customers", None), 401, "access_denied");
    assert_eq!(s.get("/customers", Some(&s.keys[1].0)).1["count"], 0);
}

#[test]
fn webhooks_reach_a_receiver_that_was_down_signed_and_authenticated() {
    let s = start();
    // Reserve a port and leave it closed: the receiver is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hook = format!("http%3A%2F%2F127.0.0.1%3A{port}%2Fhook");
    // The merchant's own webhook origin: its Basic credentials go there (and only there).
    common::execute_sql(&s.db_url, &format!("UPDATE merchants SET webhook_url = 'http://127.0.0.1:{port}/hook' WHERE id = 'm1'"));
    let (ord, token) = client_token(&s, "hook1", &format!("&metadata.webhook_url={hook}"));
    let (_, txn) = start_card_txn(&s, &ord, &token, "4111111111111111");
    answer_bank(&s, txn["payment"]["authentication"]["url"].as_str().unwrap(), "otp=123456&action=submit");
    let (code, _, _) = refund(&s, "hook1", "unique_request_id=h1&amount=1");
    assert_eq!(code, 200);
    std::thread::sleep(std::time::Duration::from_millis(400)); // several failed attempts
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let got = seen.lock().unwrap().clone();
    let mut names: Vec<String> = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    let secret = kassa_sign::webhook::WebhookSecret::new(b"whsec_test_m1".to_vec());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for (head, body) in &got {
        let sig = head.lines().find_map(|l| l.strip_prefix("kassa-signature: ")).unwrap().trim();
        kassa_sign::webhook::verify(&secret, sig, body.as_bytes(), now, 300).unwrap();
        let wrong = kassa_sign::webhook::WebhookSecret::new(b"whsec_test_m2".to_vec());
        assert!(kassa_sign::webhook::verify(&wrong, sig, body.as_bytes(), now, 300).is_err());
        let expected_auth = {
            use base64::Engine;
            format!("authorization: Basic {}", base64::engine::general_purpose::STANDARD.encode("hook_m1:hook-pass"))
        };
        assert!(head.contains(&expected_auth), "{head}");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(head.lines().find_map(|l| l.strip_prefix("kassa-event-id: ")).unwrap().trim(), v["id"].as_str().unwrap());
        assert_eq!(v["content"]["order"]["order_id"], "hook1");
        ids.insert(v["id"].as_str().unwrap().to_string());
        names.push(v["event_name"].as_str().unwrap().to_string());
    }
    names.sort();
    names.dedup();
    assert_eq!(names, ["ORDER_REFUNDED", "ORDER_SUCCEEDED", "TXN_CREATED"], "{got:?}");
    assert_eq!(ids.len(), 3, "stable ids, one per event");
    let success = got.iter().find(|(_, b)| b.contains("ORDER_SUCCEEDED")).unwrap();
    assert!(success.1.contains("\"status\":\"CHARGED\"") && success.1.contains("\"amount\":499.00"), "{}", success.1);
}

#[test]
fn process_sdk_payload_creates_the_order_after_checking_the_rsa_signature() {
    use kassa_sign::order_details::{self, OrderDetails, RsaPrivateKey, SigEncoding};
    let s = start();
    let key = RsaPrivateKey::from_pem(include_str!("../../sign/tests/keys/pkcs8_private.pem")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { Db::open(&s.db_url).await.unwrap().add_merchant_key("m1", "2980", &key.public_key().to_pem()).await.unwrap() });
    let now = u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let details = |order: &str, amount: &str, ts: u64| {
        OrderDetails::new(order, "m1", amount, "cust1").return_url("https://shop.example/end").to_json(ts).unwrap()
    };
    let post = |fields: &[(&str, &str)]| -> (u16, Value) {
        let body = serde_json::to_string(
            &fields.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        )
        .unwrap();
        let mut r = s.agent.post(format!("{}/sdk/process", s.base)).header("content-type", "application/json").send(body).unwrap();
        (r.status().as_u16(), r.body_mut().read_json().unwrap())
    };
    let json = details("sdk1", "1.00", now);
    let sig = order_details::sign(&key, &json, SigEncoding::Base64).unwrap();
    let (code, out) =
        post(&[("merchantId", "m1"), ("merchantKeyId", "2980"), ("orderDetails", &json), ("signature", &sig), ("amount", "1.00")]);
    assert_eq!(code, 200, "{out}");
    let id = out["id"].as_str().unwrap().to_string();
    assert_eq!(s.status("sdk1").1["return_url"], "https://shop.example/end");
    let (code, txn) = start_card_txn(&s, &id, out["clientAuthToken"].as_str().unwrap(), "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    // The same payload again loads the same order; hex signatures work too.
    let hex_sig = order_details::sign(&key, &json, SigEncoding::Hex).unwrap();
    let (code, again) = post(&[("merchantId", "m1"), ("merchantKeyId", "2980"), ("orderDetails", &json), ("signature", &hex_sig)]);
    assert_eq!((code, again["id"].as_str()), (200, Some(id.as_str())));
    // Refusals: stale, future, mismatching amount, tampered, unknown key, other merchant.
    let stale = details("sdk2", "1.00", now - 20 * 60 * 1000);
    let (code, e) = post(&[
        ("merchantId", "m1"),
        ("merchantKeyId", "2980"),
        ("orderDetails", &stale),
        ("signature", &order_details::sign(&key, &stale, SigEncoding::Base64).unwrap()),
    ]);
    assert_eq!((code, e["error_code"].as_str()), (400, Some("stale_order_details")));
    let future = details("sdk2", "1.00", now + 10 * 60 * 1000);
    let (code, e) = post(&[
        ("merchantId", "m1"),
        ("merchantKeyId", "2980"),
        ("orderDetails", &future),
        ("signature", &order_details::sign(&key, &future, SigEncoding::Base64).unwrap()),
    ]);
    assert_eq!((code, e["error_code"].as_str()), (400, Some("stale_order_details")));
    let (code, e) =
        post(&[("merchantId", "m1"), ("merchantKeyId", "2980"), ("orderDetails", &json), ("signature", &sig), ("amount", "100.00")]);
    assert_eq!((code, e["error_code"].as_str()), (400, Some("amount_mismatch")));
    let tampered = json.replace("1.00", "0.01");
    let (code, _) = post(&[("merchantId", "m1"), ("merchantKeyId", "2980"), ("orderDetails", &tampered), ("signature", &sig)]);
    assert_eq!(code, 401);
    let (code, _) = post(&[("merchantId", "m1"), ("merchantKeyId", "nope"), ("orderDetails", &json), ("signature", &sig)]);
    assert_eq!(code, 401);
    let (code, _) = post(&[("merchantId", "m2"), ("merchantKeyId", "2980"), ("orderDetails", &json), ("signature", &sig)]);
    assert_eq!(code, 401, "m2 has no such key");
    let (code, e) = post(&[("merchantId", "m1"), ("merchantKeyId", "2980")]);
    assert_eq!((code, e["error_code"].as_str()), (400, Some("missing_parameter")));
    assert_error(&s.status("sdk2"), 404, "order_not_found");
}

/// `/openapi.json` is a well-formed OpenAPI 3.1 document; every documented
/// path is routed, and every documented body field of every operation is one
/// the server recognises (it is never refused as an unknown parameter).
#[test]
fn openapi_document_matches_the_routes_and_fields() {
    let s = start();
    let (code, doc) = s.get("/openapi.json", None);
    assert_eq!(code, 200);
    let typed = oas3::from_json(doc.to_string()).expect("a well-formed OpenAPI 3.1 document");
    assert_eq!(typed.paths.as_ref().map(|p| p.len()), Some(doc["paths"].as_object().unwrap().len()));
    let ops = doc["paths"].as_object().unwrap().values().flat_map(|i| i.as_object().unwrap().keys()).filter(|k| *k != "parameters").count();
    assert_eq!(typed.operations().count(), ops);
    assert_eq!(ops, 29);
    assert_eq!(doc["servers"][0]["url"], s.base.as_str());

    // Things the path parameters and the client token refer to.
    let (ord, token) = client_token(&s, "oapi1", "");
    let (code, _) = s.post_form("/customers", Some(&s.keys[0].0), "object_reference_id=oapi_cust");
    assert_eq!(code, 200);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = path.replace("{order_id}", "oapi1").replace("{id}", "oapi_cust");
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let bearer = op["security"][0].get("clientToken").is_some();
            let auth = |req: ureq::RequestBuilder<ureq::typestate::WithBody>| {
                if bearer {
                    req.header("authorization", &format!("Bearer {token}"))
                } else {
                    req.header("authorization", &basic(&s.keys[0].0))
                }
            };
            if method == "get" {
                let (code, body) = s.get(&url, Some(&s.keys[0].0));
                assert!(code != 404 || body["error_code"] != "not_found", "GET {path} is not routed");
                continue;
            }
            assert_eq!(method, "post", "{path}");
            let Some(schema_ref) = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"].as_str() else {
                let mut resp = auth(s.agent.post(format!("{}{url}", s.base))).send("").unwrap();
                let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
                assert!(!(resp.status().as_u16() == 404 && body["error_code"] == "not_found"), "POST {path} is not routed");
                continue;
            };
            let schema = &doc["components"]["schemas"][schema_ref.rsplit('/').next().unwrap()];
            let props = schema["properties"].as_object().unwrap();
            let example = |name: &str, p: &Value| -> String {
                if path == "/txns" && name == "order_id" {
                    return ord.clone();
                }
                match &p["examples"][0] {
                    Value::String(v) => v.clone(),
                    v => v.to_string(),
                }
            };
            let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            for (name, p) in props {
                let mut pairs: Vec<(String, String)> =
                    required.iter().filter(|r| **r != name).map(|r| ((*r).to_string(), example(r, &props[*r]))).collect();
                pairs.push((name.clone(), example(name, p)));
                let form = serde_urlencoded::to_string(&pairs).unwrap();
                let mut resp = auth(s.agent.post(format!("{}{url}", s.base)))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .send(form.as_str())
                    .unwrap();
                let status = resp.status().as_u16();
                let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null);
                assert!(status < 500, "POST {path} {form}: {status} {body}");
                assert!(!(status == 404 && body["error_code"] == "not_found"), "POST {path} is not routed");
                assert!(
                    body["error_code"] != "unknown_parameter",
                    "POST {path}: the documented field {name} is refused as unknown: {body}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} documented fields checked");
}

impl Server {
    fn bearer_get(&self, path: &str, token: &str) -> (u16, Value) {
        let mut r = self.agent.get(format!("{}{path}", self.base)).header("authorization", &format!("Bearer {token}")).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_json().unwrap())
    }

    fn bearer_post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_json().unwrap())
    }

    /// Polls the order until its status is `want` (the settlement worker runs every 20 ms here).
    fn wait_for_status(&self, order_id: &str, want: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let st = self.status(order_id).1;
            if st["status"] == want {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{order_id} never became {want}: {st}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn pending_card_is_authorizing_for_a_while_then_charged() {
    let s = start();
    let (ord, token) = client_token(&s, "pend1", "");
    let (code, txn) = start_card_txn(&s, &ord, &token, "4000 0000 0000 0119");
    assert_eq!(code, 200, "{txn}");
    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap();
    assert_eq!(s.status("pend1").1["status"], "PENDING_VBV");
    let location = answer_bank(&s, bank, "otp=123456&action=submit");
    let query = location.split_once('?').unwrap().1;
    let params = return_url::verify_query(&ResponseKey::new(s.keys[0].1.clone().into_bytes()), query).unwrap();
    assert_eq!((params.get("status"), params.get("status_id")), (Some("AUTHORIZING"), Some("28")));
    assert_eq!(s.status("pend1").1["status"], "AUTHORIZING");
    // While the bank decides: no second attempt, no refund, no second answer on the bank page.
    assert_error(&start_card_txn(&s, &ord, &token, "4111111111111111"), 409, "order_not_payable");
    assert_error(&s.post_form("/orders/pend1/refunds", Some(&s.keys[0].0), "unique_request_id=r1&amount=1"), 400, "refund_not_allowed");
    let txn_id = txn["txn_uuid"].as_str().unwrap();
    let (code, polled) = s.bearer_get(&format!("/txns/{txn_id}"), &token);
    assert_eq!((code, polled["status"].as_str(), polled["final"].as_bool()), (200, Some("AUTHORIZING"), Some(false)), "{polled}");
    s.wait_for_status("pend1", "CHARGED");
    let (_, polled) = s.bearer_get(&format!("/txns/{txn_id}"), &token);
    assert_eq!((polled["status"].as_str(), polled["final"].as_bool()), (Some("CHARGED"), Some(true)));
    assert_eq!(s.status("pend1").1["card"]["last_four_digits"], "0119");
    // A wrong OTP on the pending card fails authentication at once.
    let (ord2, token2) = client_token(&s, "pend2", "");
    let (_, txn2) = start_card_txn(&s, &ord2, &token2, "4000000000000119");
    answer_bank(&s, txn2["payment"]["authentication"]["url"].as_str().unwrap(), "otp=999999&action=submit");
    assert_eq!(s.status("pend2").1["status"], "AUTHENTICATION_FAILED");
}

#[test]
fn upi_collect_is_polled_to_its_outcome_and_can_be_cancelled() {
    let s = start();
    let upi = |ord: &str, vpa: &str| json_txn(ord, &[("payment_method_type", "UPI"), ("upi_vpa", vpa)]);
    let (ord, token) = client_token(&s, "upi1", "");
    // A malformed UPI id is refused before anything is stored.
    assert_error(&s.bearer_post("/txns", &token, upi(&ord, "not a vpa")), 400, "invalid_vpa");
    assert_eq!(s.status("upi1").1["status"], "NEW");
    // One the gateway refuses is recorded as Juspay does (JUSPAY_DECLINED, with the gateway's reason); the order takes another attempt.
    assert_error(&s.bearer_post("/txns", &token, upi(&ord, "someone@okbank")), 400, "payment_declined");
    let st = s.status("upi1").1;
    assert_eq!((st["status"].as_str(), st["bank_error_code"].as_str()), (Some("JUSPAY_DECLINED"), Some("JUSPAY_DECLINED")), "{st}");
    assert!(st["bank_error_message"].as_str().unwrap().contains("success@kassa"), "{st}");

    let (code, txn) = s.bearer_post("/txns", &token, upi(&ord, "success@kassa"));
    assert_eq!(code, 200, "{txn}");
    assert_eq!(txn["status"], "PENDING_VBV");
    assert!(txn["payment"].get("authentication").is_none(), "a collect has no bank page: {txn}");
    let status_url = txn["payment"]["collect"]["status_url"].as_str().unwrap();
    let path = status_url.strip_prefix(&s.base).unwrap();
    let (code, polled) = s.bearer_get(path, &token);
    assert_eq!((code, polled["status"].as_str(), polled["final"].as_bool()), (200, Some("PENDING_VBV"), Some(false)), "{polled}");
    // Only this order's token sees the attempt; nobody can answer it on a bank page.
    let (_, other_token) = client_token(&s, "upi9", "");
    assert_error(&s.bearer_get(path, &other_token), 404, "txn_not_found");
    let bank = format!("{}/sandbox/bank/{}", s.base, txn["txn_uuid"].as_str().unwrap());
    let r = s.agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("action=approve").unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(s.status("upi1").1["status"], "PENDING_VBV");
    s.wait_for_status("upi1", "CHARGED");
    let (_, polled) = s.bearer_get(path, &token);
    assert_eq!((polled["status"].as_str(), polled["final"].as_bool()), (Some("CHARGED"), Some(true)));
    // Once final, next_url sends the shopper to the signed return URL.
    let r = s.agent.get(polled["next_url"].as_str().unwrap()).call().unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers().get("location").unwrap().to_str().unwrap();
    let params =
        return_url::verify_query(&ResponseKey::new(s.keys[0].1.clone().into_bytes()), location.split_once('?').unwrap().1).unwrap();
    assert_eq!(params.get("status"), Some("CHARGED"));

    let (ord, token) = client_token(&s, "upi2", "");
    let (_, txn) = s.bearer_post("/txns", &token, upi(&ord, "failure@kassa"));
    assert_eq!(txn["status"], "PENDING_VBV");
    s.wait_for_status("upi2", "AUTHORIZATION_FAILED");

    // Cancelled by the shopper before the app answers: AUTHENTICATION_FAILED, and the order takes a new attempt.
    let (ord, token) = client_token(&s, "upi3", "");
    let (_, txn) = s.bearer_post("/txns", &token, upi(&ord, "success@kassa"));
    let txn_id = txn["txn_uuid"].as_str().unwrap();
    let (code, cancelled) = s.bearer_post(&format!("/txns/{txn_id}/cancel"), &token, serde_json::json!({}));
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("AUTHENTICATION_FAILED")), "{cancelled}");
    assert_error(&s.bearer_post(&format!("/txns/{txn_id}/cancel"), &token, serde_json::json!({})), 409, "txn_not_cancellable");
    std::thread::sleep(std::time::Duration::from_millis(2000));
    assert_eq!(s.status("upi3").1["status"], "AUTHENTICATION_FAILED", "a cancelled collect never settles");
    let (code, again) = start_card_txn(&s, &ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{again}");
}

fn json_txn(ord: &str, fields: &[(&str, &str)]) -> Value {
    let mut v = serde_json::json!({ "order_id": ord });
    for (k, val) in fields {
        v[*k] = Value::String((*val).into());
    }
    v
}

#[test]
fn a_chunked_body_over_the_limit_gets_the_json_413() {
    use std::io::{Read, Write};
    let s = start();
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let auth = basic(&s.keys[0].0);
    write!(stream, "POST /orders HTTP/1.1\r\nhost: {addr}\r\nauthorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n").unwrap();
    let chunk = vec![b'a'; 8192];
    // 80 KB in 8 KB chunks, no Content-Length: only counting the bytes can refuse it.
    for _ in 0..10 {
        if write!(stream, "{:x}\r\n", chunk.len()).and_then(|()| stream.write_all(&chunk)).and_then(|()| stream.write_all(b"\r\n")).is_err()
        {
            break; // the server may answer and close before reading it all
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error_code\":\"payload_too_large\""), "{answer}");
}

// ---- Payment core (issue 13): money rules through the HTTP API ----

/// The server of `start()`, with webhook retries `retry_ms` apart at first.
fn start_with_retry(retry_ms: u64) -> Server {
    RETRY_MS.with(|r| r.set(retry_ms));
    start()
}

thread_local! {
    static RETRY_MS: std::cell::Cell<u64> = const { std::cell::Cell::new(50) };
}

/// (order status, order amount, amount refunded, amount of its CHARGED attempt) straight from the database.
fn money_rows(s: &Server) -> Vec<(String, String, i64, i64, Option<i64>)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(&s.db_url).await.unwrap();
        let rows = sqlx::query(
            "SELECT o.order_id, o.status, o.amount_minor, o.amount_refunded_minor, \
             (SELECT t.amount_minor FROM txns t WHERE t.order_pk = o.id AND t.status = 'CHARGED') AS charged FROM orders o",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let out = rows
            .iter()
            .map(|r| (r.get("order_id"), r.get("status"), r.get("amount_minor"), r.get("amount_refunded_minor"), r.get("charged")))
            .collect();
        conn.close().await.unwrap();
        out
    })
}

/// One integer from the test's database.
fn db_i64(s: &Server, sql: &str) -> i64 {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(&s.db_url).await.unwrap();
        let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        v
    })
}

/// SPEC §3 money rules, checked on every order of the database.
fn assert_money_rules(s: &Server) {
    for (order_id, status, amount, refunded, charged) in money_rows(s) {
        if status == "CHARGED" {
            assert_eq!(charged, Some(amount), "{order_id}: CHARGED at {amount} but the charge took {charged:?}");
        } else {
            assert_eq!(charged, None, "{order_id}: {status} with a CHARGED attempt");
        }
        assert!(refunded <= charged.unwrap_or(0), "{order_id}: refunded {refunded} of {charged:?}");
    }
}

fn card_answer(s: &Server, txn: &Value, form: &str) -> String {
    answer_bank(s, txn["payment"]["authentication"]["url"].as_str().unwrap(), form)
}

/// Defect 1: a second attempt cancelled while the first still waits on its
/// bank page must not make the order updatable; the first attempt's success
/// then charges, and reports, what it charged.
#[test]
fn an_order_is_never_charged_at_an_amount_that_was_not_charged() {
    let s = start();
    let port = common::free_port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let hook = format!("&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A{port}%2Fhook");
    let (code, body) = s.create(&format!("order_id=price1&amount=100.00&options.get_client_auth_token=true{hook}"));
    assert_eq!(code, 200, "{body}");
    let (ord, token) = (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string());
    let (code, a) = start_card_txn(&s, &ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{a}");
    let (code, b) = start_card_txn(&s, &ord, &token, "5555555555554444");
    assert_eq!(code, 200, "a shopper back from an abandoned bank page may pay again: {b}");
    let b_id = b["txn_uuid"].as_str().unwrap();
    let (code, cancelled) = s.bearer_post(&format!("/txns/{b_id}/cancel"), &token, serde_json::json!({}));
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("AUTHENTICATION_FAILED")), "{cancelled}");
    // A still waits on its bank page: the order is pending, not failed, and its amount is fixed.
    assert_eq!(s.status("price1").1["status"], "PENDING_VBV");
    assert_error(&s.post_form("/orders/price1", Some(&s.keys[0].0), "amount=10000.00"), 409, "order_not_updatable");
    card_answer(&s, &a, "otp=123456&action=submit");
    let st = s.status("price1").1;
    assert_eq!((st["status"].as_str(), st["amount"].as_f64()), (Some("CHARGED"), Some(100.0)), "{st}");
    assert_eq!(st["txn_uuid"], a["txn_uuid"]);
    assert_error(&refund_pair(&s, "price1", "unique_request_id=r1&amount=100.01"), 400, "invalid_refund_amount");
    assert_eq!(refund(&s, "price1", "unique_request_id=r2&amount=100.00").0, 200);
    assert_money_rules(&s);
    // The webhook says what was charged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let success = loop {
        if let Some((_, b)) = seen.lock().unwrap().iter().find(|(_, b)| b.contains("ORDER_SUCCEEDED")) {
            break serde_json::from_str::<Value>(b).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "no ORDER_SUCCEEDED");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(success["content"]["order"]["amount"].as_f64(), Some(100.0));
    assert_eq!(success["content"]["order"]["status"], "CHARGED");
}

/// `refund()`'s answer as the (status, body) pair `assert_error` takes.
fn refund_pair(s: &Server, order_id: &str, body: &str) -> (u16, Value) {
    let (code, v, _) = refund(s, order_id, body);
    (code, v)
}

/// Defect 1, concurrently: attempts start and OTPs arrive while the merchant
/// updates the amount; whichever wins, a CHARGED order's amount is what its
/// charge took.
#[test]
fn concurrent_updates_and_payments_keep_the_money_rules() {
    let s = std::sync::Arc::new(start());
    let rounds = 24;
    let handles: Vec<_> = (0..rounds)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                let order_id = format!("race{i}");
                let (code, body) = s.create(&format!("order_id={order_id}&amount=100.00&options.get_client_auth_token=true"));
                assert_eq!(code, 200, "{body}");
                let ord = body["id"].as_str().unwrap().to_string();
                let token = body["juspay"]["client_auth_token"].as_str().unwrap().to_string();
                let updater = {
                    let s = s.clone();
                    let order_id = order_id.clone();
                    std::thread::spawn(move || {
                        for k in 0..3 {
                            let r = s.post_form(&format!("/orders/{order_id}"), Some(&s.keys[0].0), &format!("amount={}.00", 200 + k));
                            assert!(r.0 == 200 || r.0 == 409, "{r:?}");
                        }
                    })
                };
                let (code, txn) = start_card_txn(&s, &ord, &token, "4111111111111111");
                if code == 200 {
                    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
                    let r =
                        s.agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit");
                    assert!(r.is_ok());
                }
                updater.join().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_money_rules(&s);
    let charged = money_rows(&s).iter().filter(|r| r.1 == "CHARGED").count();
    assert_eq!(charged, rounds, "every round's attempt was charged");
}

/// Defect 2: once the OTP is accepted and the bank authorizes, the bank
/// page's form posted again (cancel, a wrong OTP) changes nothing.
#[test]
fn a_late_bank_answer_does_not_fail_an_authorizing_attempt() {
    let s = start();
    let (ord, token) = client_token(&s, "late1", "");
    let (_, txn) = start_card_txn(&s, &ord, &token, "4000000000000119");
    card_answer(&s, &txn, "otp=123456&action=submit");
    assert_eq!(s.status("late1").1["status"], "AUTHORIZING");
    for form in ["otp=&action=cancel", "otp=000000&action=submit", "action=decline"] {
        card_answer(&s, &txn, form);
        assert_eq!(s.status("late1").1["status"], "AUTHORIZING", "after {form}");
    }
    let txn_id = txn["txn_uuid"].as_str().unwrap();
    assert_error(&s.bearer_post(&format!("/txns/{txn_id}/cancel"), &token, serde_json::json!({})), 409, "txn_not_cancellable");
    assert_error(&start_card_txn(&s, &ord, &token, "4111111111111111"), 409, "order_not_payable");
    s.wait_for_status("late1", "CHARGED");
    // And after the end, a repeated answer still changes nothing.
    card_answer(&s, &txn, "otp=&action=cancel");
    assert_eq!(s.status("late1").1["status"], "CHARGED");
    assert_money_rules(&s);
}

/// Defect 3: a shopper back from an abandoned bank page pays another way;
/// the abandoned attempt's late success is refunded automatically.
#[test]
fn an_abandoned_bank_page_does_not_block_paying_another_way() {
    let s = start();
    let (ord, token) = client_token(&s, "aband1", "");
    let (_, a) = start_card_txn(&s, &ord, &token, "4111111111111111");
    // The payment page says so too: the order is PENDING_VBV, which takes a new attempt.
    assert_eq!(s.status("aband1").1["status"], "PENDING_VBV");
    let (code, b) = s.bearer_post("/txns", &token, json_txn(&ord, &[("payment_method_type", "NB"), ("payment_method", "NB_SBI")]));
    assert_eq!(code, 200, "{b}");
    card_answer(&s, &b, "action=approve");
    assert_eq!(s.status("aband1").1["status"], "CHARGED");
    card_answer(&s, &a, "otp=123456&action=submit");
    let a_id = a["txn_uuid"].as_str().unwrap();
    let (_, polled) = s.bearer_get(&format!("/txns/{a_id}"), &token);
    assert_eq!(polled["status"], "AUTO_REFUNDED", "{polled}");
    let st = s.status("aband1").1;
    assert_eq!((st["status"].as_str(), st["txn_uuid"].as_str()), (Some("CHARGED"), b["txn_uuid"].as_str()), "{st}");
    assert_money_rules(&s);
}

/// Defect 4: the merchant's restriction (server to server) is enforced by
/// `POST /txns`, whatever the page sends; the page's parameter only narrows.
#[test]
fn payment_options_and_payment_filter_are_enforced_by_the_server() {
    let s = start();
    let (ord, token) = client_token(&s, "popt1", "&payment_options=nb%7Cupi");
    let card = |ord: &str, opts: &str| {
        json_txn(
            ord,
            &[
                ("payment_method_type", "CARD"),
                ("card_number", "4111111111111111"),
                ("card_exp_month", "12"),
                ("card_exp_year", "2039"),
                ("card_security_code", "123"),
                ("payment_options", opts),
            ],
        )
    };
    assert_error(&s.bearer_post("/txns", &token, card(&ord, "card")), 400, "payment_method_not_allowed");
    assert_error(&s.bearer_post("/txns", &token, card(&ord, "")), 400, "payment_method_not_allowed");
    // The page shows only what the merchant allowed.
    let page = s.agent.get(format!("{}/merchant/pay/{ord}", s.base)).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(page.contains("\"methods\":[\"upi\",\"nb\"]"), "{page}");
    let nb = json_txn(&ord, &[("payment_method_type", "NB"), ("payment_method", "NB_SBI"), ("payment_options", "nb")]);
    assert_eq!(s.bearer_post("/txns", &token, nb).0, 200);
    assert_error(&s.create("order_id=popt2&amount=1&payment_options=card%7Cemi"), 400, "invalid_parameter");

    // Juspay's payment_filter on /session (JSON): only UPI.
    let mut r = s
        .agent
        .post(format!("{}/session", s.base))
        .header("authorization", &basic(&s.keys[0].0))
        .header("content-type", "application/json")
        .send(
            serde_json::json!({
                "order_id": "pflt1", "amount": "10.00", "customer_id": "c1",
                "payment_filter": {"allowDefaultOptions": false, "options": [
                    {"paymentMethodType": "UPI", "enable": true}, {"paymentMethodType": "CARD", "enable": false}]}
            })
            .to_string(),
        )
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let session: Value = r.body_mut().read_json().unwrap();
    let ord = session["id"].as_str().unwrap();
    let token = session["sdk_payload"]["payload"]["clientAuthToken"].as_str().unwrap();
    assert_error(&s.bearer_post("/txns", token, card(ord, "")), 400, "payment_method_not_allowed");
    let upi = json_txn(ord, &[("payment_method_type", "UPI"), ("upi_vpa", "success@kassa")]);
    assert_eq!(s.bearer_post("/txns", token, upi).0, 200);
}

/// Defect 5: the status body carries the fields Juspay clients read, and a
/// webhook's `content.order` is exactly that body at the moment of the event.
#[test]
fn status_body_and_webhooks_speak_juspay() {
    let s = start();
    let port = common::free_port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let hook = format!("&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A{port}%2Fhook&udf3=gold&metadata.expiryInMins=5");
    let (ord, token) = client_token(&s, "jp1", &hook);
    let st = s.status("jp1").1;
    assert_eq!((st["udf1"].as_str(), st["udf3"].as_str(), st["udf10"].as_str()), (Some(""), Some("gold"), Some("")), "{st}");
    assert!(st.get("txn_id").is_none(), "no attempt yet: {st}");
    let lifetime = db_i64(&s, "SELECT expires_at - created_at FROM orders WHERE order_id = 'jp1'");
    assert_eq!(lifetime, 300_000, "metadata.expiryInMins is honoured: {st}");
    assert!(st["order_expiry"].as_str().unwrap().ends_with('Z'));
    let (_, txn) = start_card_txn(&s, &ord, &token, "4111111111111111");
    card_answer(&s, &txn, "otp=123456&action=submit");
    let after_success = s.status("jp1").1;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let event =
        |name: &str| seen.lock().unwrap().iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()).find(|v| v["event_name"] == name);
    while event("ORDER_SUCCEEDED").is_none() {
        assert!(std::time::Instant::now() < deadline, "no ORDER_SUCCEEDED");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let success = event("ORDER_SUCCEEDED").unwrap();
    assert_eq!(success["content"]["order"], after_success, "content.order is the status body of that moment");
    assert!(success["id"].as_str().unwrap().starts_with("evt_"));
    assert!(success["date_created"].as_str().unwrap().ends_with('Z') && !success["date_created"].as_str().unwrap().contains('.'));
    let o = &after_success;
    assert_eq!(o["txn_uuid"], txn["txn_uuid"]);
    assert_eq!(o["txn_id"].as_str(), Some("m1-jp1-1"));
    assert_eq!(
        (o["payment_method_type"].as_str(), o["payment_method"].as_str(), o["auth_type"].as_str()),
        (Some("CARD"), Some("VISA"), Some("THREE_DS"))
    );
    let card = &o["card"];
    assert_eq!(
        (card["card_isin"].as_str(), card["last_four_digits"].as_str(), card["expiry_month"].as_str(), card["expiry_year"].as_str()),
        (Some("411111"), Some("1111"), Some("12"), Some("2039"))
    );
    assert_eq!(card["card_fingerprint"].as_str().map(str::len), Some(64));
    assert_eq!(card["saved_to_locker"], false);
    assert!(!o.to_string().contains("4111111111111111"), "the card number is never shown");
    assert_eq!(o["payment_gateway_response"]["resp_code"], "00");
    assert_eq!(o["payment_gateway_response"]["txn_id"], "m1-jp1-1");
    assert!(o["gateway_id"].is_u64() && o["bank_error_code"] == "");
    // Refunds: Juspay's fields; order_id repeated in the body (the Node SDK does) is accepted when it agrees.
    let (code, body, _) = refund(&s, "jp1", "order_id=jp1&unique_request_id=rj1&amount=1.00&refund_type=STANDARD");
    assert_eq!(code, 200, "{body}");
    let r0 = &body["refunds"][0];
    assert_eq!(
        (r0["unique_request_id"].as_str(), r0["status"].as_str(), r0["initiated_by"].as_str()),
        (Some("rj1"), Some("SUCCESS"), Some("API"))
    );
    assert!(r0["ref"].is_string() && r0["sent_to_gateway"] == true && r0["error_message"] == "", "{r0}");
    assert_error(&refund_pair(&s, "jp1", "order_id=other&unique_request_id=rj2&amount=1.00"), 400, "invalid_parameter");
    assert_error(&refund_pair(&s, "jp1", "unique_request_id=rj3&amount=1.00&surprise=1"), 400, "unknown_parameter");
    // Juspay's event names only.
    for (_, b) in seen.lock().unwrap().iter() {
        let name = serde_json::from_str::<Value>(b).unwrap()["event_name"].as_str().unwrap().to_string();
        assert!(["TXN_CREATED", "ORDER_SUCCEEDED", "ORDER_REFUNDED"].contains(&name.as_str()), "{name}");
    }
}

/// Defect 5: an AUTHORIZING step sends no invented event, and a merchant
/// chooses which events it receives.
#[test]
fn merchants_choose_their_events_and_authorizing_sends_none() {
    let s = start();
    let port = common::free_port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let (code, settings) = s.post_form("/webhooks/settings", Some(&s.keys[0].0), "webhook_events=ORDER_CREATED%2CORDER_SUCCEEDED");
    assert_eq!(code, 200, "{settings}");
    assert_eq!(settings["webhook_events"], serde_json::json!(["ORDER_CREATED", "ORDER_SUCCEEDED"]));
    assert_error(&s.post_form("/webhooks/settings", Some(&s.keys[0].0), "webhook_events=TXN_AUTHORIZING"), 400, "invalid_parameter");
    let hook = format!("&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A{port}%2Fhook");
    let (ord, token) = client_token(&s, "sel1", &hook);
    let (_, txn) = start_card_txn(&s, &ord, &token, "4000000000000119");
    card_answer(&s, &txn, "otp=123456&action=submit");
    s.wait_for_status("sel1", "CHARGED");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.lock().unwrap().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "events not delivered");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let names: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["event_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ORDER_CREATED", "ORDER_SUCCEEDED"]);
}

/// Defect 5: retries follow a bounded schedule; then the event is dead,
/// listed, and delivered again on request.
#[test]
fn a_webhook_dies_after_the_last_retry_and_can_be_redelivered() {
    let s = start_with_retry(2);
    let port = common::free_port(); // nobody listens: every attempt fails
    let hook = format!("&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A{port}%2Fhook");
    let (ord, token) = client_token(&s, "dead1", &hook);
    let (_, txn) = start_card_txn(&s, &ord, &token, "4111111111111111");
    card_answer(&s, &txn, "otp=123456&action=submit");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let dead = loop {
        let (code, list) = s.get("/webhooks?status=dead&order_id=dead1", Some(&s.keys[0].0));
        assert_eq!(code, 200, "{list}");
        if list["events"].as_array().unwrap().len() == 2 {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "events never died: {}", s.get("/webhooks", Some(&s.keys[0].0)).1);
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    for e in dead["events"].as_array().unwrap() {
        assert_eq!((e["status"].as_str(), e["attempts"].as_i64()), (Some("dead"), Some(17)), "{e}");
        assert!(e["last_error"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(e["order_id"], "dead1");
    }
    // Another merchant sees none of them and cannot redeliver them.
    assert_eq!(s.get("/webhooks", Some(&s.keys[1].0)).1["events"].as_array().unwrap().len(), 0);
    let id = dead["events"][0]["id"].as_str().unwrap();
    assert_error(&s.post_form(&format!("/webhooks/{id}/redeliver"), Some(&s.keys[1].0), ""), 404, "event_not_found");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let (code, r) = s.post_form(&format!("/webhooks/{id}/redeliver"), Some(&s.keys[0].0), "");
    assert_eq!((code, r["status"].as_str()), (200, Some("queued")), "{r}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "redelivery never arrived");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(seen.lock().unwrap()[0].1.contains(id));
    // The receiver records the body before it answers: wait for the answer to be recorded.
    loop {
        let all = s.get("/webhooks?order_id=dead1", Some(&s.keys[0].0)).1;
        let statuses: Vec<&str> = all["events"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
        if statuses.contains(&"delivered") {
            assert!(statuses.contains(&"dead"), "only the redelivered event was delivered: {all}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never recorded as delivered: {all}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The payment page's embedded configuration keeps the shape of
/// `tests/fixtures/page-config.json`, which the widget's test feeds to the
/// exported `mount()` (tests/web.rs). `KASSA_WRITE_FIXTURES=1` rewrites it.
#[test]
fn the_embedded_page_configuration_matches_the_widgets_fixture() {
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().take(1).map(shape).collect()),
            Value::String(_) => Value::String("string".into()),
            Value::Number(_) => Value::String("number".into()),
            Value::Bool(_) => Value::String("bool".into()),
            Value::Null => Value::Null,
        }
    }
    let s = start();
    let (ord, _) = client_token(&s, "fixture1", "");
    let page = s.agent.get(format!("{}/merchant/pay/{ord}", s.base)).call().unwrap().body_mut().read_to_string().unwrap();
    let start_tag = "<script type=\"application/json\" id=\"kassa-config\">";
    let json = page.split_once(start_tag).unwrap().1.split_once("</script>").unwrap().0;
    let embedded: Value = serde_json::from_str(json).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/page-config.json");
    if std::env::var_os("KASSA_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&embedded).unwrap() + "\n").unwrap();
    }
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        shape(&fixture),
        shape(&embedded),
        "the server embeds another shape than the widget's fixture; rerun with KASSA_WRITE_FIXTURES=1"
    );
    assert_eq!(fixture["order"]["merchant_name"], embedded["order"]["merchant_name"]);
    assert_eq!(fixture["order"]["methods"], embedded["order"]["methods"]);
}

/// Checks `value` against the schema `name` of the served OpenAPI document:
/// types (with `$ref`, type lists and nullable), required properties, and
/// the properties it documents, recursively.
fn assert_valid(doc: &Value, name: &str, value: &Value) {
    fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
        if let Some(r) = schema["$ref"].as_str() {
            let target = &doc["components"]["schemas"][r.rsplit('/').next().unwrap()];
            return check(doc, target, value, at);
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() {
            let ok = types.iter().any(|t| match *t {
                "string" => value.is_string(),
                "number" => value.is_number(),
                "integer" => value.is_i64() || value.is_u64(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                "array" => value.is_array(),
                "null" => value.is_null(),
                _ => false,
            });
            assert!(ok, "{at}: {value} is not {types:?}");
        }
        if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
            for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                assert!(obj.contains_key(req), "{at}: required {req} is missing from {value}");
            }
            for (k, sub) in props {
                if let Some(v) = obj.get(k) {
                    check(doc, sub, v, &format!("{at}.{k}"));
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                check(doc, items, v, &format!("{at}[{i}]"));
            }
        }
    }
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    check(doc, schema, value, name);
}

/// Every response the API sends in this walk through validates against the
/// schema the OpenAPI document gives for it.
#[test]
fn responses_validate_against_the_openapi_document() {
    let s = start();
    let doc = s.get("/openapi.json", None).1;
    // A webhook URL nobody listens on: the events stay pending, and are listed.
    let (code, created) = s.create(
        "order_id=val1&amount=10.50&options.get_client_auth_token=true&udf2=x&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook",
    );
    assert_eq!(code, 200);
    assert_valid(&doc, "OrderCreated", &created);
    let ord = created["id"].as_str().unwrap();
    let token = created["juspay"]["client_auth_token"].as_str().unwrap();
    assert_valid(&doc, "OrderStatus", &s.status("val1").1);
    let bad = s.create("order_id=val1&amount=abc");
    assert_eq!(bad.0, 400);
    assert_valid(&doc, "Error", &bad.1);
    let (code, txn) = start_card_txn(&s, ord, token, "4111111111111111");
    assert_eq!(code, 200);
    assert_valid(&doc, "TxnStarted", &txn);
    let uuid = txn["txn_uuid"].as_str().unwrap();
    let (_, polled) = s.bearer_get(&format!("/txns/{uuid}"), token);
    assert_valid(&doc, "TxnStatus", &polled);
    card_answer(&s, &txn, "otp=123456&action=submit");
    let paid = s.status("val1").1;
    assert_valid(&doc, "OrderStatus", &paid);
    assert!(paid.get("txn_uuid").is_some());
    let (code, refunded) = refund_pair(&s, "val1", "unique_request_id=v1&amount=1.00");
    assert_eq!(code, 200);
    assert_valid(&doc, "OrderStatus", &refunded);
    let (ord2, token2) = client_token(&s, "val2", "");
    let (_, txn2) = start_card_txn(&s, &ord2, &token2, "4111111111111111");
    let (code, cancelled) = s.bearer_post(&format!("/txns/{}/cancel", txn2["txn_uuid"].as_str().unwrap()), &token2, serde_json::json!({}));
    assert_eq!(code, 200);
    assert_valid(&doc, "TxnStatus", &cancelled);
    let (code, session) = s.post_form("/session", Some(&s.keys[0].0), "order_id=val3&amount=1&customer_id=c1");
    assert_eq!(code, 200);
    assert_valid(&doc, "Session", &session);
    let events = s.get("/webhooks", Some(&s.keys[0].0)).1;
    assert!(events["events"].as_array().unwrap().len() >= 2, "{events}");
    assert_valid(&doc, "WebhookEvents", &events);
    assert_valid(&doc, "WebhookSettings", &s.get("/webhooks/settings", Some(&s.keys[0].0)).1);
}

/// Events that belong to no order (mandates and notifications, next) are
/// stored, listed and delivered like the others.
#[test]
fn an_event_without_an_order_is_stored_listed_and_delivered() {
    let s = start();
    let port = common::free_port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(port, seen.clone());
    let body =
        r#"{"id":"evt_note1","event_name":"NOTIFICATION_SUCCEEDED","date_created":"2026-12-03T00:00:00Z","content":{"notification":{}}}"#;
    execute_sql(
        &s.db_url,
        &format!(
            "INSERT INTO webhook_events (id, merchant_id, order_pk, event_name, url, body, next_attempt_at, created_at) \
             VALUES ('evt_note1', 'm1', NULL, 'NOTIFICATION_SUCCEEDED', 'http://127.0.0.1:{port}/hook', '{body}', 0, 0)"
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never delivered");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(seen.lock().unwrap()[0].1, body);
    loop {
        let list = s.get("/webhooks", Some(&s.keys[0].0)).1;
        let e = &list["events"][0];
        assert_eq!((e["id"].as_str(), e["order_id"].is_null()), (Some("evt_note1"), true), "{list}");
        if e["status"] == "delivered" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// SPEC §3, third money rule, under concurrency: the shopper's answers
/// (OTP, cancel on the page, cancel through the API) race on one attempt;
/// exactly one applies, and the order agrees with the attempt it ends with.
#[test]
fn concurrent_answers_to_one_attempt_apply_once() {
    let s = std::sync::Arc::new(start());
    for round in 0..8 {
        let order_id = format!("ans{round}");
        let card = if round % 2 == 0 { "4111111111111111" } else { "4000000000000119" };
        let (ord, token) = client_token(&s, &order_id, "");
        let (code, txn) = start_card_txn(&s, &ord, &token, card);
        assert_eq!(code, 200, "{txn}");
        let bank = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
        let uuid = txn["txn_uuid"].as_str().unwrap().to_string();
        let racers: Vec<_> = (0..6)
            .map(|i| {
                let (s, bank, uuid, token) = (s.clone(), bank.clone(), uuid.clone(), token.clone());
                std::thread::spawn(move || match i % 3 {
                    0 => drop(
                        s.agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit"),
                    ),
                    1 => drop(s.agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("otp=&action=cancel")),
                    _ => drop(s.bearer_post(&format!("/txns/{uuid}/cancel"), &token, serde_json::json!({}))),
                })
            })
            .collect();
        for r in racers {
            r.join().unwrap();
        }
        let (_, polled) = s.bearer_get(&format!("/txns/{uuid}"), &token);
        let attempt = polled["status"].as_str().unwrap().to_string();
        assert!(["CHARGED", "AUTHORIZING", "AUTHENTICATION_FAILED"].contains(&attempt.as_str()), "{order_id}: {polled}");
        assert_eq!(s.status(&order_id).1["status"], attempt.as_str(), "{order_id}: the order follows its one attempt");
    }
    // The authorizing ones settle; nothing applied twice.
    for round in (1..8).step_by(2) {
        let order_id = format!("ans{round}");
        if s.status(&order_id).1["status"] == "AUTHORIZING" {
            s.wait_for_status(&order_id, "CHARGED");
        }
    }
    assert_money_rules(&s);
}
