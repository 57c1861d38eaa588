//! Observable (issue 18, SPEC §10): Prometheus metrics at `/metrics` (by
//! route and status, orders by status, attempts by method and outcome, the
//! webhook queue, gateway calls, the database pool), served to this machine
//! only or with the operator's bearer token; a request id on every answer
//! and in the JSON logs; and the audit log of changes to money, keys and
//! settings, from the API and the CLI, never holding a secret. SQLite, or
//! PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::{basic, free_port, query_strings};

use kassa_server::gateway::route::{Account, GatewayKind};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

type Server = common::M1Server;

/// A server whose merchant m1 has a webhook receiver that is down, and a
/// Razorpay account on this server's sandbox; `/metrics` with `token`.
fn start(token: Option<&str>) -> Server {
    let dead_hook = format!("http://127.0.0.1:{}/hook", free_port());
    let token = token.map(kassa_server::secret::Secret::new);
    common::start_m1(
        "krk_observe",
        |m| m.webhook_url = Some(dead_hook),
        |db| async move {
            let id = kassa_server::random_id("gwa_");
            let credentials = kassa_server::gateway::psp::create_account(&db, GatewayKind::Razorpay, &id).await.unwrap();
            let account =
                Account { id, merchant_id: "m1".into(), reference_id: String::new(), priority: 0, credentials, base_url: String::new() };
            db.add_gateway_account(&account).await.unwrap();
            db
        },
        move |base| kassa_server::Config { sandbox_delay_ms: 300, gateway_poll_ms: 200, metrics_token: token, ..common::test_config(base) },
    )
}

