//! Gateway routing (issue 14) through the HTTP API, with the Razorpay and
//! Paytm adapters talking to this server's sandboxes of their APIs over
//! real HTTP: routing and seed 000's mandatory parameters, a card payment
//! through each gateway's authentication to the signed return URL, refunds
//! through the gateway (and one it refuses), forged and replayed callbacks,
//! webhooks, reconciliation of a UPI collect, and gateways that are
//! unreachable, slow or answer garbage. Each leaves no order CHARGED
//! without the gateway's confirmation. SQLite, or PostgreSQL with
//! `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_server::Config;
use kassa_server::gateway::route::{Account, Credentials, GatewayKind};
use kassa_sign::{ResponseKey, return_url};
use serde_json::{Value, json};

mod common;
use common::basic;

struct Server {
    base: String,
    api_key: String,
    response_key: String,
    agent: ureq::Agent,
    db_url: String,
    /// (account id, credentials) of the linked accounts: razorpay "", razorpay "second", paytm "".
    accounts: Vec<(String, Credentials)>,
    _dir: tempfile::TempDir,
    _server: common::InProcess,
}

/// A server whose merchant m1 has two Razorpay accounts and a Paytm one on
/// this server's sandboxes, plus, when given, an account at `broken_base`.
fn start(broken_base: Option<&str>) -> Server {
    start_polling(broken_base, 1000)
}

/// [`start`], asking gateways about undecided attempts every `poll_ms`.
fn start_polling(broken_base: Option<&str>, poll_ms: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path());
    let db_url = url.clone();
    let broken = broken_base.map(str::to_string);
    let (server, (api_key, response_key, accounts)) = common::serve_in_process(
        url,
        |db| async move {
            let api_key = kassa_server::random_id("ksk_");
            let response_key = kassa_server::random_id("krk_");
            db.create_merchant(&common::test_merchant("m1", &api_key, &response_key)).await.unwrap();
            let mut accounts = Vec::new();
            for (kind, reference) in [(GatewayKind::Paytm, ""), (GatewayKind::Razorpay, ""), (GatewayKind::Razorpay, "second")] {
                let id = kassa_server::random_id("gwa_");
                let credentials = kassa_server::gateway::psp::create_account(&db, kind, &id).await.unwrap();
                let account = Account {
                    id: id.clone(),
                    merchant_id: "m1".into(),
                    reference_id: reference.into(),
                    priority: 0,
                    credentials: credentials.clone(),
                    base_url: String::new(),
                };
                db.add_gateway_account(&account).await.unwrap();
                accounts.push((id, credentials));
            }
            if let Some(base) = broken {
                let account = Account {
                    id: kassa_server::random_id("gwa_"),
                    merchant_id: "m1".into(),
                    reference_id: "broken".into(),
                    priority: 0,
                    credentials: Credentials::Razorpay { key_id: "rzp_test_x".into(), key_secret: "y".into(), webhook_secret: None },
                    base_url: base,
                };
                db.add_gateway_account(&account).await.unwrap();
            }
            (db, (api_key, response_key, accounts))
        },
        move |base| Config { sandbox_delay_ms: 300, gateway_timeout_ms: 1500, gateway_poll_ms: poll_ms, ..common::test_config(base) },
    );
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    Server { base: server.base.clone(), api_key, response_key, agent, db_url, accounts, _dir: dir, _server: server }
}

/// (status, body text, Location).
type Answer = (u16, String, Option<String>);

