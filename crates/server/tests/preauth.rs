//! Pre-authorization (issue 19) through the HTTP API and the built-in
//! sandbox: an order created with `metadata.txns.auto_capture=false` is
//! paid by a hold (AUTHORIZED), captured in full (CHARGED) or in part
//! (PARTIAL_CHARGED) or voided, with Juspay's refusals for every other
//! transition; a capture is idempotent by `idempotence_key`; concurrent
//! captures and voids of one hold let exactly one through; refunds are
//! capped by what was captured; a late success on a held order is refunded;
//! a hold nobody captures is voided when the hold period ends; the gateway
//! may refuse or answer late. Each transition writes its webhook. SQLite, or
//! PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_server::Config;
use kassa_sign::{ResponseKey, return_url};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod common;
use common::basic;

type Server = common::M1Server;

/// A server with merchants m1 and m2, whose holds last `hold_ms`.
fn start(hold_ms: u64) -> Server {
    common::start_m1(
        &kassa_server::random_id("krk_"),
        |_| {},
        |db| async move {
            db.create_merchant(&common::test_merchant("m2", "ksk_other_merchant_key", "krk_other")).await.unwrap();
            db
        },
        move |base| Config { sandbox_delay_ms: 400, hold_ms, ..common::test_config(base) },
    )
}