impl Server {
    /// (status, headers, body) of a request.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, ureq::http::HeaderMap, String) {
        let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = self.agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let headers = resp.headers().clone();
        (resp.status().as_u16(), headers, resp.body_mut().read_to_string().unwrap())
    }

    fn api(&self, path: &str, form: &str) -> (u16, ureq::http::HeaderMap, Value) {
        let auth = basic(&self.api_key);
        let (code, headers, text) =
            self.send("POST", path, &[("authorization", &auth), ("content-type", "application/x-www-form-urlencoded")], form);
        (code, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Creates an order (built-in sandbox unless `extra` says otherwise): (its id at Kassa, client token).
    fn order(&self, order_id: &str, extra: &str) -> (String, String) {
        let (code, _, v) = self.api(
            "/orders",
            &format!(
                "order_id={order_id}&amount=10&customer_id=c1&customer_email=a%40b.in&customer_phone=9999999999&description=Tea\
                 &return_url=https%3A%2F%2Fshop.example%2Fret&options.get_client_auth_token=true{extra}"
            ),
        );
        assert_eq!(code, 200, "{v}");
        (v["id"].as_str().unwrap().to_string(), v["juspay"]["client_auth_token"].as_str().unwrap().to_string())
    }

    fn txn(&self, order: &(String, String), fields: Value) -> Value {
        let mut body = json!({ "order_id": order.0 });
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        let auth = format!("Bearer {}", order.1);
        let (code, _, text) =
            self.send("POST", "/txns", &[("authorization", &auth), ("content-type", "application/json")], &body.to_string());
        assert_eq!(code, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Pays an order with the sandbox card and its OTP.
    fn pay(&self, order_id: &str) {
        let order = self.order(order_id, "&gateway_id=999");
        let t = self.txn(&order, common::card_fields("4111111111111111"));
        let r = common::submit_otp(&self.agent, t["payment"]["authentication"]["url"].as_str().unwrap()).unwrap();
        assert_eq!(r.status(), 303);
    }

    fn metrics(&self, headers: &[(&str, &str)]) -> (u16, String) {
        let (code, h, body) = self.send("GET", "/metrics", headers, "");
        if code == 200 {
            assert!(h["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"), "{h:?}");
        }
        (code, body)
    }
}

/// The value of the sample `line_start` (metric name and labels exactly as printed).
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(line_start).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

#[test]
fn metrics_count_requests_orders_attempts_webhooks_gateways_and_the_pool() {
    let s = start(None);
    s.pay("paid1");
    s.pay("paid2");
    s.order("open1", "&gateway_id=999");
    // A UPI collect at the Razorpay sandbox: Kassa calls its API (create, then status until it settles).
    let order = s.order("upi1", "&gateway_id=23");
    s.txn(&order, json!({ "payment_method_type": "UPI", "upi_vpa": "success@kassa" }));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, _, v) = s.send("GET", "/orders/upi1", &[("authorization", &basic(&s.api_key))], "");
        if v.contains("\"CHARGED\"") || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // An invented method is counted as `other`: clients cannot add labels at will.
    {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
        c.write_all(b"FOOBAR /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
    }
    // A refused request is counted under its status.
    assert_eq!(s.api("/orders/paid1/refunds", "unique_request_id=r_big&amount=11").0, 400);

    let (code, text) = s.metrics(&[]);
    assert_eq!(code, 200, "{text}");
    // Requests by route pattern (never the order id) and status.
    assert!(sample(&text, r#"kassa_http_requests_total{method="POST",route="/orders",status="200"}"#).unwrap() >= 4.0, "{text}");
    assert!(sample(&text, r#"kassa_http_requests_total{method="POST",route="/orders/{order_id}/refunds",status="400"}"#).unwrap() >= 1.0);
    assert!(!text.contains("paid1"), "an order id in the labels: {text}");
    assert!(text.contains(r#"method="other""#) && !text.contains("FOOBAR"), "{text}");
    assert!(text.contains(r#"kassa_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/txns"}"#), "{text}");
    // The database's figures: exact for this merchant's fresh database.
    assert_eq!(sample(&text, r#"kassa_orders{status="CHARGED"}"#), Some(3.0), "{text}");
    assert_eq!(sample(&text, r#"kassa_orders{status="NEW"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"kassa_payment_attempts{method="card",status="CHARGED"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"kassa_payment_attempts{method="upi",status="CHARGED"}"#), Some(1.0), "{text}");
    // The receiver is down: every event waits.
    let queued = query_strings(&s.db_url, "SELECT id FROM webhook_events WHERE delivered_at IS NULL AND dead_at IS NULL").len();
    assert!(queued >= 3);
    assert_eq!(sample(&text, "kassa_webhook_queue_depth"), Some(queued as f64), "{text}");
    assert_eq!(sample(&text, "kassa_webhook_dead_events"), Some(0.0), "{text}");
    assert!(sample(&text, "kassa_webhook_oldest_due_seconds").is_some(), "{text}");
    // Gateway calls (the sandbox answers on this server's loopback address).
    assert!(sample(&text, r#"kassa_gateway_requests_total{host="127.0.0.1",outcome="2xx"}"#).unwrap() >= 2.0, "{text}");
    assert!(text.contains(r#"kassa_gateway_request_duration_seconds_count{host="127.0.0.1"}"#), "{text}");
    assert!(sample(&text, "kassa_db_pool_connections").unwrap() >= 1.0, "{text}");
    assert!(text.ends_with("# EOF\n"));

    // Through a proxy (the request is not this machine's own): refused without a token.
    let (code, _) = s.metrics(&[("x-forwarded-for", "203.0.113.9")]);
    assert_eq!(code, 401);
}

#[test]
fn metrics_with_a_token_need_it() {
    let s = start(Some("metrics-token-0123456789"));
    assert_eq!(s.metrics(&[]).0, 401, "no token");
    assert_eq!(s.metrics(&[("authorization", "Bearer metrics-token-0123456788")]).0, 401, "a wrong token");
    assert_eq!(s.metrics(&[("authorization", &basic(&s.api_key))]).0, 401, "a merchant's API key is not the token");
    let (code, text) = s.metrics(&[("authorization", "Bearer metrics-token-0123456789")]);
    assert_eq!(code, 200);
    assert!(!text.contains("metrics-token"), "the token is not in the metrics");
}

#[test]
fn every_answer_has_a_request_id_which_the_audit_log_records() {
    let s = start(None);
    // Generated when none is given; kept when a proxy gives an acceptable one; replaced when not.
    let (_, h, _) = s.send("GET", "/health", &[], "");
    let generated = h["x-request-id"].to_str().unwrap().to_string();
    assert!(generated.starts_with("req_") && generated.len() > 10, "{generated}");
    // Without --trust-forwarded-for, a client's own id is not taken (the audit log's ids are the server's).
    let (_, h, _) = s.send("GET", "/health", &[("x-request-id", "lb-7f3a.42")], "");
    assert!(h["x-request-id"].to_str().unwrap().starts_with("req_"));
    let (_, h, _) = s.send("GET", "/health", &[("x-request-id", "a\"b c")], "");
    assert!(h["x-request-id"].to_str().unwrap().starts_with("req_"));
    let (code, h, _) = s.send("GET", "/no/such/page", &[], "");
    assert_eq!(code, 404);
    assert!(h.contains_key("x-request-id"), "errors too");

    // Changes to money and settings are audited: who (the key's fingerprint, never the key), from where, which request.
    s.pay("audited");
    let (code, h, _) = s.api("/orders/audited/refunds", "unique_request_id=ra1&amount=4");
    assert_eq!(code, 200);
    let refund_request = h["x-request-id"].to_str().unwrap().to_string();
    // A repeat and a refusal change nothing, and leave no entry.
    assert_eq!(s.api("/orders/audited/refunds", "unique_request_id=ra1&amount=4").0, 200);
    assert_eq!(s.api("/orders/audited/refunds", "unique_request_id=ra2&amount=100").0, 400);
    assert_eq!(s.api("/webhooks/settings", "webhook_events=ORDER_SUCCEEDED,ORDER_REFUNDED").0, 200);
    s.order("upd1", "&gateway_id=999");
    assert_eq!(s.api("/orders/upd1", "amount=12").0, 200);

    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(s.api_key.as_bytes()))[..12].to_string()
    };
    let rows = query_strings(
        &s.db_url,
        "SELECT action || '|' || actor || '|' || COALESCE(target, '') || '|' || COALESCE(detail, '') || '|' || COALESCE(address, '') \
         || '|' || COALESCE(request_id, '') FROM audit_events WHERE merchant_id = 'm1' ORDER BY created_at, id",
    );
    let actions: Vec<&str> = rows.iter().map(|r| r.split('|').next().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "refund.create").count(), 1, "{rows:?}");
    assert!(actions.contains(&"webhook_settings.update") && actions.contains(&"order.update"), "{rows:?}");
    let refund = rows.iter().find(|r| r.starts_with("refund.create|")).unwrap();
    let f: Vec<&str> = refund.split('|').collect();
    assert_eq!(f[1], format!("api_key:{fingerprint}"));
    assert_eq!(f[2], "audited");
    let detail: Value = serde_json::from_str(f[3]).unwrap();
    assert_eq!((detail["amount_minor"].as_i64(), detail["unique_request_id"].as_str()), (Some(400), Some("ra1")));
    assert_eq!(f[4], "127.0.0.1");
    assert_eq!(f[5], refund_request, "the entry names the request");
    let update = rows.iter().find(|r| r.starts_with("order.update|")).unwrap();
    assert!(update.contains(r#""amount_minor":1200"#) && update.contains(r#""amount_minor_before":1000"#), "{update}");
    for r in &rows {
        assert!(!r.contains(&s.api_key) && !r.contains("krk_observe") && !r.contains("whsec_"), "a secret in the audit log: {r}");
    }
}

#[test]
fn the_cli_audits_its_changes_and_prints_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/kassa.db", dir.path().display());
    let kassa = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kassa")).args(args).args(["--database-url", &db]).env("USER", "ops").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let created: Value = serde_json::from_str(&kassa(&["merchant", "create", "shop"])).unwrap();
    kassa(&["merchant", "add-gateway", "shop", "--gateway", "razorpay", "--sandbox"]);
    let log = kassa(&["audit", "shop"]);
    let entries: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["gateway_account.add", "merchant.create"], "newest first: {log}");
    assert!(entries.iter().all(|e| e["actor"] == "cli:ops" && e["merchant_id"] == "shop"), "{log}");
    for secret in ["api_key", "response_key", "webhook_secret"] {
        assert!(!log.contains(created[secret].as_str().unwrap()), "{secret} in the audit log");
    }
    // The server's own: a master key rotation.
    let new_key = dir.path().join("new.key");
    kassa(&["rotate-master-key", "--new-key-file", new_key.to_str().unwrap()]);
    let own = kassa(&["audit", "--master-key-file", new_key.to_str().unwrap()]);
    let entry: Value = serde_json::from_str(own.lines().next().unwrap()).unwrap();
    assert_eq!((entry["action"].as_str(), entry["merchant_id"].as_str()), (Some("master_key.rotate"), None), "{own}");
}

#[test]
fn logs_are_json_lines_carrying_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/kassa.db", dir.path().display());
    let port = free_port();
    let log_path = dir.path().join("stderr.log");
    let mut child = common::Running(
        Command::new(env!("CARGO_BIN_EXE_kassa"))
            // Behind a trusted proxy, whose request id is kept.
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &db, "--trust-forwarded-for"])
            .env("KASSA_LOG", "info")
            .env("KASSA_LOG_FORMAT", "json")
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    common::wait_for_port(port);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let r = agent.get(format!("http://127.0.0.1:{port}/orders/x")).header("x-request-id", "trace-abc-123").call().unwrap();
    assert_eq!(r.status(), 401);
    std::thread::sleep(Duration::from_millis(200));
    child.kill();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(lines.iter().any(|l| l["fields"]["message"] == "kassa listening"), "{text}");
    let answered =
        lines.iter().find(|l| l["span"]["request_id"] == "trace-abc-123").unwrap_or_else(|| panic!("no line with the request id: {text}"));
    assert_eq!(answered["fields"]["status"], 401);
    assert_eq!(answered["span"]["route"], "/orders/{order_id}");
    assert!(!text.contains("ksk_"), "no API key in the logs");
}