impl Server {
    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") { path_or_url.to_string() } else { format!("{}{path_or_url}", self.base) }
    }

    fn send(&self, method: &str, path: &str, auth: Option<String>, content_type: &str, body: &str) -> Answer {
        let mut req = ureq::http::Request::builder().method(method).uri(self.url(path));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if !body.is_empty() || method == "POST" {
            req = req.header("content-type", content_type);
        }
        let mut resp = self.agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap(), location)
    }

    fn api(&self, method: &str, path: &str, form: &str) -> (u16, Value) {
        let (code, text, _) = self.send(method, path, Some(basic(&self.api_key)), "application/x-www-form-urlencoded", form);
        (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn form(&self, url: &str, fields: &[(String, String)]) -> Answer {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send("POST", url, None, "application/x-www-form-urlencoded", &body)
    }

    /// Creates an order with everything Razorpay and Paytm require, and its client token.
    fn order(&self, order_id: &str, amount: &str, extra: &str) -> (String, String) {
        let (code, body) = self.api(
            "POST",
            "/orders",
            &format!(
                "order_id={order_id}&amount={amount}&customer_id=cust1&customer_email=a%40b.in&customer_phone=9999999999\
                 &description=Tea&return_url=https%3A%2F%2Fshop.example%2Fret&options.get_client_auth_token=true{extra}"
            ),
        );
        assert_eq!(code, 200, "{body}");
        (body["id"].as_str().unwrap().to_string(), body["juspay"]["client_auth_token"].as_str().unwrap().to_string())
    }

    fn txn(&self, ord: &str, token: &str, fields: Value) -> (u16, Value) {
        let mut body = json!({ "order_id": ord });
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        let (code, text, _) = self.send("POST", "/txns", Some(format!("Bearer {token}")), "application/json", &body.to_string());
        (code, serde_json::from_str(&text).unwrap())
    }

    fn card(&self, ord: &str, token: &str, number: &str) -> (u16, Value) {
        self.txn(
            ord,
            token,
            json!({ "payment_method_type": "CARD", "card_number": number, "card_exp_month": "12", "card_exp_year": "2039",
                    "card_security_code": "123", "name_on_card": "A Shopper" }),
        )
    }

    fn status(&self, order_id: &str) -> Value {
        self.api("GET", &format!("/orders/{order_id}"), "").1
    }

    fn razorpay(&self, i: usize) -> (String, String) {
        match &self.accounts[i].1 {
            Credentials::Razorpay { key_id, key_secret, .. } => (key_id.clone(), key_secret.clone()),
            Credentials::Paytm { .. } => panic!("not razorpay"),
        }
    }

    /// The Razorpay sandbox's API, as the merchant's own key sees it.
    fn rzp(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (key, secret) = self.razorpay(1);
        let auth = format!("Basic {}", base64_encode(&format!("{key}:{secret}")));
        let (code, text, _) = self.send(method, &format!("/sandbox/razorpay{path}"), Some(auth), "application/json", body);
        (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The first form of a page: (action, hidden fields).
fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let form = &html[html.find("<form").expect("a form")..];
    let action = unescape(form.split("action=\"").nth(1).unwrap().split('"').next().unwrap());
    let mut fields = Vec::new();
    for part in form.split("<input type=\"hidden\" ").skip(1) {
        let name = part.split("name=\"").nth(1).unwrap().split('"').next().unwrap();
        let value = part.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
        fields.push((unescape(name), unescape(value)));
    }
    (action, fields)
}

fn with(mut fields: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

/// The shopper's journey from the attempt's authentication URL to the
/// gateway's callback form (not yet posted): (callback action, its fields).
fn authenticate(s: &Server, auth_url: &str, answer: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let (code, page, location) = s.send("GET", auth_url, None, "", "");
    let page = match (code, location) {
        // Razorpay: a redirect to its authentication page.
        (303, Some(to)) => {
            let (code, page, _) = s.send("GET", &to, None, "", "");
            assert_eq!(code, 200, "{page}");
            page
        }
        // Paytm: a form that posts the bank form to it.
        (200, None) => {
            let (action, fields) = form_of(&page);
            let (code, page, _) = s.form(&action, &fields);
            assert_eq!(code, 200, "{page}");
            page
        }
        other => panic!("unexpected {other:?}: {page}"),
    };
    assert!(page.contains("One-time password") || page.contains("Success"), "{page}");
    let (action, fields) = form_of(&page);
    let (code, callback_page, _) = s.form(&s.url(&action), &with(fields, answer));
    assert_eq!(code, 200, "{callback_page}");
    form_of(&callback_page)
}

/// Posts a callback; the redirect target.
fn post_callback(s: &Server, action: &str, fields: &[(String, String)]) -> Answer {
    s.form(action, fields)
}

fn assert_signed_return(s: &Server, location: &str, status: &str) {
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, "https://shop.example/ret");
    let params = return_url::verify_query(&ResponseKey::new(s.response_key.clone().into_bytes()), query).unwrap();
    assert_eq!(params.get("status"), Some(status));
}

#[test]
fn orders_are_routed_by_gateway_id_reference_id_and_preference() {
    let s = start(None);
    // Seed 000: Razorpay needs customer_phone and description; every missing field is named.
    let (code, body) = s.api("POST", "/orders", "order_id=r1&amount=10&customer_id=c&customer_email=a%40b.in&gateway_id=23");
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["error_code"], "missing_mandatory_parameters");
    let message = body["error_message"].as_str().unwrap();
    assert!(
        message.contains("customer_phone") && message.contains("description") && !message.contains("missing: customer_id"),
        "{message}"
    );
    // A gateway the merchant has no account for (PayU, 12), or an unknown reference id.
    let (code, body) = s.api("POST", "/orders", "order_id=r2&amount=10&gateway_id=12");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("gateway_not_configured")), "{body}");
    let (code, body) = s.api("POST", "/orders", "order_id=r2&amount=10&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=nope");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("gateway_not_configured")), "{body}");
    // Nothing was created by the refusals.
    assert_eq!(s.api("GET", "/orders/r1", "").0, 404);
    assert_eq!(s.api("GET", "/orders/r2", "").0, 404);
    // The routed gateway and reference id show in the status once an attempt is made.
    let cases = [
        ("r3", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=second", 23, "second"),
        ("r4", "&gateway_id=23", 23, ""),
        ("r5", "&gateway_id=18", 18, ""),
        ("r6", "&gateway_id=19", 18, ""),
        // No gateway_id: the merchant's first preference (Paytm was linked first).
        ("r7", "", 18, ""),
        // Kassa's built-in sandbox.
        ("r8", "&gateway_id=999", 999, ""),
    ];
    for (order_id, extra, gateway_id, reference) in cases {
        let (ord, token) = s.order(order_id, "10.00", extra);
        let (code, txn) = s.card(&ord, &token, "4111111111111111");
        assert_eq!(code, 200, "{order_id}: {txn}");
        let st = s.status(order_id);
        assert_eq!(st["gateway_id"], gateway_id, "{order_id}: {st}");
        assert_eq!(st["gateway_reference_id"], reference, "{order_id}");
        let url = txn["payment"]["authentication"]["url"].as_str().unwrap();
        assert_eq!(url.contains("/gateway/pay/"), gateway_id != 999, "{url}");
    }
    // The reference id is echoed in metadata, as Juspay does.
    assert_eq!(s.status("r3")["metadata"]["JUSPAY:gateway_reference_id"], "second");
}