impl Server {
    fn call(&self, method: &str, path: &str, auth: &str, content_type: &str, body: &str) -> (u16, String, Option<String>) {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) };
        let req = ureq::http::Request::builder().method(method).uri(url).header("authorization", auth).header("content-type", content_type);
        let mut resp = self.agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap(), location)
    }

    fn api_as(&self, key: &str, method: &str, path: &str, form: &str) -> (u16, Value) {
        let (code, text, _) = self.call(method, path, &basic(key), "application/x-www-form-urlencoded", form);
        (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn api(&self, method: &str, path: &str, form: &str) -> (u16, Value) {
        self.api_as(&self.api_key, method, path, form)
    }

    /// A pre-authorized order of `amount` (Kassa id, client token), its webhooks written (never delivered).
    fn hold_order(&self, order_id: &str, amount: &str) -> (String, String) {
        let (code, body) = self.api(
            "POST",
            "/orders",
            &format!(
                "order_id={order_id}&amount={amount}&return_url=https%3A%2F%2Fshop.example%2Fret&options.get_client_auth_token=true\
                 &metadata.txns.auto_capture=false&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook"
            ),
        );
        assert_eq!(code, 200, "{body}");
        (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string())
    }

    /// Starts a card attempt: (txn_uuid, bank page URL).
    fn card(&self, ord: &str, token: &str, number: &str) -> (String, String) {
        let mut body = common::card_fields(number);
        body["order_id"] = json!(ord);
        let (code, text, _) = self.call("POST", "/txns", &format!("Bearer {token}"), "application/json", &body.to_string());
        assert_eq!(code, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        (v["txn_uuid"].as_str().unwrap().to_string(), v["payment"]["authentication"]["url"].as_str().unwrap().to_string())
    }

    /// Answers the bank page with the OTP: the redirect target.
    fn otp(&self, bank: &str) -> String {
        let (code, text, location) = self.call("POST", bank, "", "application/x-www-form-urlencoded", "otp=123456&action=submit");
        assert_eq!(code, 303, "{text}");
        location.unwrap()
    }

    /// A pre-authorized order paid by `card`: its txn_uuid, once AUTHORIZED.
    fn held(&self, order_id: &str, amount: &str, card: &str) -> String {
        let (ord, token) = self.hold_order(order_id, amount);
        let (txn, bank) = self.card(&ord, &token, card);
        let location = self.otp(&bank);
        let (base, query) = location.split_once('?').unwrap();
        assert_eq!(base, "https://shop.example/ret");
        let params = return_url::verify_query(&ResponseKey::new(self.response_key.clone().into_bytes()), query).unwrap();
        assert_eq!((params.get("status"), params.get("status_id")), (Some("AUTHORIZED"), Some("25")));
        txn
    }

    fn status(&self, order_id: &str) -> Value {
        self.api("GET", &format!("/orders/{order_id}"), "").1
    }

    fn capture(&self, txn: &str, form: &str) -> (u16, Value) {
        self.api("POST", &format!("/v2/txns/{txn}/capture"), form)
    }

    fn void(&self, txn: &str) -> (u16, Value) {
        self.api("POST", &format!("/v2/txns/{txn}/void"), "")
    }

    /// The webhook events written about an order, by name, sorted (but TXN_CREATED, one per attempt).
    fn events(&self, order_id: &str) -> Vec<String> {
        let mut names = common::query_strings(
            &self.db_url,
            &format!(
                "SELECT e.event_name FROM webhook_events e JOIN orders o ON o.id = e.order_pk \
                 WHERE o.order_id = '{order_id}' AND e.event_name <> 'TXN_CREATED'"
            ),
        );
        names.sort();
        names
    }

    fn wait_for(&self, order_id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let st = self.status(order_id);
            if st["status"] == status || Instant::now() > deadline {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn refused(body: &Value, message: &str) {
    assert_eq!(body["status"], "Bad Request", "{body}");
    assert_eq!(body["error_code"], "Invalid", "{body}");
    assert_eq!(body["error_message"], message, "{body}");
    assert_eq!(body["error_info"]["developer_message"], message, "{body}");
}

#[test]
fn a_hold_is_captured_in_full_or_in_part_and_refunds_are_capped_by_the_capture() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    // Bad pre-auth parameters are refused and create nothing.
    let (code, body) = s.api("POST", "/orders", "order_id=bad1&amount=10&metadata.txns.auto_capture=no");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_parameter")), "{body}");
    let (code, body) = s.api("POST", "/orders", "order_id=bad2&amount=10&metadata.txns.auto_capture=false&payment_options=nb|upi");
    assert_eq!(code, 400, "{body}");
    assert!(body["error_message"].as_str().unwrap().contains("card"), "{body}");
    assert_eq!(s.api("GET", "/orders/bad1", "").0, 404);
    assert_eq!(s.api("GET", "/orders/bad2", "").0, 404);

    let txn = s.held("full1", "100.00", "4111111111111111");
    let st = s.status("full1");
    assert_eq!((st["status"].as_str(), st["status_id"].as_u64()), (Some("AUTHORIZED"), Some(25)), "{st}");
    assert_eq!(
        (st["txn_detail"]["status"].as_str(), st["txn_detail"]["auto_capture"].as_bool()),
        (Some("AUTHORIZED"), Some(false)),
        "{st}"
    );
    assert_eq!(st["metadata"]["txns.auto_capture"], "false");
    // A held order takes no other attempt, no update and no refund.
    let (code, _) = s.api("POST", "/orders/full1", "amount=50");
    assert_eq!(code, 409);
    let (code, body) = s.api("POST", "/orders/full1/refunds", "unique_request_id=r0&amount=1");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("refund_not_allowed")), "{body}");
    // Bad captures change nothing: more than the hold, zero, malformed, unknown or another merchant's attempt.
    let (code, body) = s.capture(&txn, "amount=100.01");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_amount")), "{body}");
    assert!(body["error_message"].as_str().unwrap().contains("100.00"), "{body}");
    for bad in ["amount=0", "amount=1.234", "amount=abc", "idempotence_key=a%20b", "nope=1"] {
        assert_eq!(s.capture(&txn, bad).0, 400, "{bad}");
    }
    assert_eq!(s.capture("txn_nope", "").0, 404);
    assert_eq!(s.capture("../orders", "").0, 404);
    assert_eq!(s.api_as("ksk_other_merchant_key", "POST", &format!("/v2/txns/{txn}/capture"), "").0, 404);
    assert_eq!(s.api_as("ksk_other_merchant_key", "POST", &format!("/v2/txns/{txn}/void"), "").0, 404);
    assert_eq!(s.status("full1")["status"], "AUTHORIZED");
    // The capture of all of it: the order CHARGED.
    let (code, body) = s.capture(&txn, "");
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["status_id"].as_u64()), (Some("CHARGED"), Some(21)), "{body}");
    assert_eq!((body["txn_detail"]["captured_amount"].as_f64(), body["effective_amount"].as_f64()), (Some(100.0), Some(100.0)), "{body}");
    // A captured hold is neither captured again nor voided.
    refused(&s.capture(&txn, "").1, "Cannot Capture CHARGED Transaction");
    refused(&s.void(&txn).1, "Cannot Void CHARGED Transaction");
    assert_eq!(s.events("full1"), ["ORDER_AUTHORIZED", "ORDER_SUCCEEDED"]);

    // Part of a hold, with an idempotence key: PARTIAL_CHARGED, and refunds up to the capture only.
    let txn = s.held("part1", "100.00", "5555555555554444");
    let (code, body) = s.capture(&txn, "amount=60.50&idempotence_key=cap-1");
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["status_id"].as_u64()), (Some("PARTIAL_CHARGED"), Some(37)), "{body}");
    assert_eq!(body["txn_detail"]["status"], "CHARGED", "{body}");
    assert_eq!((body["amount"].as_f64(), body["effective_amount"].as_f64()), (Some(100.0), Some(60.5)), "{body}");
    // The same key and amount again: the same capture, answered again.
    let (code, again) = s.capture(&txn, "amount=60.50&idempotence_key=cap-1");
    assert_eq!((code, again["status"].as_str()), (200, Some("PARTIAL_CHARGED")), "{again}");
    // The key with another amount is a conflict; another key is a second capture, refused.
    let (code, body) = s.capture(&txn, "amount=10&idempotence_key=cap-1");
    assert_eq!((code, body["error_code"].as_str()), (409, Some("duplicate_idempotence_key")), "{body}");
    refused(&s.capture(&txn, "amount=10&idempotence_key=cap-2").1, "Cannot Capture CHARGED Transaction");
    let (code, body) = s.api("POST", "/orders/part1/refunds", "unique_request_id=r1&amount=60.51");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_refund_amount")), "{body}");
    let (code, body) = s.api("POST", "/orders/part1/refunds", "unique_request_id=r1&amount=60.50");
    assert_eq!((code, body["amount_refunded"].as_f64(), body["refunded"].as_bool()), (200, Some(60.5), Some(true)), "{body}");
    assert_eq!(s.events("part1"), ["ORDER_AUTHORIZED", "ORDER_PARTIAL_CHARGED", "ORDER_REFUNDED"]);

    // An ordinary order has no hold to capture or void.
    let (code, body) = s.api("POST", "/orders", "order_id=plain1&amount=10&options.get_client_auth_token=true");
    assert_eq!(code, 200);
    let (ord, token) = (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string());
    let (txn, bank) = s.card(&ord, &token, "4111111111111111");
    s.otp(&bank);
    assert_eq!(s.status("plain1")["status"], "CHARGED");
    refused(&s.capture(&txn, "").1, "Cannot Capture CHARGED Transaction");
}