#[test]
fn a_card_paid_through_razorpay_is_charged_only_after_signature_and_api_confirm_it() {
    let s = start(None);
    let (ord, token) = s.order("rzp1", "10.00", "&gateway_id=23");
    // First a card the bank declines: its callback is a failure; a success forged over it is refused.
    let (_, txn) = s.card(&ord, &token, "4000000000000002");
    let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    let declined_uuid = txn["txn_uuid"].as_str().unwrap().to_string();
    let (action, failure) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    let metadata: Value = serde_json::from_str(&failure.iter().find(|(k, _)| k == "error[metadata]").unwrap().1).unwrap();
    let forged: Vec<(String, String)> = vec![
        ("razorpay_payment_id".into(), metadata["payment_id"].as_str().unwrap().into()),
        ("razorpay_order_id".into(), metadata["order_id"].as_str().unwrap().into()),
        ("razorpay_signature".into(), "0".repeat(64)),
    ];
    assert_eq!(post_callback(&s, &action, &forged).0, 400);
    // Even a correctly signed success does not make it CHARGED: the API says the payment failed.
    let (_, secret) = s.razorpay(1);
    let mut signed = forged.clone();
    signed[2].1 =
        kassa_sign::razorpay::payment_signature(&kassa_sign::razorpay::Secret::new(secret.into_bytes()), &signed[1].1, &signed[0].1);
    let (code, _, location) = post_callback(&s, &action, &signed);
    assert_eq!(code, 303);
    assert_signed_return(&s, &location.unwrap(), "AUTHORIZATION_FAILED");
    let (code, _, _) = post_callback(&s, &action, &failure);
    assert_eq!(code, 303);
    assert_eq!(s.status("rzp1")["status"], "AUTHORIZATION_FAILED");
    // A callback for one attempt posted to another attempt's URL is refused.
    let (code, txn) = s.card(&ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    // The sandbox bank page of Kassa's own gateway does not decide a Razorpay attempt.
    let txn_uuid = txn["txn_uuid"].as_str().unwrap().to_string();
    s.form(&format!("/sandbox/bank/{txn_uuid}"), &with(Vec::new(), &[("action", "approve")]));
    assert_eq!(s.status("rzp1")["status"], "PENDING_VBV");
    let (action, fields) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    assert!(action.ends_with(&format!("/gateway/return/{txn_uuid}")), "{action}");
    let elsewhere = action.replace(&txn_uuid, &declined_uuid);
    assert_eq!(post_callback(&s, &elsewhere, &fields).0, 400);
    // The genuine callback, then a replay of it.
    let (code, _, location) = post_callback(&s, &action, &fields);
    assert_eq!(code, 303);
    assert_signed_return(&s, &location.unwrap(), "CHARGED");
    let (code, _, location) = post_callback(&s, &action, &fields);
    assert_eq!(code, 303);
    assert_signed_return(&s, &location.unwrap(), "CHARGED");
    let st = s.status("rzp1");
    assert_eq!(st["status"], "CHARGED");
    assert_eq!(st["gateway_id"], 23);
    let pay_id = st["payment_gateway_response"]["epg_txn_id"].as_str().unwrap().to_string();
    assert!(pay_id.starts_with("pay_"), "{st}");
    // Razorpay's own API: the order paid, receipt = Kassa's order_id, notes with Kassa's ids.
    let (code, list) = s.rzp("GET", "/v1/orders?receipt=rzp1", "");
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["count"], 2, "an order per attempt");
    let rzp_order = &list["items"][0];
    assert_eq!(rzp_order["status"], "paid");
    assert_eq!(
        (rzp_order["amount"].as_i64(), rzp_order["amount_paid"].as_i64(), rzp_order["amount_due"].as_i64()),
        (Some(1000), Some(1000), Some(0))
    );
    assert_eq!(rzp_order["notes"]["kassa_txn_id"], txn_uuid);
    // A partial refund goes through Razorpay; one the gateway refuses (0.13, test data) changes nothing.
    let (code, body) = s.api("POST", "/orders/rzp1/refunds", "unique_request_id=rf1&amount=4.00");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["refunds"][0]["status"], "SUCCESS");
    let (code, body) = s.api("POST", "/orders/rzp1/refunds", "unique_request_id=rf2&amount=0.13");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["refunds"][1]["status"], "FAILURE", "{body}");
    assert_eq!(body["amount_refunded"], 4.0, "{body}");
    let (_, payment) = s.rzp("GET", &format!("/v1/payments/{pay_id}"), "");
    assert_eq!(payment["amount_refunded"], 400, "{payment}");
    assert_eq!(payment["refund_status"], "partial");
    // What is left can still be refunded.
    let (code, body) = s.api("POST", "/orders/rzp1/refunds", "unique_request_id=rf3&amount=6.00");
    assert_eq!((code, body["amount_refunded"].as_f64()), (200, Some(10.0)), "{body}");
    assert_eq!(s.rzp("GET", &format!("/v1/payments/{pay_id}"), "").1["status"], "refunded");
}

#[test]
fn a_card_paid_through_paytm_is_charged_only_after_checksum_and_status_api_confirm_it() {
    let s = start(None);
    let (ord, token) = s.order("ptm1", "12.50", "&gateway_id=18");
    let (code, txn) = s.card(&ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    let (action, fields) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    // A forged checksum, or the genuine fields with the status changed, verify not.
    let mut forged = fields.clone();
    forged.iter_mut().find(|(k, _)| k == "CHECKSUMHASH").unwrap().1 = "AAAA".into();
    assert_eq!(post_callback(&s, &action, &forged).0, 400);
    let mut tampered = fields.clone();
    tampered.iter_mut().find(|(k, _)| k == "TXNAMOUNT").unwrap().1 = "1.00".into();
    assert_eq!(post_callback(&s, &action, &tampered).0, 400);
    let unsigned: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != "CHECKSUMHASH").cloned().collect();
    assert_eq!(post_callback(&s, &action, &unsigned).0, 400);
    assert_eq!(s.status("ptm1")["status"], "PENDING_VBV");
    let (code, _, location) = post_callback(&s, &action, &fields);
    assert_eq!(code, 303);
    assert_signed_return(&s, &location.unwrap(), "CHARGED");
    let st = s.status("ptm1");
    assert_eq!((st["status"].as_str(), st["gateway_id"].as_i64()), (Some("CHARGED"), Some(18)), "{st}");
    let (code, body) = s.api("POST", "/orders/ptm1/refunds", "unique_request_id=p1&amount=2.50");
    assert_eq!(code, 200, "{body}");
    // Paytm accepts it PENDING (601); Kassa asks its refund status until it is made.
    assert_eq!(body["refunds"][0]["status"], "PENDING", "{body}");
    assert_eq!(body["amount_refunded"], 2.5, "a pending refund holds its amount");
    let mut status = String::new();
    for _ in 0..100 {
        status = s.status("ptm1")["refunds"][0]["status"].as_str().unwrap().to_string();
        if status != "PENDING" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(status, "SUCCESS");
    // Over what is left, Kassa refuses before asking the gateway.
    let (code, _) = s.api("POST", "/orders/ptm1/refunds", "unique_request_id=p2&amount=10.01");
    assert_eq!(code, 400);
}

#[test]
fn failed_and_cancelled_authentication_fail_the_attempt_and_a_retry_pays() {
    let s = start(None);
    for (gateway, order_id) in [("23", "fail_r"), ("18", "fail_p")] {
        let (ord, token) = s.order(order_id, "5.00", &format!("&gateway_id={gateway}"));
        // The card the bank declines.
        let (_, txn) = s.card(&ord, &token, "4000000000000002");
        let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
        let (action, fields) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
        let (code, _, location) = post_callback(&s, &action, &fields);
        assert_eq!(code, 303, "{order_id}");
        assert_signed_return(&s, &location.unwrap(), "AUTHORIZATION_FAILED");
        // A wrong OTP.
        let (_, txn) = s.card(&ord, &token, "4111111111111111");
        let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
        let (action, fields) = authenticate(&s, &auth, &[("otp", "000000"), ("action", "submit")]);
        post_callback(&s, &action, &fields);
        assert_eq!(s.status(order_id)["status"], "AUTHENTICATION_FAILED", "{order_id}");
        // Netbanking, approved: paid.
        let (code, txn) = s.txn(&ord, &token, json!({ "payment_method_type": "NB", "payment_method": "NB_HDFC" }));
        assert_eq!(code, 200, "{txn}");
        let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
        let (action, fields) = authenticate(&s, &auth, &[("action", "approve")]);
        post_callback(&s, &action, &fields);
        assert_eq!(s.status(order_id)["status"], "CHARGED", "{order_id}");
    }
}

#[test]
fn a_upi_collect_through_a_gateway_is_reconciled_with_its_status_api() {
    let s = start(None);
    for (gateway, order_id, vpa, end) in [
        ("23", "upi_r", "success@kassa", "CHARGED"),
        ("18", "upi_p", "success@kassa", "CHARGED"),
        ("23", "upi_rf", "failure@kassa", "AUTHORIZATION_FAILED"),
    ] {
        let (ord, token) = s.order(order_id, "3.00", &format!("&gateway_id={gateway}"));
        let (code, txn) = s.txn(&ord, &token, json!({ "payment_method_type": "UPI", "upi_vpa": vpa }));
        assert_eq!(code, 200, "{txn}");
        let mut status = String::new();
        for _ in 0..100 {
            status = s.status(order_id)["status"].as_str().unwrap().to_string();
            if status != "PENDING_VBV" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(status, end, "{order_id}");
    }
}

#[test]
fn on_demand_sync_and_verified_webhooks_ask_the_gateway_and_trust_only_its_api() {
    // No periodic asking during the test: only a webhook or the sync can tell Kassa.
    let s = start_polling(None, 600_000);
    let (ord, token) = s.order("sync1", "7.00", "&gateway_id=23");
    let (_, txn) = s.card(&ord, &token, "4111111111111111");
    let txn_uuid = txn["txn_uuid"].as_str().unwrap().to_string();
    let auth_r = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    // A forged webhook (bad signature) is refused; a validly signed one that claims a capture the API
    // does not show changes nothing.
    let account = &s.accounts[1].0;
    let Credentials::Razorpay { webhook_secret: Some(secret), .. } = &s.accounts[1].1 else { panic!() };
    let claim = json!({ "event": "payment.captured", "payload": { "payment": { "entity": { "status": "captured", "notes": { "kassa_txn_id": txn_uuid } } } } }).to_string();
    let (code, _, _) = s.send("POST", &format!("/gateway/webhooks/{account}"), None, "application/json", &claim);
    assert_eq!(code, 401);
    let sig = kassa_sign::razorpay::webhook_signature(&kassa_sign::razorpay::Secret::new(secret.as_bytes().to_vec()), claim.as_bytes());
    let mut req = ureq::http::Request::builder().method("POST").uri(s.url(&format!("/gateway/webhooks/{account}")));
    req = req.header("content-type", "application/json").header("x-razorpay-signature", sig);
    let resp = s.agent.run(req.body(claim.clone()).unwrap()).unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(s.status("sync1")["status"], "PENDING_VBV");
    // The shopper pays at Paytm (which sends no webhooks) and never comes back: the dashboard's
    // sync asks the gateway.
    let (ord, token) = s.order("sync2", "7.00", "&gateway_id=18");
    let (_, txn) = s.card(&ord, &token, "4111111111111111");
    let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    let (_action, _fields) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    assert_eq!(s.status("sync2")["status"], "PENDING_VBV");
    let (code, body) = s.api("POST", "/orders/sync2/sync", "");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "CHARGED", "{body}");
    // The Razorpay one, paid at the gateway, is CHARGED by its webhook, the poller or a sync.
    let _ = authenticate(&s, &auth_r, &[("otp", "123456"), ("action", "submit")]);
    assert_eq!(s.api("POST", "/orders/sync1/sync", "").1["status"], "CHARGED");
    // Another merchant's key cannot sync it; nor can no key.
    assert_eq!(s.send("POST", "/orders/sync1/sync", None, "application/x-www-form-urlencoded", "").0, 401);
}

/// A TCP server on a free port that answers every request with `reply`
/// (`None`: accepts and never answers).
fn fake_gateway(reply: Option<&'static str>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            match reply {
                Some(r) => {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 8192];
                    let _ = stream.read(&mut buf);
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{r}",
                            r.len()
                        )
                        .as_bytes(),
                    );
                }
                None => held.push(stream),
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn an_unreachable_slow_or_garbled_gateway_declines_the_attempt_and_charges_nothing() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for (what, base) in [
        ("unreachable", closed),
        ("slow", fake_gateway(None)),
        ("garbled", fake_gateway(Some("<html>not json</html>"))),
        ("unsigned order without id", fake_gateway(Some(r#"{"entity":"order","amount":500}"#))),
    ] {
        let s = start(Some(&base));
        let (ord, token) = s.order("down1", "5.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
        let (code, body) = s.card(&ord, &token, "4111111111111111");
        assert_eq!(code, 400, "{what}: {body}");
        let st = s.status("down1");
        assert_eq!(st["status"], "JUSPAY_DECLINED", "{what}: {st}");
        assert!(st["payment_gateway_response"]["resp_message"].as_str().unwrap().contains("Razorpay"), "{what}: {st}");
        // Nothing leaked: the account's secret is in no answer.
        assert!(!st.to_string().contains("\"y\""), "{what}");
        // The order still takes another attempt.
        assert_eq!(s.card(&ord, &token, "4111111111111111").0, 400, "{what}");
        if what == "unreachable" {
            // The gateway's outage is not the shopper's failure: it does not use up the order's 5 failed attempts.
            for _ in 0..6 {
                assert_eq!(s.card(&ord, &token, "4111111111111111").0, 400, "{what}: still declined, not 409");
            }
        }
        let _ = &s.db_url;
    }
}

#[test]
fn a_late_success_at_the_gateway_on_an_order_paid_another_way_is_refunded_there() {
    let s = start_polling(None, 600_000);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let port = common::free_port();
    common::receiver(port, seen.clone());
    let hook = format!("&metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A{port}%2Fhook");
    let (ord, token) = s.order("late1", "9.00", &format!("&gateway_id=18{hook}"));
    // Attempt 1: the shopper pays at Paytm but never comes back.
    let (_, first) = s.card(&ord, &token, "4111111111111111");
    let first_uuid = first["txn_uuid"].as_str().unwrap().to_string();
    let auth = first["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    // Attempt 2 (the order is PENDING_VBV, which takes a new attempt): paid, and back.
    let (code, second) = s.txn(&ord, &token, json!({ "payment_method_type": "NB", "payment_method": "NB_SBI" }));
    assert_eq!(code, 200, "{second}");
    let auth = second["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    let (action, fields) = authenticate(&s, &auth, &[("action", "approve")]);
    post_callback(&s, &action, &fields);
    assert_eq!(s.status("late1")["status"], "CHARGED");
    // Kassa learns of attempt 1's success: refunded at Paytm, the order keeps the second charge.
    let (code, body) = s.api("POST", "/orders/late1/sync", "");
    assert_eq!((code, body["status"].as_str()), (200, Some("CHARGED")), "{body}");
    assert_eq!(body["txn_uuid"], second["txn_uuid"], "the charge speaks for the order");
    assert_eq!(body["amount_refunded"], 0.0, "the merchant's refundable amount is untouched");
    let Credentials::Paytm { mid, merchant_key, .. } = &s.accounts[0].1 else { panic!() };
    let key = kassa_sign::paytm::MerchantKey::new(merchant_key.as_bytes().to_vec()).unwrap();
    let query = json!({ "mid": mid, "orderId": first_uuid }).to_string();
    let signed = format!("{{\"head\":{{\"signature\":\"{}\"}},\"body\":{query}}}", kassa_sign::paytm::generate(&key, &query).unwrap());
    let (_, text, _) = s.send("POST", "/sandbox/paytm/v3/order/status", None, "application/json", &signed);
    let at_paytm: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(at_paytm["body"]["resultInfo"]["resultStatus"], "TXN_SUCCESS", "{text}");
    assert_eq!(at_paytm["body"]["refundAmt"], "9.00", "{text}");
    // Paytm accepted the refund (PENDING); once it made it (the sandbox's delay), a sync follows it,
    // and refunds nothing twice.
    std::thread::sleep(std::time::Duration::from_millis(500));
    s.api("POST", "/orders/late1/sync", "");
    let (_, text, _) = s.send("POST", "/sandbox/paytm/v3/order/status", None, "application/json", &signed);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["body"]["refundAmt"], "9.00");
    // The merchant hears of it once the gateway took the refund.
    let (code, events) = s.api("GET", "/webhooks?order_id=late1", "");
    assert_eq!(code, 200, "{events}");
    let names: Vec<&str> = events["events"].as_array().unwrap().iter().filter_map(|e| e["event_name"].as_str()).collect();
    assert_eq!(names.iter().filter(|n| **n == "AUTO_REFUND_SUCCEEDED").count(), 1, "{names:?}");
    assert!(!names.contains(&"AUTO_REFUND_FAILED"), "{names:?}");
}

/// What a scripted gateway answers a request (method, path, body): a
/// status and body, or `None` to hold the connection past Kassa's timeout.
type Script = std::sync::Arc<dyn Fn(&str, &str, &str) -> Option<(u16, String)> + Send + Sync>;

/// A Razorpay stand-in on a free port that answers as `script` says: for the
/// paths the sandboxes cannot be made to misbehave on.
fn scripted_gateway(script: Script) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let script = script.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                match script(&method, &path, &String::from_utf8_lossy(&body)) {
                    Some((code, text)) => {
                        let _ = stream.write_all(
                            format!("HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len())
                                .as_bytes(),
                        );
                    }
                    None => std::thread::sleep(std::time::Duration::from_secs(5)),
                }
            });
        }
    });
    format!("http://{addr}")
}