#[test]
fn a_hold_is_voided_and_a_voided_hold_cannot_be_captured() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    let txn = s.held("void1", "25.00", "4111111111111111");
    let (code, body) = s.void(&txn);
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["status_id"].as_u64()), (Some("VOIDED"), Some(31)), "{body}");
    refused(&s.capture(&txn, "").1, "Cannot Capture VOIDED Transaction");
    refused(&s.void(&txn).1, "Cannot Void VOIDED Transaction");
    assert_eq!(s.api("POST", "/orders/void1/refunds", "unique_request_id=r&amount=1").1["error_code"], "refund_not_allowed");
    assert_eq!(s.events("void1"), ["ORDER_AUTHORIZED", "ORDER_VOIDED"]);
    // A failed attempt is not a hold: nothing to void.
    let (ord, token) = s.hold_order("void2", "5");
    let (txn, bank) = s.card(&ord, &token, "4000000000000002");
    s.otp(&bank);
    assert_eq!(s.status("void2")["status"], "AUTHORIZATION_FAILED");
    refused(&s.void(&txn).1, "Cannot Void AUTHORIZATION_FAILED Transaction");
    refused(&s.capture(&txn, "").1, "Cannot Capture AUTHORIZATION_FAILED Transaction");
}

#[test]
fn the_gateway_may_refuse_a_capture_or_void_or_answer_it_late() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    // Test card 4000 0000 0000 3063: the hold is placed, its capture and void refused.
    let txn = s.held("refuse1", "10", "4000000000003063");
    let (code, body) = s.capture(&txn, "");
    assert_eq!((code, body["status"].as_str(), body["status_id"].as_u64()), (200, Some("CAPTURE_FAILED"), Some(34)), "{body}");
    refused(&s.void(&txn).1, "Cannot Void CAPTURE_FAILED Transaction");
    assert_eq!(s.events("refuse1"), ["ORDER_AUTHORIZED", "ORDER_CAPTURE_FAILED"]);
    let txn = s.held("refuse2", "10", "4000000000003063");
    let (code, body) = s.void(&txn);
    assert_eq!((code, body["status"].as_str(), body["status_id"].as_u64()), (200, Some("VOID_FAILED"), Some(35)), "{body}");
    refused(&s.capture(&txn, "").1, "Cannot Capture VOID_FAILED Transaction");
    assert_eq!(s.events("refuse2"), ["ORDER_AUTHORIZED", "ORDER_VOID_FAILED"]);
    // Test card 4000 0000 0000 3220: the gateway accepts and answers later; the settler applies it.
    let txn = s.held("late1", "10", "4000000000003220");
    let (code, body) = s.capture(&txn, "amount=4&idempotence_key=k");
    assert_eq!((code, body["status"].as_str(), body["status_id"].as_u64()), (200, Some("CAPTURE_INITIATED"), Some(33)), "{body}");
    // While it is pending: a repeat answers the same; no second capture, no void, no refund.
    assert_eq!(s.capture(&txn, "amount=4&idempotence_key=k").1["status"], "CAPTURE_INITIATED");
    refused(&s.capture(&txn, "").1, "Cannot Capture CAPTURE_INITIATED Transaction");
    refused(&s.void(&txn).1, "Cannot Void CAPTURE_INITIATED Transaction");
    assert_eq!(s.api("POST", "/orders/late1/refunds", "unique_request_id=r&amount=1").1["error_code"], "refund_not_allowed");
    let st = s.wait_for("late1", "PARTIAL_CHARGED");
    assert_eq!((st["status"].as_str(), st["effective_amount"].as_f64()), (Some("PARTIAL_CHARGED"), Some(4.0)), "{st}");
    let txn = s.held("late2", "10", "4000000000003220");
    let (code, body) = s.void(&txn);
    assert_eq!((code, body["status"].as_str(), body["status_id"].as_u64()), (200, Some("VOID_INITIATED"), Some(32)), "{body}");
    assert_eq!(s.wait_for("late2", "VOIDED")["status"], "VOIDED");
    assert_eq!(s.events("late1"), ["ORDER_AUTHORIZED", "ORDER_PARTIAL_CHARGED"]);
    assert_eq!(s.events("late2"), ["ORDER_AUTHORIZED", "ORDER_VOIDED"]);
}