fn rzp_order(amount: i64) -> String {
    json!({ "id": "order_Scripted000001", "entity": "order", "amount": amount, "currency": "INR", "status": "created", "attempts": 0 })
        .to_string()
}

fn rzp_payments(status: &str, amount: i64) -> String {
    let captured = status == "captured";
    json!({ "entity": "collection", "count": 1, "items": [{ "id": "pay_Scripted000001", "entity": "payment", "amount": amount, "currency": "INR",
        "status": status, "captured": captured, "order_id": "order_Scripted000001", "error_step": null }] })
    .to_string()
}

#[test]
fn a_payment_call_that_times_out_is_asked_about_and_charged_when_the_gateway_says_so() {
    // Razorpay creates the order, then never answers the payment call; its API later shows the payment captured.
    let paid = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = paid.clone();
    let script: Script = std::sync::Arc::new(move |method, path, _| match (method, path) {
        ("POST", "/v1/orders") => Some((200, rzp_order(500))),
        ("POST", p) if p.starts_with("/v1/payments/create") => None,
        ("GET", "/v1/orders/order_Scripted000001/payments") => {
            let status = if flag.load(std::sync::atomic::Ordering::SeqCst) { "captured" } else { "created" };
            Some((200, rzp_payments(status, 500)))
        }
        _ => Some((404, "{}".into())),
    });
    let s = start_polling(Some(&scripted_gateway(script)), 300);
    let (ord, token) = s.order("slow1", "5.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
    let (code, body) = s.card(&ord, &token, "4111111111111111");
    assert_eq!(code, 400, "{body}");
    assert!(body["error_message"].as_str().unwrap().contains("checking"), "{body}");
    // Unknown, not declined: the attempt waits and is asked about.
    assert_eq!(s.status("slow1")["status"], "PENDING_VBV");
    paid.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut status = String::new();
    for _ in 0..100 {
        status = s.status("slow1")["status"].as_str().unwrap().to_string();
        if status != "PENDING_VBV" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(status, "CHARGED");
}

#[test]
fn an_authorized_payment_is_captured_and_a_late_capture_after_failure_is_refunded() {
    // First: the gateway shows the payment authorized (an account capturing by hand); Kassa captures it.
    let captured = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let refunds = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (c, r) = (captured.clone(), refunds.clone());
    let state = std::sync::Arc::new(std::sync::Mutex::new("authorized"));
    let st = state.clone();
    let script: Script = std::sync::Arc::new(move |method, path, body| match (method, path) {
        ("POST", "/v1/orders") => Some((200, rzp_order(700))),
        ("POST", "/v1/payments/create/json") => Some((
            200,
            json!({ "razorpay_payment_id": "pay_Scripted000001", "next": [{ "action": "redirect", "url": "http://127.0.0.1:9/auth" }] })
                .to_string(),
        )),
        ("GET", "/v1/orders/order_Scripted000001/payments") => Some((200, rzp_payments(&st.lock().unwrap(), 700))),
        ("POST", "/v1/payments/pay_Scripted000001/capture") => {
            c.lock().unwrap().push(body.to_string());
            *st.lock().unwrap() = "captured";
            Some((
                200,
                json!({ "id": "pay_Scripted000001", "status": "captured", "order_id": "order_Scripted000001", "amount": 700 }).to_string(),
            ))
        }
        ("POST", "/v1/payments/pay_Scripted000001/refund") => {
            r.lock().unwrap().push(body.to_string());
            Some((200, json!({ "id": "rfnd_Scripted00001", "entity": "refund", "status": "processed", "amount": 700 }).to_string()))
        }
        _ => Some((404, "{}".into())),
    });
    let s = start_polling(Some(&scripted_gateway(script)), 600_000);
    let (ord, token) = s.order("cap1", "7.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
    assert_eq!(s.card(&ord, &token, "4111111111111111").0, 200);
    let (_, body) = s.api("POST", "/orders/cap1/sync", "");
    assert_eq!(body["status"], "CHARGED", "{body}");
    let sent = captured.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&sent[0]).unwrap()["amount"], 700);

    // Then: an attempt Kassa failed (the gateway said failed) that the gateway later shows captured is refunded there.
    *state.lock().unwrap() = "failed";
    let (ord, token) = s.order("late2", "7.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
    assert_eq!(s.card(&ord, &token, "4111111111111111").0, 200);
    let (_, body) = s.api("POST", "/orders/late2/sync", "");
    assert_eq!(body["status"], "AUTHORIZATION_FAILED", "{body}");
    *state.lock().unwrap() = "captured";
    let (_, body) = s.api("POST", "/orders/late2/sync", "");
    // The attempt is AUTO_REFUNDED, which pays nothing: the order is unpaid (NEW), payable again.
    assert_eq!(body["status"], "NEW", "the order is not paid by a success it had given up on: {body}");
    let sent = refunds.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "refunded at the gateway once");
    assert_eq!(serde_json::from_str::<Value>(&sent[0]).unwrap()["amount"], 700);
    s.api("POST", "/orders/late2/sync", "");
    assert_eq!(refunds.lock().unwrap().len(), 1, "and only once");
}

#[test]
fn callbacks_cannot_make_kassa_hammer_the_gateways_api() {
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    let script: Script = std::sync::Arc::new(move |method, path, _| match (method, path) {
        ("POST", "/v1/orders") => Some((200, rzp_order(500))),
        ("POST", "/v1/payments/create/json") => Some((
            200,
            json!({ "razorpay_payment_id": "pay_Scripted000001", "next": [{ "action": "redirect", "url": "http://127.0.0.1:9/auth" }] })
                .to_string(),
        )),
        ("GET", "/v1/orders/order_Scripted000001/payments") => {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some((200, rzp_payments("created", 500)))
        }
        _ => Some((404, "{}".into())),
    });
    let s = std::sync::Arc::new(start_polling(Some(&scripted_gateway(script)), 600_000));
    let (ord, token) = s.order("pace1", "5.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
    let (_, txn) = s.card(&ord, &token, "4111111111111111");
    let url = format!("/gateway/return/{}", txn["txn_uuid"].as_str().unwrap());
    // Twenty unsigned "failure" callbacks at once: each may ask, but not twenty times.
    let posts: Vec<_> = (0..20)
        .map(|_| {
            let (s, url) = (s.clone(), url.clone());
            std::thread::spawn(move || s.form(&url, &with(Vec::new(), &[("error[code]", "BAD_REQUEST_ERROR")])).0)
        })
        .collect();
    for p in posts {
        assert_eq!(p.join().unwrap(), 303);
    }
    let n = asked.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=3).contains(&n), "the gateway was asked {n} times for 20 callbacks");
    assert_eq!(s.status("pace1")["status"], "PENDING_VBV");
}

#[test]
fn a_refund_whose_answer_was_lost_is_found_at_the_gateway_not_sent_twice() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let sent = std::sync::Arc::new(AtomicUsize::new(0));
    let looked = std::sync::Arc::new(AtomicUsize::new(0));
    let (s1, l1) = (sent.clone(), looked.clone());
    let script: Script = std::sync::Arc::new(move |method, path, body| match (method, path) {
        ("POST", "/v1/orders") => Some((200, rzp_order(900))),
        ("POST", "/v1/payments/create/json") => Some((
            200,
            json!({ "razorpay_payment_id": "pay_Scripted000001", "next": [{ "action": "redirect", "url": "http://127.0.0.1:9/auth" }] })
                .to_string(),
        )),
        ("GET", "/v1/orders/order_Scripted000001/payments") => Some((200, rzp_payments("captured", 900))),
        // The refund is made, but its answer never arrives.
        ("POST", "/v1/payments/pay_Scripted000001/refund") => {
            s1.fetch_add(1, SeqCst);
            let _ = body;
            None
        }
        // The first look is refused (rate limited): that says nothing of the refund. Then it is there.
        ("GET", p) if p.starts_with("/v1/payments/pay_Scripted000001/refunds") => {
            if l1.fetch_add(1, SeqCst) == 0 {
                return Some((429, json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": "Too many requests" } }).to_string()));
            }
            Some((
                200,
                json!({ "entity": "collection", "count": 1, "items": [{ "id": "rfnd_Scripted00001", "entity": "refund", "amount": 300,
                "receipt": RECEIPT.lock().unwrap().clone(), "status": "processed" }] })
                .to_string(),
            ))
        }
        _ => Some((404, "{}".into())),
    });
    static RECEIPT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let s = start_polling(Some(&scripted_gateway(script)), 300);
    let (ord, token) = s.order("lost1", "9.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken");
    assert_eq!(s.card(&ord, &token, "4111111111111111").0, 200);
    assert_eq!(s.api("POST", "/orders/lost1/sync", "").1["status"], "CHARGED");
    let (code, body) = s.api("POST", "/orders/lost1/refunds", "unique_request_id=lost-r1&amount=3.00");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["refunds"][0]["status"], "PENDING", "{body}");
    *RECEIPT.lock().unwrap() = body["refunds"][0]["id"].as_str().unwrap().to_string();
    let mut status = String::new();
    for _ in 0..200 {
        status = s.status("lost1")["refunds"][0]["status"].as_str().unwrap().to_string();
        if status != "PENDING" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(status, "SUCCESS");
    assert_eq!(sent.load(SeqCst), 1, "sent once, never again");
    assert!(looked.load(SeqCst) >= 2);
    assert_eq!(s.status("lost1")["amount_refunded"], 3.0);
}

/// SPEC §3's money rules through a gateway, in adversarial orders and at once:
/// two attempts both paid at Razorpay, their callbacks, replays and syncs racing,
/// then refunds racing each other; exactly one charge, the other refunded at the
/// gateway once, and refunds never above the charge, in Kassa and at the gateway.
#[test]
fn racing_payments_callbacks_and_refunds_through_a_gateway_keep_the_money_rules() {
    let s = std::sync::Arc::new(start_polling(None, 600_000));
    let (ord, token) = s.order("race1", "9.00", "&gateway_id=23");
    // Two attempts started, then each authenticated at Razorpay (whose webhooks already race Kassa);
    // neither callback posted yet.
    let mut auths = Vec::new();
    for bank in ["NB_SBI", "NB_HDFC"] {
        let (code, txn) = s.txn(&ord, &token, json!({ "payment_method_type": "NB", "payment_method": bank }));
        assert_eq!(code, 200, "{txn}");
        auths.push(txn["payment"]["authentication"]["url"].as_str().unwrap().to_string());
    }
    let callbacks: Vec<_> = auths.iter().map(|auth| authenticate(&s, auth, &[("action", "approve")])).collect();
    // Both callbacks, each twice, and syncs, all at once.
    let mut racers = Vec::new();
    for _ in 0..2 {
        for (action, fields) in callbacks.clone() {
            let s = s.clone();
            racers.push(std::thread::spawn(move || {
                post_callback(&s, &action, &fields);
            }));
        }
        let s2 = s.clone();
        racers.push(std::thread::spawn(move || {
            s2.api("POST", "/orders/race1/sync", "");
        }));
    }
    for r in racers {
        r.join().unwrap();
    }
    // Let any late check settle, then look.
    s.api("POST", "/orders/race1/sync", "");
    let st = s.status("race1");
    assert_eq!(st["status"], "CHARGED", "{st}");
    let rows = common::query_strings(&s.db_url, "SELECT status FROM txns ORDER BY status");
    assert_eq!(rows, vec!["AUTO_REFUNDED".to_string(), "CHARGED".to_string()], "one charge, the other refunded");
    // At Razorpay: both payments captured, the one Kassa did not keep refunded in full, once.
    let kept = st["payment_gateway_response"]["epg_txn_id"].as_str().unwrap();
    // (A webhook's check may still be sending the refund it decided on: wait for it a little.)
    let mut refunded = Vec::new();
    for _ in 0..50 {
        let (_, list) = s.rzp("GET", "/v1/payments?count=100", "");
        refunded =
            list["items"].as_array().unwrap().iter().filter(|p| p["id"] != kept).map(|p| p["amount_refunded"].as_i64().unwrap()).collect();
        if refunded == vec![900] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(refunded, vec![900]);

    // Eight refunds of 2.00 at once on a 9.00 charge: four go through, in Kassa and at Razorpay.
    let refunds: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || s.api("POST", "/orders/race1/refunds", &format!("unique_request_id=race-{i}&amount=2.00")).0)
        })
        .collect();
    let codes: Vec<u16> = refunds.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 4, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 200 || *c == 400), "{codes:?}");
    let st = s.status("race1");
    assert_eq!(st["amount_refunded"], 8.0, "{st}");
    assert!(st["refunds"].as_array().unwrap().iter().all(|r| r["status"] == "SUCCESS"), "{st}");
    let (_, payment) = s.rzp("GET", &format!("/v1/payments/{kept}"), "");
    assert_eq!(payment["amount_refunded"], 800, "{payment}");
}