#[test]
fn concurrent_captures_and_voids_of_one_hold_let_exactly_one_through() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    for round in 0..6 {
        let order_id = format!("race{round}");
        let txn = s.held(&order_id, "50", "4111111111111111");
        // Even rounds: eight captures with distinct keys; odd rounds: captures and voids mixed.
        let answers: Vec<(usize, u16, Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (s, txn) = (&s, txn.clone());
                    scope.spawn(move || {
                        let (code, body) = if round % 2 == 1 && i % 2 == 1 {
                            s.void(&txn)
                        } else {
                            s.capture(&txn, &format!("amount=50&idempotence_key=k{i}"))
                        };
                        (i, code, body)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = answers.iter().filter(|(_, code, _)| *code == 200).collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        for (_, code, body) in answers.iter().filter(|(_, code, _)| *code != 200) {
            assert_eq!(*code, 400, "{body}");
            assert_eq!(body["error_code"], "Invalid", "{body}");
        }
        let (i, _, body) = won[0];
        let voided = round % 2 == 1 && i % 2 == 1;
        let expected = if voided { "VOIDED" } else { "CHARGED" };
        assert_eq!(body["status"], expected, "{body}");
        assert_eq!(s.status(&order_id)["status"], expected);
        let event = if voided { "ORDER_VOIDED" } else { "ORDER_SUCCEEDED" };
        assert_eq!(s.events(&order_id), ["ORDER_AUTHORIZED", event], "one capture or void, one webhook");
    }
}

#[test]
fn a_late_success_on_a_held_order_is_refunded_not_held_twice() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    let (ord, token) = s.hold_order("twice1", "30");
    // Two bank pages open at once (the first abandoned, then answered late).
    let (first, first_bank) = s.card(&ord, &token, "4111111111111111");
    let (second, second_bank) = s.card(&ord, &token, "5555555555554444");
    s.otp(&second_bank);
    assert_eq!(s.status("twice1")["status"], "AUTHORIZED");
    s.otp(&first_bank);
    let st = s.status("twice1");
    assert_eq!((st["status"].as_str(), st["txn_uuid"].as_str()), (Some("AUTHORIZED"), Some(second.as_str())), "{st}");
    refused(&s.capture(&first, "").1, "Cannot Capture AUTO_REFUNDED Transaction");
    assert_eq!(s.capture(&second, "").1["status"], "CHARGED");
    assert_eq!(s.events("twice1"), ["AUTO_REFUND_SUCCEEDED", "ORDER_AUTHORIZED", "ORDER_SUCCEEDED"]);
}

#[test]
fn a_hold_nobody_captures_is_voided_when_the_hold_period_ends() {
    let s = start(1500);
    let txn = s.held("lapse1", "12", "4111111111111111");
    let kept = s.held("lapse2", "12", "4111111111111111");
    assert_eq!(s.capture(&kept, "").0, 200);
    let st = s.wait_for("lapse1", "VOIDED");
    assert_eq!((st["status"].as_str(), st["txn_detail"]["status"].as_str()), (Some("VOIDED"), Some("VOIDED")), "{st}");
    refused(&s.capture(&txn, "").1, "Cannot Capture VOIDED Transaction");
    assert_eq!(s.events("lapse1"), ["ORDER_AUTHORIZED", "ORDER_VOIDED"]);
    // The captured one is left alone.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.status("lapse2")["status"], "CHARGED");
}

#[test]
fn a_session_creates_a_hold_from_juspays_nested_metadata() {
    let s = start(kassa_server::domain::preauth::DEFAULT_HOLD_MS);
    let body = json!({ "order_id": "sess1", "amount": "42.00", "payment_page_client_id": "m1", "action": "paymentPage",
                       "return_url": "https://shop.example/ret", "metadata": { "txns": { "auto_capture": false } } });
    let (code, text, _) = s.call("POST", "/session", &basic(&s.api_key), "application/json", &body.to_string());
    assert_eq!(code, 200, "{text}");
    let session: Value = serde_json::from_str(&text).unwrap();
    let token = session["sdk_payload"]["payload"]["clientAuthToken"].as_str().unwrap().to_string();
    let ord = session["id"].as_str().unwrap().to_string();
    // The page is told it holds; only cards are offered.
    let (code, page, _) = s.call("GET", &format!("/merchant/pay/{ord}"), "", "text/plain", "");
    assert_eq!(code, 200);
    let config = page.split("id=\"kassa-config\">").nth(1).unwrap().split("</script>").next().unwrap();
    let config: Value = serde_json::from_str(config).unwrap();
    assert_eq!((config["order"]["preauth"].as_bool(), config["order"]["methods"].clone()), (Some(true), json!(["card"])), "{config}");
    let (txn, bank) = s.card(&ord, &token, "4111111111111111");
    s.otp(&bank);
    assert_eq!(s.status("sess1")["status"], "AUTHORIZED");
    // The result page of a hold says so.
    let (code, page, _) = s.call("GET", &format!("/merchant/result/{ord}"), "", "text/plain", "");
    assert_eq!(code, 200);
    assert!(page.contains("Amount held") && page.contains("not charged"), "{page}");
    assert_eq!(s.capture(&txn, "amount=42").1["status"], "CHARGED");
}