/// Pre-authorization through Razorpay (issue 19): the Razorpay order is made
/// with `payment_capture=0`, the payment ends `authorized` there and
/// AUTHORIZED here; the capture goes to `POST /v1/payments/:id/capture`
/// (whole amount only), a capture sent again finds the payment captured,
/// and void is refused (Razorpay has none). Paytm refuses pre-auth orders.
#[test]
fn a_hold_through_razorpay_is_authorized_there_and_captured_by_its_capture_api() {
    let s = start(None);
    let (code, body) = s.api(
        "POST",
        "/orders",
        "order_id=hold_p&amount=10&customer_id=c&customer_email=a%40b.in&customer_phone=9999999999&description=T&gateway_id=18\
         &metadata.txns.auto_capture=false",
    );
    assert_eq!((code, body["error_code"].as_str()), (400, Some("preauth_not_supported")), "{body}");
    assert_eq!(s.api("GET", "/orders/hold_p", "").0, 404, "nothing was created");
    let (ord, token) = s.order("hold_r", "10.00", "&gateway_id=23&metadata.txns.auto_capture=false");
    // Only a card can be held.
    let (code, body) = s.txn(&ord, &token, json!({ "payment_method_type": "NB", "payment_method": "NB_SBI" }));
    assert_eq!(code, 400, "{body}");
    let (code, txn) = s.card(&ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    let txn_uuid = txn["txn_uuid"].as_str().unwrap().to_string();
    let auth = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
    let (action, fields) = authenticate(&s, &auth, &[("otp", "123456"), ("action", "submit")]);
    let (code, _, location) = post_callback(&s, &action, &fields);
    assert_eq!(code, 303);
    assert_signed_return(&s, &location.unwrap(), "AUTHORIZED");
    let st = s.status("hold_r");
    assert_eq!((st["status"].as_str(), st["status_id"].as_u64()), (Some("AUTHORIZED"), Some(25)), "{st}");
    let pay_id = st["payment_gateway_response"]["epg_txn_id"].as_str().unwrap().to_string();
    let (_, payment) = s.rzp("GET", &format!("/v1/payments/{pay_id}"), "");
    assert_eq!((payment["status"].as_str(), payment["captured"].as_bool()), (Some("authorized"), Some(false)), "{payment}");
    // Nothing is refundable before the capture; a partial capture and a void are refused, naming why.
    assert_eq!(s.api("POST", "/orders/hold_r/refunds", "unique_request_id=r0&amount=1").1["error_code"], "refund_not_allowed");
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/capture"), "amount=4&idempotence_key=k1");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("not_supported")), "{body}");
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/void"), "");
    assert_eq!((code, body["error_code"].as_str()), (400, Some("not_supported")), "{body}");
    assert!(body["error_message"].as_str().unwrap().contains("Razorpay"), "{body}");
    // The capture: CHARGED here, captured there.
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/capture"), "");
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["txn_detail"]["status"].as_str()), (Some("CHARGED"), Some("CHARGED")), "{body}");
    let (_, payment) = s.rzp("GET", &format!("/v1/payments/{pay_id}"), "");
    assert_eq!(payment["status"], "captured", "{payment}");
    // Razorpay refuses a second capture: Kassa's refusal is its own, the payment stays captured once.
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/capture"), "");
    assert_eq!((code, body["error_message"].as_str()), (400, Some("Cannot Capture CHARGED Transaction")), "{body}");
    // Once captured, a partial capture or a void is refused for the state, as anywhere.
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/capture"), "amount=4&idempotence_key=k9");
    assert_eq!((code, body["error_message"].as_str()), (400, Some("Cannot Capture CHARGED Transaction")), "{body}");
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/void"), "");
    assert_eq!((code, body["error_message"].as_str()), (400, Some("Cannot Void CHARGED Transaction")), "{body}");
    // A capture lost on its way back (the attempt left CAPTURE_INITIATED, as a crash would leave it)
    // is sent again by the checker: Razorpay refuses it, its payment says captured, so CHARGED, not CAPTURE_FAILED.
    common::execute_sql(&s.db_url, &format!("UPDATE orders SET status = 'CAPTURE_INITIATED' WHERE id = '{ord}'"));
    common::execute_sql(&s.db_url, &format!("UPDATE txns SET status = 'CAPTURE_INITIATED', settle_at = 1 WHERE id = '{txn_uuid}'"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.status("hold_r")["status"] != "CHARGED" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(s.status("hold_r")["status"], "CHARGED");
    // Refunds now go through Razorpay, up to what was captured.
    let (code, body) = s.api("POST", "/orders/hold_r/refunds", "unique_request_id=r1&amount=10");
    assert_eq!((code, body["amount_refunded"].as_f64()), (200, Some(10.0)), "{body}");
}

/// A capture Razorpay does not answer usably (a 429, a 503) is not a refusal:
/// the hold stays CAPTURE_INITIATED, the capture is sent again only once the
/// request that sent it has given up on it, and Razorpay's capture then
/// makes it CHARGED, never CAPTURE_FAILED.
#[test]
fn a_capture_razorpay_does_not_answer_usably_is_sent_again_not_failed() {
    let captures = std::sync::Arc::new(std::sync::Mutex::new(0));
    let state = std::sync::Arc::new(std::sync::Mutex::new("authorized"));
    let (c, st) = (captures.clone(), state.clone());
    let script: Script = std::sync::Arc::new(move |method, path, _| match (method, path) {
        ("POST", "/v1/orders") => Some((200, rzp_order(800))),
        ("POST", "/v1/payments/create/json") => Some((
            200,
            json!({ "razorpay_payment_id": "pay_Scripted000001", "next": [{ "action": "redirect", "url": "http://127.0.0.1:9/auth" }] })
                .to_string(),
        )),
        ("GET", "/v1/orders/order_Scripted000001/payments") => Some((200, rzp_payments(&st.lock().unwrap(), 800))),
        ("GET", "/v1/payments/pay_Scripted000001") => {
            Some((200, json!({ "id": "pay_Scripted000001", "status": *st.lock().unwrap(), "amount": 800 }).to_string()))
        }
        ("POST", "/v1/payments/pay_Scripted000001/capture") => {
            let mut n = c.lock().unwrap();
            *n += 1;
            if *n == 1 {
                return Some((429, json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": "Too many requests" } }).to_string()));
            }
            if *st.lock().unwrap() == "captured" {
                let error = "Only payments which have been authorized and not yet captured can be captured";
                return Some((400, json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": error } }).to_string()));
            }
            *st.lock().unwrap() = "captured";
            Some((
                200,
                json!({ "id": "pay_Scripted000001", "status": "captured", "order_id": "order_Scripted000001", "amount": 800 }).to_string(),
            ))
        }
        _ => Some((404, "{}".into())),
    });
    let s = start_polling(Some(&scripted_gateway(script)), 600_000);
    let (ord, token) =
        s.order("cap429", "8.00", "&gateway_id=23&metadata.JUSPAY%3Agateway_reference_id=broken&metadata.txns.auto_capture=false");
    let (code, txn) = s.card(&ord, &token, "4111111111111111");
    assert_eq!(code, 200, "{txn}");
    let txn_uuid = txn["txn_uuid"].as_str().unwrap().to_string();
    let (_, body) = s.api("POST", "/orders/cap429/sync", "");
    assert_eq!(body["status"], "AUTHORIZED", "an authorized payment of a held order is the hold: {body}");
    let (code, body) = s.api("POST", &format!("/v2/txns/{txn_uuid}/capture"), "");
    assert_eq!((code, body["status"].as_str()), (200, Some("CAPTURE_INITIATED")), "{body}");
    // A sync while the capture is the request's (its lease) sends nothing.
    assert_eq!(s.api("POST", "/orders/cap429/sync", "").1["status"], "CAPTURE_INITIATED");
    assert_eq!(*captures.lock().unwrap(), 1);
    // Once the lease is over, it is sent again (by the checker, or a sync) and Razorpay captures; a
    // capture sent twice meanwhile is refused by Razorpay and read as the capture it is.
    common::execute_sql(&s.db_url, &format!("UPDATE txns SET settle_at = 1 WHERE id = '{txn_uuid}'"));
    s.api("POST", "/orders/cap429/sync", "");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.status("cap429")["status"] == "CAPTURE_INITIATED" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let body = s.status("cap429");
    assert_eq!((body["status"].as_str(), body["txn_detail"]["captured_amount"].as_f64()), (Some("CHARGED"), Some(8.0)), "{body}");
    assert!(*captures.lock().unwrap() >= 2);
}
